// `maas get NAME[@VERSION]` prints the stored description; `maas describe` summarises it for
// humans. Without a version both use the latest.
import type { Command } from 'commander';
import type { Run } from '../program.js';
import type { Context } from '../context.js';
import type { Style } from '../output.js';
import { MaasError } from '../../core/errors.js';
import { parseModelRef } from '../../domain/model-ref.js';
import { formatBytes, formatMillis, cpuMillis, memoryBytes } from '../../domain/quantity.js';
import type { ModelVersionRecord } from '../../domain/model.js';

async function fetchModel(ctx: Context, text: string): Promise<ModelVersionRecord> {
  const ref = parseModelRef(text);
  const record = await (await ctx.registry()).getModel(ref.name, ref.version);
  if (!record) {
    throw new MaasError('NOT_FOUND', `model ${text} is not registered`, {
      hint: ref.version ? `list its versions with \`maas versions ${ref.name}\`` : 'list registered models with `maas list`, or find one with `maas search`',
    });
  }
  return record;
}

function quantity(q: unknown, parse: (q: string | number) => number | undefined, format: (n: number) => string): string | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  const n = parse(q);
  return n === undefined ? String(q) : format(n);
}

/** Aligned `Key:  value` lines under a heading; empty values are left out. */
function section(style: Style, title: string, pairs: [string, string | undefined][]): string[] {
  const present = pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '');
  if (present.length === 0) return [];
  const width = Math.max(...present.map(([k]) => k.length)) + 1;
  return [style.bold(`${title}:`), ...present.map(([k, v]) => `  ${`${k}:`.padEnd(width)}  ${v}`)];
}

export function describeModel(r: ModelVersionRecord, style: Style): string {
  const { metadata, spec } = r.description;
  const serving = spec.resources?.serving;
  const lines: string[] = [
    `${style.bold('Name:')}        ${r.name}`,
    `${style.bold('Version:')}     ${r.version}`,
    ...(metadata.description ? [`${style.bold('Description:')} ${metadata.description}`] : []),
    `${style.bold('Task:')}        ${spec.task}`,
    `${style.bold('Algorithm:')}   ${spec.algorithm}`,
    `${style.bold('Registered:')}  ${r.registeredAt}`,
    `${style.bold('Digest:')}      ${r.specDigest}`,
    style.bold(`Features (${spec.features.length}):`),
  ];
  const nameWidth = Math.max(4, ...spec.features.map((f) => f.name.length));
  for (const f of spec.features) {
    const detail = f.type === 'category' && f.values ? `{${f.values.slice(0, 8).join(', ')}${f.values.length > 8 ? ', ...' : ''}}` : f.range ? `[${f.range.min ?? ''}, ${f.range.max ?? ''}]` : '';
    lines.push(`  ${f.name.padEnd(nameWidth)}  ${f.type.padEnd(8)}  ${detail}${f.optional ? ' (optional)' : ''}`.trimEnd());
  }
  const outputs = spec.outputs;
  lines.push(...section(style, 'Outputs', [['Labels', outputs?.labels?.join(', ')], ['Name', outputs?.name], ['Unit', outputs?.unit]]));
  lines.push(...section(style, 'Metrics', Object.entries(spec.performance ?? {}).map(([k, v]) => [k, String(v)])));
  lines.push(
    ...section(style, 'Resources (serving)', [
      ['CPU', quantity(serving?.cpu, cpuMillis, formatMillis)],
      ['Memory', quantity(serving?.memory, memoryBytes, formatBytes)],
      ['GPU', serving?.gpu === undefined ? undefined : String(serving.gpu)],
      ['Replicas', serving?.replicas ? `${serving.replicas.min}..${serving.replicas.max}` : undefined],
    ]),
  );
  lines.push(
    ...section(style, 'Artifact', [
      ['URI', r.artifact.uri],
      ['Format', spec.artifact.format],
      ['Digest', r.artifact.digest || '(not recorded: remote artifact without a declared digest)'],
      ['Size', r.artifact.size ? `${r.artifact.size} bytes` : undefined],
      ['Stored at', r.artifact.path],
    ]),
  );
  const qos = spec.qos;
  lines.push(
    ...section(style, 'QoS (advertised)', [
      ['Latency', qos?.latencyMs === undefined ? undefined : `${qos.latencyMs} ms`],
      ['Reliability', qos?.reliability === undefined ? undefined : String(qos.reliability)],
      ['Cost', qos?.cost === undefined ? undefined : `${qos.cost} per 1000 predictions`],
    ]),
  );
  lines.push(...section(style, 'Labels', Object.entries(metadata.labels ?? {}).map(([k, v]) => [k, v])));
  return lines.join('\n');
}

export function define(program: Command, run: Run): void {
  program
    .command('get <model>')
    .description('print the registered description of NAME[@VERSION] (latest when no version)')
    .action(
      run(async (ctx, model: string) => {
        const r = await fetchModel(ctx, model);
        return { data: r.description, names: [`${r.name}@${r.version}`] };
      }),
    );
  program
    .command('describe <model>')
    .description('summarise NAME[@VERSION] for humans (latest when no version)')
    .action(
      run(async (ctx, model: string) => {
        const r = await fetchModel(ctx, model);
        return { data: r, names: [`${r.name}@${r.version}`], text: (style) => describeModel(r, style) };
      }),
    );
}

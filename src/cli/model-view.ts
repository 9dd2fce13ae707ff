// How a registered model version is shown to humans: `maas describe`, digests in tables.
import type { ModelVersionRecord } from '../domain/model.js';
import type { ModelLineage } from '../domain/training.js';
import { cpuMillis, formatBytes, formatMillis, memoryBytes } from '../domain/quantity.js';
import type { Style } from './output.js';

/** The first 12 hex digits of a `sha256:` digest, `-` when there is none. */
export const shortDigest = (digest: string): string => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-');

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

/** Where a retrained version came from: parent, trigger, data, window, training time. */
export function lineageLines(l: ModelLineage, style: Style): string[] {
  const window = l.feedbackWindow ? `${l.feedbackWindow.since ?? '(start)'} .. ${l.feedbackWindow.until ?? '(now)'}` : undefined;
  return section(style, 'Lineage', [
    ['Parent', l.parentVersion],
    ['Trigger', l.trigger],
    ['Trained', `${l.trainedAt} (${l.trainingSeconds} s, ${l.target})`],
    ['Feedback', window],
    ...l.inputs.map((i, n): [string, string] => [`Data ${n + 1}`, `${i.source} (${i.rows} rows, ${shortDigest(i.digest)})`]),
  ]);
}

export function describeModel(r: ModelVersionRecord, style: Style, lineage?: ModelLineage): string {
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
    const detail =
      f.type === 'category' && f.values
        ? `{${f.values.slice(0, 8).join(', ')}${f.values.length > 8 ? ', ...' : ''}}`
        : f.range
          ? `[${f.range.min ?? ''}, ${f.range.max ?? ''}]`
          : '';
    lines.push(`  ${f.name.padEnd(nameWidth)}  ${f.type.padEnd(8)}  ${detail}${f.optional ? ' (optional)' : ''}`.trimEnd());
  }
  const outputs = spec.outputs;
  lines.push(
    ...section(style, 'Outputs', [
      ['Labels', outputs?.labels?.join(', ')],
      ['Name', outputs?.name],
      ['Unit', outputs?.unit],
    ]),
  );
  lines.push(
    ...section(
      style,
      'Metrics',
      Object.entries(spec.performance ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  );
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
  lines.push(
    ...section(
      style,
      'Labels',
      Object.entries(metadata.labels ?? {}).map(([k, v]) => [k, v]),
    ),
  );
  if (lineage) lines.push(...lineageLines(lineage, style));
  return lines.join('\n');
}

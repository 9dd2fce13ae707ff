// `maas drift check`: data and concept drift of a deployment's live window, of a batch file against
// a registered version's profile, or of two files; a table, JSON/YAML, an HTML report, exit 3.
import { EXIT, MaasError } from '../../core/errors.js';
import type { DriftReport, FeatureDrift } from '../../drift/report.js';
import { DRIFT_TESTS, type DriftTestName } from '../../drift/test-names.js';
import type { TestChoice } from '../../drift/data-drift.js';
import type { DriftSubject } from '../../app/drift.js';
import type { Style } from '../output.js';
import type { Program, Run } from '../program.js';
import { collect } from '../flags.js';

interface CheckOptions {
  model?: string;
  reference?: string;
  current?: string;
  test?: string;
  threshold?: string;
  featureTest?: string[];
  featureThreshold?: string[];
  datasetShare?: string;
  ignore?: string[];
  failOnDrift?: boolean;
  report?: string;
  timeout: string;
}

function testName(value: string, flag: string): DriftTestName {
  if ((DRIFT_TESTS as readonly string[]).includes(value)) return value as DriftTestName;
  throw new MaasError('USAGE', `${flag}: unknown test "${value}"`, { hint: `use one of: ${DRIFT_TESTS.join(', ')}` });
}

function nonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new MaasError('USAGE', `${flag} expects a non-negative number, got "${value}"`, { hint: `e.g. ${flag} 0.05` });
  return n;
}

function pair(text: string, flag: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1)
    throw new MaasError('USAGE', `${flag} expects FEATURE=VALUE, got "${text}"`, {
      hint: `e.g. ${flag} acc_x_mean=${flag === '--feature-test' ? 'ks' : '0.01'}`,
    });
  return [text.slice(0, eq).trim(), text.slice(eq + 1).trim()];
}

/** The flags as one test choice for all features plus per-feature choices. */
export function driftFlags(o: CheckOptions): TestChoice & { features?: Record<string, TestChoice>; datasetShare?: number } {
  const flags: TestChoice & { features?: Record<string, TestChoice>; datasetShare?: number } = {};
  if (o.test !== undefined) flags.test = testName(o.test, '--test');
  if (o.threshold !== undefined) flags.threshold = nonNegative(o.threshold, '--threshold');
  if (o.datasetShare !== undefined) {
    const share = nonNegative(o.datasetShare, '--dataset-share');
    if (share > 1) throw new MaasError('USAGE', `--dataset-share is a share of features between 0 and 1, got ${share}`, { hint: 'e.g. --dataset-share 0.5' });
    flags.datasetShare = share;
  }
  for (const t of o.featureTest ?? []) {
    const [name, test] = pair(t, '--feature-test');
    ((flags.features ??= {})[name] ??= {}).test = testName(test, '--feature-test');
  }
  for (const t of o.featureThreshold ?? []) {
    const [name, value] = pair(t, '--feature-threshold');
    ((flags.features ??= {})[name] ??= {}).threshold = nonNegative(value, '--feature-threshold');
  }
  return flags;
}

const fmt = (x: number | null): string => {
  if (x === null || Number.isNaN(x)) return '-';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  return x.toFixed(4).replace(/\.?0+$/, '') || '0';
};

function verdict(r: DriftReport, style: Style): string {
  const d = r.dataset;
  const lines = [
    `${d.drifted ? style.red.bold('Dataset drift') : style.green('No dataset drift')}: ${d.drifted_features} of ${d.features} features drifted (share ${fmt(d.share)}, threshold ${fmt(d.threshold)})`,
    `reference: ${r.reference.source} (${r.reference.rows} rows); current: ${r.current.source} (${r.current.rows} rows)`,
  ];
  const c = r.concept;
  if (c) {
    const q = c.quality;
    const interval = q.interval ? ` [${fmt(q.interval[0])}, ${fmt(q.interval[1])}]` : '';
    lines.push(
      `live ${q.metric}: ${fmt(q.value)}${interval} over ${q.labelled} labelled${q.declared !== null ? `, declared ${fmt(q.declared)}` : ''}${q.degraded ? style.red(' (below what was declared)') : ''}`,
      `concept drift: ${c.drifted ? style.red.bold('detected') : style.green('none')}; ${c.detectors
        .map((d) =>
          d.drifts.length
            ? `${d.detector} drift at ${d.drifts.slice(0, 3).join(', ')}${d.drifts.length > 3 ? ', ...' : ''} (now ${d.state})`
            : `${d.detector} ${d.state}`,
        )
        .join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function writeReport(path: string, html: string): Promise<void> {
  const [fs, p] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  // Written beside the target and renamed, so a failed write never leaves half a report.
  const tmp = p.join(p.dirname(path), `.${p.basename(path)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, html);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export function define(program: Program, run: Run): void {
  const drift = program.command('drift').description('data and concept drift checks');
  drift
    .command('check')
    .argument('[deployment]', 'a deployment ID (or unique prefix, or NAME[@VERSION])')
    .description("check drift: a deployment's live window, a file against a registered version, or two files")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas drift check d-5f3a9c1e2b',
        '  maas drift check --model har-classifier@1 --current today.csv --fail-on-drift',
        '  maas drift check --reference train.csv --current today.csv --ignore activity --report drift.html',
        '',
        'Tests (default: chosen per feature by type and size, like Evidently): ' + DRIFT_TESTS.join(', '),
        'Exit code 3 with --fail-on-drift when data or concept drift is found.',
      ].join('\n'),
    )
    .option('--model <name@version>', 'compare --current with the stored reference profile of this version')
    .option('--reference <file>', 'reference data (CSV with a header row), with --current')
    .option('--current <file>', 'current data (CSV with a header row)')
    .option('--test <name>', 'one test for every feature')
    .option('--threshold <n>', 'threshold for every feature (p-value tests drift below it, distances at or above)')
    .option('--feature-test <feature=test>', 'test of one feature (repeatable)', collect)
    .option('--feature-threshold <feature=n>', 'threshold of one feature (repeatable)', collect)
    .option('--dataset-share <n>', 'dataset drift when at least this share of features drifted (default 0.5)')
    .option('--ignore <column>', 'a column of the files that is not a feature, e.g. the label (repeatable)', collect)
    .option('--fail-on-drift', 'exit with code 3 when drift is found')
    .option('--report <file.html>', 'also write a self-contained HTML report')
    .option('--timeout <duration>', 'request timeout for a deployment', '60s')
    .action(
      run(async (ctx, deployment, opts) => {
        const flags = driftFlags(opts);
        const { checkDrift } = await import('../../app/drift.js');
        const { parseDuration } = await import('../../core/duration.js');
        const nodePath = await import('node:path');
        const path = (f: string): string => nodePath.resolve(ctx.io.cwd, f);
        let subject: DriftSubject;
        if (deployment !== undefined) {
          if (opts.model !== undefined || opts.reference !== undefined || opts.current !== undefined)
            throw new MaasError('USAGE', 'give a deployment, or --model/--reference with --current, not both');
          subject = { kind: 'deployment', id: deployment };
        } else if (opts.current === undefined) {
          throw new MaasError('USAGE', 'nothing to check: give a deployment ID, or --current FILE with --model NAME@VERSION or --reference FILE', {
            hint: '`maas ps` lists deployments',
          });
        } else if ((opts.model === undefined) === (opts.reference === undefined)) {
          throw new MaasError('USAGE', 'give exactly one of --model and --reference with --current');
        } else {
          subject =
            opts.model !== undefined
              ? { kind: 'model', ref: opts.model, current: path(opts.current) }
              : { kind: 'files', reference: path(opts.reference!), current: path(opts.current) };
        }
        if (opts.ignore?.length && subject.kind !== 'files')
          throw new MaasError('USAGE', '--ignore applies to --reference/--current files; a model knows its features');
        const api = await ctx.remote();
        if (api && (subject.kind !== 'deployment' || (flags.features && Object.keys(flags.features).length > 0)))
          throw new MaasError('USAGE', `against a server (${api.url}) drift is checked for a deployment, with --test, --threshold and --dataset-share`, {
            hint: 'the server reads no files named by a client; check files with the local home (`maas logout`)',
          });
        const report =
          api && subject.kind === 'deployment'
            ? await api.driftCheck(subject.id, {
                ...(flags.test !== undefined ? { test: flags.test } : {}),
                ...(flags.threshold !== undefined ? { threshold: flags.threshold } : {}),
                ...(flags.datasetShare !== undefined ? { datasetShare: flags.datasetShare } : {}),
              })
            : await checkDrift(await ctx.services(), {
                cwd: ctx.io.cwd,
                subject,
                flags,
                ...(opts.ignore ? { ignore: opts.ignore } : {}),
                timeoutMs: parseDuration(opts.timeout, '--timeout'),
              });
        const notes = [...report.notes];
        if (opts.report !== undefined) {
          const { renderDriftReportHtml } = await import('../../drift/report-html.js');
          await writeReport(path(opts.report), renderDriftReportHtml(report));
          notes.push(`report written to ${opts.report}`);
        }
        return {
          data: report,
          notes,
          names: report.features.filter((f) => f.drifted).map((f) => f.name),
          table: {
            rows: report.features,
            empty: 'no features compared',
            columns: [
              { header: 'feature', value: (f: FeatureDrift) => f.name },
              { header: 'type', value: (f: FeatureDrift) => f.type },
              { header: 'test', value: (f: FeatureDrift) => f.test },
              { header: 'statistic', value: (f: FeatureDrift) => fmt(f.statistic) },
              { header: 'p-value/distance', value: (f: FeatureDrift) => (f.measure === 'p_value' ? fmt(f.p_value) : fmt(f.score)) },
              { header: 'threshold', value: (f: FeatureDrift) => fmt(f.threshold) },
              { header: 'drifted', value: (f: FeatureDrift, style: Style) => (f.error ? style.yellow('n/a') : f.drifted ? style.red('yes') : 'no') },
              { header: 'basis', value: (f: FeatureDrift) => f.basis, wide: true },
              { header: 'out of range', value: (f: FeatureDrift) => String(f.current.out_of_range), wide: true },
              { header: 'missing', value: (f: FeatureDrift) => String(f.current.missing), wide: true },
              { header: 'chosen by', value: (f: FeatureDrift) => f.chosen_by, wide: true },
            ],
          },
          text: (style: Style) => verdict(report, style),
          exitCode: opts.failOnDrift && report.drift_detected ? EXIT.CHECK_FAILED : EXIT.OK,
        };
      }),
    );
}

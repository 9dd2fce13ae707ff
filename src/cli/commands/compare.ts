// `maas compare A B --data FILE | --deployment D`: a champion and a challenger version evaluated
// in-process on the same labelled rows; a metric table, the paired test and a verdict. A report:
// exit 0 whatever the verdict. Against a server the versions run there, on a deployment's feedback.
import { MaasError } from '../../core/errors.js';
import type { Comparison } from '../../app/compare.js';
import type { ClassificationMetrics, EvaluationMetrics } from '../../retrain/metrics.js';
import type { Style } from '../output.js';
import type { Program, Run } from '../program.js';

interface MetricRow {
  metric: string;
  a: number;
  b: number;
}

const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  return x.toFixed(4).replace(/\.?0+$/, '') || '0';
};

const signed = (x: number): string => (x > 0 ? `+${fmt(x)}` : fmt(x));

function number(value: string, flag: string, check: (n: number) => boolean, expected: string, example: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new MaasError('USAGE', `${flag} expects ${expected}, got "${value}"`, { hint: `e.g. ${flag} ${example}` });
  return n;
}

const isClassification = (m: EvaluationMetrics): m is ClassificationMetrics => 'accuracy' in m;

/** Overall metrics, then (wide) per-class precision, recall, F1 and support. */
export function metricRows(c: Comparison, wide: boolean): MetricRow[] {
  const a = c.a.metrics;
  const b = c.b.metrics;
  if (!isClassification(a) || !isClassification(b)) {
    const ra = a as { rmse: number; mae: number };
    const rb = b as { rmse: number; mae: number };
    return [
      { metric: 'rmse', a: ra.rmse, b: rb.rmse },
      { metric: 'mae', a: ra.mae, b: rb.mae },
    ];
  }
  const rows: MetricRow[] = [
    { metric: 'accuracy', a: a.accuracy, b: b.accuracy },
    { metric: 'f1_macro', a: a.f1_macro, b: b.f1_macro },
  ];
  if (wide) {
    for (const ca of a.per_class) {
      const cb = b.per_class.find((x) => x.label === ca.label);
      if (!cb) continue;
      rows.push(
        { metric: `precision[${ca.label}]`, a: ca.precision, b: cb.precision },
        { metric: `recall[${ca.label}]`, a: ca.recall, b: cb.recall },
        { metric: `f1[${ca.label}]`, a: ca.f1, b: cb.f1 },
        { metric: `support[${ca.label}]`, a: ca.support, b: cb.support },
      );
    }
  }
  return rows;
}

function verdictText(c: Comparison, style: Style): string {
  const t = c.test;
  const test =
    t.name === 'paired_bootstrap'
      ? `paired bootstrap (${t.resamples} resamples): ${c.primary.metric} difference ${signed(t.statistic)}, ${Math.round(t.level * 100)}% interval [${fmt(t.interval[0])}, ${fmt(t.interval[1])}], p = ${fmt(t.p_value)}`
      : `McNemar ${t.name === 'mcnemar_exact' ? 'exact' : 'chi-square'}: ${t.discordant.b_only} rows only B got right, ${t.discordant.a_only} only A; statistic ${fmt(t.statistic)}, p = ${fmt(t.p_value)}`;
  const verdict =
    c.verdict === 'better'
      ? style.green.bold(`B (${c.b.ref}) is better than A (${c.a.ref})`)
      : c.verdict === 'not_better'
        ? style.yellow(`B (${c.b.ref}) is not better than A (${c.a.ref})`)
        : style.yellow('not enough data to tell');
  return [
    `A: ${c.a.ref} (champion), B: ${c.b.ref} (challenger)`,
    `${c.rows} labelled rows from ${c.source} (target "${c.target}"); primary metric ${c.primary.metric}, margin ${fmt(c.margin)}, alpha ${fmt(c.alpha)}`,
    test,
    `${verdict}: ${c.reason}`,
  ].join('\n');
}

export function define(program: Program, run: Run): void {
  program
    .command('compare')
    .argument('<a>', 'the champion, NAME@VERSION')
    .argument('<b>', 'the challenger, NAME@VERSION')
    .description('evaluate two registered versions on the same labelled rows and say whether B is better than A')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas compare har-classifier@1 har-classifier@2 --data holdout.csv',
        '  maas compare har-classifier@1 har-classifier@2 --deployment d-5f3a9c1e2b --since 7d -o json',
        '',
        "Both versions run in this process. The primary metric is the first of accuracy, f1 (macro), rmse, mae in A's",
        "spec.performance (default accuracy, or rmse for regression). Classifiers are tested with McNemar's test",
        '(exact below 25 discordant rows), regressions with a paired bootstrap. B is better when it improves the',
        'primary metric by at least --margin and p < --alpha; fewer than 30 rows is not enough data.',
        "Against a maas server both run there, on a deployment's labelled feedback (--deployment; --data is refused).",
        'Exit code 0 whatever the verdict.',
      ].join('\n'),
    )
    .option('-d, --data <file>', 'labelled rows: a CSV file with the features and the target column (spec.training.data.target)')
    .option('--deployment <id>', "labelled rows from a deployment's feedback (its request log joined with ground truth)")
    .option('--since <time>', 'with --deployment: only predictions since then (ISO 8601 time or a duration back, e.g. 7d)')
    .option('--target <column>', 'with --data: the target column (default: spec.training.data.target)')
    .option('--margin <x>', 'least improvement of the primary metric that counts, in its units', '0')
    .option('--alpha <x>', 'significance level', '0.05')
    .option('--seed <n>', 'seed of the regression bootstrap', '0')
    .option('--timeout <duration>', 'request timeout for a deployment', '60s')
    .action(
      run(async (ctx, a, b, opts) => {
        if ((opts.data === undefined) === (opts.deployment === undefined)) throw new MaasError('USAGE', 'give exactly one of --data FILE and --deployment ID');
        if (opts.since !== undefined && opts.deployment === undefined) throw new MaasError('USAGE', '--since applies to --deployment');
        if (opts.target !== undefined && opts.data === undefined)
          throw new MaasError('USAGE', '--target applies to --data; a deployment names its truth column');
        const margin = number(opts.margin, '--margin', (n) => n >= 0, 'a non-negative number', '0.01');
        const alpha = number(opts.alpha, '--alpha', (n) => n > 0 && n < 1, 'a number between 0 and 1', '0.05');
        const seed = number(opts.seed, '--seed', (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number >= 0', '42');
        const { parseDuration } = await import('../../core/duration.js');
        const api = await ctx.remote();
        if (api && opts.data !== undefined)
          throw new MaasError('USAGE', `--data names a file on this machine, and the server ${api.url} reads no files a client names`, {
            hint: "compare on a deployment's labelled feedback there (--deployment ID), or locally with the file (`maas logout` or unset MAAS_SERVER)",
          });
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const comparison = api
          ? await api.compare({
              a,
              b,
              deployment: opts.deployment!,
              timeoutMs,
              ...(opts.since !== undefined ? { since: opts.since } : {}),
              margin,
              alpha,
              seed,
            })
          : await (
              await import('../../app/compare.js')
            ).compareVersions(await ctx.services(), {
              a,
              b,
              rows:
                opts.data !== undefined
                  ? { kind: 'file', data: opts.data, baseDir: ctx.io.cwd }
                  : { kind: 'deployment', deployment: opts.deployment!, timeoutMs, ...(opts.since !== undefined ? { since: opts.since } : {}) },
              ...(opts.target !== undefined ? { target: opts.target } : {}),
              margin,
              alpha,
              seed,
            });
        return {
          data: comparison,
          names: [comparison.verdict],
          notes:
            comparison.unlabelled > 0
              ? [`${comparison.unlabelled} row${comparison.unlabelled === 1 ? '' : 's'} without a "${comparison.target}" value left out`]
              : [],
          table: {
            rows: metricRows(comparison, ctx.output === 'wide'),
            columns: [
              { header: 'metric', value: (r: MetricRow) => r.metric },
              { header: 'A', value: (r: MetricRow) => fmt(r.a) },
              { header: 'B', value: (r: MetricRow) => fmt(r.b) },
              { header: 'difference', value: (r: MetricRow) => signed(r.b - r.a) },
            ],
          },
          text: (style: Style) => verdictText(comparison, style),
        };
      }),
    );
}

// Champion (A) against challenger (B) on the same labelled rows: the metrics of each, the primary
// metric's difference, a paired test, and a verdict. Pure: predictions in, a report out.
//
// Verdict: `better` when B improves on A's primary metric by more than zero and by at least the
// margin, and the paired test is significant (p < alpha); `not_enough_data` with fewer than
// MIN_ROWS rows or, for classification, no row where exactly one of the two is right (McNemar's
// test then has nothing to go on); `not_better` otherwise. The classification test is McNemar's
// on correctness whatever the primary metric; regression bootstraps the primary metric itself.
import type { Random } from '../core/clock.js';
import {
  classesOf,
  classificationMetrics,
  higherIsBetter,
  metricValue,
  regressionMetrics,
  type EvaluationMetrics,
  type EvaluationTask,
  type PrimaryMetric,
} from './metrics.js';
import { mcnemar, pairedBootstrap, type BootstrapResult, type McNemarResult } from './significance.js';

export const MIN_ROWS = 30;
export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_MARGIN = 0;

export type Verdict = 'better' | 'not_better' | 'not_enough_data';

export type ComparisonTest = McNemarResult | BootstrapResult;

export interface ComparisonOutcome {
  a: EvaluationMetrics;
  b: EvaluationMetrics;
  primary: {
    metric: PrimaryMetric;
    a: number;
    b: number;
    /** b - a (negative is better for error metrics). */
    difference: number;
  };
  test: ComparisonTest;
  verdict: Verdict;
  reason: string;
}

export type PairedPredictions =
  | { task: 'classification'; truth: readonly string[]; a: readonly string[]; b: readonly string[]; labels?: readonly string[] }
  | { task: 'regression'; truth: readonly number[]; a: readonly number[]; b: readonly number[] };

export interface ComparisonOptions {
  metric: PrimaryMetric;
  /** Least improvement of the primary metric that counts (in its units); default 0. */
  margin?: number;
  /** Significance level; default 0.05. */
  alpha?: number;
  /** Drives the regression bootstrap. */
  random: Random;
  resamples?: number;
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));

const TEST_NAMES: Record<ComparisonTest['name'], string> = {
  mcnemar_exact: "McNemar's exact test",
  mcnemar_chi2: "McNemar's chi-square test",
  paired_bootstrap: 'paired bootstrap',
};

export function comparePredictions(data: PairedPredictions, opts: ComparisonOptions): ComparisonOutcome {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`margin must be a non-negative number, got ${margin}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const task: EvaluationTask = data.task;
  if (higherIsBetter(opts.metric) !== (task === 'classification')) throw new RangeError(`metric ${opts.metric} does not fit a ${task} comparison`);
  const n = data.truth.length;
  if (data.a.length !== n || data.b.length !== n) throw new RangeError(`${n} rows but ${data.a.length} and ${data.b.length} predictions`);

  let a: EvaluationMetrics;
  let b: EvaluationMetrics;
  let test: ComparisonTest;
  if (data.task === 'classification') {
    const classes = classesOf(data.truth, [data.a, data.b], data.labels);
    a = classificationMetrics(data.truth, data.a, classes);
    b = classificationMetrics(data.truth, data.b, classes);
    let aOnly = 0;
    let bOnly = 0;
    for (let i = 0; i < n; i++) {
      const ra = data.a[i] === data.truth[i];
      const rb = data.b[i] === data.truth[i];
      if (ra && !rb) aOnly++;
      else if (rb && !ra) bOnly++;
    }
    test = mcnemar(aOnly, bOnly);
  } else {
    a = regressionMetrics(data.truth, data.a);
    b = regressionMetrics(data.truth, data.b);
    const metric = opts.metric === 'mae' ? 'mae' : 'rmse';
    test = pairedBootstrap(metric, data.truth, data.a, data.b, {
      random: opts.random,
      alpha,
      ...(opts.resamples !== undefined ? { resamples: opts.resamples } : {}),
    });
  }
  const pa = metricValue(a, opts.metric);
  const pb = metricValue(b, opts.metric);
  const difference = pb - pa;
  const improvement = higherIsBetter(opts.metric) ? difference : -difference;
  const primary = { metric: opts.metric, a: pa, b: pb, difference };
  const { verdict, reason } = decide({ rows: n, metric: opts.metric, a: pa, b: pb, improvement, margin, alpha, test });
  return { a, b, primary, test, verdict, reason };
}

interface Decision {
  rows: number;
  metric: PrimaryMetric;
  a: number;
  b: number;
  improvement: number;
  margin: number;
  alpha: number;
  test: ComparisonTest;
}

function decide(d: Decision): { verdict: Verdict; reason: string } {
  if (d.rows < MIN_ROWS) {
    return { verdict: 'not_enough_data', reason: `${d.rows} labelled row${d.rows === 1 ? '' : 's'}; a comparison needs at least ${MIN_ROWS}` };
  }
  if ('discordant' in d.test && d.test.discordant.a_only + d.test.discordant.b_only === 0) {
    return {
      verdict: 'not_enough_data',
      reason: `A and B are right and wrong on the same ${d.rows} rows: no discordant pair for McNemar's test to weigh`,
    };
  }
  const p = d.test.p_value;
  const values = `${d.metric} ${fmt(d.b)} (B) vs ${fmt(d.a)} (A)`;
  const significance = `${TEST_NAMES[d.test.name]} p = ${fmt(p)}`;
  if (!(d.improvement > 0)) return { verdict: 'not_better', reason: `B does not improve on A: ${values}` };
  if (d.improvement < d.margin) {
    return { verdict: 'not_better', reason: `B improves on A by ${fmt(d.improvement)}, less than the margin ${fmt(d.margin)}: ${values}` };
  }
  if (!(p < d.alpha)) {
    return { verdict: 'not_better', reason: `B improves on A by ${fmt(d.improvement)}, but not significantly (${significance} >= ${fmt(d.alpha)}): ${values}` };
  }
  return {
    verdict: 'better',
    reason: `B improves on A by ${fmt(d.improvement)} and the difference is significant (${significance} < ${fmt(d.alpha)}): ${values}`,
  };
}

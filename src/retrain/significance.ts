// Paired significance tests for a champion/challenger comparison on the same rows. Pure.
//
// - McNemar's test (classification): only the discordant rows count, `a_only` (A right, B wrong)
//   and `b_only` (B right, A wrong). With fewer than 25 discordant rows the exact binomial test
//   (two-sided, p = 0.5; statistic min(a_only, b_only), as statsmodels' `mcnemar(exact=True)`),
//   else chi-square with continuity correction, (|a_only - b_only| - 1)^2 / (a_only + b_only) on
//   1 degree of freedom (statsmodels' `mcnemar(exact=False, correction=True)`).
// - Paired bootstrap (regression): rows are resampled with replacement, the same indices for both
//   models; the statistic is metric(B) - metric(A). Percentile interval at 1 - alpha; two-sided
//   p-value 2 * min(#{d* <= 0} + 1, #{d* >= 0} + 1) / (R + 1), capped at 1 (the bootstrap test of
//   "no difference", with the +1 that keeps a finite number of resamples from claiming p = 0).
import type { Random } from '../core/clock.js';
import { chiSquareSf } from '../drift/stats/incomplete-gamma.js';

/** Discordant rows below which McNemar's test is the exact binomial one. */
export const MCNEMAR_EXACT_BELOW = 25;

export interface McNemarResult {
  name: 'mcnemar_exact' | 'mcnemar_chi2';
  statistic: number;
  p_value: number;
  discordant: { a_only: number; b_only: number };
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed exactly enough for the small n it is used with. */
function binomialHalfCdf(k: number, n: number): number {
  let term = Math.pow(0.5, n); // C(n, 0) / 2^n
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

export function mcnemar(aOnly: number, bOnly: number): McNemarResult {
  if (!Number.isInteger(aOnly) || !Number.isInteger(bOnly) || aOnly < 0 || bOnly < 0) {
    throw new RangeError(`McNemar's test needs counts, got ${aOnly} and ${bOnly}`);
  }
  const n = aOnly + bOnly;
  const discordant = { a_only: aOnly, b_only: bOnly };
  if (n < MCNEMAR_EXACT_BELOW) {
    const k = Math.min(aOnly, bOnly);
    return { name: 'mcnemar_exact', statistic: k, p_value: n === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(k, n)), discordant };
  }
  const statistic = Math.pow(Math.abs(aOnly - bOnly) - 1, 2) / n;
  return { name: 'mcnemar_chi2', statistic, p_value: chiSquareSf(statistic, 1), discordant };
}

export interface BootstrapResult {
  name: 'paired_bootstrap';
  /** metric(B) - metric(A) on all rows. */
  statistic: number;
  p_value: number;
  /** Percentile interval of metric(B) - metric(A) at `level`. */
  interval: [number, number];
  level: number;
  resamples: number;
}

export type ErrorMetric = 'rmse' | 'mae';

export interface BootstrapOptions {
  random: Random;
  /** Default 2,000. */
  resamples?: number;
  /** Two-sided level of the interval is 1 - alpha; default 0.05. */
  alpha?: number;
}

export const DEFAULT_RESAMPLES = 2000;

/** Quantile with linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Paired bootstrap of the difference in RMSE or MAE between B's and A's predictions of `truth`. */
export function pairedBootstrap(
  metric: ErrorMetric,
  truth: readonly number[],
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions,
): BootstrapResult {
  const n = truth.length;
  if (a.length !== n || b.length !== n) throw new RangeError(`${n} true values but ${a.length} and ${b.length} predictions`);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const alpha = opts.alpha ?? 0.05;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  // Per-row losses: squared errors for RMSE, absolute errors for MAE.
  const loss = (p: number, t: number): number => (metric === 'rmse' ? (p - t) * (p - t) : Math.abs(p - t));
  const la = Float64Array.from(truth, (t, i) => loss(a[i]!, t));
  const lb = Float64Array.from(truth, (t, i) => loss(b[i]!, t));
  const finish = (meanLoss: number): number => (metric === 'rmse' ? Math.sqrt(meanLoss) : meanLoss);
  const mean = (x: Float64Array): number => x.reduce((s, v) => s + v, 0) / n;
  const statistic = n === 0 ? NaN : finish(mean(lb)) - finish(mean(la));
  const diffs = new Float64Array(resamples);
  let atMost = 0;
  let atLeast = 0;
  for (let r = 0; r < resamples; r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(opts.random.next() * n);
      sa += la[j]!;
      sb += lb[j]!;
    }
    const d = finish(sb / n) - finish(sa / n);
    diffs[r] = d;
    if (d <= 0) atMost++;
    if (d >= 0) atLeast++;
  }
  diffs.sort();
  return {
    name: 'paired_bootstrap',
    statistic,
    p_value: n === 0 ? 1 : Math.min(1, (2 * (Math.min(atMost, atLeast) + 1)) / (resamples + 1)),
    interval: [quantileSorted(diffs, alpha / 2), quantileSorted(diffs, 1 - alpha / 2)],
    level: 1 - alpha,
    resamples,
  };
}

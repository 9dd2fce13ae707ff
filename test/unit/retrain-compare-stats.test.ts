// Champion/challenger statistics: metrics, McNemar's test, the paired bootstrap and the verdict.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { comparePredictions, MIN_ROWS } from '../../src/retrain/comparison.js';
import { classificationMetrics, primaryMetric, regressionMetrics } from '../../src/retrain/metrics.js';
import { mcnemar, pairedBootstrap, quantileSorted } from '../../src/retrain/significance.js';

describe('metrics', () => {
  it('computes accuracy, per-class precision/recall/F1/support and macro F1 like scikit-learn', () => {
    // Expected values computed by hand in python3 with the scikit-learn definitions
    // (zero_division=0; macro average over the union of true and predicted labels).
    const m = classificationMetrics([...'aabbcca'], [...'abbbacc']);
    expect(m.accuracy).toBeCloseTo(4 / 7, 12);
    expect(m.per_class).toEqual([
      { label: 'a', precision: 0.5, recall: 1 / 3, f1: expect.closeTo(0.4, 12), support: 3 },
      { label: 'b', precision: 2 / 3, recall: 1, f1: expect.closeTo(0.8, 12), support: 2 },
      { label: 'c', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
    ]);
    expect(m.f1_macro).toBeCloseTo(0.5666666666666668, 12);
  });

  it('gives a class nobody predicted or has zero precision and F1, and keeps the given label order', () => {
    const m = classificationMetrics(['x', 'x', 'y'], ['x', 'x', 'x'], ['y', 'x', 'z']);
    expect(m.per_class.map((c) => c.label)).toEqual(['y', 'x', 'z']);
    expect(m.per_class[0]).toEqual({ label: 'y', precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.per_class[2]).toEqual({ label: 'z', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('computes RMSE and MAE', () => {
    // numpy: sqrt(mean((q - y)^2)) = 0.75, mean(|q - y|) = 0.625
    expect(regressionMetrics([1, 2, 3, 4], [1.5, 2, 2, 5])).toEqual({ rmse: 0.75, mae: 0.625 });
  });

  it('picks the primary metric from spec.performance, by task', () => {
    expect(primaryMetric('classification', undefined)).toBe('accuracy');
    expect(primaryMetric('regression', {})).toBe('rmse');
    expect(primaryMetric('classification', { latency: 3, f1: 0.9, accuracy: 0.9 })).toBe('f1_macro');
    expect(primaryMetric('classification', { F1_macro: 0.9 })).toBe('f1_macro');
    expect(primaryMetric('regression', { mae: 1, rmse: 2 })).toBe('mae');
    // A metric of the other task is skipped.
    expect(primaryMetric('regression', { accuracy: 0.9 })).toBe('rmse');
  });
});

describe("McNemar's test", () => {
  // Reference values from scipy 1.17.1 on this machine:
  //   exact:  scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue
  //   chi2:   s = (abs(b - c) - 1)**2 / (b + c); scipy.stats.chi2.sf(s, 1)
  it.each([
    [2, 8, 0.109375],
    [0, 5, 0.0625],
    [3, 3, 1],
    [10, 14, 0.5412561893463135],
    [7, 1, 0.0703125],
  ])('exact binomial below 25 discordant rows: a_only %i, b_only %i -> p %f', (b, c, p) => {
    const r = mcnemar(b, c);
    expect(r.name).toBe('mcnemar_exact');
    expect(r.statistic).toBe(Math.min(b, c));
    expect(r.p_value).toBeCloseTo(p, 12);
    expect(r.discordant).toEqual({ a_only: b, b_only: c });
  });

  it.each([
    [10, 15, 0.64, 0.4237107971667936],
    [30, 12, 6.880952380952381, 0.008711912962379598],
    [20, 20, 0.025, 0.8743670611628918],
    [5, 40, 25.68888888888889, 4.0112993295804213e-7],
  ])('chi-square with continuity correction from 25: a_only %i, b_only %i', (b, c, s, p) => {
    const r = mcnemar(b, c);
    expect(r.name).toBe('mcnemar_chi2');
    expect(r.statistic).toBeCloseTo(s, 12);
    expect(r.p_value / p).toBeCloseTo(1, 9);
  });

  it('is 1 without discordant rows and refuses non-counts', () => {
    expect(mcnemar(0, 0).p_value).toBe(1);
    expect(() => mcnemar(-1, 2)).toThrow(RangeError);
    expect(() => mcnemar(1.5, 2)).toThrow(RangeError);
  });
});

describe('paired bootstrap', () => {
  it('interpolates quantiles like numpy', () => {
    // numpy.quantile([1, 2, 3, 4, 10], [0.025, 0.975]) = [1.1, 9.4]
    const s = Float64Array.from([1, 2, 3, 4, 10]);
    expect(quantileSorted(s, 0.025)).toBeCloseTo(1.1, 12);
    expect(quantileSorted(s, 0.975)).toBeCloseTo(9.4, 12);
  });

  const truth = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10);
  const noise = seededRandom(7);
  const jitter = (scale: number): number[] => truth.map((t) => t + (noise.next() - 0.5) * scale);

  it('finds a clearly better challenger significant, with an interval below 0 and the observed difference', () => {
    const a = jitter(4);
    const b = jitter(1);
    const r = pairedBootstrap('rmse', truth, a, b, { random: seededRandom(1) });
    expect(r.resamples).toBe(2000);
    expect(r.level).toBe(0.95);
    expect(r.statistic).toBeCloseTo(regressionMetrics(truth, b).rmse - regressionMetrics(truth, a).rmse, 12);
    expect(r.interval[1]).toBeLessThan(0);
    expect(r.interval[0]).toBeLessThan(r.statistic);
    expect(r.p_value).toBeCloseTo(2 / 2001, 12);
  });

  it('is deterministic for a seed and gives p = 1 for identical predictions', () => {
    const a = jitter(2);
    const b = jitter(2);
    expect(pairedBootstrap('mae', truth, a, b, { random: seededRandom(3), resamples: 200 })).toEqual(
      pairedBootstrap('mae', truth, a, b, { random: seededRandom(3), resamples: 200 }),
    );
    const same = pairedBootstrap('mae', truth, a, a, { random: seededRandom(3), resamples: 200 });
    expect(same.p_value).toBe(1);
    expect(same.interval).toEqual([0, 0]);
  });
});

describe('comparePredictions', () => {
  const random = seededRandom(1);
  /** n rows of labels 'x'/'y'; A wrong on the first `aWrong` rows, B on the rows from `bWrongFrom`. */
  function classification(n: number, aWrong: number, bWrong: number) {
    const truth = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'x' : 'y'));
    const flip = (l: string): string => (l === 'x' ? 'y' : 'x');
    const a = truth.map((t, i) => (i < aWrong ? flip(t) : t));
    const b = truth.map((t, i) => (i >= n - bWrong ? flip(t) : t));
    return { task: 'classification' as const, truth, a, b };
  }

  it('says better when B wins significantly', () => {
    const r = comparePredictions(classification(100, 12, 1), { metric: 'accuracy', random });
    expect(r.verdict).toBe('better');
    expect(r.primary).toEqual({ metric: 'accuracy', a: 0.88, b: 0.99, difference: expect.closeTo(0.11, 12) });
    expect(r.test).toMatchObject({ name: 'mcnemar_exact', discordant: { a_only: 1, b_only: 12 } });
    expect(r.reason).toMatch(/significant/);
  });

  it('says not_better when the gain is not significant, below the margin, or a loss', () => {
    expect(comparePredictions(classification(100, 3, 1), { metric: 'accuracy', random }).verdict).toBe('not_better');
    const margin = comparePredictions(classification(100, 12, 1), { metric: 'accuracy', random, margin: 0.2 });
    expect(margin.verdict).toBe('not_better');
    expect(margin.reason).toMatch(/less than the margin 0.2/);
    const worse = comparePredictions(classification(100, 1, 12), { metric: 'f1_macro', random });
    expect(worse.verdict).toBe('not_better');
    expect(worse.primary.difference).toBeLessThan(0);
  });

  it('says not_enough_data under 30 rows or without discordant rows', () => {
    const few = comparePredictions(classification(MIN_ROWS - 1, 10, 0), { metric: 'accuracy', random });
    expect(few.verdict).toBe('not_enough_data');
    expect(few.reason).toMatch(/29 labelled rows/);
    const same = comparePredictions(classification(60, 0, 0), { metric: 'accuracy', random });
    expect(same.verdict).toBe('not_enough_data');
  });

  it('bootstraps regression on the primary error metric; lower is better', () => {
    const truth = Array.from({ length: 80 }, (_, i) => i / 4);
    const a = truth.map((t, i) => t + (i % 2 === 0 ? 1 : -1));
    const b = truth.map((t, i) => t + (i % 2 === 0 ? 0.2 : -0.2));
    const r = comparePredictions({ task: 'regression', truth, a, b }, { metric: 'mae', random: seededRandom(5), resamples: 500 });
    expect(r.verdict).toBe('better');
    expect(r.primary).toEqual({ metric: 'mae', a: 1, b: expect.closeTo(0.2, 12), difference: expect.closeTo(-0.8, 12) });
    expect(r.a).toEqual({ rmse: 1, mae: 1 });
    expect(r.test.name).toBe('paired_bootstrap');
    const back = comparePredictions({ task: 'regression', truth, a: b, b: a }, { metric: 'rmse', random: seededRandom(5), resamples: 500 });
    expect(back.verdict).toBe('not_better');
  });

  it('refuses a metric of the other task', () => {
    expect(() => comparePredictions(classification(40, 1, 1), { metric: 'rmse', random })).toThrow(RangeError);
  });
});

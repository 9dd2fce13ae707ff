import { describe, expect, it } from 'vitest';
import { liveAccuracy, liveError, normalQuantile } from '../../src/drift/live-quality.js';

// Reference numbers computed with SciPy 1.17.1 / NumPy 2.4.6 (python3):
//
//   from scipy import stats; import numpy as np
//   stats.binomtest(k, n).proportion_ci(confidence_level=c, method='wilson')          # accuracy
//   a = np.abs(errs); stats.norm.interval(c, loc=a.mean(), scale=stats.sem(a))          # MAE
//   s = a ** 2; np.sqrt(stats.norm.interval(c, loc=s.mean(), scale=stats.sem(s)))       # RMSE
//   stats.norm.ppf(p)                                                                   # quantiles
//
// with the lower error bounds clipped at 0 before the square root.

/** [labelled, correct, confidence, lower, upper] from scipy's Wilson interval. */
const WILSON: [number, number, number, number, number][] = [
  [100, 90, 0.95, 0.8256343384950865, 0.9447708629393249],
  [1000, 912, 0.95, 0.8928277489502234, 0.9280190020576791],
  [50, 50, 0.95, 0.9286524008666412, 1.0],
  [50, 0, 0.95, 0.0, 0.07134759913335872],
  [20, 17, 0.9, 0.6781719243246932, 0.9384175895226318],
  [1, 1, 0.95, 0.20654931437723745, 1.0],
  [10000, 9400, 0.99, 0.9335860756393317, 0.9458304405952238],
];

const ERRORS = [0.5, 1.25, 0.75, 2.0, 0.1, 1.5, 0.9, 3.2, 0.4, 1.1];

describe('normalQuantile', () => {
  it('matches scipy.stats.norm.ppf', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 14);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 14);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 13);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('liveAccuracy', () => {
  it.each(WILSON)('n=%i correct=%i at %f: Wilson interval as scipy', (n, k, c, lower, upper) => {
    const q = liveAccuracy(n, k, undefined, c);
    expect(q.metric).toBe('accuracy');
    expect(q.labelled).toBe(n);
    expect(q.value).toBe(k / n);
    expect(q.interval![0]).toBeCloseTo(lower, 13);
    expect(q.interval![1]).toBeCloseTo(upper, 13);
    expect(q.declared).toBeNull();
    expect(q.degraded).toBe(false);
  });

  it('is degraded only when the declared accuracy lies above the upper bound', () => {
    // 90/100: interval [0.8256, 0.9448].
    expect(liveAccuracy(100, 90, 0.95)).toMatchObject({ declared: 0.95, degraded: true });
    expect(liveAccuracy(100, 90, 0.94)).toMatchObject({ declared: 0.94, degraded: false });
    // Doing better than declared is not a degradation.
    expect(liveAccuracy(100, 90, 0.8)).toMatchObject({ declared: 0.8, degraded: false });
    // The same rate on more data narrows the interval: 900/1000 is [0.8798, 0.9171], 9/10 [0.5958, 0.9821].
    expect(liveAccuracy(1000, 900, 0.93).degraded).toBe(true);
    expect(liveAccuracy(10, 9, 0.93).degraded).toBe(false);
  });

  it('has no estimate without labels', () => {
    expect(liveAccuracy(0, 0, 0.9)).toEqual({ metric: 'accuracy', labelled: 0, value: null, interval: null, declared: 0.9, degraded: false });
  });

  it('rejects impossible counts and declarations', () => {
    expect(() => liveAccuracy(10, 11)).toThrow(RangeError);
    expect(() => liveAccuracy(10.5, 1)).toThrow(RangeError);
    expect(() => liveAccuracy(-1, 0)).toThrow(RangeError);
    expect(() => liveAccuracy(10, 5, 94)).toThrow(/declared accuracy/);
    expect(() => liveAccuracy(10, 5, 0.9, 1)).toThrow(/confidence/);
  });
});

describe('liveError', () => {
  it('MAE: normal interval as scipy', () => {
    const q = liveError('mae', ERRORS);
    expect(q.metric).toBe('mae');
    expect(q.labelled).toBe(10);
    expect(q.value).toBeCloseTo(1.1700000000000002, 14);
    expect(q.interval![0]).toBeCloseTo(0.6092843295966117, 13);
    expect(q.interval![1]).toBeCloseTo(1.7307156704033886, 13);
    const q80 = liveError('mae', ERRORS, undefined, 0.8);
    expect(q80.interval![0]).toBeCloseTo(0.8033677297649511, 13);
    expect(q80.interval![1]).toBeCloseTo(1.5366322702350492, 13);
  });

  it('RMSE: normal interval of the mean square, through the square root, as scipy', () => {
    const q = liveError('rmse', ERRORS);
    expect(q.metric).toBe('rmse');
    expect(q.value).toBeCloseTo(1.4510341140028378, 14);
    expect(q.interval![0]).toBeCloseTo(0.42826795462664863, 13);
    expect(q.interval![1]).toBeCloseTo(2.00688478967775, 13);
    const q80 = liveError('rmse', ERRORS, undefined, 0.8);
    expect(q80.interval![0]).toBeCloseTo(0.92125737542137, 13);
    expect(q80.interval![1]).toBeCloseTo(1.833653415515519, 13);
  });

  it('clips the lower bound at zero', () => {
    // scipy: MAE (-1.4024, 4.9358), MSE interval (-7.9667, ...) -> sqrt upper 4.96655907041889.
    const mae = liveError('mae', [0.2, 5.0, 0.1]);
    expect(mae.interval![0]).toBe(0);
    expect(mae.interval![1]).toBeCloseTo(4.935780213437414, 13);
    const rmse = liveError('rmse', [0.2, 5.0, 0.1]);
    expect(rmse.value).toBeCloseTo(2.8896366553599777, 14);
    expect(rmse.interval![0]).toBe(0);
    expect(rmse.interval![1]).toBeCloseTo(4.96655907041889, 13);
  });

  it('is degraded only when the declared error lies below the lower bound', () => {
    // MAE interval [0.609, 1.731]; RMSE interval [0.428, 2.007].
    expect(liveError('mae', ERRORS, 0.5)).toMatchObject({ declared: 0.5, degraded: true });
    expect(liveError('mae', ERRORS, 1.0)).toMatchObject({ degraded: false });
    expect(liveError('mae', ERRORS, 2.0)).toMatchObject({ degraded: false });
    expect(liveError('rmse', ERRORS, 0.4)).toMatchObject({ declared: 0.4, degraded: true });
    expect(liveError('rmse', ERRORS, 0.5)).toMatchObject({ degraded: false });
  });

  it('takes absolute values, and needs two errors for an interval', () => {
    expect(liveError('mae', [-1, 1]).value).toBe(1);
    expect(liveError('mae', Float64Array.from([2]), 0.1)).toEqual({ metric: 'mae', labelled: 1, value: 2, interval: null, declared: 0.1, degraded: false });
    expect(liveError('rmse', [])).toEqual({ metric: 'rmse', labelled: 0, value: null, interval: null, declared: null, degraded: false });
  });

  it('rejects non-finite errors and impossible declarations', () => {
    expect(() => liveError('mae', [1, Number.NaN])).toThrow(RangeError);
    expect(() => liveError('rmse', [1, 2], -1)).toThrow(/declared rmse/);
    expect(() => liveError('mae', [1, 2], undefined, 0)).toThrow(/confidence/);
  });
});

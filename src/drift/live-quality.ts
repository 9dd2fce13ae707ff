// Live quality from labelled feedback, against the performance the description declares
// (`spec.performance.accuracy`, `mae`, `rmse`): a point estimate, a two-sided confidence interval,
// and `degraded` when the declared value lies outside the interval on the bad side.
//
// Intervals:
// - accuracy: Wilson score interval (Wilson 1927), z = standard normal quantile at 1 - (1 - c) / 2.
// - mae: normal approximation, mean(|e|) +- z * sd(|e|) / sqrt(n) (sd with n - 1), lower bound
//   clipped at 0.
// - rmse: the same normal interval for the mean squared error, mean(e^2) +- z * sd(e^2) / sqrt(n),
//   mapped through the square root (monotone, so the coverage carries over); lower bound clipped at 0.
// The error intervals need at least two errors (a spread); with fewer, `interval` is null.

export interface LiveQuality {
  metric: 'accuracy' | 'mae' | 'rmse';
  labelled: number;
  value: number | null;
  interval: [number, number] | null;
  declared: number | null;
  degraded: boolean;
}

// Wichura (1988), Algorithm AS 241 PPND16: the normal quantile to about 1e-16 relative accuracy
// (coefficients as the nearest doubles of the published 20-digit values).
const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943, 5226.495278852854];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506, 0.022723844989269184,
  0.0007745450142783414,
];
const D = [1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-5,
  2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function poly(c: readonly number[], x: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * x + c[i]!;
  return s;
}

/** The standard normal quantile (inverse CDF) at p in (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile needs p in (0, 1), got ${p}`);
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = poly(C, r) / poly(D, r);
  } else {
    r -= 5;
    x = poly(E, r) / poly(F, r);
  }
  return q < 0 ? -x : x;
}

/** z for a two-sided interval at `confidence` (0.95 -> 1.959964). */
function zFor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * Live accuracy of `correct` out of `labelled` predictions with its Wilson score interval;
 * `degraded` when `declared` lies above the upper bound.
 */
export function liveAccuracy(labelled: number, correct: number, declared?: number, confidence = 0.95): LiveQuality {
  checkCount('labelled', labelled);
  checkCount('correct', correct);
  if (correct > labelled) throw new RangeError(`correct (${correct}) exceeds labelled (${labelled})`);
  if (declared !== undefined && !(declared >= 0 && declared <= 1)) throw new RangeError(`declared accuracy must lie in [0, 1], got ${declared}`);
  const z = zFor(confidence);
  const base = { metric: 'accuracy' as const, labelled, declared: declared ?? null };
  if (labelled === 0) return { ...base, value: null, interval: null, degraded: false };

  const n = labelled;
  const p = correct / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At p = 0 or 1 a bound is exactly 0 or 1; the formula only gets there up to rounding.
  const lower = correct === 0 ? 0 : Math.max(0, centre - half);
  const upper = correct === labelled ? 1 : Math.min(1, centre + half);
  return { ...base, value: p, interval: [lower, upper], degraded: declared !== undefined && declared > upper };
}

/** Mean and sample standard deviation (n - 1), two-pass for accuracy. */
function meanAndSd(xs: readonly number[]): { mean: number; sd: number } {
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { mean, sd: Math.sqrt(ss / (xs.length - 1)) };
}

/**
 * Live MAE or RMSE of absolute errors (signs are dropped) with a normal-approximation interval;
 * `degraded` when `declared` lies below the lower bound.
 */
export function liveError(metric: 'mae' | 'rmse', absErrors: ArrayLike<number>, declared?: number, confidence = 0.95): LiveQuality {
  if (metric !== 'mae' && metric !== 'rmse') throw new RangeError(`metric must be mae or rmse, got ${String(metric)}`);
  if (declared !== undefined && !(declared >= 0 && Number.isFinite(declared)))
    throw new RangeError(`declared ${metric} must be a finite number >= 0, got ${declared}`);
  const z = zFor(confidence);
  const n = absErrors.length;
  const xs: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const e = absErrors[i]!;
    if (!Number.isFinite(e)) throw new RangeError(`absolute errors must be finite, got ${e} at ${i}`);
    xs[i] = metric === 'mae' ? Math.abs(e) : e * e;
  }
  const base = { metric, labelled: n, declared: declared ?? null };
  if (n === 0) return { ...base, value: null, interval: null, degraded: false };

  const { mean, sd } = meanAndSd(xs);
  const value = metric === 'mae' ? mean : Math.sqrt(mean);
  if (n < 2) return { ...base, value, interval: null, degraded: false };
  const half = (z * sd) / Math.sqrt(n);
  const lo = Math.max(0, mean - half);
  const hi = mean + half;
  const interval: [number, number] = metric === 'mae' ? [lo, hi] : [Math.sqrt(lo), Math.sqrt(hi)];
  return { ...base, value, interval, degraded: declared !== undefined && declared < interval[0] };
}

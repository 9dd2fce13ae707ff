// Two-sample Kolmogorov-Smirnov test, matching scipy.stats.ks_2samp(ref, cur,
// alternative='two-sided', method='auto') in statistic and p-value (Evidently's "ks" test is
// exactly that call). 'auto' is exact when max(n1, n2) <= 10000 and falls back to the
// asymptotic kstwo.sf(d, round(n1 n2 / (n1 + n2))) when the exact sum is not a probability.
import { outerProbInside, probOutsideSquare } from './ks-exact.js';
import { kstwoSf } from './kolmogorov.js';

const MAX_AUTO_N = 10000;

/** The largest |ECDF difference| over both (sorted, NaN-free) samples, computed in one merge. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    // Same division and subtraction as scipy's searchsorted(...)/n1 - searchsorted(...)/n2.
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const negMin = Math.min(Math.max(-minS, 0), 1);
  return negMin > maxS ? negMin : maxS;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** numpy.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface KsResult {
  statistic: number;
  pValue: number;
}

/** p-value for statistic d with sample sizes n1, n2, as ks_2samp(method='auto'); d may be snapped to a multiple of 1/lcm. */
export function ksPValue(d: number, n1: number, n2: number): KsResult {
  let stat = d;
  if (Math.max(n1, n2) <= MAX_AUTO_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    stat = h / lcm;
    if (h === 0) return { statistic: stat, pValue: 1 };
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (prob >= 0 && prob <= 1) return { statistic: stat, pValue: prob };
    // Not a probability (rounding near 1 or overflow): scipy warns and switches to 'asymp'.
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const p = kstwoSf(stat, roundHalfEven(en));
  return { statistic: stat, pValue: Math.min(Math.max(p, 0), 1) };
}

/** ks_2samp on two sorted, NaN-free samples. */
export function ksTestSorted(a: Float64Array, b: Float64Array): KsResult {
  if (a.length === 0 || b.length === 0) throw new Error('ks: both samples must be non-empty');
  return ksPValue(ksStatisticSorted(a, b), a.length, b.length);
}

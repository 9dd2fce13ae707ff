// Evidently's two-proportion Z-test ("z", z_stattest.py `_z_stat_test`):
//   if both sides hold one and the same single value: p = 1
//   else keys = sorted(union of values); each value maps to 0 if it equals keys[0], else 1;
//   z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)), P = (p1 n1 + p2 n2) / (n1 + n2)
//   p = 2 * (1 - norm.cdf(|z|))                              drift when p < threshold (0.05)
// Evidently lumps every value other than keys[0] together when there are more than two; we
// refuse instead, as the test is only meaningful for binary data.
import { ndtr } from './normal.js';

export interface ZResult {
  statistic: number;
  pValue: number;
}

/** Python's ordering of the keys: numbers numerically, strings by code point. */
export function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  const ia = sa[Symbol.iterator]();
  const ib = sb[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done === cb.done ? 0 : ca.done ? -1 : 1;
    const d = ca.value.codePointAt(0)! - cb.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** The Z-test on aligned counts of at most two values. */
export function zTestFromCounts<K extends string | number>(
  keys: readonly K[],
  reference: Float64Array,
  current: Float64Array,
  n1: number,
  n2: number,
): ZResult {
  const present = keys.map((_, i) => i).filter((i) => reference[i]! > 0 || current[i]! > 0);
  if (present.length > 2) throw new Error(`z: the Z-test is for binary data, but the column has ${present.length} distinct values`);
  const refOnly = present.filter((i) => reference[i]! > 0);
  const curOnly = present.filter((i) => current[i]! > 0);
  if (refOnly.length === 1 && curOnly.length === 1 && refOnly[0] === curOnly[0]) return { statistic: 0, pValue: 1 };
  const first = present.reduce((best, i) => (compareKeys(keys[i]!, keys[best]!) < 0 ? i : best));
  const p1 = (n1 - reference[first]!) / n1;
  const p2 = (n2 - current[first]!) / n2;
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
  return { statistic: z, pValue: 2 * (1 - ndtr(Math.abs(z))) };
}

// Preparing raw column values for the tests: sorted Float64Array copies for numeric columns,
// value counts for category-style tests. The caller has removed missing values; a NaN left
// over is a caller bug, so it is reported rather than silently dropped.
import { sortFloat64 } from './sort.js';

/** A sorted copy (the caller's array is never mutated); throws on empty input or NaN. */
export function sortedSample(values: ArrayLike<number>, what: string): Float64Array {
  if (values.length === 0) throw new Error(`${what} is empty: drift tests need at least one value on each side`);
  const copy = new Float64Array(values);
  for (const v of copy) if (v !== v) throw new Error(`${what} contains NaN: remove missing values before testing`);
  sortFloat64(copy);
  return copy;
}

/** Number of distinct values of a sorted sample. */
export function distinctSorted(sorted: Float64Array): number {
  if (sorted.length === 0) return 0;
  let distinct = 1;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

/** Distinct values of the union of two sorted samples. */
export function distinctUnionSorted(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let distinct = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < a.length && a[i]! <= v) i++;
    while (j < b.length && b[j]! <= v) j++;
    distinct++;
  }
  return distinct;
}

/** Value counts of a sorted sample (pandas value_counts; -0 and 0 are one key). */
export function countSorted(sorted: Float64Array): Map<number, number> {
  const counts = new Map<number, number>();
  let i = 0;
  while (i < sorted.length) {
    const v = sorted[i]!;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === v) j++;
    counts.set(v === 0 ? 0 : v, j - i);
    i = j;
  }
  return counts;
}

/** Value counts of a categorical column. */
export function countStrings(values: readonly string[], what: string): Map<string, number> {
  if (values.length === 0) throw new Error(`${what} is empty: drift tests need at least one value on each side`);
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Two count tables aligned on the union of their keys (reference keys first, then new ones). */
export interface AlignedCounts<K> {
  keys: K[];
  reference: Float64Array;
  current: Float64Array;
  referenceTotal: number;
  currentTotal: number;
}

export function alignCounts<K>(reference: ReadonlyMap<K, number>, current: ReadonlyMap<K, number>): AlignedCounts<K> {
  const keys = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) keys.push(k);
  const ref = new Float64Array(keys.length);
  const cur = new Float64Array(keys.length);
  let referenceTotal = 0;
  let currentTotal = 0;
  keys.forEach((k, i) => {
    const r = reference.get(k) ?? 0;
    const c = current.get(k) ?? 0;
    ref[i] = r;
    cur[i] = c;
    referenceTotal += r;
    currentTotal += c;
  });
  return { keys, reference: ref, current: cur, referenceTotal, currentTotal };
}

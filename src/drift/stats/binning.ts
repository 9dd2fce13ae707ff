// Evidently's `get_binned_data` (evidently/legacy/calculations/stattests/utils.py), used by the
// psi, kl_div and jensenshannon tests, with numpy's histogram rules reproduced exactly:
//   numeric column whose reference has more than 20 distinct values (the source says `> 20`;
//   its `n` argument of 30 is unused): bins = np.histogram_bin_edges(concat(ref, cur), 'sturges'),
//   shares = np.histogram(x, bins)[0] / len(x);
//   otherwise: per-value shares over the union of the values of both sides;
//   then, for psi and kl_div ("feel_zeroes"), each side's zero shares are replaced by
//   min(non-zero share) / 1e6 when that minimum is <= 1e-4, else by 1e-4.
import { alignCounts, countSorted, distinctSorted } from './samples.js';

/** np.linspace(start, stop, num) with endpoint: i * step + start, last point exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** np.histogram_bin_edges(x, bins='sturges') from the sample's min, max and size. */
export function sturgesEdges(min: number, max: number, size: number): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  // Sturges' width uses the data's own range (ptp), the bin count the (possibly widened) range.
  const width = (max - min) / (Math.log2(size) + 1);
  const bins = width ? Math.ceil((last - first) / width) : 1;
  return linspace(first, last, bins + 1);
}

/**
 * np.histogram(x, edges)[0] for a sorted sample: counts in [e_i, e_i+1), the last bin closed,
 * values outside the edges ignored (numpy's searchsorted rules).
 */
export function histogramSorted(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  // cum[i] = #(x < e_i) for i < bins, and #(x <= e_last) for the last edge.
  let pos = 0;
  let prev = 0;
  for (let i = 0; i <= bins; i++) {
    const e = edges[i]!;
    if (i < bins) while (pos < sorted.length && sorted[pos]! < e) pos++;
    else while (pos < sorted.length && sorted[pos]! <= e) pos++;
    if (i > 0) counts[i - 1] = pos - prev;
    prev = pos;
  }
  return counts;
}

/** Evidently's zero filling ("feel_zeroes") applied to one side's shares, in place. */
export function fillZeroes(shares: Float64Array): void {
  let min = Infinity;
  for (const s of shares) if (s !== 0 && s < min) min = s;
  if (min === Infinity) return;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = fill;
}

export interface BinnedShares {
  reference: Float64Array;
  current: Float64Array;
}

/** Shares of each side over aligned counts, optionally with Evidently's zero filling. */
export function sharesFromCounts(
  reference: Float64Array,
  current: Float64Array,
  referenceTotal: number,
  currentTotal: number,
  feelZeroes: boolean,
): BinnedShares {
  const ref = reference.map((c) => c / referenceTotal);
  const cur = current.map((c) => c / currentTotal);
  if (feelZeroes) {
    fillZeroes(ref);
    fillZeroes(cur);
  }
  return { reference: ref, current: cur };
}

/** get_binned_data for a numeric column given both sorted samples. */
export function binNumeric(ref: Float64Array, cur: Float64Array, feelZeroes: boolean): BinnedShares {
  if (distinctSorted(ref) > 20) {
    const min = Math.min(ref[0]!, cur[0]!);
    const max = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
    const edges = sturgesEdges(min, max, ref.length + cur.length);
    return sharesFromCounts(histogramSorted(ref, edges), histogramSorted(cur, edges), ref.length, cur.length, feelZeroes);
  }
  const aligned = alignCounts(countSorted(ref), countSorted(cur));
  return sharesFromCounts(aligned.reference, aligned.current, ref.length, cur.length, feelZeroes);
}

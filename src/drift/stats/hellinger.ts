// Evidently's Hellinger distance ("hellinger", hellinger_distance.py `_hellinger_distance`),
// which does its own binning rather than get_binned_data:
//   categorical: p, q = value shares of each side; value = sqrt(1 - clip(sum sqrt(p q), 0, 1))
//   numeric: bins = np.histogram_bin_edges(keys, 'sturges') where keys are the *distinct*
//   values of both sides; d1, d2 = np.histogram(side, bins, density=True);
//   value = sqrt(1 - clip(sum sqrt(d1 d2) * bin_width, 0, 1)), bin_width = (max - min) / nbins
// drift when the value reaches the threshold (default 0.1).
import { histogramSorted, sturgesEdges } from './binning.js';

/** From aligned counts (categorical form). */
export function hellingerFromCounts(reference: Float64Array, current: Float64Array, referenceTotal: number, currentTotal: number): number {
  let bc = 0;
  for (let i = 0; i < reference.length; i++) bc += Math.sqrt((reference[i]! / referenceTotal) * (current[i]! / currentTotal));
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/** Numeric form, from both sorted samples and the number of distinct values of their union. */
export function hellingerNumeric(ref: Float64Array, cur: Float64Array, distinctUnion: number): number {
  const min = Math.min(ref[0]!, cur[0]!);
  const max = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
  const edges = sturgesEdges(min, max, distinctUnion);
  const h1 = density(histogramSorted(ref, edges), edges);
  const h2 = density(histogramSorted(cur, edges), edges);
  const bins = edges.length - 1;
  const binWidth = (edges[bins]! - edges[0]!) / bins;
  let bc = 0;
  for (let i = 0; i < bins; i++) bc += Math.sqrt(h1[i]! * h2[i]!) * binWidth;
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/** np.histogram(..., density=True): count / width / total. */
function density(counts: Float64Array, edges: Float64Array): Float64Array {
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c, i) => c / (edges[i + 1]! - edges[i]!) / total);
}

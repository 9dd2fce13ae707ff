// Drift tests from aggregates only (strict deployments keep no raw rows). These are
// approximations of the raw-data tests, documented per function; with a fine histogram they
// agree with them closely (see test/unit/drift-stats.test.ts).
//
// A numeric histogram counts values in [edges[i], edges[i+1]) (the last bin closed) plus an
// underflow and an overflow count whose positions are unknown: they are taken to sit on the
// outer edges.
import { linspace } from './binning.js';

export interface NumericHistogram {
  edges: readonly number[];
  counts: readonly number[];
  underflow: number;
  overflow: number;
}

function checkCount(c: number, what: string): void {
  if (!(c >= 0) || !Number.isFinite(c)) throw new Error(`${what} must be a finite non-negative count, got ${c}`);
}

/** Validates one histogram and returns its total count. */
export function histogramTotal(h: NumericHistogram, what: string): number {
  if (h.edges.length < 2) throw new Error(`${what}: a histogram needs at least two edges`);
  if (h.counts.length !== h.edges.length - 1) throw new Error(`${what}: ${h.counts.length} counts for ${h.edges.length} edges (need edges - 1)`);
  for (let i = 1; i < h.edges.length; i++) {
    if (!(h.edges[i]! > h.edges[i - 1]!)) throw new Error(`${what}: edges must be finite and strictly increasing`);
  }
  if (!Number.isFinite(h.edges[0]!) || !Number.isFinite(h.edges[h.edges.length - 1]!)) throw new Error(`${what}: edges must be finite`);
  checkCount(h.underflow, `${what} underflow`);
  checkCount(h.overflow, `${what} overflow`);
  let total = h.underflow + h.overflow;
  for (const c of h.counts) {
    checkCount(c, `${what} count`);
    total += c;
  }
  if (total <= 0) throw new Error(`${what} is empty: drift tests need at least one value on each side`);
  return total;
}

/** Both histograms must share their edges: the tests compare bin by bin. */
export function checkSameEdges(a: NumericHistogram, b: NumericHistogram): void {
  if (a.edges.length !== b.edges.length || a.edges.some((e, i) => e !== b.edges[i])) {
    throw new Error('reference and current histograms must use the same edges');
  }
}

/** Cumulative counts at each edge: [underflow, underflow + c0, ..., total - overflow]. */
function cumulative(h: NumericHistogram): Float64Array {
  const cum = new Float64Array(h.edges.length);
  let acc = h.underflow;
  cum[0] = acc;
  h.counts.forEach((c, i) => {
    acc += c;
    cum[i + 1] = acc;
  });
  return cum;
}

/**
 * KS statistic from histograms: the largest |ECDF difference| at the bin edges (the only points
 * where both ECDFs are known). It never exceeds the raw-data statistic; it equals it when no bin
 * holds values of both samples in a different order than the merge.
 */
export function ksStatisticFromHistograms(ref: NumericHistogram, cur: NumericHistogram, nRef: number, nCur: number): number {
  const a = cumulative(ref);
  const b = cumulative(cur);
  let maxS = 0;
  let minS = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! / nRef - b[i]! / nCur;
    if (d > maxS) maxS = d;
    if (d < minS) minS = d;
  }
  return Math.max(maxS, -minS);
}

/** Piecewise-linear CDF values at the edges, as shares (values spread uniformly inside each bin). */
function cdfAtEdges(h: NumericHistogram, n: number): Float64Array {
  return cumulative(h).map((c) => c / n);
}

/**
 * Wasserstein-1 distance between the two binned distributions, taking values uniform inside
 * their bin (piecewise-linear CDFs) and the underflow/overflow mass on the outer edges. The area
 * between two linear segments is integrated exactly, including a sign change inside a bin.
 */
export function wassersteinFromHistograms(ref: NumericHistogram, cur: NumericHistogram, nRef: number, nCur: number): number {
  const F = cdfAtEdges(ref, nRef);
  const G = cdfAtEdges(cur, nCur);
  let area = 0;
  for (let i = 0; i + 1 < F.length; i++) {
    // Inside bin i both CDFs run linearly between their values at its edges; the underflow and
    // overflow jumps sit on the outer edges and add no area.
    const w = ref.edges[i + 1]! - ref.edges[i]!;
    const d0 = F[i]! - G[i]!;
    const d1 = F[i + 1]! - G[i + 1]!;
    area += w * segmentArea(d0, d1);
  }
  return area;
}

/** Integral over [0, 1] of |d0 + (d1 - d0) t|. */
function segmentArea(d0: number, d1: number): number {
  if ((d0 >= 0 && d1 >= 0) || (d0 <= 0 && d1 <= 0)) return Math.abs(d0 + d1) / 2;
  return (d0 * d0 + d1 * d1) / (2 * (Math.abs(d0) + Math.abs(d1)));
}

/** Population std of a histogram under the same model (uniform within bins, outliers on the edges). */
export function histogramStd(h: NumericHistogram, n: number): number {
  const first = h.edges[0]!;
  const last = h.edges[h.edges.length - 1]!;
  let mean = (h.underflow * first + h.overflow * last) / n;
  h.counts.forEach((c, i) => {
    mean += (c * (h.edges[i]! + h.edges[i + 1]!)) / 2 / n;
  });
  let variance = (h.underflow * (first - mean) ** 2 + h.overflow * (last - mean) ** 2) / n;
  h.counts.forEach((c, i) => {
    const lo = h.edges[i]! - mean;
    const hi = h.edges[i + 1]! - mean;
    // E[(x - mean)^2] for x uniform on [lo, hi] is (lo^2 + lo hi + hi^2) / 3.
    variance += (c * (lo * lo + lo * hi + hi * hi)) / 3 / n;
  });
  return Math.sqrt(Math.max(variance, 0));
}

/**
 * Occupied bins (and non-empty underflow/overflow) as categories: exact for few distinct values
 * when each has its own bin. Keys sort in the order of the bins (the Z-test's sign uses it).
 */
export function histogramCategories(h: NumericHistogram): Map<string, number> {
  const out = new Map<string, number>();
  if (h.underflow > 0) out.set('0', h.underflow);
  h.counts.forEach((c, i) => {
    if (c > 0) out.set(`1:${String(i).padStart(12, '0')}`, c);
  });
  if (h.overflow > 0) out.set('2', h.overflow);
  return out;
}

/** Number of occupied cells (bins, underflow, overflow). */
export function occupiedCells(h: NumericHistogram): number {
  return histogramCategories(h).size;
}

/** Range spanned by the occupied cells of both histograms (outliers on the outer edges). */
function occupiedRange(a: NumericHistogram, b: NumericHistogram): [number, number] {
  const edges = a.edges;
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of [a, b]) {
    if (h.underflow > 0) lo = Math.min(lo, edges[0]!);
    if (h.overflow > 0) hi = Math.max(hi, edges[edges.length - 1]!);
    h.counts.forEach((c, i) => {
      if (c > 0) {
        lo = Math.min(lo, edges[i]!);
        hi = Math.max(hi, edges[i + 1]!);
      }
    });
  }
  return [lo, hi];
}

/**
 * Re-bins a fine histogram onto Sturges bins over the occupied range of both histograms, the
 * binning Evidently derives from raw values (`size` plays the role of the number of values).
 * Each fine bin's count is split by overlap (uniform within the bin); outliers go to the outer bins.
 */
export function rebinSturges(a: NumericHistogram, b: NumericHistogram, size: number): { edges: Float64Array; a: Float64Array; b: Float64Array } {
  const [lo, hi] = occupiedRange(a, b);
  const bins = Math.max(1, Math.ceil(Math.log2(size) + 1));
  const edges = linspace(lo, hi, bins + 1);
  return { edges, a: rebin(a, edges), b: rebin(b, edges) };
}

function rebin(h: NumericHistogram, target: Float64Array): Float64Array {
  const bins = target.length - 1;
  const out = new Float64Array(bins);
  out[0]! += h.underflow;
  out[bins - 1]! += h.overflow;
  let t = 0;
  h.counts.forEach((c, i) => {
    if (c === 0) return;
    const lo = h.edges[i]!;
    const hi = h.edges[i + 1]!;
    while (t < bins - 1 && target[t + 1]! <= lo) t++;
    for (let k = t; k < bins; k++) {
      const overlap = Math.min(hi, target[k + 1]!) - Math.max(lo, target[k]!);
      if (overlap > 0) out[k]! += (c * overlap) / (hi - lo);
      if (target[k + 1]! >= hi) break;
    }
  });
  return out;
}

// Running moments and a fixed-bin histogram of one numeric quantity. Bins are shared by every
// window chunk so that chunks add up; they come from the reference profile when there is one (so
// that window and reference share edges), else from the declared range, else from the first
// observed values (the warm-up); values outside land in underflow/overflow.
import type { NumericSummary } from '../../protocol/stats.js';

export interface BinGeometry {
  lo: number;
  hi: number;
  bins: number;
  /** Explicit edges (bins + 1, lo first, hi last), e.g. a profile's; equal-width bins when absent. */
  edges?: readonly number[];
}

/** Bins on given edges: [edges[i], edges[i+1]), the last bin closed (as the profile counts). */
export function geometryFromEdges(edges: readonly number[]): BinGeometry | undefined {
  if (edges.length < 2 || !(edges[edges.length - 1]! > edges[0]!)) return undefined;
  return { lo: edges[0]!, hi: edges[edges.length - 1]!, bins: edges.length - 1, edges };
}

/**
 * The bin of x in [lo, hi]: the equal-width guess, corrected on explicit edges so that a value on
 * an edge lands where the profile's binary search puts it.
 */
export function binOf(x: number, g: BinGeometry): number {
  const last = g.bins - 1;
  let b = Math.floor(((x - g.lo) / (g.hi - g.lo)) * g.bins);
  if (b > last) b = last;
  else if (b < 0) b = 0;
  const e = g.edges;
  if (e) {
    while (b > 0 && x < e[b]!) b--;
    while (b < last && x >= e[b + 1]!) b++;
  }
  return b;
}

export class NumericAccumulator {
  count = 0;
  missing = 0;
  sum = 0;
  sumSq = 0;
  min = Infinity;
  max = -Infinity;
  underflow = 0;
  overflow = 0;
  counts: Uint32Array | undefined;
  /** Values seen before the geometry was fixed. */
  pending: number[] = [];

  add(x: number, geometry: BinGeometry | undefined): void {
    if (Number.isNaN(x)) {
      this.missing++;
      return;
    }
    this.count++;
    this.sum += x;
    this.sumSq += x * x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (geometry) this.bin(x, geometry);
    else this.pending.push(x);
  }

  bin(x: number, g: BinGeometry): void {
    this.counts ??= new Uint32Array(g.bins);
    if (x < g.lo) this.underflow++;
    else if (x > g.hi) this.overflow++;
    else this.counts[binOf(x, g)]!++;
  }

  /** Bins the warm-up values once the geometry is known. */
  settle(g: BinGeometry): void {
    for (const x of this.pending) this.bin(x, g);
    this.pending = [];
  }
}

/**
 * Bins over the declared range, padded by a quarter of the span on undeclared sides. `coarse`
 * (strict placement) then rounds undeclared sides outward to a multiple of the span's power of
 * ten, so that the edges do not give away the observed extremes.
 */
export function geometryFor(declaredMin: number, declaredMax: number, observedMin: number, observedMax: number, bins: number, coarse = false): BinGeometry {
  let lo = Number.isFinite(declaredMin) ? declaredMin : observedMin;
  let hi = Number.isFinite(declaredMax) ? declaredMax : observedMax;
  if (!Number.isFinite(declaredMin) || !Number.isFinite(declaredMax)) {
    const span = hi - lo > 0 ? hi - lo : Math.max(Math.abs(lo), 1);
    if (!Number.isFinite(declaredMin)) lo -= span / 4;
    if (!Number.isFinite(declaredMax)) hi += span / 4;
    if (coarse) {
      const unit = 10 ** Math.floor(Math.log10(hi - lo > 0 ? hi - lo : span));
      if (!Number.isFinite(declaredMin)) lo = Math.floor(lo / unit) * unit;
      if (!Number.isFinite(declaredMax)) hi = Math.ceil(hi / unit) * unit;
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  return { lo, hi, bins };
}

/** Adds up chunk accumulators; `g` is the fixed or a provisional geometry. */
export function summarize(parts: readonly NumericAccumulator[], g: BinGeometry): NumericSummary {
  let count = 0;
  let missing = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  const scratch = new NumericAccumulator();
  scratch.counts = new Uint32Array(g.bins);
  for (const p of parts) {
    count += p.count;
    missing += p.missing;
    sum += p.sum;
    sumSq += p.sumSq;
    if (p.min < min) min = p.min;
    if (p.max > max) max = p.max;
    scratch.underflow += p.underflow;
    scratch.overflow += p.overflow;
    if (p.counts) for (let i = 0; i < g.bins; i++) scratch.counts[i]! += p.counts[i]!;
    for (const x of p.pending) scratch.bin(x, g);
  }
  const mean = count > 0 ? sum / count : null;
  const variance = count > 1 && mean !== null ? Math.max(0, (sumSq - count * mean * mean) / (count - 1)) : count === 1 ? 0 : null;
  const edges: number[] = g.edges ? [...g.edges] : [];
  if (!g.edges) for (let i = 0; i <= g.bins; i++) edges.push(g.lo + ((g.hi - g.lo) * i) / g.bins);
  return {
    count,
    missing,
    min: count > 0 ? min : null,
    max: count > 0 ? max : null,
    mean,
    std: variance === null ? null : Math.sqrt(variance),
    histogram: { edges, counts: Array.from(scratch.counts), underflow: scratch.underflow, overflow: scratch.overflow },
  };
}

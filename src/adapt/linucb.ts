// Stage 4 of adaptive recomposition (DESIGN.md "Composition and adaptive recomposition"):
// disjoint LinUCB (Li et al., "A contextual-bandit approach to personalized news article
// recommendation", WWW 2010, algorithm 1) and the candidate context it learns from.
// Pure: numbers in, numbers out.
import type { Candidate } from './types.js';

export interface LinUcbOptions {
  /** Exploration weight: how many standard deviations of optimism the score adds. */
  alpha: number;
  /** Ridge prior: every arm starts with A = lambda * I. */
  lambda: number;
}

export interface LinUcbScore {
  /** mean + width. */
  ucb: number;
  /** theta . x, the ridge estimate of the reward. */
  mean: number;
  /** alpha * sqrt(x' A^-1 x), the optimism bonus. */
  width: number;
}

interface Arm {
  /** A = lambda * I + sum x x' (row-major, dim x dim); kept for inspection only, never inverted. */
  a: Float64Array;
  /** A^-1, kept up to date by Sherman-Morrison. */
  aInv: Float64Array;
  /** b = sum r x. */
  b: Float64Array;
  pulls: number;
}

/**
 * Disjoint LinUCB: every arm has its own ridge regression of the reward on the context. An arm
 * unseen so far starts at A = lambda*I, b = 0. Scores and updates cost O(dim^2); A^-1 is updated
 * in place with the Sherman-Morrison formula and never recomputed by inversion.
 */
export class LinUcb {
  readonly dim: number;
  readonly alpha: number;
  readonly lambda: number;
  private readonly arms = new Map<string, Arm>();

  constructor(dim: number, o: LinUcbOptions) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`LinUCB dimension must be a positive integer, got ${dim}`);
    if (!Number.isFinite(o.alpha) || o.alpha < 0) throw new Error(`LinUCB alpha must be a finite number >= 0, got ${o.alpha}`);
    if (!Number.isFinite(o.lambda) || o.lambda <= 0) throw new Error(`LinUCB lambda must be a finite number > 0, got ${o.lambda}`);
    this.dim = dim;
    this.alpha = o.alpha;
    this.lambda = o.lambda;
  }

  /** UCB of `arm` for context `x`: theta.x + alpha * sqrt(x' A^-1 x). */
  score(arm: string, x: Float64Array): LinUcbScore {
    this.check(x);
    const s = this.arms.get(arm);
    if (s === undefined) {
      // A^-1 = I / lambda, b = 0: mean 0, width alpha * |x| / sqrt(lambda).
      const width = this.alpha * Math.sqrt(dot(x, x) / this.lambda);
      return { ucb: width, mean: 0, width };
    }
    const v = matVec(s.aInv, x, this.dim);
    // theta . x = (A^-1 b) . x = b . (A^-1 x) since A^-1 is symmetric.
    const mean = dot(s.b, v);
    const width = this.alpha * Math.sqrt(Math.max(0, dot(x, v)));
    return { ucb: mean + width, mean, width };
  }

  /**
   * Records reward `reward` for `arm` in context `x`: A += x x', b += r x. Returns the
   * Sherman-Morrison step (u = A^-1 x before the update, denom = 1 + x' u): for any context y,
   * y' A^-1 y drops by (y . u)^2 / denom, so a caller can keep the widths of many contexts current
   * in O(dim) each instead of O(dim^2).
   */
  update(arm: string, x: Float64Array, reward: number): { u: Float64Array; denom: number } {
    this.check(x);
    if (!Number.isFinite(reward)) throw new Error(`LinUCB reward must be finite, got ${reward}`);
    const s = this.arm(arm);
    const d = this.dim;
    // Sherman-Morrison: (A + x x')^-1 = A^-1 - (A^-1 x)(A^-1 x)' / (1 + x' A^-1 x), using symmetry of A^-1.
    const v = matVec(s.aInv, x, d);
    const denom = 1 + dot(x, v);
    for (let i = 0; i < d; i++) {
      const vi = v[i]! / denom;
      const xi = x[i]!;
      for (let j = 0; j < d; j++) {
        s.aInv[i * d + j]! -= vi * v[j]!;
        s.a[i * d + j]! += xi * x[j]!;
      }
      s.b[i]! += reward * xi;
    }
    s.pulls++;
    return { u: v, denom };
  }

  /** x' A^-1 x of `arm` (the squared width before alpha): |x|^2 / lambda for an arm never updated. */
  quadratic(arm: string, x: Float64Array): number {
    this.check(x);
    const s = this.arms.get(arm);
    return s === undefined ? dot(x, x) / this.lambda : Math.max(0, dot(x, matVec(s.aInv, x, this.dim)));
  }

  /** theta = A^-1 b of `arm` (zeros for an arm never updated). */
  theta(arm: string): Float64Array {
    const s = this.arms.get(arm);
    return s === undefined ? new Float64Array(this.dim) : matVec(s.aInv, s.b, this.dim);
  }

  /** Copies of A, A^-1 (row-major) and b of `arm`, for inspection and tests. */
  state(arm: string): { a: Float64Array; aInverse: Float64Array; b: Float64Array; pulls: number } {
    const s = this.arms.get(arm) ?? this.fresh();
    return { a: s.a.slice(), aInverse: s.aInv.slice(), b: s.b.slice(), pulls: s.pulls };
  }

  /** Times `arm` was updated. */
  pulls(arm: string): number {
    return this.arms.get(arm)?.pulls ?? 0;
  }

  private arm(key: string): Arm {
    let s = this.arms.get(key);
    if (s === undefined) {
      s = this.fresh();
      this.arms.set(key, s);
    }
    return s;
  }

  private fresh(): Arm {
    const d = this.dim;
    const a = new Float64Array(d * d);
    const aInv = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      a[i * d + i] = this.lambda;
      aInv[i * d + i] = 1 / this.lambda;
    }
    return { a, aInv, b: new Float64Array(d), pulls: 0 };
  }

  private check(x: Float64Array): void {
    if (x.length !== this.dim) throw new Error(`LinUCB context has ${x.length} features, expected ${this.dim}`);
  }
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function matVec(m: Float64Array, x: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += m[i * d + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

/**
 * Min-max scaling per column to [0, 1]: (v - min) / (max - min); a constant column (including a
 * single row) becomes 0.5, neither good nor bad. Rows must have the same length and finite values.
 */
export function minMaxScale(rows: number[][]): Float64Array[] {
  if (rows.length === 0) return [];
  const width = rows[0]!.length;
  const min = new Array<number>(width).fill(Infinity);
  const max = new Array<number>(width).fill(-Infinity);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new Error(`row ${r} has ${row.length} values, expected ${width}`);
    row.forEach((v, c) => {
      if (!Number.isFinite(v)) throw new Error(`row ${r} column ${c} is not a finite number: ${v}`);
      if (v < min[c]!) min[c] = v;
      if (v > max[c]!) max[c] = v;
    });
  });
  return rows.map((row) => Float64Array.from(row, (v, c) => (max[c]! > min[c]! ? (v - min[c]!) / (max[c]! - min[c]!) : 0.5)));
}

/**
 * The features of a candidate's context, in order. Every column reads "higher is better" so that
 * after min-max scaling (over the candidates of one replaced member) all lie in [0, 1]:
 * - accuracy: declared or measured accuracy;
 * - latency: stored as -latencyMs, so that the scaled column is 1 - (T - Tmin) / (Tmax - Tmin),
 *   i.e. "1 - latency (scaled)";
 * - reliability: answered / requests;
 * - history: mean accuracy over its quality history, or its accuracy when it has none;
 * - efficiency: resource efficiency (1 - cpu/maxCpu);
 * - dataAgreement (only when known): agreement of its training data specification with the
 *   composition's, e.g. the rules' data utility (1 - distance of label distributions).
 */
export const CONTEXT_FEATURES = ['accuracy', 'latency', 'reliability', 'history', 'efficiency', 'dataAgreement'] as const;

/** Raw (unscaled) context row of a candidate; see CONTEXT_FEATURES. Five values, six with `dataAgreement`. */
export function contextOf(c: Candidate, dataAgreement?: number): number[] {
  const history = c.history.length > 0 ? c.history.reduce((s, v) => s + v, 0) / c.history.length : c.accuracy;
  const row = [c.accuracy, -c.latencyMs, c.reliability, history, c.efficiency];
  if (dataAgreement !== undefined) row.push(dataAgreement);
  return row;
}

/**
 * Scaled contexts of the candidates of one replaced member: contextOf per candidate, then
 * minMaxScale over them. `dataAgreement[i]` belongs to candidates[i]; the column is added when any
 * value is known, and a missing value takes the mean of the known ones (neutral).
 */
export function contextsOf(candidates: readonly Candidate[], dataAgreement?: readonly (number | undefined)[]): Float64Array[] {
  const known = (dataAgreement ?? []).filter((v): v is number => v !== undefined);
  const fill = known.length > 0 ? known.reduce((s, v) => s + v, 0) / known.length : undefined;
  return minMaxScale(candidates.map((c, i) => contextOf(c, fill === undefined ? undefined : (dataAgreement?.[i] ?? fill))));
}

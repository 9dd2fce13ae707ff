// Shapley values of a cooperative game over n players (the members of a composition), for the
// `shapley` assessment baseline. Pure: the value function and the randomness come in.
//
// - Exact: v is evaluated on all 2^n coalitions (each once) and
//   phi_i = sum over S in N\{i} of |S|! (n-|S|-1)! / n! * (v(S u {i}) - v(S)).
//   Limited to MAX_EXACT_PLAYERS players (2^20 evaluations).
// - Sampled (Monte Carlo over permutations): each permutation, drawn by Fisher-Yates with the given
//   random(), adds the players one by one and credits each with its marginal contribution; phi_i is
//   the mean of i's marginals. Sampling stops when the standard error of every player's mean
//   (sample standard deviation / sqrt(permutations)) is below `tolerance`, checked from
//   MIN_PERMUTATIONS permutations on (so that a few equal first draws do not end it), or when
//   `permutations` have been drawn. The per-permutation marginals telescope, so the sampled values
//   always sum to v(N) - v(empty) exactly (efficiency holds for the estimate too).
// Coalition values are cached by membership, so repeated prefixes cost one evaluation.

/** Members of a coalition: player indexes in increasing order. */
export type Coalition = readonly number[];

export type CoalitionValue = (members: Coalition) => number;

export interface ShapleyResult {
  /** phi_i per player, raw (not normalised). */
  values: number[];
  /** Whether the values are exact (all coalitions enumerated). */
  exact: boolean;
  /** Sampled: permutations drawn. */
  permutations?: number;
  /** Sampled: per player, the standard error of its value. */
  standardErrors?: number[];
  /** Sampled: the largest of standardErrors. */
  standardError?: number;
}

export const MAX_EXACT_PLAYERS = 20;
export const DEFAULT_EXACT_UP_TO = 10;
export const DEFAULT_PERMUTATIONS = 2000;
export const DEFAULT_TOLERANCE = 0.005;
/** Permutations drawn before the tolerance may stop sampling. */
export const MIN_PERMUTATIONS = 30;

function membersOf(mask: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (mask & (1 << i)) out.push(i);
  return out;
}

/** Exact Shapley values by enumerating every coalition of the n players (n <= MAX_EXACT_PLAYERS). */
export function exactShapley(n: number, v: CoalitionValue): ShapleyResult {
  if (!Number.isInteger(n) || n < 0 || n > MAX_EXACT_PLAYERS) {
    throw new RangeError(`exact Shapley values need 0..${MAX_EXACT_PLAYERS} players, got ${n}`);
  }
  const size = 1 << n;
  const value = new Float64Array(size);
  const count = new Uint8Array(size);
  for (let mask = 0; mask < size; mask++) {
    value[mask] = v(membersOf(mask, n));
    if (mask > 0) count[mask] = count[mask & (mask - 1)]! + 1;
  }
  // weight[k] = k! (n-k-1)! / n! = 1 / (n * C(n-1, k)).
  const weight = new Float64Array(Math.max(n, 1));
  let binomial = 1;
  for (let k = 0; k < n; k++) {
    weight[k] = 1 / (n * binomial);
    binomial = (binomial * (n - 1 - k)) / (k + 1);
  }
  const values = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const bit = 1 << i;
    let phi = 0;
    for (let mask = 0; mask < size; mask++) {
      if (mask & bit) continue;
      phi += weight[count[mask]!]! * (value[mask | bit]! - value[mask]!);
    }
    values[i] = phi;
  }
  return { values, exact: true };
}

export interface SamplingOptions {
  /** Most permutations to draw (default DEFAULT_PERMUTATIONS). */
  permutations?: number;
  /** Stop once every player's standard error is below this (default DEFAULT_TOLERANCE). */
  tolerance?: number;
}

/** Shapley values estimated by sampling permutations; `random` is uniform in [0, 1). */
export function sampledShapley(n: number, v: CoalitionValue, random: () => number, options: SamplingOptions = {}): ShapleyResult {
  const most = Math.max(1, Math.floor(options.permutations ?? DEFAULT_PERMUTATIONS));
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  if (n === 0) return { values: [], exact: false, permutations: 0, standardErrors: [], standardError: 0 };
  const cache = new Map<string, number>();
  const inCoalition = new Uint8Array(n);
  const valueOf = (): number => {
    const key = inCoalition.join('');
    let x = cache.get(key);
    if (x === undefined) {
      const members: number[] = [];
      for (let i = 0; i < n; i++) if (inCoalition[i]) members.push(i);
      x = v(members);
      cache.set(key, x);
    }
    return x;
  };

  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  let drawn = 0;
  const errors = (): number[] => Array.from(m2, (s) => (drawn > 1 ? Math.sqrt(s / (drawn - 1) / drawn) : Infinity));

  while (drawn < most) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(random() * (i + 1)));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    inCoalition.fill(0);
    let before = valueOf();
    drawn++;
    for (const player of order) {
      inCoalition[player] = 1;
      const after = valueOf();
      const marginal = after - before;
      before = after;
      // Welford's running mean and sum of squared deviations.
      const delta = marginal - mean[player]!;
      mean[player]! += delta / drawn;
      m2[player]! += delta * (marginal - mean[player]!);
    }
    if (drawn >= MIN_PERMUTATIONS && errors().every((e) => e < tolerance)) break;
  }
  const standardErrors = n === 0 ? [] : errors().map((e) => (Number.isFinite(e) ? e : 0));
  return {
    values: Array.from(mean),
    exact: false,
    permutations: drawn,
    standardErrors,
    standardError: standardErrors.reduce((a, b) => Math.max(a, b), 0),
  };
}

export interface ShapleyOptions extends SamplingOptions {
  /** Enumerate all coalitions up to this many players (default DEFAULT_EXACT_UP_TO, at most MAX_EXACT_PLAYERS); sample above. */
  exactUpTo?: number;
}

/** Exact Shapley values for few players, sampled ones above `exactUpTo`. */
export function shapley(n: number, v: CoalitionValue, random: () => number, options: ShapleyOptions = {}): ShapleyResult {
  const exactUpTo = Math.min(MAX_EXACT_PLAYERS, options.exactUpTo ?? DEFAULT_EXACT_UP_TO);
  return n <= exactUpTo ? exactShapley(n, v) : sampledShapley(n, v, random, options);
}

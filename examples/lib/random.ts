// Seeded sampling helpers for the example data and training; everything derives from one seed.
import { seededRandom, type Random } from '../../src/core/clock.js';

export type { Random };

/** Independent stream `stream` of a seed, so that adding draws to one stream never shifts another. */
export function rngFor(seed: number, stream: number): Random {
  return seededRandom(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b));
}

/** Standard normal draw (Box-Muller). */
export function normal(rng: Random, mean = 0, sd = 1): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) would be -Infinity
  const v = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-normal draw with the given median and log-scale spread. */
export function logNormal(rng: Random, median: number, logSd: number): number {
  return median * Math.exp(normal(rng, 0, logSd));
}

export function uniform(rng: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Index drawn with probability proportional to `weights`. */
export function pickWeighted(rng: Random, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] ?? 0;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], rng: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

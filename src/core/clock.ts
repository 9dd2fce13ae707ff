// Time and randomness as small interfaces so that cores stay deterministic under test.
import { randomBytes } from 'node:crypto';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** Deterministic PRNG (mulberry32) for seeded tests, fuzzing and reservoirs. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export const systemRandom: Random = { next: () => Math.random() };

/** Short, sortable-enough, collision-resistant ID, e.g. `d-5f3a9c1e2b`. */
export function newId(prefix: string, bytes = 5): string {
  return `${prefix}-${randomBytes(bytes).toString('hex')}`;
}

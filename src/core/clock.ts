// Time, waiting and randomness as small interfaces, so that cores stay deterministic under test
// and every wait in maas goes through one clock that tests can drive.
import { randomBytes } from 'node:crypto';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A clock that moves only when told: `sleep` advances it at once (yielding to other promises
 * first), so polling loops and expiries run instantly and deterministically in tests.
 */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    await Promise.resolve();
    this.t += Math.max(0, ms);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(epochMs: number): void {
    this.t = epochMs;
  }
}

export const isoNow = (clock: Pick<Clock, 'now'>): string => new Date(clock.now()).toISOString();

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

/** Short, collision-resistant ID, e.g. `d-5f3a9c1e2b`. */
export function newId(prefix: string, bytes = 5): string {
  return `${prefix}-${randomBytes(bytes).toString('hex')}`;
}

// Uniform samples of a stream (Algorithm R) and the exact merge of several such samples into a
// uniform sample of their union (the windowed stats keep one reservoir per chunk).
import type { Random } from '../core/clock.js';

export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;

  constructor(
    readonly capacity: number,
    private readonly random: Random,
  ) {}

  /**
   * Counts the next stream element and returns the slot it goes to, or -1 when it is not kept;
   * the caller builds the element only when kept (no work per discarded row).
   */
  slot(): number {
    this.seen++;
    if (this.items.length < this.capacity) return this.items.length;
    const j = Math.floor(this.random.next() * this.seen);
    return j < this.capacity ? j : -1;
  }

  put(slot: number, item: T): void {
    this.items[slot] = item;
  }

  /** Offers the next stream element; `make` runs only when the element is kept. */
  offer(make: () => T): void {
    const j = this.slot();
    if (j >= 0) this.put(j, make());
  }
}

/**
 * A uniform sample of at most `size` items from the union of the parts' streams. Drawing
 * without replacement from the union = repeatedly picking a part with probability proportional
 * to its not-yet-drawn population, then a not-yet-drawn item of its (uniform) sample.
 */
export function mergeSamples<T>(parts: readonly { items: readonly T[]; seen: number }[], size: number, random: Random): T[] {
  const remaining = parts.map((p) => p.seen);
  const pools = parts.map((p) => p.items.slice());
  let total = remaining.reduce((a, b) => a + b, 0);
  const out: T[] = [];
  while (out.length < size && total > 0) {
    let pick = Math.floor(random.next() * total);
    let i = 0;
    while (pick >= remaining[i]!) pick -= remaining[i++]!;
    const pool = pools[i]!;
    if (pool.length === 0) {
      // Cannot happen while size <= each part's capacity; stop rather than loop.
      break;
    }
    const k = Math.floor(random.next() * pool.length);
    out.push(pool[k]!);
    pool[k] = pool[pool.length - 1]!;
    pool.pop();
    remaining[i]!--;
    total--;
  }
  return out;
}

// Sorting large numeric samples. The typed-array sort is a comparison sort; for the sample sizes
// of a drift check (10^5 - 10^6 values per column) an LSD radix sort over the IEEE-754 bit
// patterns is several times faster and gives the same order (-0 before +0, like the built-in).

const RADIX_MIN = 4096;
const BITS = 11;
const BUCKETS = 1 << BITS;
const MASK = BUCKETS - 1;

/** Sorts in place, ascending; NaN must have been removed by the caller. */
export function sortFloat64(a: Float64Array): void {
  if (a.length < RADIX_MIN) {
    a.sort();
    return;
  }
  const n = a.length;
  const words = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  // Map each double to an unsigned key with the same order: flip all bits of negatives, the
  // sign bit of the rest (little-endian words: low half first).
  for (let i = 0; i < n; i++) {
    const l = words[2 * i]!;
    const h = words[2 * i + 1]!;
    if (h >>> 31) {
      lo[i] = ~l >>> 0;
      hi[i] = ~h >>> 0;
    } else {
      lo[i] = l;
      hi[i] = (h | 0x80000000) >>> 0;
    }
  }
  // Six passes of 11 bits: three over the low word, three over the high word.
  const counts = new Uint32Array(6 * BUCKETS);
  for (let i = 0; i < n; i++) {
    const l = lo[i]!;
    const h = hi[i]!;
    counts[l & MASK]!++;
    counts[BUCKETS + ((l >>> 11) & MASK)]!++;
    counts[2 * BUCKETS + (l >>> 22)]!++;
    counts[3 * BUCKETS + (h & MASK)]!++;
    counts[4 * BUCKETS + ((h >>> 11) & MASK)]!++;
    counts[5 * BUCKETS + (h >>> 22)]!++;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  const offsets = new Uint32Array(BUCKETS);
  for (let pass = 0; pass < 6; pass++) {
    const base = pass * BUCKETS;
    // A pass where every key has the same digit leaves the order unchanged: skip it.
    let skip = false;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b]!;
      if (c === n) skip = true;
      if (c !== 0) break;
    }
    if (skip) continue;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      offsets[b] = sum;
      sum += counts[base + b]!;
    }
    const src = pass < 3 ? lo : hi;
    const shift = (pass % 3) * 11;
    for (let i = 0; i < n; i++) {
      const d = (src[i]! >>> shift) & MASK;
      const o = offsets[d]!++;
      lo2[o] = lo[i]!;
      hi2[o] = hi[i]!;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  for (let i = 0; i < n; i++) {
    const l = lo[i]!;
    const h = hi[i]!;
    if (h >>> 31) {
      words[2 * i] = l;
      words[2 * i + 1] = (h & 0x7fffffff) >>> 0;
    } else {
      words[2 * i] = ~l >>> 0;
      words[2 * i + 1] = ~h >>> 0;
    }
  }
}

// Results of registry reads (search, model list, versions, describe as serialised JSON; deployment
// records), reused while the store's data version is the one they were read at. The version grows
// on every write, this process's or another's, so a reused result is always what a fresh read
// would return. Concurrent identical misses share one read. Bounded by entries and by weight
// (characters of JSON); the least recently used result goes first. No I/O here: the read is
// passed in.

export interface ReadCacheLimits {
  /** Results kept at most. */
  maxEntries: number;
  /** Total weight kept at most; a result over an eighth of it is never kept. */
  maxWeight: number;
}

export const DEFAULT_READ_CACHE_LIMITS: ReadCacheLimits = { maxEntries: 1000, maxWeight: 32 * 1024 * 1024 };

const length = (v: unknown): number => (typeof v === 'string' ? v.length : 1);

export class ReadCache<T = string> {
  private readonly entries = new Map<string, { value: T; weight: number }>();
  private readonly pending = new Map<string, Promise<T>>();
  private weight = 0;
  /** The data version every kept and pending result was read at. */
  private version = -Infinity;

  /** `weigh` defaults to a string's length (1 for anything else). */
  constructor(
    private readonly limits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS,
    private readonly weigh: (value: T) => number = length,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The result kept for `key` at `version`, if any. */
  get(key: string, version: number): T | undefined {
    if (!this.at(version)) return undefined;
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** Keeps a result read at `version`; one read at an older version than the newest seen is dropped. */
  set(key: string, version: number, value: T): void {
    const weight = this.weigh(value);
    if (!this.at(version) || weight > this.limits.maxWeight / 8) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.weight -= old.weight;
    }
    this.entries.set(key, { value, weight });
    this.weight += weight;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.weight <= this.limits.maxWeight) break;
      this.entries.delete(k);
      this.weight -= e.weight;
    }
  }

  /**
   * The result for `key` at `version`: kept, being read, or read now by `read`. The caller takes
   * `version` before reading, so a write during the read makes the next call's version differ.
   */
  async getOrRead(key: string, version: number, read: () => Promise<T>): Promise<T> {
    const kept = this.get(key, version);
    if (kept !== undefined) return kept;
    const reading = this.version === version ? this.pending.get(key) : undefined;
    if (reading) return reading;
    const p = read();
    if (this.version === version) this.pending.set(key, p);
    try {
      const value = await p;
      this.set(key, version, value);
      return value;
    } finally {
      if (this.pending.get(key) === p) this.pending.delete(key);
    }
  }

  /** True when `version` is the current one; a newer one empties the cache first. */
  private at(version: number): boolean {
    if (version === this.version) return true;
    if (version < this.version) return false;
    this.version = version;
    this.entries.clear();
    this.pending.clear();
    this.weight = 0;
    return true;
  }
}

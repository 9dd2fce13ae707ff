// What a target last observed of a deployment, reused for status requests for up to `maxAgeMs`
// (measured from when the observation started). An observation belongs to the record it was made
// for: a record that changed since (its state, version or runtime, through its stamp) is observed
// afresh. Concurrent requests share an observation in flight. Failures are never kept. No I/O
// here: the observation is passed in, and the time with each call.

export interface Observation<T> {
  value: T;
  /** When the observation started (epoch ms): the state it shows is at least this recent. */
  at: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry<T> {
  stamp: string;
  at: number;
  value?: T;
  /** Set while the observation runs. */
  pending?: Promise<T>;
}

export class ObservationCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `maxAgeMs` 0 observes on every call. */
  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The observation of `key` in the state `stamp` at most `maxAgeMs` old at `now`, or a new one
   * made by `observe`.
   */
  async get(key: string, stamp: string, now: number, observe: () => Promise<T>): Promise<Observation<T>> {
    if (this.maxAgeMs <= 0) return { value: await observe(), at: now };
    const e = this.entries.get(key);
    if (e && e.stamp === stamp && now - e.at < this.maxAgeMs && now >= e.at) {
      if (e.pending) return { value: await e.pending, at: e.at };
      return { value: e.value as T, at: e.at };
    }
    const pending = observe();
    const entry: Entry<T> = { stamp, at: now, pending };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    try {
      entry.value = await pending;
      delete entry.pending;
      return { value: entry.value, at: now };
    } catch (e) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw e;
    }
  }

  /** Forgets a key (a deployment that is gone). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}

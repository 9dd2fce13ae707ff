// How long a job waits before it runs again after a transient failure: exponential in the attempt,
// capped, with jitter so that jobs failing together (a backend restart) do not retry together.

export interface BackoffOptions {
  /** Delay after the first failed attempt, before jitter. */
  baseMs: number;
  /** Growth per further attempt. */
  factor: number;
  /** Upper bound of any delay. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, factor: 2, maxMs: 60_000 };

export function backoffOptions(partial: Partial<BackoffOptions> = {}): BackoffOptions {
  const o = { ...DEFAULT_BACKOFF, ...partial };
  if (!(o.baseMs >= 0 && o.factor >= 1 && o.maxMs >= 0)) {
    throw new RangeError(`invalid backoff: baseMs ${o.baseMs}, factor ${o.factor}, maxMs ${o.maxMs}`);
  }
  return o;
}

/**
 * Delay before the run that follows failed attempt `attempt` (1-based). "Equal jitter": half of
 * the capped exponential delay is fixed, so retries never come back at once; the other half is
 * drawn from `random` (uniform in [0, 1)).
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const capped = Math.min(options.maxMs, options.baseMs * options.factor ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(capped / 2 + (r * capped) / 2);
}

// The one polling loop of maas: probe, stop when done or at the deadline, back off in between.
import type { Clock } from './clock.js';

export interface PollOptions {
  clock: Clock;
  /** Epoch ms (on `clock`) after which the last observation is returned as timed out. */
  deadline: number;
  /** First delay between probes (default 25 ms); doubles up to `maxMs` (default 2 s). */
  initialMs?: number;
  maxMs?: number;
}

export interface PollResult<T> {
  value: T;
  /** True when the deadline passed before `done` held. */
  timedOut: boolean;
}

/** Probes at least once; never sleeps past the deadline. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, opts: PollOptions): Promise<PollResult<T>> {
  let delay = opts.initialMs ?? 25;
  const max = opts.maxMs ?? 2_000;
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, timedOut: false };
    const left = opts.deadline - opts.clock.now();
    if (left <= 0) return { value, timedOut: true };
    await opts.clock.sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, max);
  }
}

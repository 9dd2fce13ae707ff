// What both durable queues keep for the callers in this process that listen to a job's progress
// or wait for its end: a bounded map of watches, and handles whose `done` is made on first use
// (nobody polls for, or is kept alive by, a job nobody waits for).
import type { JobError, JobHandle } from './port.js';
import { fromJobError } from './transient.js';

export interface Deferred {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export function deferred(): Deferred {
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Progress listeners kept for jobs that nobody waits for. */
export const MAX_WATCHES = 10_000;

/** The watch of `id`, made with `make` when new; past MAX_WATCHES the oldest nobody waits for is dropped. */
export function watchOf<W extends { deferred?: Deferred }>(watches: Map<string, W>, id: string, make: () => W): W {
  let w = watches.get(id);
  if (!w) {
    if (watches.size >= MAX_WATCHES) {
      for (const [oldId, old] of watches) {
        if (!old.deferred) {
          watches.delete(oldId);
          break;
        }
      }
    }
    w = make();
    watches.set(id, w);
  }
  return w;
}

export function lazyHandle(id: string, existing: boolean, observe: () => Promise<unknown>): JobHandle {
  let done: Promise<unknown> | undefined;
  return {
    id,
    ...(existing ? { existing: true } : {}),
    get done() {
      return (done ??= observe());
    },
  };
}

/** Ends the watch of `id`: its waiter gets the result or the job's error. */
export function settleWatch<W extends { deferred?: Deferred }>(
  watches: Map<string, W>,
  id: string,
  outcome: { ok: true; result: unknown } | { ok: false; error: JobError },
): void {
  const w = watches.get(id);
  if (!w) return;
  watches.delete(id);
  if (!w.deferred) return;
  if (outcome.ok) w.deferred.resolve(outcome.result);
  else w.deferred.reject(fromJobError(outcome.error));
}

/** Resolves when `promise` settles or after `ms`, whichever is first; leaves no timer behind. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

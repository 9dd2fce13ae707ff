// What both durable queues keep for the callers in this process that listen to a job's progress
// or wait for its end: a bounded map of watches, and handles whose `done` is made on first use
// (nobody polls for, or is kept alive by, a job nobody waits for).
import type { JobHandle } from './port.js';

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

// The durable, bounded log of predictions, with the ground truth that feedback attaches later
// (storage in log/store.ts). The serving thread only queues batches: they are committed together
// a few milliseconds later, one transaction for many requests. Where they are committed depends
// on the machine: with 4 or more cores a writer thread (log/worker.ts) owns the SQLite file so no
// request waits for SQLite; with fewer, that thread would only compete with the runtime for
// CPU, so the serving thread commits and a checkpointer thread (log/checkpointer.ts) takes the
// disk syncs. Feedback, counts and close() flush first and go through the same ordered path, so
// a reader always sees every prediction answered before it.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../core/clock.js';
import { ServingError } from './errors.js';
import type { FeatureCodec } from './dataplane/model.js';
import {
  LogStore,
  type FeedbackItem,
  type FeedbackMatch,
  type FeedbackResults,
  type LabelledRows,
  type LabelledSelection,
  type RetentionOptions,
  type StoredBatch,
} from './log/store.js';
import type { FromWorker, Question, ToWorker } from './log/protocol.js';
import { startCheckpointer } from './log/checkpointer.js';

export type { FeedbackItem, FeedbackMatch, FeedbackResults, LabelledRows, LabelledSelection, RetentionOptions };

export interface RequestLogOptions {
  /** SQLite file, or `:memory:` for a log that lives as long as the process. */
  path: string;
  features: readonly FeatureCodec[];
  modelVersion: string;
  retention?: RetentionOptions;
  clock: Pick<Clock, 'now'>;
  /** Told about failed writes (the batches are dropped, serving goes on). */
  onError?: (e: unknown) => void;
  /**
   * How long appends may wait to be committed together (default 10 ms; 0 = on the next tick).
   * A commit costs far more than a row, so grouping them is what keeps logging cheap; the price
   * is that a crash (not a SIGTERM, which flushes) loses at most this window.
   */
  flushDelayMs?: number;
  /** Where SQLite runs: a writer thread or this thread (default: by core count, see above). */
  thread?: 'worker' | 'main';
}

/** What one inference call logs: `rows` rows starting at `firstRow` of a request of `totalRows`. */
export interface LogBatch {
  requestId: string;
  ts: number;
  rows: number;
  firstRow: number;
  totalRows: number;
  /** The float32 matrix the runtime got, `[rows, features]`; handed over to the log. */
  values: Float32Array;
  labels?: readonly string[] | undefined;
  probabilities?: readonly (readonly number[])[] | undefined;
  predictions?: readonly number[] | undefined;
}

export const DEFAULT_RETENTION_ROWS = 100_000;
export const DEFAULT_FLUSH_DELAY_MS = 10;
/**
 * Past this many rows or requests waiting, a flush is not delayed any more: it bounds memory
 * under bursts and keeps each commit short, so no request waits long behind one.
 */
const MAX_PENDING_ROWS = 1024;
const MAX_PENDING_BATCHES = 64;

const WORKER_FILE = fileURLToPath(new URL('./log/worker.js', import.meta.url));
const CHECKPOINT_INTERVAL_MS = 1000;
const WORKER_MIN_CORES = 4;

function confidencesOf(probabilities: readonly (readonly number[])[], rows: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const p = probabilities[r];
    if (!p || p.length === 0) {
      out[r] = NaN;
      continue;
    }
    let m = p[0]!;
    for (let k = 1; k < p.length; k++) if (p[k]! > m) m = p[k]!;
    out[r] = m;
  }
  return out;
}

/** Where the store runs: behind a worker, or right here. Both answer asynchronously. */
interface Backend {
  write(batches: StoredBatch[], now: number): void;
  feedback(items: FeedbackItem[], now: number): Promise<FeedbackResults>;
  labelled(selection: LabelledSelection): Promise<LabelledRows>;
  count(): Promise<number>;
  close(): Promise<void>;
}

function localBackend(store: LogStore, path: string | undefined, onError: (e: unknown) => void): Backend {
  const checkpointer =
    path === undefined
      ? undefined
      : startCheckpointer(path, CHECKPOINT_INTERVAL_MS, (message) => onError(new Error(`request log checkpoint failed: ${message}`)));
  return {
    write(batches, now) {
      try {
        store.writeBatches(batches, now);
      } catch (e) {
        onError(e);
      }
    },
    feedback: async (items, now) => store.applyFeedback(items, now),
    labelled: async (selection) => store.labelled(selection),
    count: async () => store.count(),
    async close() {
      await checkpointer?.stop();
      store.close();
    },
  };
}

function workerBackend(worker: Worker, onError: (e: unknown) => void): Backend {
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: FromWorker) => {
    if ('op' in m) {
      onError(new Error(`request log write failed: ${m.message}`));
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(m.status ? new ServingError(m.status, m.message) : new Error(m.message));
  });
  const failAll = (e: Error): void => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('error', (e) => {
    onError(e);
    failAll(e);
  });
  worker.on('exit', () => failAll(new Error('the request log writer stopped')));
  const ask = <T>(message: Question): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id } satisfies ToWorker);
    });
  return {
    write(batches, now) {
      // The matrices are handed over, not copied: nothing on this thread reads them afterwards.
      const transfer = new Set<ArrayBuffer>();
      for (const b of batches) {
        for (const a of [b.values, b.confidences, b.predictions]) {
          if (a && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer) transfer.add(a.buffer);
        }
      }
      worker.postMessage({ op: 'write', batches, now } satisfies ToWorker, [...transfer]);
    },
    feedback: (items, now) => ask<FeedbackResults>({ op: 'feedback', items, now }),
    labelled: (selection) => ask<LabelledRows>({ op: 'labelled', selection }),
    count: () => ask<number>({ op: 'count' }),
    async close() {
      await ask<null>({ op: 'close' });
      await worker.terminate();
    },
  };
}

export class RequestLog {
  private readonly backend: Backend;
  private pending: StoredBatch[] = [];
  private pendingRows = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushDelayMs: number;
  private closed = false;

  constructor(private readonly opts: RequestLogOptions) {
    this.flushDelayMs = opts.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    const storeOptions = {
      path: opts.path,
      features: opts.features.map((f) => ({ name: f.name, type: f.type, values: f.values })),
      modelVersion: opts.modelVersion,
      ...(opts.retention ? { retention: opts.retention } : {}),
    };
    const onError = (e: unknown): void => opts.onError?.(e);
    const file = opts.path !== ':memory:' && opts.path !== '';
    const thread = opts.thread ?? (availableParallelism() >= WORKER_MIN_CORES ? 'worker' : 'main');
    // Opening here first makes a bad path or a damaged file fail at startup, on this thread.
    const store = new LogStore({ ...storeOptions, autoCheckpoint: !(file && thread === 'main') });
    if (file && thread === 'worker' && existsSync(WORKER_FILE)) {
      store.close();
      this.backend = workerBackend(new Worker(WORKER_FILE, { workerData: storeOptions }), onError);
    } else if (file) {
      if (thread === 'worker') store.setAutoCheckpoint(true);
      this.backend = localBackend(store, thread === 'main' ? opts.path : undefined, onError);
    } else this.backend = localBackend(store, undefined, onError);
  }

  /** Queues a batch; it is committed shortly, together with everything else queued. */
  append(batch: LogBatch): void {
    if (this.closed) return;
    const stored: StoredBatch = {
      requestId: batch.requestId,
      ts: batch.ts,
      rows: batch.rows,
      firstRow: batch.firstRow,
      totalRows: batch.totalRows,
      values: batch.values,
    };
    if (batch.labels) stored.labels = batch.labels;
    if (batch.probabilities) stored.confidences = confidencesOf(batch.probabilities, batch.rows);
    if (batch.predictions) stored.predictions = Float32Array.from(batch.predictions);
    this.pending.push(stored);
    this.pendingRows += batch.rows;
    const full = this.pendingRows >= MAX_PENDING_ROWS || this.pending.length >= MAX_PENDING_BATCHES;
    if (full && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scheduled = false;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.flushDelayMs > 0 && !full) this.timer = setTimeout(() => this.flushSoon(), this.flushDelayMs);
      else setImmediate(() => this.flushSoon());
    }
  }

  private flushSoon(): void {
    this.timer = undefined;
    if (this.scheduled) this.flush();
  }

  /** Hands everything queued to the store in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.backend.write(batches, this.opts.clock.now());
  }

  /**
   * Attaches ground truth to logged rows in one transaction, per item: applied, unchanged (the
   * same truth again), or rejected as unknown or conflicting (see LogStore.applyFeedback).
   */
  applyFeedback(items: FeedbackItem[]): Promise<FeedbackResults> {
    if (this.closed) return Promise.reject(new ServingError(503, 'the request log is closed'));
    this.flush();
    return this.backend.feedback(items, this.opts.clock.now());
  }

  /** Logged predictions with ground truth, oldest first (after flushing; see LogStore.labelled). */
  labelled(selection: LabelledSelection = {}): Promise<LabelledRows> {
    if (this.closed) return Promise.reject(new ServingError(503, 'the request log is closed'));
    this.flush();
    return this.backend.labelled(selection);
  }

  /** Number of predicted rows kept (after flushing). */
  count(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    this.flush();
    return this.backend.count();
  }

  /** Flushes and closes; later appends are ignored. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    await this.backend.close();
  }
}

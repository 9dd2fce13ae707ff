// The in-process queue: runs each job right away in this process. The caller may wait for it
// (`maas deploy`) or not (`--async`); either way the process does not exit before it has run.
// Nothing is durable: the records of the jobs it ran live in memory, for `get`, `list` and
// `counts`, and go with the process.
import { isoNow, systemClock, type Clock } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { scopedKey } from './idempotency.js';
import {
  DEFAULT_LIST_LIMIT,
  JOB_STATES,
  type EnqueueOptions,
  type JobHandle,
  type JobProgress,
  type JobQueue,
  type JobRecord,
  type JobRunner,
  type JobState,
} from './port.js';
import { toJobError } from './transient.js';

export interface InProcessQueueOptions {
  clock?: Pick<Clock, 'now'>;
  /** Finished jobs whose records are kept; the oldest are forgotten first. */
  retain?: number;
}

const DEFAULT_RETAIN = 1000;

export class InProcessQueue implements JobQueue {
  private readonly running = new Set<Promise<void>>();
  private readonly records = new Map<string, JobRecord>();
  private readonly handles = new Map<string, JobHandle>();
  private readonly byKey = new Map<string, string>();
  private readonly clock: Pick<Clock, 'now'>;
  private readonly retain: number;
  private next = 1;

  constructor(
    private readonly runners: Readonly<Record<string, JobRunner>>,
    /** Failures nobody waits for (async jobs): report them instead of losing them. */
    private readonly onUnobservedFailure: (kind: string, error: unknown) => void = () => {},
    options: InProcessQueueOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.retain = options.retain ?? DEFAULT_RETAIN;
  }

  async enqueue(kind: string, payload: unknown, progress: JobProgress = () => {}, options: EnqueueOptions = {}): Promise<JobHandle> {
    const runner = this.runners[kind];
    if (!runner) throw new MaasError('INTERNAL', `no worker for jobs of kind "${kind}"`);
    const key = options.idempotencyKey === undefined ? undefined : scopedKey(options.owner, options.idempotencyKey);
    const known = key === undefined ? undefined : this.handles.get(this.byKey.get(key) ?? '');
    if (known)
      return {
        id: known.id,
        existing: true,
        get done() {
          return known.done;
        },
      };

    const id = `job-${this.next++}`;
    const now = isoNow(this.clock);
    const record: JobRecord = { id, kind, state: 'running', payload, attempts: 1, maxAttempts: 1, createdAt: now, updatedAt: now, startedAt: now, logs: [] };
    if (options.idempotencyKey !== undefined) record.idempotencyKey = options.idempotencyKey;
    if (options.owner !== undefined) record.owner = options.owner;
    this.remember(record, key);
    const log: JobProgress = (message) => {
      const at = isoNow(this.clock);
      record.logs.push({ at, message });
      record.progress = message;
      record.updatedAt = at;
      progress(message);
    };
    // Detached from the caller's stack: the caller gets the handle first, as with a real queue.
    const done = Promise.resolve().then(() => runner(payload, log, { id, attempt: 1 }));
    let observed = false;
    const tracked = done.then(
      (result) => {
        this.finish(record, 'succeeded');
        if (result !== undefined) record.result = result;
      },
      (e: unknown) => {
        this.finish(record, 'failed');
        record.error = toJobError(e);
        if (!observed) this.onUnobservedFailure(kind, e);
      },
    );
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    const handle: JobHandle = {
      id,
      get done() {
        observed = true;
        return done;
      },
    };
    this.handles.set(id, handle);
    return handle;
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }

  async list(filter: { state?: JobState; owner?: string; limit?: number } = {}): Promise<JobRecord[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    return [...this.records.values()]
      .filter((r) => (filter.state === undefined || r.state === filter.state) && (filter.owner === undefined || r.owner === filter.owner))
      .reverse()
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async counts(): Promise<Record<JobState, number>> {
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of this.records.values()) out[r.state] += 1;
    return out;
  }

  /** Nothing to release: the jobs run in this process, and `idle()` waits for them. */
  async close(): Promise<void> {}

  private finish(record: JobRecord, state: JobState): void {
    const now = isoNow(this.clock);
    record.state = state;
    record.finishedAt = now;
    record.updatedAt = now;
  }

  /** Keeps the record, forgetting the oldest finished ones beyond `retain`. */
  private remember(record: JobRecord, key: string | undefined): void {
    this.records.set(record.id, record);
    if (key !== undefined) this.byKey.set(key, record.id);
    if (this.records.size <= this.retain) return;
    for (const [id, r] of this.records) {
      if (this.records.size <= this.retain) break;
      if (r.state === 'running') continue;
      this.records.delete(id);
      this.handles.delete(id);
      if (r.idempotencyKey !== undefined) this.byKey.delete(scopedKey(r.owner, r.idempotencyKey));
    }
  }
}

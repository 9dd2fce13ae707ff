// The embedded durable queue: jobs are rows of the registry database, so they survive restarts,
// and any number of processes on the same file can work them off. A worker claims a job under a
// lease that its heartbeat renews; a job whose lease ran out (its worker died) is claimed again.
// Every write that changes a job's state is guarded by the claim (lease owner and attempt), so a
// worker that lost its lease cannot overwrite the outcome of the run that replaced it.
import { deferred, lazyHandle, settleWatch, watchOf, within, type Deferred } from './job-watch.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { newId, systemClock, type Clock } from '../core/clock.js';
import { MaasError, toMaasError } from '../core/errors.js';
import type { Db } from '../registry/sqlite/database.js';
import { backoffDelay, backoffOptions, type BackoffOptions } from './backoff.js';
import {
  DEFAULT_LIST_LIMIT,
  DEFAULT_MAX_ATTEMPTS,
  JOB_STATES,
  type EnqueueOptions,
  type JobError,
  type JobHandle,
  type JobProgress,
  type JobQueue,
  type JobRecord,
  type JobRunner,
  type JobState,
} from './port.js';
import { scopedKey } from './idempotency.js';
import { jobErrorText, rowToRecord, toJsonText, type JobLogRow, type JobRow } from './sqlite-job-rows.js';
import { describeJobError, isTransient, parseJobError, toJobError } from './transient.js';

export interface SqliteQueueOptions {
  clock?: Clock;
  /** Uniform in [0, 1): the jitter of retry delays. */
  random?: () => number;
  newId?: () => string;
  /** Names this worker in leases and logs; unique per queue instance by default. */
  workerId?: string;
  /** How long a claim holds without a heartbeat before another worker may take the job over. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** How often the worker looks for ready jobs, and a waiting caller for the end of a job. */
  pollMs?: number;
  /** Jobs this process runs at once. */
  concurrency?: number;
  backoff?: Partial<BackoffOptions>;
  /** Failures of the worker's own bookkeeping (the jobs' failures are recorded on the jobs). */
  onError?: (error: unknown) => void;
}

export interface StopOptions {
  /** How long running jobs get to finish before they are handed back to the queue. */
  timeoutMs?: number;
}

/** How long `close()` lets running jobs finish. */
export const CLOSE_TIMEOUT_MS = 1000;

/** Progress listeners kept for jobs that run elsewhere and are never waited for. */

interface Active {
  id: string;
  attempt: number;
  maxAttempts: number;
  heartbeat: ReturnType<typeof setInterval>;
  promise: Promise<void>;
  /** Handed back at shutdown: whatever the runner does later is not recorded. */
  released: boolean;
}

/** A job someone in this process listens to or waits for. */
interface Watch {
  listeners: JobProgress[];
  /** Last log line delivered to the listeners. */
  seq: number;
  deferred?: Deferred;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new MaasError('USAGE', `${name} must be a positive integer, got ${value}`);
  return value;
}

const GUARD = "id = @id AND lease_owner = @owner AND attempts = @attempt AND state = 'running'";

export class SqliteJobQueue implements JobQueue {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly newId: () => string;
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly backoff: BackoffOptions;
  private readonly onError: (error: unknown) => void;
  /** The kinds this process can run, as JSON for `json_each`: a worker claims only those. */
  private readonly kinds: string;

  private readonly active = new Set<Active>();
  private readonly watches = new Map<string, Watch>();
  private loopDone: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly sql: ReturnType<typeof prepare>;
  private readonly claimTx: (now: number) => JobRow | undefined;

  constructor(
    private readonly db: Db,
    private readonly runners: Readonly<Record<string, JobRunner>>,
    options: SqliteQueueOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.newId = options.newId ?? (() => newId('job', 8));
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.leaseMs = positiveInt('leaseMs', options.leaseMs ?? 15_000);
    this.heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3)));
    this.pollMs = positiveInt('pollMs', options.pollMs ?? 100);
    this.concurrency = positiveInt('concurrency', options.concurrency ?? 2);
    this.backoff = backoffOptions(options.backoff);
    this.onError = options.onError ?? ((e) => process.emitWarning(`job queue: ${toMaasError(e).message}`));
    this.kinds = JSON.stringify(Object.keys(runners));
    this.sql = prepare(db);
    // BEGIN IMMEDIATE takes the write lock first: no other process claims between our read and write.
    const claim = db.transaction((now: number) => {
      this.failLostJobs(now);
      const row = this.sql.selectReady.get({ kinds: this.kinds, now: iso(now) }) as JobRow | undefined;
      if (!row) return undefined;
      const lost = row.state === 'running';
      this.sql.claim.run({ id: row.id, owner: this.workerId, leaseUntil: iso(now + this.leaseMs), now: iso(now) });
      if (lost) {
        this.appendLog(
          row.id,
          iso(now),
          `worker ${row.lease_owner ?? '?'} stopped answering; running again (attempt ${row.attempts + 1} of ${row.max_attempts})`,
        );
      }
      return this.sql.selectRow.get(row.id) as JobRow;
    });
    this.claimTx = (now) => claim.immediate(now);
  }

  async enqueue(kind: string, payload: unknown, progress?: JobProgress, options: EnqueueOptions = {}): Promise<JobHandle> {
    if (this.closed) throw new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'open the queue again to enqueue jobs' });
    if (!this.runners[kind]) throw new MaasError('INTERNAL', `no worker for jobs of kind "${kind}"`);
    const maxAttempts = positiveInt('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const now = iso(this.clock.now());
    const key = options.idempotencyKey === undefined ? null : scopedKey(options.owner, options.idempotencyKey);
    const row = {
      id: this.newId(),
      kind,
      payload: JSON.stringify(payload) ?? 'null',
      key,
      owner: options.owner ?? null,
      maxAttempts,
      now,
    };
    let id = row.id;
    let existing = false;
    // The unique key decides between concurrent enqueues, in this process or another one.
    if (this.sql.insert.run(row).changes === 0) {
      const found = this.sql.selectByKey.get(key) as { id: string } | undefined;
      if (!found) throw new MaasError('CONFLICT', 'a job with this idempotency key changed while it was enqueued', { hint: 'retry the request' });
      id = found.id;
      existing = true;
    }
    if (progress) this.watch(id).listeners.push(progress);
    if (!existing) this.wake();
    return this.handle(id, existing);
  }

  /** Starts the worker loop of this process; idempotent. */
  start(): void {
    if (this.closed) throw new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'open the queue again to run jobs' });
    if (this.loopDone) return;
    this.stopping = false;
    this.loopDone = this.loop();
  }

  /**
   * Stops claiming, gives running jobs `timeoutMs` to finish, and hands the others back to the
   * queue (their attempt does not count) for another worker or the next start.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    this.stopped ??= this.shutDown(options.timeoutMs ?? 10_000).finally(() => (this.stopped = undefined));
    return this.stopped;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    const loop = this.loopDone;
    if (!loop) return;
    this.stopping = true;
    this.wake();
    await loop;
    if (this.active.size > 0) await within(Promise.allSettled([...this.active].map((a) => a.promise)), timeoutMs);
    for (const a of [...this.active]) this.release(a);
    this.loopDone = undefined;
  }

  /**
   * Resolves when this process's worker runs nothing and no job it could run is queued (at once
   * when the worker is not started: the jobs are durable and wait for a worker).
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.active.size > 0) {
        await Promise.allSettled([...this.active].map((a) => a.promise));
        continue;
      }
      if (!this.loopDone || this.stopping || !this.sql.anyQueued.get({ kinds: this.kinds })) return;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = this.sql.selectRow.get(id) as JobRow | undefined;
    return row && rowToRecord(row, this.sql.selectLogs.all(id) as JobLogRow[]);
  }

  async list(filter: { state?: JobState; owner?: string; limit?: number } = {}): Promise<JobRecord[]> {
    const rows = this.sql.list.all({
      state: filter.state ?? null,
      owner: filter.owner ?? null,
      limit: positiveInt('limit', filter.limit ?? DEFAULT_LIST_LIMIT),
    }) as JobRow[];
    return rows.map((row) => rowToRecord(row, this.sql.selectLogs.all(row.id) as JobLogRow[]));
  }

  async counts(): Promise<Record<JobState, number>> {
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const { state, n } of this.sql.counts.all() as { state: JobState; n: number }[]) out[state] = n;
    return out;
  }

  /**
   * Stops the worker (running jobs get CLOSE_TIMEOUT_MS) and gives up on the jobs callers still
   * wait for. The database stays open: it belongs to whoever opened it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop({ timeoutMs: CLOSE_TIMEOUT_MS });
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    for (const [id, w] of this.watches) {
      w.deferred?.reject(
        new MaasError('UNAVAILABLE', `the job queue was closed before job ${id} finished`, {
          hint: 'the job is still recorded and runs when a worker is available; look it up by its ID',
        }),
      );
    }
    this.watches.clear();
  }

  // The worker loop.

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        while (!this.stopping && this.active.size < this.concurrency) {
          const row = this.claimTx(this.clock.now());
          if (!row) break;
          this.run(row);
        }
      } catch (e) {
        this.onError(e);
      }
      await this.pause(this.pollMs);
    }
  }

  /** Sleeps `ms`, or less when an enqueue or a finished job wakes the loop. */
  private pause(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    if (!wakeUp) {
      this.wakePending = this.loopDone !== undefined;
      return;
    }
    this.wakeUp = undefined;
    wakeUp();
  }

  /** Jobs whose worker died on their last allowed attempt: failed, with the reason. */
  private failLostJobs(now: number): void {
    const lost = this.sql.selectLostExhausted.all({ now: iso(now) }) as Pick<JobRow, 'id' | 'lease_owner' | 'attempts'>[];
    for (const row of lost) {
      const error: JobError = {
        code: 'UNAVAILABLE',
        message: `worker lost: ${row.lease_owner ?? 'a worker'} stopped answering while running job ${row.id}, and all ${row.attempts} attempts are used`,
        hint: "check the worker's logs (it may have run out of memory), then enqueue the job again",
      };
      if (this.sql.failLost.run({ id: row.id, error: jobErrorText(error), now: iso(now) }).changes > 0) {
        this.appendLog(row.id, iso(now), `failed: ${describeJobError(error)}`);
      }
    }
  }

  private run(row: JobRow): void {
    const active: Active = {
      id: row.id,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      heartbeat: setInterval(() => this.renew(active), this.heartbeatMs),
      promise: Promise.resolve(),
      released: false,
    };
    this.active.add(active);
    active.promise = this.execute(row, active).finally(() => {
      clearInterval(active.heartbeat);
      this.active.delete(active);
      this.wake();
    });
  }

  private async execute(row: JobRow, active: Active): Promise<void> {
    let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
    try {
      const runner = this.runners[row.kind] as JobRunner;
      const payload = JSON.parse(row.payload) as unknown;
      const progress: JobProgress = (message) => {
        if (!active.released) this.progress(row.id, message);
      };
      outcome = { ok: true, result: await runner(payload, progress, { id: row.id, attempt: active.attempt }) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (active.released) return;
    try {
      if (outcome.ok) this.succeed(active, outcome.result);
      else this.fail(active, outcome.error);
    } catch (e) {
      // The lease runs out and another worker runs the job again.
      this.onError(e);
    }
  }

  private renew(active: Active): void {
    try {
      const now = this.clock.now();
      const renewed = this.sql.renew.run({ ...this.guard(active), leaseUntil: iso(now + this.leaseMs) }).changes > 0;
      if (!renewed) clearInterval(active.heartbeat);
    } catch (e) {
      this.onError(e);
    }
  }

  private succeed(active: Active, result: unknown): void {
    const text = toJsonText(result);
    const changed = this.sql.succeed.run({ ...this.guard(active), result: text, now: iso(this.clock.now()) }).changes > 0;
    if (changed) this.settle(active.id, { ok: true, result: text === null ? undefined : (JSON.parse(text) as unknown) });
  }

  private fail(active: Active, e: unknown): void {
    const error = toJobError(e);
    const nowMs = this.clock.now();
    const now = iso(nowMs);
    if (isTransient(e) && active.attempt < active.maxAttempts) {
      const delay = backoffDelay(active.attempt, this.random, this.backoff);
      const line = `attempt ${active.attempt} of ${active.maxAttempts} failed (${describeJobError(error)}); retrying in ${delay} ms`;
      const seq = this.writeTx(() =>
        this.sql.retry.run({ ...this.guard(active), error: jobErrorText(error), runAfter: iso(nowMs + delay), now }).changes > 0
          ? this.appendLog(active.id, now, line)
          : undefined,
      );
      if (seq !== undefined) this.deliver(active.id, seq, line);
      return;
    }
    const line = `failed: ${describeJobError(error)}`;
    const seq = this.writeTx(() =>
      this.sql.fail.run({ ...this.guard(active), error: jobErrorText(error), now }).changes > 0 ? this.appendLog(active.id, now, line) : undefined,
    );
    if (seq === undefined) return;
    this.deliver(active.id, seq, line);
    this.settle(active.id, { ok: false, error });
  }

  /** Hands a job that is still running at shutdown back to the queue, as if never claimed. */
  private release(active: Active): void {
    active.released = true;
    clearInterval(active.heartbeat);
    this.active.delete(active);
    try {
      const now = iso(this.clock.now());
      const line = `requeued at shutdown of worker ${this.workerId}`;
      const seq = this.writeTx(() => (this.sql.release.run({ ...this.guard(active), now }).changes > 0 ? this.appendLog(active.id, now, line) : undefined));
      if (seq !== undefined) this.deliver(active.id, seq, line);
    } catch (e) {
      this.onError(e);
    }
  }

  private progress(id: string, message: string): void {
    try {
      const now = iso(this.clock.now());
      const seq = this.writeTx(() => {
        this.sql.setProgress.run({ id, message, now });
        return this.appendLog(id, now, message);
      });
      this.deliver(id, seq, message);
    } catch (e) {
      // A lost progress line must not fail the job it describes.
      this.onError(e);
    }
  }

  private guard(active: Active): { id: string; owner: string; attempt: number } {
    return { id: active.id, owner: this.workerId, attempt: active.attempt };
  }

  private appendLog(id: string, at: string, message: string): number {
    return (this.sql.appendLog.get({ id, at, message }) as { seq: number }).seq;
  }

  private writeTx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // Callers that listen to or wait for jobs.

  private handle(id: string, existing: boolean): JobHandle {
    return lazyHandle(id, existing, () => this.observe(id));
  }

  private watch(id: string): Watch {
    return watchOf(this.watches, id, () => ({ listeners: [], seq: 0 }));
  }

  private observe(id: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'look the job up by its ID' }));
    const w = this.watch(id);
    if (!w.deferred) {
      w.deferred = deferred();
      this.check(id, w);
      this.schedulePoll();
    }
    return w.deferred.promise;
  }

  /** Forwards new log lines and settles the job's waiters once it has ended (in any process). */
  private check(id: string, w: Watch): void {
    try {
      for (const log of this.sql.selectLogsAfter.all(id, w.seq) as JobLogRow[]) this.deliver(id, log.seq, log.message);
      const row = this.sql.selectOutcome.get(id) as Pick<JobRow, 'state' | 'result' | 'error'> | undefined;
      if (!row) {
        this.settle(id, { ok: false, error: { code: 'NOT_FOUND', message: `job ${id} is no longer recorded` } });
      } else if (row.state === 'succeeded') {
        this.settle(id, { ok: true, result: row.result === null ? undefined : (JSON.parse(row.result) as unknown) });
      } else if (row.state === 'failed') {
        this.settle(id, { ok: false, error: row.error === null ? { code: 'FAILURE', message: `job ${id} failed` } : parseJobError(row.error) });
      }
    } catch (e) {
      this.onError(e);
    }
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.closed) return;
    if (![...this.watches.values()].some((w) => w.deferred)) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      for (const [id, w] of [...this.watches]) if (w.deferred) this.check(id, w);
      this.schedulePoll();
    }, this.pollMs);
  }

  private deliver(id: string, seq: number, message: string): void {
    const w = this.watches.get(id);
    if (!w || seq <= w.seq) return;
    w.seq = seq;
    for (const listener of w.listeners) {
      try {
        listener(message);
      } catch {
        // A listener's failure is the listener's business, not the job's.
      }
    }
  }

  private settle(id: string, outcome: { ok: true; result: unknown } | { ok: false; error: JobError }): void {
    settleWatch(this.watches, id, outcome);
  }
}

function prepare(db: Db) {
  const kindsOf = 'kind IN (SELECT value FROM json_each(@kinds))';
  return {
    insert: db.prepare(
      `INSERT INTO jobs (id, kind, state, payload, idempotency_key, owner, attempts, max_attempts, run_after, created_at, updated_at)
       VALUES (@id, @kind, 'queued', @payload, @key, @owner, 0, @maxAttempts, @now, @now, @now)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    ),
    selectByKey: db.prepare('SELECT id FROM jobs WHERE idempotency_key = ?'),
    selectRow: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    selectOutcome: db.prepare('SELECT state, result, error FROM jobs WHERE id = ?'),
    selectLogs: db.prepare('SELECT seq, at, message FROM job_logs WHERE job_id = ? ORDER BY seq'),
    selectLogsAfter: db.prepare('SELECT seq, at, message FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq'),
    appendLog: db.prepare(
      `INSERT INTO job_logs (job_id, seq, at, message)
       SELECT @id, COALESCE(MAX(seq), 0) + 1, @at, @message FROM job_logs WHERE job_id = @id
       RETURNING seq`,
    ),
    setProgress: db.prepare('UPDATE jobs SET progress = @message, updated_at = @now WHERE id = @id'),
    // A running job whose lease ran out counts as queued: its worker is gone.
    selectReady: db.prepare(
      `SELECT * FROM jobs WHERE ${kindsOf}
         AND ((state = 'queued' AND run_after <= @now) OR (state = 'running' AND lease_until < @now AND attempts < max_attempts))
       ORDER BY run_after, created_at, rowid LIMIT 1`,
    ),
    selectLostExhausted: db.prepare("SELECT id, lease_owner, attempts FROM jobs WHERE state = 'running' AND lease_until < @now AND attempts >= max_attempts"),
    failLost: db.prepare(
      `UPDATE jobs SET state = 'failed', error = @error, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_until = NULL
       WHERE id = @id AND state = 'running'`,
    ),
    claim: db.prepare(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = @owner, lease_until = @leaseUntil,
         started_at = COALESCE(started_at, @now), updated_at = @now
       WHERE id = @id`,
    ),
    renew: db.prepare(`UPDATE jobs SET lease_until = @leaseUntil WHERE ${GUARD}`),
    succeed: db.prepare(
      `UPDATE jobs SET state = 'succeeded', result = @result, error = NULL, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_until = NULL
       WHERE ${GUARD}`,
    ),
    fail: db.prepare(
      `UPDATE jobs SET state = 'failed', error = @error, finished_at = @now, updated_at = @now, lease_owner = NULL, lease_until = NULL
       WHERE ${GUARD}`,
    ),
    retry: db.prepare(
      `UPDATE jobs SET state = 'queued', error = @error, run_after = @runAfter, updated_at = @now, lease_owner = NULL, lease_until = NULL
       WHERE ${GUARD}`,
    ),
    release: db.prepare(
      `UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = @now, updated_at = @now, lease_owner = NULL, lease_until = NULL,
         started_at = CASE WHEN attempts <= 1 THEN NULL ELSE started_at END
       WHERE ${GUARD}`,
    ),
    anyQueued: db.prepare(`SELECT 1 FROM jobs WHERE state = 'queued' AND ${kindsOf} LIMIT 1`),
    list: db.prepare(
      `SELECT * FROM jobs WHERE (@state IS NULL OR state = @state) AND (@owner IS NULL OR owner = @owner)
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ),
    counts: db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state'),
  };
}

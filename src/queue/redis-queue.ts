// The Redis queue (BullMQ): the server enqueues, any number of `maas worker` processes run the
// jobs. A worker holds a lock on its job that it keeps renewing; when a worker dies, the lock
// runs out, BullMQ finds the job stalled and hands it to another worker. Transient failures are
// retried with our backoff; final ones fail at once (BullMQ's UnrecoverableError). A job's
// failure reason is our JobError as JSON, so that every reader gets code, message and hint.
import { deferred, lazyHandle, settleWatch, watchOf, within, type Deferred } from './job-watch.js';
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { newId, systemClock, type Clock } from '../core/clock.js';
import { MaasError, toMaasError } from '../core/errors.js';
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
import { idempotentJobId } from './idempotency.js';
import { BULL_TYPES, fromBullState, parseLogLine, stampLogLine } from './redis-job-state.js';
import { parseRedisUrl, redactRedisUrl, type RedisConnectionOptions } from './redis-url.js';
import { describeJobError, isTransient, parseJobError, toJobError } from './transient.js';

export interface RedisQueueOptions {
  /** Prefix of every Redis key, so that several maas installations can share a server. */
  prefix?: string;
  queueName?: string;
  /** How long a worker's lock on its job lasts without renewal: how soon a dead worker's job moves on. */
  lockMs?: number;
  /** How often workers look for jobs whose lock ran out. */
  stalledIntervalMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** How often a waiting caller looks at its job. */
  pollMs?: number;
  /** How long enqueue, get, list and counts wait for Redis before they fail as UNAVAILABLE. */
  timeoutMs?: number;
  clock?: Pick<Clock, 'now'>;
  /** Uniform in [0, 1): the jitter of retry delays. */
  random?: () => number;
  newId?: () => string;
  /** Finished jobs stay readable (and their idempotency keys taken) this long, and at most this many. */
  keep?: { ageMs?: number; count?: number };
  /** Connection and bookkeeping failures (the jobs' failures are recorded on the jobs). */
  onError?: (error: unknown) => void;
}

export interface RedisWorkerOptions {
  /** Jobs this worker runs at once. */
  concurrency?: number;
  workerId?: string;
}

export interface RedisWorkerHandle {
  /** Resolves once the worker is connected to Redis. */
  ready(): Promise<void>;
  /** Stops taking jobs; running ones get `timeoutMs` (default 10 s), then are left to expire and move to another worker. */
  close(timeoutMs?: number): Promise<void>;
}

interface JobData {
  payload: unknown;
  owner?: string;
  idempotencyKey?: string;
  /** Tells this enqueue's job from one that already had the same ID. */
  nonce: string;
}

interface Watch {
  listeners: JobProgress[];
  /** Log lines already delivered. */
  seen: number;
  deferred?: Deferred;
}

/** Our backoff, which BullMQ calls for retries of jobs enqueued here. */
const BACKOFF_TYPE = 'maas';

/** How many jobs `list` looks at (per BullMQ state) when it filters by owner. */
const OWNER_SCAN_LIMIT = 5000;

const DAY_MS = 24 * 60 * 60 * 1000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** An error that carries the delay our backoff chose for its retry. */
class RetryableJobError extends Error {
  constructor(
    message: string,
    readonly retryDelayMs: number,
  ) {
    super(message);
  }
}

export class RedisJobQueue implements JobQueue {
  private readonly connection: RedisConnectionOptions;
  private readonly queue: Queue;
  private readonly prefix: string;
  private readonly queueName: string;
  private readonly lockMs: number;
  private readonly stalledIntervalMs: number;
  private readonly backoff: BackoffOptions;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly random: () => number;
  private readonly newId: () => string;
  private readonly keep: { age: number; count: number };
  private readonly onError: (error: unknown) => void;
  private readonly workers = new Set<RedisWorkerHandle>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly watches = new Map<string, Watch>();
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private polling = false;
  private closed = false;

  constructor(
    readonly url: string,
    options: RedisQueueOptions = {},
  ) {
    this.connection = parseRedisUrl(url);
    this.prefix = options.prefix ?? 'maas';
    this.queueName = options.queueName ?? 'jobs';
    this.lockMs = options.lockMs ?? 15_000;
    this.stalledIntervalMs = options.stalledIntervalMs ?? this.lockMs;
    this.backoff = backoffOptions(options.backoff);
    this.pollMs = options.pollMs ?? 100;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.newId = options.newId ?? (() => newId('job', 8));
    this.keep = { age: Math.ceil((options.keep?.ageMs ?? 7 * DAY_MS) / 1000), count: options.keep?.count ?? 10_000 };
    this.onError = options.onError ?? ((e) => process.emitWarning(`job queue (${redactRedisUrl(url)}): ${toMaasError(e).message}`));
    this.queue = new Queue(this.queueName, { connection: { ...this.connection }, prefix: this.prefix });
    this.queue.on('error', (e) => this.onError(e));
  }

  async enqueue(kind: string, payload: unknown, progress?: JobProgress, options: EnqueueOptions = {}): Promise<JobHandle> {
    if (this.closed) throw new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'open the queue again to enqueue jobs' });
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new MaasError('USAGE', `maxAttempts must be a positive integer, got ${maxAttempts}`);
    const adding = this.add(kind, payload, maxAttempts, options);
    this.pending.add(adding);
    try {
      const { id, existing } = await this.answer('enqueue a job', adding);
      if (progress) this.watch(id).listeners.push(progress);
      return this.handle(id, existing);
    } finally {
      this.pending.delete(adding);
    }
  }

  /**
   * Starts a worker in this process (what `maas worker` runs). Its jobs' retries use this
   * queue's backoff.
   */
  startWorker(runners: Readonly<Record<string, JobRunner>>, options: RedisWorkerOptions = {}): RedisWorkerHandle {
    if (this.closed) throw new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'open the queue again to run jobs' });
    const running = new Set<Promise<unknown>>();
    const worker = new Worker(
      this.queueName,
      (job: Job) => {
        const run = this.process(runners, job);
        running.add(run);
        this.running.add(run);
        const forget = (): void => {
          running.delete(run);
          this.running.delete(run);
        };
        run.then(forget, forget);
        return run;
      },
      {
        connection: { ...this.connection },
        prefix: this.prefix,
        concurrency: options.concurrency ?? 2,
        lockDuration: this.lockMs,
        stalledInterval: this.stalledIntervalMs,
        // A job whose worker died runs once more; dying twice fails it (it may be what kills them).
        maxStalledCount: 1,
        removeOnComplete: this.keep,
        removeOnFail: this.keep,
        ...(options.workerId ? { name: options.workerId } : {}),
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
            err instanceof RetryableJobError ? err.retryDelayMs : backoffDelay(attemptsMade, this.random, this.backoff),
        },
      },
    );
    worker.on('error', (e) => this.onError(e));
    let closing: Promise<void> | undefined;
    const handle: RedisWorkerHandle = {
      ready: () => worker.waitUntilReady(),
      close: (timeoutMs = 10_000) =>
        (closing ??= (async () => {
          this.workers.delete(handle);
          await worker.pause(true).catch((e: unknown) => this.onError(e));
          if (running.size > 0) await within(Promise.allSettled([...running]), timeoutMs);
          // Forced: jobs still running keep their lock until it expires, then stall over to another worker.
          await worker.close(running.size > 0);
        })()),
    };
    this.workers.add(handle);
    return handle;
  }

  /** Resolves when this process's enqueues in flight and the jobs its own workers run have finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0 || this.running.size > 0) await Promise.allSettled([...this.pending, ...this.running]);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.answer(`read job ${id}`, this.readJob(id));
  }

  /**
   * The job's fields and its state are separate reads: a worker may move the job in between (it
   * would be seen running with the attempts of before it started, or queued for a retry without
   * its error). The state is read before and after the fields, and the read is repeated (a few
   * times at most) until both agree; the logs are read before the fields (see `process`).
   */
  private async readJob(id: string): Promise<JobRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.queue.getJobState(id);
      const { logs } = await this.queue.getJobLogs(id, 0, -1, true);
      const job = await this.queue.getJob(id);
      if (!job) return undefined;
      const after = await this.queue.getJobState(id);
      if (before === after || attempt >= 5) return this.toRecord(job, after, logs);
    }
  }

  async list(filter: { state?: JobState; owner?: string; limit?: number } = {}): Promise<JobRecord[]> {
    return this.answer('list jobs', this.listJobs(filter));
  }

  async counts(): Promise<Record<JobState, number>> {
    return this.answer('count jobs', this.countJobs());
  }

  private async listJobs(filter: { state?: JobState; owner?: string; limit?: number }): Promise<JobRecord[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new MaasError('USAGE', `limit must be a positive integer, got ${limit}`);
    const types = filter.state ? BULL_TYPES[filter.state] : Object.values(BULL_TYPES).flat();
    const found = new Map<string, Job>();
    const page = filter.owner === undefined ? limit : Math.max(limit, 200);
    for (let start = 0; start < (filter.owner === undefined ? limit : OWNER_SCAN_LIMIT); start += page) {
      const jobs = (await this.queue.getJobs(types as Parameters<Queue['getJobs']>[0], start, start + page - 1, false)).filter(
        (j): j is Job => j !== undefined && j !== null,
      );
      for (const j of jobs) if (j.id && (filter.owner === undefined || (j.data as JobData).owner === filter.owner)) found.set(j.id, j);
      if (jobs.length < page || found.size >= limit) break;
    }
    const newest = [...found.values()].sort((a, b) => b.timestamp - a.timestamp).slice(0, limit);
    const records = await Promise.all(newest.map((j) => this.toRecord(j)));
    return records.filter((r): r is JobRecord => r !== undefined && (filter.state === undefined || r.state === filter.state));
  }

  private async countJobs(): Promise<Record<JobState, number>> {
    const raw = await this.queue.getJobCounts(...(Object.values(BULL_TYPES).flat() as Parameters<Queue['getJobCounts']>));
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const [type, n] of Object.entries(raw)) {
      const state = fromBullState(type);
      if (state) out[state] += n;
    }
    return out;
  }

  /** Closes this process's workers (running jobs get 1 s), the callers' waits, and the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.workers].map((w) => w.close(1000)));
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
    await this.queue.close();
  }

  /**
   * `work`, or UNAVAILABLE once Redis has not answered for `timeoutMs`: the connection retries
   * for ever, so without a bound a caller would hang while Redis is down.
   */
  private async answer<T>(what: string, work: Promise<T>): Promise<T> {
    // Settles after we gave up on it (or when the connection closes): nobody is left to tell.
    work.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MaasError('UNAVAILABLE', `Redis at ${redactRedisUrl(this.url)} did not answer within ${this.timeoutMs} ms (trying to ${what})`, {
              hint: 'is redis-server running and reachable? check the Redis URL; a job enqueued meanwhile may still be added, so retry with an idempotency key',
            }),
          ),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Enqueuing.

  private async add(kind: string, payload: unknown, maxAttempts: number, options: EnqueueOptions): Promise<{ id: string; existing: boolean }> {
    const key = options.idempotencyKey;
    const jobId = key === undefined ? this.newId() : idempotentJobId(options.owner, key);
    if (key !== undefined && (await this.queue.getJob(jobId))) return { id: jobId, existing: true };
    const data: JobData = { payload: payload === undefined ? null : payload, nonce: randomUUID() };
    if (options.owner !== undefined) data.owner = options.owner;
    if (key !== undefined) data.idempotencyKey = key;
    await this.queue.add(kind, data, {
      jobId,
      attempts: maxAttempts,
      backoff: { type: BACKOFF_TYPE, delay: this.backoff.baseMs },
      removeOnComplete: this.keep,
      removeOnFail: this.keep,
    });
    if (key === undefined) return { id: jobId, existing: false };
    // BullMQ ignores an add whose ID exists: a concurrent enqueue with the same key won if the nonce differs.
    const stored = await this.queue.getJob(jobId);
    return { id: jobId, existing: stored !== undefined && (stored.data as JobData).nonce !== data.nonce };
  }

  // Working.

  private async process(runners: Readonly<Record<string, JobRunner>>, job: Job): Promise<unknown> {
    const id = job.id as string;
    const data = job.data as JobData;
    const attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1);
    const maxAttempts = job.opts.attempts ?? 1;
    let written: Promise<unknown> = Promise.resolve();
    const log = (message: string, asProgress: boolean): void => {
      const line = stampLogLine(iso(this.clock.now()), message);
      // In order, and all written before the job's outcome is.
      written = written
        .then(async () => {
          // Progress before the log line: a reader that sees the line (logs are read before the
          // job's fields) then sees the progress too.
          if (asProgress) await job.updateProgress(message);
          await job.log(line);
        })
        .catch((e: unknown) => this.onError(e));
    };
    const runner = runners[job.name];
    try {
      if (!runner) {
        throw new MaasError('INTERNAL', `no worker for jobs of kind "${job.name}"`, { hint: 'run `maas worker` from the same maas version as the server' });
      }
      const result = await runner(data.payload, (message) => log(message, true), { id, attempt });
      await written;
      // BullMQ stores `undefined` as nothing at all; null reads back as "no result" too.
      return result === undefined ? null : result;
    } catch (e) {
      const error = toJobError(e);
      const text = JSON.stringify(error);
      if (isTransient(e) && attempt < maxAttempts) {
        const delay = backoffDelay(attempt, this.random, this.backoff);
        log(`attempt ${attempt} of ${maxAttempts} failed (${describeJobError(error)}); retrying in ${delay} ms`, false);
        await written;
        throw new RetryableJobError(text, delay);
      }
      log(`failed: ${describeJobError(error)}`, false);
      await written;
      throw new UnrecoverableError(text);
    }
  }

  private async toRecord(job: Job, known?: Awaited<ReturnType<Job['getState']>>, logsRead?: string[]): Promise<JobRecord | undefined> {
    const id = job.id as string;
    const state = fromBullState(known ?? (await job.getState()));
    if (!state) return undefined;
    const data = (job.data ?? {}) as Partial<JobData>;
    const createdAt = iso(job.timestamp);
    const logs = logsRead ?? (await this.queue.getJobLogs(id, 0, -1, true)).logs;
    const record: JobRecord = {
      id,
      kind: job.name,
      state,
      payload: data.payload ?? null,
      attempts: Math.max(job.attemptsStarted, job.attemptsMade),
      maxAttempts: job.opts.attempts ?? 1,
      createdAt,
      updatedAt: iso(Math.max(job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0)),
      logs: logs.map((line) => parseLogLine(line, createdAt)),
    };
    if (data.idempotencyKey !== undefined) record.idempotencyKey = data.idempotencyKey;
    if (data.owner !== undefined) record.owner = data.owner;
    if (job.processedOn) record.startedAt = iso(job.processedOn);
    if (job.finishedOn && (state === 'succeeded' || state === 'failed')) record.finishedAt = iso(job.finishedOn);
    if (typeof job.progress === 'string') record.progress = job.progress;
    if (state === 'succeeded' && job.returnvalue !== null && job.returnvalue !== undefined) record.result = job.returnvalue as unknown;
    if (job.failedReason) record.error = parseJobError(job.failedReason);
    // A retry's delay counts from the failure; BullMQ keeps the start of the failed run, a few ms before it.
    if (state === 'queued') record.runAfter = iso((job.attemptsMade > 0 ? (job.processedOn ?? job.timestamp) : job.timestamp) + job.delay);
    return record;
  }

  // Callers that listen to or wait for jobs.

  private handle(id: string, existing: boolean): JobHandle {
    return lazyHandle(id, existing, () => this.observe(id));
  }

  private watch(id: string): Watch {
    return watchOf(this.watches, id, () => ({ listeners: [], seen: 0 }));
  }

  private observe(id: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new MaasError('UNAVAILABLE', 'the job queue is closed', { hint: 'look the job up by its ID' }));
    const w = this.watch(id);
    if (!w.deferred) {
      w.deferred = deferred();
      this.schedulePoll(0);
    }
    return w.deferred.promise;
  }

  private schedulePoll(ms: number): void {
    if (this.pollTimer || this.polling || this.closed) return;
    if (![...this.watches.values()].some((w) => w.deferred)) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.polling = true;
      void this.pollOnce().finally(() => {
        this.polling = false;
        this.schedulePoll(this.pollMs);
      });
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    for (const [id, w] of [...this.watches]) {
      if (!w.deferred || this.closed) continue;
      try {
        await this.check(id, w);
      } catch (e) {
        if (!this.closed) this.onError(e);
      }
    }
  }

  /** Forwards new log lines, then settles the waiters once the job has ended. */
  private async check(id: string, w: Watch): Promise<void> {
    // State first: once it is final, every log line of the job has been written.
    const state = fromBullState(await this.queue.getJobState(id));
    if (w.listeners.length > 0) {
      const { logs } = await this.queue.getJobLogs(id, w.seen, -1, true);
      w.seen += logs.length;
      for (const line of logs) {
        for (const listener of w.listeners) {
          try {
            listener(parseLogLine(line, '').message);
          } catch {
            // A listener's failure is the listener's business, not the job's.
          }
        }
      }
    }
    if (state !== 'succeeded' && state !== 'failed' && state !== undefined) return;
    const job = await this.queue.getJob(id);
    if (!job || !state) this.settle(id, { ok: false, error: { code: 'NOT_FOUND', message: `job ${id} is no longer recorded` } });
    else if (state === 'succeeded') this.settle(id, { ok: true, result: job.returnvalue ?? undefined });
    else this.settle(id, { ok: false, error: parseJobError(job.failedReason || `job ${id} failed`) });
  }

  private settle(id: string, outcome: { ok: true; result: unknown } | { ok: false; error: JobError }): void {
    settleWatch(this.watches, id, outcome);
  }
}

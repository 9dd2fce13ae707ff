// The job queue port: long operations (a deploy's launch, retraining, recomposition) are
// recorded, then carried out by whoever runs the queue's workers: this process (in-process), any
// process on the same SQLite file (durable, embedded), or `maas worker` processes (Redis).

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobError {
  code: string;
  message: string;
  hint?: string;
}

export interface JobRecord {
  id: string;
  kind: string;
  state: JobState;
  payload: unknown;
  idempotencyKey?: string;
  owner?: string;
  /** Runs started so far, the current one included. */
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Last progress message. */
  progress?: string;
  logs: { at: string; message: string }[];
  result?: unknown;
  /** The last failure: final for a failed job, the one being retried for a queued one. */
  error?: JobError;
  /** When a queued job becomes ready to run (later than createdAt after a transient failure). */
  runAfter?: string;
}

export interface JobProgress {
  (message: string): void;
}

/**
 * What a worker does for one kind of job; resolves to the job's result (plain JSON, or undefined).
 * Payloads are plain JSON too, so that any queue can carry them.
 */
export type JobRunner = (payload: unknown, progress: JobProgress, job: { id: string; attempt: number }) => Promise<unknown>;

export interface EnqueueOptions {
  /** The same key (for the same owner) returns the job already recorded instead of a new one. */
  idempotencyKey?: string;
  owner?: string;
  /** Runs at most this often when failures are transient (default 3; the in-process queue runs once). */
  maxAttempts?: number;
}

export interface JobHandle {
  id: string;
  /** Settles with the result when the job ends; rejects with its error. Only meaningful to a waiting caller. */
  done: Promise<unknown>;
  /** True when the idempotency key matched an existing job (no new job). */
  existing?: boolean;
}

export interface JobQueue {
  /** Records the job and returns at once; `progress` receives the worker's messages when it can. */
  enqueue(kind: string, payload: unknown, progress?: JobProgress, options?: EnqueueOptions): Promise<JobHandle>;
  /** Resolves when the work this process is doing for the queue has finished (see each queue). */
  idle(): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(filter?: { state?: JobState; owner?: string; limit?: number }): Promise<JobRecord[]>;
  counts(): Promise<Record<JobState, number>>;
  close(): Promise<void>;
}

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed'];

/** Default page size of `list`. */
export const DEFAULT_LIST_LIMIT = 100;

export const DEFAULT_MAX_ATTEMPTS = 3;

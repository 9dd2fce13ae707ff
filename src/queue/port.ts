// The job queue port: long operations (a deploy's launch today; retraining and recomposition
// later) are recorded, then carried out by whoever runs the queue's workers. In-process today;
// a durable SQLite or Redis queue with separate workers implements the same interface.

export interface JobProgress {
  (message: string): void;
}

/** What a worker does for one kind of job. Payloads are plain JSON, so any queue can carry them. */
export type JobRunner = (payload: unknown, progress: JobProgress) => Promise<void>;

export interface JobHandle {
  id: string;
  /** Settles when the job has run: rejects with its error. Only meaningful to a waiting caller. */
  done: Promise<void>;
}

export interface JobQueue {
  /** Records the job and returns at once; `progress` receives the worker's messages when it can. */
  enqueue(kind: string, payload: unknown, progress?: JobProgress): Promise<JobHandle>;
  /** Resolves when every job enqueued so far has finished (success or failure). */
  idle(): Promise<void>;
}

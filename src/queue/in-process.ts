// The in-process queue: runs each job right away in this process. The caller may wait for it
// (`maas deploy`) or not (`--async`); either way the process does not exit before it has run.
import { MaasError } from '../core/errors.js';
import type { JobHandle, JobProgress, JobQueue, JobRunner } from './port.js';

export class InProcessQueue implements JobQueue {
  private readonly running = new Set<Promise<void>>();
  private next = 1;

  constructor(
    private readonly runners: Readonly<Record<string, JobRunner>>,
    /** Failures nobody waits for (async jobs): report them instead of losing them. */
    private readonly onUnobservedFailure: (kind: string, error: unknown) => void = () => {},
  ) {}

  async enqueue(kind: string, payload: unknown, progress: JobProgress = () => {}): Promise<JobHandle> {
    const runner = this.runners[kind];
    if (!runner) throw new MaasError('INTERNAL', `no worker for jobs of kind "${kind}"`);
    const id = `job-${this.next++}`;
    // Detached from the caller's stack: the caller gets the handle first, as with a real queue.
    const done = Promise.resolve().then(() => runner(payload, progress));
    let observed = false;
    const tracked = done.then(
      () => undefined,
      (e: unknown) => {
        if (!observed) this.onUnobservedFailure(kind, e);
      },
    );
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return {
      id,
      get done() {
        observed = true;
        return done;
      },
    };
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}

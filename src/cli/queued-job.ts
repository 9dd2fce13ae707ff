// What a command that queued a job on a maas server prints with --async: the job's ID (on stdout,
// and for -o name) and how to follow it; the job's result comes later from `maas jobs ID`.
import type { QueuedLifecycleJob } from '../app/lifecycle-jobs.js';
import type { CommandResult } from './output.js';

/** Time the queue may take to start a job, on top of the job's own timeout, when a command waits for it. */
export const QUEUE_WAIT_MS = 60_000;

export function queuedJobResult(q: QueuedLifecycleJob, what: string): CommandResult {
  return {
    data: { job: q.job, deployment: q.deployment.id },
    names: [q.job],
    text: () => q.job,
    notes: [`${what} of ${q.deployment.id} queued as job ${q.job}; \`maas jobs ${q.job}\` shows its progress and result`],
  };
}

/** A wait as `waitForRemoteJob` takes it: the job's own timeout plus the time to start it. */
export function jobWait(timeoutMs: number, what: string): { timeoutMs: number; timeoutText: string; what: string } {
  const total = timeoutMs + QUEUE_WAIT_MS;
  return { timeoutMs: total, timeoutText: `${Math.round(total / 1000)}s`, what };
}

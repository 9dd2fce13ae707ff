// Waiting for a job a maas server queued (retrain, rollout, compose apply, adapt...): its new log
// lines become progress on stderr, its result comes back as the local command's would, and its
// error becomes the same MaasError, so output and exit codes match the local form.
import type { ControlPlaneApi } from '../app/control-plane-api.js';
import { MaasError, isErrorCode } from '../core/errors.js';
import type { JobRecord } from '../queue/port.js';
import type { Context } from './context.js';

export interface RemoteJobWait {
  /** How long to wait before giving up (the job goes on). */
  timeoutMs: number;
  /** The flag as given, for the message (e.g. "10m"). */
  timeoutText: string;
  /** Between reads of the job; 500 ms by default. */
  pollMs?: number;
  /** What the spinner says while waiting. */
  what: string;
}

/** The job's final error as the CLI's error (its code when known, else FAILURE). */
export function jobFailure(job: JobRecord): MaasError {
  const e = job.error;
  if (!e) return new MaasError('FAILURE', `job ${job.id} (${job.kind}) failed`, { hint: `\`maas jobs ${job.id}\`` });
  return new MaasError(isErrorCode(e.code) ? e.code : 'FAILURE', e.message, { hint: e.hint ?? `\`maas jobs ${job.id}\`` });
}

/** Polls the job until it ends; resolves with its result, rejects with its error or TIMEOUT. */
export async function waitForRemoteJob(ctx: Context, api: ControlPlaneApi, jobId: string, o: RemoteJobWait): Promise<unknown> {
  const spinner = await ctx.spinner(o.what);
  const progress = ctx.progress(spinner);
  ctx.onInterrupt(() => `job ${jobId} goes on on the server: \`maas jobs ${jobId}\``);
  const deadline = ctx.clock.now() + o.timeoutMs;
  let shown = 0;
  try {
    for (;;) {
      const job = await api.getJob(jobId);
      for (const line of job.logs.slice(shown)) progress(line.message);
      shown = Math.max(shown, job.logs.length);
      if (job.state === 'succeeded') {
        spinner.succeed();
        return job.result;
      }
      if (job.state === 'failed') throw jobFailure(job);
      if (ctx.clock.now() > deadline)
        throw new MaasError('TIMEOUT', `job ${jobId} is still ${job.state} after ${o.timeoutText}`, {
          hint: `it goes on on the server: \`maas jobs ${jobId}\``,
        });
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } catch (e) {
    spinner.fail();
    throw e;
  }
}

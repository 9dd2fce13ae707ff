// `maas rollout DEPLOYMENT --to NAME@VERSION`: switch the version a deployment serves in place,
// without dropping requests; the deployment keeps its ID, consumers, endpoint and request log.
// Against a server it is a job there, followed until it ends (or, with --async, only queued).
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import { VERSION_CHANGE_REASONS, type VersionChangeReason } from '../../domain/deployment.js';
import type { RolloutOutcome } from '../../app/rollout.js';
import type { Context } from '../context.js';
import { deploymentColumns } from '../deployment-view.js';
import type { CommandResult } from '../output.js';
import type { Program, Run } from '../program.js';
import { jobWait, queuedJobResult } from '../queued-job.js';
import { waitForRemoteJob } from '../remote-job.js';

/** A version switch as rollout and rollback print it: the deployment, whether it changed, the history entry. */
export function switchView(ctx: Context, r: RolloutOutcome): CommandResult {
  const d = r.deployment;
  return {
    data: { ...d, changed: r.changed, ...(r.change ? { change: r.change } : {}) },
    table: { columns: deploymentColumns(ctx.clock.now()), rows: [d] },
    names: [d.id],
    ...(r.changed ? {} : { notes: [r.message] }),
  };
}

export function define(program: Program, run: Run): void {
  program
    .command('rollout')
    .argument('<deployment>')
    .description('switch a deployment to another version of its model without dropping requests')
    .requiredOption('--to <ref>', 'the version to serve: NAME@VERSION (or @VERSION)')
    .option('--reason <reason>', `why: ${VERSION_CHANGE_REASONS.join(', ')}`, 'manual')
    .option('--timeout <duration>', 'how long the new version may take to serve', '120s')
    .option('--async', 'against a server: print the job ID at once; `maas jobs ID` follows it')
    .action(
      run(async (ctx, id, opts) => {
        if (!(VERSION_CHANGE_REASONS as readonly string[]).includes(opts.reason)) {
          throw new MaasError('USAGE', `--reason expects one of ${VERSION_CHANGE_REASONS.join(', ')}, got "${opts.reason}"`);
        }
        const reason = opts.reason as VersionChangeReason;
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const api = await ctx.remote();
        if (api) {
          const { randomUUID } = await import('node:crypto');
          const queued = await api.rollout(id, { to: opts.to, reason, timeoutMs }, randomUUID());
          if (opts.async === true) return queuedJobResult(queued, 'rollout');
          return switchView(ctx, (await waitForRemoteJob(ctx, api, queued.job, jobWait(timeoutMs, `rolling out ${opts.to} to ${id}`))) as RolloutOutcome);
        }
        if (opts.async === true) throw new MaasError('USAGE', '--async applies against a maas server; here the rollout runs in this command');
        const { rollout } = await import('../../app/rollout.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`rolling out ${opts.to} to ${id}`);
        try {
          const r = await rollout(services, { deployment: id, to: opts.to, reason, timeoutMs }, ctx.progress(spinner));
          spinner.succeed(r.message);
          return switchView(ctx, r);
        } catch (e) {
          spinner.fail();
          throw e;
        }
      }),
    );
}

// `maas rollback DEPLOYMENT`: back to the version the deployment served before (a rollout the
// other way, recorded with reason `rollback`). Against a server it is a job there.
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import type { RolloutOutcome } from '../../app/rollout.js';
import type { Program, Run } from '../program.js';
import { jobWait, queuedJobResult } from '../queued-job.js';
import { waitForRemoteJob } from '../remote-job.js';
import { switchView } from './rollout.js';

export function define(program: Program, run: Run): void {
  program
    .command('rollback')
    .argument('<deployment>')
    .description('switch a deployment back to the version it served before')
    .option('--timeout <duration>', 'how long the previous version may take to serve', '120s')
    .option('--async', 'against a server: print the job ID at once; `maas jobs ID` follows it')
    .action(
      run(async (ctx, id, opts) => {
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const api = await ctx.remote();
        if (api) {
          const { randomUUID } = await import('node:crypto');
          const queued = await api.rollback(id, { timeoutMs }, randomUUID());
          if (opts.async === true) return queuedJobResult(queued, 'rollback');
          return switchView(ctx, (await waitForRemoteJob(ctx, api, queued.job, jobWait(timeoutMs, `rolling back ${id}`))) as RolloutOutcome);
        }
        if (opts.async === true) throw new MaasError('USAGE', '--async applies against a maas server; here the rollback runs in this command');
        const { rollback } = await import('../../app/rollout.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`rolling back ${id}`);
        try {
          const r = await rollback(services, { deployment: id, timeoutMs }, ctx.progress(spinner));
          spinner.succeed(r.message);
          return switchView(ctx, r);
        } catch (e) {
          spinner.fail();
          throw e;
        }
      }),
    );
}

// `maas rollback DEPLOYMENT`: back to the version the deployment served before (a rollout the
// other way, recorded with reason `rollback`).
import { parseDuration } from '../../core/duration.js';
import { deploymentColumns } from '../deployment-view.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('rollback')
    .argument('<deployment>')
    .description('switch a deployment back to the version it served before')
    .option('--timeout <duration>', 'how long the previous version may take to serve', '120s')
    .action(
      run(async (ctx, id, opts) => {
        const { rollback } = await import('../../app/rollout.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`rolling back ${id}`);
        try {
          const r = await rollback(services, { deployment: id, timeoutMs: parseDuration(opts.timeout, '--timeout') }, ctx.progress(spinner));
          spinner.succeed(r.message);
          const d = r.deployment;
          return {
            data: { ...d, changed: r.changed, ...(r.change ? { change: r.change } : {}) },
            table: { columns: deploymentColumns(ctx.clock.now()), rows: [d] },
            names: [d.id],
          };
        } catch (e) {
          spinner.fail();
          throw e;
        }
      }),
    );
}

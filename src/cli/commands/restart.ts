// `maas restart ID`: start a deployment's model server again in place (same ID and consumers),
// e.g. after it died or to serve a cached deployment again.
import { parseDuration } from '../../core/duration.js';
import { deploymentColumns } from '../deployment-view.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('restart')
    .argument('<id>')
    .description('start a deployment again where it is (ID, a unique prefix, or NAME[@VERSION])')
    .option('--async', 'return at once; check later with `maas status ID --wait`')
    .option('--timeout <duration>', 'how long to wait for readiness', '120s')
    .action(
      run(async (ctx, id, opts) => {
        const { restart } = await import('../../app/deploy.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`restarting ${id}`);
        try {
          const d = await restart(services, id, { wait: opts.async !== true, timeoutMs: parseDuration(opts.timeout, '--timeout') }, ctx.progress(spinner));
          spinner.succeed(`${d.id} ${d.state}`);
          return { data: d, table: { columns: deploymentColumns(ctx.clock.now()), rows: [d] }, names: [d.id] };
        } catch (e) {
          spinner.fail();
          throw e;
        }
      }),
    );
}

// `maas status [ID] [--wait]`: a deployment (or all of them) as its target observes it now.
// Read-only: observing never appends history or changes the stored state.
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import { describeDeployment } from '../deployment-view.js';
import type { Program, Run } from '../program.js';
import { listAllDeployments } from './ps.js';

export function define(program: Program, run: Run): void {
  program
    .command('status')
    .argument('[id]')
    .description('show a deployment (or all of them) as it really is now')
    .addHelpText('after', '\nExamples:\n  maas status d-5f3a9c1e2b\n  maas status har-classifier@1 --wait --timeout 5m')
    .option('--wait', 'wait until the deployment is ready or failed')
    .option('--timeout <duration>', 'how long --wait waits', '120s')
    .action(
      run(async (ctx, id, opts) => {
        if (!id) return listAllDeployments(ctx, {});
        const api = await ctx.remote();
        if (api) {
          // Against a server: its view of the deployment; --wait polls it.
          const deadline = ctx.clock.now() + parseDuration(opts.timeout, '--timeout');
          let d = await api.deploymentStatus(id);
          while (opts.wait && (d.state === 'queued' || d.state === 'deploying')) {
            if (ctx.clock.now() > deadline)
              throw new MaasError('TIMEOUT', `${id} is still ${d.state} after ${opts.timeout}`, { hint: '`maas status ID` shows where it stands' });
            await new Promise((r) => setTimeout(r, 500));
            d = await api.deploymentStatus(id);
          }
          const now = ctx.clock.now();
          return { data: d, text: (style) => describeDeployment(d, style, now, undefined), names: [d.id], exitCode: d.state === 'failed' ? 1 : 0 };
        }
        const { deploymentStatus, deploymentTraffic, watchDeployment } = await import('../../app/status.js');
        const services = await ctx.services();
        let d = await deploymentStatus(services, id);
        if (opts.wait && (d.state === 'queued' || d.state === 'deploying')) {
          const spinner = await ctx.spinner(`waiting for ${id}`);
          try {
            d = await watchDeployment(services, d, parseDuration(opts.timeout, '--timeout'), ctx.progress(spinner));
            spinner.succeed(`${id} ${d.state}`);
          } catch (e) {
            spinner.fail();
            throw e;
          }
        }
        const now = ctx.clock.now();
        const traffic = await deploymentTraffic(services, d);
        return {
          data: traffic ? { ...d, traffic } : d,
          text: (style) => describeDeployment(d, style, now, traffic),
          names: [d.id],
          exitCode: d.state === 'failed' ? 1 : 0,
        };
      }),
    );
}

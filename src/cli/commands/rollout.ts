// `maas rollout DEPLOYMENT --to NAME@VERSION`: switch the version a deployment serves in place,
// without dropping requests; the deployment keeps its ID, consumers, endpoint and request log.
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import { VERSION_CHANGE_REASONS, type VersionChangeReason } from '../../domain/deployment.js';
import { deploymentColumns } from '../deployment-view.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('rollout')
    .argument('<deployment>')
    .description('switch a deployment to another version of its model without dropping requests')
    .requiredOption('--to <ref>', 'the version to serve: NAME@VERSION (or @VERSION)')
    .option('--reason <reason>', `why: ${VERSION_CHANGE_REASONS.join(', ')}`, 'manual')
    .option('--timeout <duration>', 'how long the new version may take to serve', '120s')
    .action(
      run(async (ctx, id, opts) => {
        if (!(VERSION_CHANGE_REASONS as readonly string[]).includes(opts.reason)) {
          throw new MaasError('USAGE', `--reason expects one of ${VERSION_CHANGE_REASONS.join(', ')}, got "${opts.reason}"`);
        }
        const { rollout } = await import('../../app/rollout.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`rolling out ${opts.to} to ${id}`);
        try {
          const r = await rollout(
            services,
            { deployment: id, to: opts.to, reason: opts.reason as VersionChangeReason, timeoutMs: parseDuration(opts.timeout, '--timeout') },
            ctx.progress(spinner),
          );
          spinner.succeed(r.message);
          const d = r.deployment;
          return {
            data: { ...d, changed: r.changed, ...(r.change ? { change: r.change } : {}) },
            table: { columns: deploymentColumns(ctx.clock.now()), rows: [d] },
            names: [d.id],
            ...(r.changed ? {} : { notes: [r.message] }),
          };
        } catch (e) {
          spinner.fail();
          throw e;
        }
      }),
    );
}

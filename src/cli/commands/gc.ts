// `maas gc [--all] [--dry-run]`: destroy expired caches and remove artifacts nothing uses.
import { deploymentColumns } from '../deployment-view.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('gc')
    .description('destroy cached deployments whose cache period has expired, and artifacts no registered version uses')
    .option('--all', 'destroy every cached deployment, expired or not')
    .option('--dry-run', 'only list what would be destroyed')
    .action(
      run(async (ctx, opts) => {
        const { collectGarbage } = await import('../../app/collect-garbage.js');
        const dryRun = opts.dryRun === true;
        const result = await collectGarbage(await ctx.services(), { all: opts.all === true, dryRun });
        const doomed = result.deployments;
        const notes = [
          ...(doomed.length && !dryRun ? [`destroyed ${doomed.length} cached deployment(s)`] : []),
          ...(result.artifacts.length ? [`${dryRun ? 'would remove' : 'removed'} ${result.artifacts.length} unused artifact(s)`] : []),
        ];
        return {
          data: { dryRun, destroyed: doomed.map((d) => d.id), artifacts: result.artifacts },
          table: { columns: deploymentColumns(ctx.clock.now()), rows: doomed, empty: dryRun ? 'nothing to collect' : 'nothing collected' },
          names: doomed.map((d) => d.id),
          notes,
        };
      }),
    );
}

// `maas decommission ID [--purge]` and `maas gc`: the two-step end of a deployment.
import type { Command } from 'commander';
import type { Run } from '../program.js';
import { defaultConsumer } from '../consumer.js';
import { deploymentColumns } from '../deployment-view.js';

export function define(program: Command, run: Run): void {
  program
    .command('decommission <id>')
    .description('release a deployment; with no consumer left it is scaled to zero and cached; --purge destroys it')
    .option('--consumer <name>', 'the consumer releasing it (default user@host)')
    .option('--purge', 'destroy it (refused while another consumer uses it)')
    .option('--force', 'with --purge: destroy even while others use it; without: release on behalf of another consumer')
    .action(
      run(async (ctx, id: string, opts: { consumer?: string; purge?: boolean; force?: boolean }) => {
        const { deploymentDeps, cacheTtlMs } = await import('../deployment-deps.js');
        const { decommission } = await import('../../deployments/service.js');
        const deps = await deploymentDeps(ctx);
        const consumer = opts.consumer ?? ctx.config.consumer ?? defaultConsumer(ctx.io);
        const result = await decommission(deps, id, consumer, { purge: opts.purge === true, force: opts.force === true, cacheTtlMs: cacheTtlMs(ctx) });
        const message = {
          released: `${id} released by ${consumer}; still used by ${result.remainingConsumers.join(', ')}`,
          cached: `${id} scaled to zero and cached until ${result.deployment?.expiresAt ?? '?'} (purge with \`maas decommission ${id} --purge\` or \`maas gc\`)`,
          purged: `${id} destroyed`,
          unchanged: `${id} was already cached`,
        }[result.outcome];
        return { data: result, text: () => message, names: [id] };
      }),
    );

  program
    .command('gc')
    .description('destroy cached deployments whose cache period has expired, and artifacts no registered version uses')
    .option('--all', 'destroy every cached deployment, expired or not')
    .option('--dry-run', 'only list what would be destroyed')
    .action(
      run(async (ctx, opts: { all?: boolean; dryRun?: boolean }) => {
        const { deploymentDeps } = await import('../deployment-deps.js');
        const { collectGarbage } = await import('../../deployments/service.js');
        const deps = await deploymentDeps(ctx);
        const doomed = await collectGarbage(deps, { all: opts.all === true, dryRun: opts.dryRun === true });
        const { pruneBlobs } = await import('../../registry/artifact-store.js');
        const registry = await ctx.registry();
        const artifacts = await pruneBlobs(ctx.home.blobs, await registry.artifactDigests(), { now: ctx.clock.now(), dryRun: opts.dryRun === true });
        const notes = [
          ...(doomed.length && !opts.dryRun ? [`destroyed ${doomed.length} cached deployment(s)`] : []),
          ...(artifacts.length ? [`${opts.dryRun ? 'would remove' : 'removed'} ${artifacts.length} unused artifact(s)`] : []),
        ];
        return {
          data: { dryRun: opts.dryRun === true, destroyed: doomed.map((d) => d.id), artifacts },
          table: { columns: deploymentColumns(ctx.clock.now()), rows: doomed, empty: opts.dryRun ? 'nothing to collect' : 'nothing collected' },
          names: doomed.map((d) => d.id),
          notes,
        };
      }),
    );
}

// `maas decommission ID [--purge]`: release; with no consumer left, scale to zero and cache;
// `--purge` destroys.
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('decommission')
    .argument('<id>')
    .description('release a deployment; with no consumer left it is scaled to zero and cached; --purge destroys it')
    .option('--consumer <name>', 'the consumer releasing it (default user@host)')
    .option('--purge', 'destroy it (refused while another consumer uses it)')
    .option('--force', 'with --purge: destroy even while others use it; without: release on behalf of another consumer')
    .action(
      run(async (ctx, id, opts) => {
        const { decommission } = await import('../../app/decommission.js');
        const consumer = ctx.consumer(opts.consumer);
        const result = await decommission(await ctx.services(), { id, consumer, purge: opts.purge === true, force: opts.force === true });
        const message = {
          released: `${id} released by ${consumer}; still used by ${result.remainingConsumers.join(', ')}`,
          cached: `${id} scaled to zero and cached until ${result.deployment?.expiresAt ?? '?'} (purge with \`maas decommission ${id} --purge\` or \`maas gc\`)`,
          purged: `${id} destroyed`,
          unchanged: `${id} was already cached`,
        }[result.outcome];
        return { data: result, text: () => message, names: [id] };
      }),
    );
}

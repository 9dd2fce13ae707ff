// `maas ps [--model NAME]`: every deployment as its target observes it now (read-only).
import type { Context } from '../context.js';
import { deploymentColumns } from '../deployment-view.js';
import type { CommandResult } from '../output.js';
import type { Program, Run } from '../program.js';

export async function listAllDeployments(ctx: Context, filter: { model?: string }): Promise<CommandResult> {
  const api = await ctx.remote();
  const rows = api ? await api.listDeployments(filter) : await (await import('../../app/status.js')).listDeployments(await ctx.services(), filter);
  return {
    data: rows,
    table: { columns: deploymentColumns(ctx.clock.now()), rows, empty: 'no deployments; create one with `maas deploy MODEL`' },
    names: rows.map((d) => d.id),
  };
}

export function define(program: Program, run: Run): void {
  program
    .command('ps')
    .description('list deployments')
    .option('--model <name>', 'only deployments of this model')
    .action(run(async (ctx, opts) => listAllDeployments(ctx, opts.model !== undefined ? { model: opts.model } : {})));
}

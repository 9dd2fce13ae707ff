// `maas status [ID]`, `maas ps`, `maas logs ID`: what is deployed and what it is doing, reconciled
// with reality (a dead process shows as failed, with its last log lines).
import type { Command } from 'commander';
import type { Run } from '../program.js';
import type { Context } from '../context.js';
import type { CommandResult } from '../output.js';
import { parseDuration } from '../../core/duration.js';
import { deploymentColumns, describeDeployment } from '../deployment-view.js';
import type { DeploymentRecord } from '../../domain/deployment.js';

async function listAll(ctx: Context, opts: { model?: string }): Promise<CommandResult> {
  const { deploymentDeps } = await import('../deployment-deps.js');
  const { reconcile } = await import('../../deployments/service.js');
  const deps = await deploymentDeps(ctx);
  const records = await deps.store.listDeployments(opts.model ? { model: opts.model } : undefined);
  const rows: DeploymentRecord[] = [];
  for (const d of records) rows.push((await reconcile(deps, d)).deployment);
  return {
    data: rows,
    table: { columns: deploymentColumns(ctx.clock.now()), rows, empty: 'no deployments; create one with `maas deploy MODEL`' },
    names: rows.map((d) => d.id),
  };
}

export function define(program: Command, run: Run): void {
  program
    .command('status [id]')
    .description('show a deployment (or all of them), reconciled with what is really running')
    .option('--wait', 'wait until the deployment is ready or failed')
    .option('--timeout <duration>', 'how long --wait waits', '120s')
    .action(
      run(async (ctx, id: string | undefined, opts: { wait?: boolean; timeout: string }) => {
        if (!id) return listAll(ctx, {});
        const { deploymentDeps } = await import('../deployment-deps.js');
        const { reconcile, requireDeployment, waitForDeployment } = await import('../../deployments/service.js');
        const deps = await deploymentDeps(ctx);
        let d = (await reconcile(deps, await requireDeployment(deps, id))).deployment;
        if (opts.wait && (d.state === 'queued' || d.state === 'deploying')) {
          const spinner = await ctx.spinner(`waiting for ${id}`);
          try {
            d = await waitForDeployment(deps, d, parseDuration(opts.timeout, '--timeout'), (m) => spinner.update(m));
            spinner.succeed(`${id} ${d.state}`);
          } catch (e) {
            spinner.fail();
            throw e;
          }
        }
        const now = ctx.clock.now();
        return { data: d, text: (style) => describeDeployment(d, style, now), names: [d.id], exitCode: d.state === 'failed' ? 1 : 0 };
      }),
    );

  program
    .command('ps')
    .description('list deployments')
    .option('--model <name>', 'only deployments of this model')
    .action(run(async (ctx, opts: { model?: string }) => listAll(ctx, opts)));

  program
    .command('logs <id>')
    .description("print a deployment's model server log")
    .option('--tail <lines>', 'only the last N lines')
    .action(
      run(async (ctx, id: string, opts: { tail?: string }) => {
        const { deploymentDeps } = await import('../deployment-deps.js');
        const { requireDeployment } = await import('../../deployments/service.js');
        const { parsePositiveInt } = await import('../../core/numbers.js');
        const deps = await deploymentDeps(ctx);
        const d = await requireDeployment(deps, id);
        const target = await deps.target(d.target);
        const tail = opts.tail !== undefined ? parsePositiveInt(opts.tail, '--tail') : undefined;
        const text = await target.logs(d, tail !== undefined ? { tail } : {});
        return { data: { id, logs: text }, text: () => text };
      }),
    );
}

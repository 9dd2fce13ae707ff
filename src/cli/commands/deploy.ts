// `maas deploy name[@version]`: start (or join) a deployment and, by default, wait until ready.
import { Option, type Command } from 'commander';
import type { Run } from '../program.js';
import { defaultConsumer } from '../consumer.js';
import { MaasError } from '../../core/errors.js';
import { parseModelRef } from '../../core/model-ref.js';
import { parseDuration } from '../../core/duration.js';
import type { PlacementMode, TargetName } from '../../deployments/types.js';
import { deploymentColumns } from '../deployment-view.js';

interface DeployOptions {
  target?: string;
  mode: string;
  node?: string;
  consumer?: string;
  async?: boolean;
  timeout: string;
}

export function define(program: Command, run: Run): void {
  program
    .command('deploy <model>')
    .description('deploy a registered model (name or name@version; latest when no version)')
    .addOption(new Option('-t, --target <target>', 'where to run it').choices(['local', 'kubernetes']))
    .addOption(new Option('--mode <mode>', 'placement: open (scheduler decides) or strict (pinned to --node)').choices(['open', 'strict']).default('open'))
    .option('--node <name>', 'node to pin the deployment to (strict mode)')
    .option('--consumer <name>', 'who uses this deployment (default user@host)')
    .option('--async', 'return the deployment ID at once; check later with `maas status ID --wait`')
    .option('--timeout <duration>', 'how long to wait for readiness', '120s')
    .action(
      run(async (ctx, modelText: string, opts: DeployOptions) => {
        const ref = parseModelRef(modelText);
        const target = (opts.target ?? ctx.config.target ?? 'local') as TargetName;
        if (target !== 'local' && target !== 'kubernetes') throw new MaasError('USAGE', `unknown target "${String(target)}"`, { hint: 'use local or kubernetes' });
        const mode = opts.mode as PlacementMode;
        if (mode === 'strict' && !opts.node) throw new MaasError('USAGE', 'strict mode needs --node NAME', { hint: 'or use --mode open to let the scheduler place it' });
        if (mode === 'open' && opts.node) throw new MaasError('USAGE', '--node only applies to --mode strict', { hint: 'add --mode strict' });
        if (target === 'local' && mode === 'strict') throw new MaasError('USAGE', 'the local target has one node; strict placement applies to --target kubernetes');
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const { deploymentDeps } = await import('../deployment-deps.js');
        const { deploy } = await import('../../deployments/service.js');
        const deps = await deploymentDeps(ctx);
        const spinner = await ctx.spinner(`deploying ${modelText}`);
        try {
          const result = await deploy(
            deps,
            {
              model: ref.name,
              ...(ref.version !== undefined ? { version: ref.version } : {}),
              target,
              mode,
              ...(opts.node ? { node: opts.node } : {}),
              ...(target === 'kubernetes' && ctx.globals.namespace ? { namespace: ctx.globals.namespace } : {}),
              consumer: opts.consumer ?? ctx.config.consumer ?? defaultConsumer(ctx.io),
            },
            {
              wait: !opts.async,
              timeoutMs,
              progress: (m) => {
                if (ctx.interactive) spinner.update(m);
                else ctx.info(m);
              },
            },
          );
          const d = result.deployment;
          spinner.succeed(`${d.id} ${d.state} (${result.outcome})`);
          return {
            data: { ...d, outcome: result.outcome },
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

// `maas deploy name[@version]`: start (or join) a deployment and, by default, wait until ready.
// Target flags (e.g. kubernetes `--image`) come from the target plugins.
import { Option } from '@commander-js/extra-typings';
import { MaasError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { parseModelRef } from '../../domain/model-ref.js';
import { DEFAULT_TARGET, TARGET_NAMES, TARGET_PLUGINS } from '../../targets/plugins.js';
import type { TargetOptions } from '../../targets/target.js';
import type { Context } from '../context.js';
import { consumerFlag } from '../flags.js';
import { deploymentColumns, objectList } from '../deployment-view.js';
import type { CommandResult } from '../output.js';
import type { Program, Run } from '../program.js';

/** The target flags given on the command line (a `--no-x` flag counts when it was given). */
function targetOptions(opts: Record<string, unknown>): TargetOptions {
  const out: TargetOptions = {};
  for (const f of TARGET_PLUGINS.flatMap((p) => p.flags)) {
    const v = opts[f.key];
    const negated = f.flags.startsWith('--no-');
    if (v === undefined || (negated && v === true)) continue;
    if (typeof v === 'string' || typeof v === 'boolean') out[f.key] = v;
  }
  return out;
}

export function define(program: Program, run: Run): void {
  const command = program
    .command('deploy')
    .argument('<model>')
    .description('deploy a registered model (name or name@version; latest when no version)')
    .addHelpText(
      'after',
      '\nExamples:\n  maas deploy har-classifier@1\n  maas deploy har-classifier --async -o name\n  maas deploy har-classifier@1 --target kubernetes -n ml --mode strict --node worker-2\n  maas deploy har-classifier@1 --target kubernetes --dry-run -o yaml | kubectl apply -f -',
    )
    .option('-t, --target <target>', `where to run it: ${TARGET_NAMES.join(', ')} (default: config target, then ${DEFAULT_TARGET})`)
    .addOption(
      new Option('--mode <mode>', 'placement: open (scheduler decides) or strict (pinned to --node)')
        .choices(['open', 'strict'] as const)
        .default('open' as const),
    )
    .option('--node <name>', 'node to pin the deployment to (strict mode)')
    .option('--consumer <name>', 'who uses this deployment (default user@host)', consumerFlag)
    .option('--async', 'return the deployment ID at once; check later with `maas status ID --wait`')
    .option('--timeout <duration>', 'how long to wait for readiness', '120s')
    .option('--idempotency-key <key>', 'against a server: re-sending the same deploy with the same key returns the first answer (one deployment)')
    .addOption(
      new Option(
        '--dry-run [mode]',
        'print the objects instead of deploying: client (no cluster contact) or server (validated by the API server); nothing is stored',
      ).choices(['client', 'server'] as const),
    );
  for (const flag of TARGET_PLUGINS.flatMap((p) => p.flags)) command.addOption(new Option(flag.flags, flag.description));
  command.action(
    run(async (ctx, modelText, opts) => {
      const ref = parseModelRef(modelText);
      const target = opts.target ?? ctx.config.target ?? DEFAULT_TARGET;
      const given = targetOptions(opts);
      const timeoutMs = parseDuration(opts.timeout, '--timeout');
      const base = {
        model: ref.name,
        ...(ref.version !== undefined ? { version: ref.version } : {}),
        target,
        mode: opts.mode,
        ...(opts.node !== undefined ? { node: opts.node } : {}),
        ...(Object.keys(given).length > 0 ? { targetOptions: given } : {}),
      };
      if (opts.dryRun !== undefined) return dryRun(ctx, { ...base, how: opts.dryRun === true ? 'client' : opts.dryRun });
      const api = await ctx.remote();
      if (api) {
        const { randomUUID } = await import('node:crypto');
        const result = await api.deploy({ ...base, ...(opts.consumer !== undefined ? { consumer: opts.consumer } : {}) }, opts.idempotencyKey ?? randomUUID());
        let d = result.deployment;
        const deadline = ctx.clock.now() + timeoutMs;
        while (opts.async !== true && (d.state === 'queued' || d.state === 'deploying')) {
          if (ctx.clock.now() > deadline)
            throw new MaasError('TIMEOUT', `${d.id} is still ${d.state} after ${opts.timeout}`, { hint: `\`maas status ${d.id} --wait\`` });
          await new Promise((r) => setTimeout(r, 500));
          d = await api.deploymentStatus(d.id);
        }
        if (d.state === 'failed')
          throw new MaasError('FAILURE', `deployment ${d.id} failed${d.reason ? `: ${d.reason}` : ''}`, { hint: `\`maas status ${d.id}\`` });
        return {
          data: { ...d, outcome: result.outcome, ...(result.job !== undefined ? { job: result.job } : {}) },
          table: { columns: deploymentColumns(ctx.clock.now()), rows: [d] },
          names: [d.id],
        };
      }
      const { deploy } = await import('../../app/deploy.js');
      const services = await ctx.services();
      const spinner = await ctx.spinner(`deploying ${modelText}`);
      try {
        let id: string | undefined;
        ctx.onInterrupt(() => (id ? `deployment ${id} goes on in the background: \`maas status ${id} --wait\`` : undefined));
        const result = await deploy(services, { ...base, consumer: ctx.consumer(opts.consumer), wait: opts.async !== true, timeoutMs }, ctx.progress(spinner), {
          recorded: (d) => (id = d.id),
        });
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

type DryRunFlags = {
  model: string;
  version?: string;
  target: string;
  mode: 'open' | 'strict';
  node?: string;
  targetOptions?: TargetOptions;
  how: 'client' | 'server';
};

/** `--dry-run`: the objects of a deployment that is never recorded, as a `kind: List`. */
async function dryRun(ctx: Context, flags: DryRunFlags): Promise<CommandResult> {
  const [{ dryRunDeploy }, { stringify }] = await Promise.all([import('../../app/dry-run.js'), import('yaml')]);
  const services = await ctx.services();
  const spinner = await ctx.spinner(flags.how === 'server' ? 'asking the API server to validate the objects' : 'rendering the objects');
  let result;
  try {
    result = await dryRunDeploy(
      services,
      { ...flags, ...(ctx.globals.namespace !== undefined ? { namespace: ctx.globals.namespace } : {}) },
      ctx.progress(spinner),
    );
    spinner.stop();
  } catch (e) {
    spinner.fail();
    throw e;
  }
  const objects = result.objects as Array<{ kind?: string; metadata?: { name?: string } }>;
  const ref = `${result.model.name}@${result.model.version}`;
  const note =
    flags.how === 'client'
      ? `dry run (client): ${objects.length} objects for ${ref}${result.namespace ? ` in namespace ${result.namespace}` : ''}; nothing was recorded or sent to a cluster`
      : `dry run (server): ${result.server ?? 'the API server'} validated ${objects.length} objects${result.namespace ? ` in namespace ${result.namespace}` : ''}; nothing was stored or recorded`;
  if (objects.length === 0) throw new MaasError('FAILURE', 'the dry run produced no objects');
  return {
    data: objectList(objects),
    text: () => objects.map((x) => stringify(x, { lineWidth: 0 })).join('---\n'),
    names: objects.map((x) => `${(x.kind ?? 'object').toLowerCase()}/${x.metadata?.name ?? ''}`),
    notes: [note],
  };
}

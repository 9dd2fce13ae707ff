// `maas deploy name[@version]`: start (or join) a deployment and, by default, wait until ready.
import { Option, type Command } from 'commander';
import type { Run } from '../program.js';
import type { Context } from '../context.js';
import type { CommandResult } from '../output.js';
import type { KubernetesTarget } from '../../targets/kubernetes/kubernetes-target.js';
import { defaultConsumer } from '../consumer.js';
import { MaasError } from '../../core/errors.js';
import { parseModelRef, type ModelRef } from '../../domain/model-ref.js';
import { newId } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import type { PlacementMode, TargetName } from '../../domain/deployment.js';
import { deploymentColumns } from '../deployment-view.js';

interface DeployOptions {
  target?: string;
  mode: string;
  node?: string;
  consumer?: string;
  async?: boolean;
  timeout: string;
  image?: string;
  createNamespace: boolean;
  dryRun?: 'client' | 'server';
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
    .option('--image <ref>', 'model server image (kubernetes; default: config kubernetes.image, then ghcr.io/maas-dev/maas-server:<version>)')
    .option('--no-create-namespace', 'fail instead of creating a missing namespace (kubernetes)')
    .addOption(
      new Option('--dry-run [mode]', 'print the Kubernetes objects instead of deploying: client (no cluster contact) or server (validated by the API server); nothing is stored')
        .choices(['client', 'server'])
        .preset('client'),
    )
    .action(
      run(async (ctx, modelText: string, opts: DeployOptions) => {
        const ref = parseModelRef(modelText);
        const target = (opts.target ?? ctx.config.target ?? 'local') as TargetName;
        if (target !== 'local' && target !== 'kubernetes') throw new MaasError('USAGE', `unknown target "${String(target)}"`, { hint: 'use local or kubernetes' });
        const mode = opts.mode as PlacementMode;
        if (mode === 'strict' && !opts.node) throw new MaasError('USAGE', 'strict mode needs --node NAME', { hint: 'or use --mode open to let the scheduler place it' });
        if (mode === 'open' && opts.node) throw new MaasError('USAGE', '--node only applies to --mode strict', { hint: 'add --mode strict' });
        if (target === 'local' && mode === 'strict') throw new MaasError('USAGE', 'the local target has one node; strict placement applies to --target kubernetes');
        if (target === 'local' && (opts.image !== undefined || opts.dryRun !== undefined || !opts.createNamespace)) {
          throw new MaasError('USAGE', '--image, --dry-run and --no-create-namespace apply to --target kubernetes');
        }
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const { deploymentDeps, kubernetesTarget } = await import('../deployment-deps.js');
        const { deploy } = await import('../../deployments/service.js');
        const kubeFlags = { ...(opts.image !== undefined ? { image: opts.image } : {}), createNamespace: opts.createNamespace };
        const kube = target === 'kubernetes' ? await kubernetesTarget(ctx, kubeFlags) : undefined;
        if (kube && opts.dryRun) {
          return dryRun(ctx, kube, { ref, mode, ...(opts.node ? { node: opts.node } : {}), how: opts.dryRun });
        }
        // The record carries the namespace a deployment really goes to (flag, config, context,
        // `default`), so that the same deploy from another default namespace is another deployment.
        const namespace = kube ? await kube.resolveNamespace() : undefined;
        const cluster = kube ? await kube.resolveCluster() : undefined;
        const deps = await deploymentDeps(ctx, { kubernetes: kubeFlags });
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
              ...(namespace ? { namespace } : {}),
              ...(cluster ? { cluster } : {}),
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

/**
 * `--dry-run`: the objects of a deployment that is never recorded. client renders them without
 * the cluster; server has the API server validate them (dryRun=All) and prints its answer.
 */
async function dryRun(ctx: Context, kube: KubernetesTarget, o: { ref: ModelRef; mode: PlacementMode; node?: string; how: 'client' | 'server' }): Promise<CommandResult> {
  const registry = await ctx.registry();
  const model = await registry.getModel(o.ref.name, o.ref.version);
  if (!model) {
    const what = o.ref.version !== undefined ? `${o.ref.name}@${o.ref.version}` : o.ref.name;
    throw new MaasError('NOT_FOUND', `model ${what} is not registered`, { hint: 'register it with `maas register FILE`, or list models with `maas list`' });
  }
  // Object names derive from the deployment ID; this one only names the rendered objects and is never recorded.
  const plan = { id: newId('d'), mode: o.mode, ...(o.node ? { node: o.node } : {}), ...(ctx.globals.namespace ? { namespace: ctx.globals.namespace } : {}) };
  const { stringify } = await import('yaml');
  let result: { namespace: string; objects: unknown[]; note: string };
  if (o.how === 'client') {
    const r = await kube.dryRunClient(plan, model);
    result = { ...r, note: `dry run (client): ${r.objects.length} objects for ${model.name}@${model.version} in namespace ${r.namespace}; deployment ID ${plan.id} only names the objects; nothing was recorded or sent to a cluster` };
  } else {
    const spinner = await ctx.spinner('asking the API server to validate the objects');
    try {
      const r = await kube.dryRunServer(plan, model, (m) => spinner.update(m));
      spinner.stop();
      result = { ...r, note: `dry run (server): ${r.server} validated ${r.objects.length} objects in namespace ${r.namespace}; deployment ID ${plan.id} only names the objects; nothing was stored or recorded` };
    } catch (e) {
      spinner.fail();
      throw e;
    }
  }
  const objects = result.objects as Array<{ kind?: string; metadata?: { name?: string } }>;
  return {
    data: objects,
    text: () => objects.map((x) => stringify(x, { lineWidth: 0 })).join('---\n'),
    names: objects.map((x) => `${(x.kind ?? 'object').toLowerCase()}/${x.metadata?.name ?? ''}`),
    notes: [result.note],
  };
}

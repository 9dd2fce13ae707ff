// Wires the deployment lifecycle to this invocation's registry, targets and clock.
import type { Context } from './context.js';
import type { DeploymentDeps } from '../deployments/service.js';
import type { TargetName } from '../domain/deployment.js';
import type { Target } from '../targets/target.js';
import type { KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
import { newId } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

export const DEFAULT_CACHE_TTL = '24h';

/** Flags of `maas deploy` that shape the kubernetes target. */
export interface KubernetesFlags {
  image?: string;
  /** false with --no-create-namespace. */
  createNamespace?: boolean;
}

export interface TargetFlags {
  kubernetes?: KubernetesFlags;
}

export async function deploymentDeps(ctx: Context, flags: TargetFlags = {}): Promise<DeploymentDeps> {
  const registry = await ctx.registry();
  const targets = new Map<TargetName, Promise<Target>>();
  return {
    store: registry.deployments,
    models: registry,
    clock: ctx.clock,
    newId: () => newId('d'),
    target(name: TargetName): Promise<Target> {
      let t = targets.get(name);
      if (!t) {
        t = loadTarget(ctx, name, flags);
        targets.set(name, t);
      }
      return t;
    },
  };
}

async function loadTarget(ctx: Context, name: TargetName, flags: TargetFlags): Promise<Target> {
  switch (name) {
    case 'local': {
      const { LocalTarget } = await import('../targets/local/local-target.js');
      return new LocalTarget({ home: ctx.home, env: ctx.io.env, refRoot: ctx.io.cwd });
    }
    case 'kubernetes':
      return kubernetesTarget(ctx, flags.kubernetes);
    default:
      throw new MaasError('USAGE', `unknown target "${String(name)}"`, { hint: 'use --target local or --target kubernetes' });
  }
}

/** The kubernetes target for this invocation's kubeconfig, context, namespace and image settings. */
export async function kubernetesTarget(ctx: Context, flags: KubernetesFlags = {}): Promise<KubernetesTarget> {
  const [{ KubernetesTarget }, { defaultImage }, { packageVersion }] = await Promise.all([
    import('../targets/kubernetes/kubernetes-target.js'),
    import('../targets/kubernetes/image.js'),
    import('./main.js'),
  ]);
  const { context, namespace } = ctx.globals;
  // Flag, then environment, then config file: KUBECONFIG beats kubernetes.kubeconfig of the config.
  const fromConfig = ctx.globals.kubeconfig !== undefined && ctx.globals.kubeconfig === ctx.config.kubernetes?.kubeconfig;
  const kubeconfig = fromConfig && ctx.io.env.KUBECONFIG ? undefined : ctx.globals.kubeconfig;
  const image = ctx.config.kubernetes?.image;
  return new KubernetesTarget({
    selection: {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(context ? { context } : {}),
      ...(namespace ? { namespace } : {}),
      env: ctx.io.env,
      cwd: ctx.io.cwd,
    },
    images: { ...(flags.image ? { flag: flags.image } : {}), ...(image ? { config: image } : {}), fallback: defaultImage(packageVersion()) },
    createNamespace: flags.createNamespace !== false,
  });
}

export function cacheTtlMs(ctx: Context): number {
  return parseDuration(ctx.config.local?.cacheTtl ?? DEFAULT_CACHE_TTL, 'local.cacheTtl');
}

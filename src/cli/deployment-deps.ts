// Wires the deployment lifecycle to this invocation's registry, targets and clock.
import type { Context } from './context.js';
import type { DeploymentDeps } from '../deployments/service.js';
import type { TargetName } from '../deployments/types.js';
import type { Target } from '../targets/target.js';
import { newId } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

export const DEFAULT_CACHE_TTL = '24h';

export async function deploymentDeps(ctx: Context): Promise<DeploymentDeps> {
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
        t = loadTarget(ctx, name);
        targets.set(name, t);
      }
      return t;
    },
  };
}

async function loadTarget(ctx: Context, name: TargetName): Promise<Target> {
  switch (name) {
    case 'local': {
      const { LocalTarget } = await import('../targets/local/local-target.js');
      return new LocalTarget({ home: ctx.home, env: ctx.io.env });
    }
    default:
      throw new MaasError('USAGE', `unknown target "${String(name)}"`, { hint: 'use --target local or --target kubernetes' });
  }
}

export function cacheTtlMs(ctx: Context): number {
  return parseDuration(ctx.config.local?.cacheTtl ?? DEFAULT_CACHE_TTL, 'local.cacheTtl');
}

// The deployment lifecycle over any target: deploy (reuse, attach, restart or create), reconcile
// with reality, wait, decommission in two steps, and garbage-collect expired caches.
import type { Clock } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { Registry, ModelVersionRecord } from '../domain/model.js';
import type { Target, Progress, Observed } from '../targets/target.js';
import type { DeploymentRecord, DeploymentStore, NewDeployment, TargetName } from '../domain/deployment.js';
import { planDecommission, planDeploy, planGc, sameSlot } from '../domain/deployment-plan.js';

export interface DeploymentDeps {
  store: DeploymentStore;
  models: Pick<Registry, 'getModel'>;
  target(name: TargetName): Promise<Target>;
  clock: Clock;
  newId(): string;
}

/** A deploy as asked for: like a new deployment, but the version may be left to "latest". */
export type DeployRequest = Omit<NewDeployment, 'id' | 'version'> & { version?: string };

export type DeployOutcome = 'created' | 'reused' | 'attached' | 'restarted';

export interface DeployResult {
  deployment: DeploymentRecord;
  outcome: DeployOutcome;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

async function requireModel(deps: DeploymentDeps, name: string, version?: string): Promise<ModelVersionRecord> {
  const model = await deps.models.getModel(name, version);
  if (!model) {
    throw new MaasError('NOT_FOUND', `model ${version ? `${name}@${version}` : name} is not registered`, {
      hint: version ? `see its versions with \`maas versions ${name}\`` : 'register it with `maas register FILE`, or list models with `maas list`',
    });
  }
  return model;
}

export async function requireDeployment(deps: Pick<DeploymentDeps, 'store'>, id: string): Promise<DeploymentRecord> {
  const d = await deps.store.getDeployment(id);
  if (!d) throw new MaasError('NOT_FOUND', `no deployment "${id}"`, { hint: 'list deployments with `maas ps`' });
  return d;
}

/** Brings the stored state in line with what the target observes, recording any transition. */
export async function reconcile(deps: DeploymentDeps, d: DeploymentRecord): Promise<{ deployment: DeploymentRecord; observed: Observed }> {
  const target = await deps.target(d.target);
  const observed = await target.observe(d);
  const endpointChanged = observed.endpoint !== undefined && observed.endpoint !== d.endpoint;
  if (observed.state !== d.state || endpointChanged || (observed.state === 'failed' && observed.reason !== d.reason)) {
    const deployment = await deps.store.setDeploymentState(d.id, observed.state, iso(deps.clock), {
      reason: observed.state === 'ready' ? null : (observed.reason ?? null),
      ...(observed.endpoint !== undefined ? { endpoint: observed.endpoint } : {}),
    });
    return { deployment, observed };
  }
  return { deployment: d, observed };
}

async function launch(deps: DeploymentDeps, d: DeploymentRecord, model: ModelVersionRecord, progress: Progress): Promise<DeploymentRecord> {
  const target = await deps.target(d.target);
  let current = await deps.store.setDeploymentState(d.id, 'deploying', iso(deps.clock), { reason: null, expiresAt: null });
  try {
    const started = await target.start(current, model, progress);
    current = await deps.store.setDeploymentState(d.id, 'deploying', iso(deps.clock), {
      runtime: started.runtime,
      ...(started.endpoint !== undefined ? { endpoint: started.endpoint } : {}),
    });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    await deps.store.setDeploymentState(d.id, 'failed', iso(deps.clock), { reason });
    throw e;
  }
  return current;
}

/** Waits for a deployment to leave queued/deploying; records ready or failed. */
export async function waitForDeployment(deps: DeploymentDeps, d: DeploymentRecord, timeoutMs: number, progress: Progress): Promise<DeploymentRecord> {
  const target = await deps.target(d.target);
  const observed = await target.waitReady(d, deps.clock.now() + timeoutMs, progress);
  if (observed.state === 'ready' || observed.state === 'failed') {
    const updated = await deps.store.setDeploymentState(d.id, observed.state, iso(deps.clock), {
      reason: observed.state === 'ready' ? null : (observed.reason ?? 'failed'),
      ...(observed.endpoint !== undefined ? { endpoint: observed.endpoint } : {}),
    });
    if (observed.state === 'failed') {
      throw new MaasError('FAILURE', `deployment ${d.id} failed: ${observed.reason ?? 'unknown reason'}`, {
        hint: `see \`maas logs ${d.id}\`; fix the cause and run the same deploy again to retry`,
        details: { deployment: updated },
      });
    }
    return updated;
  }
  throw new MaasError('TIMEOUT', `deployment ${d.id} is not ready after ${Math.round(timeoutMs / 1000)}s (${observed.reason ?? observed.state})`, {
    hint: `it keeps starting in the background: \`maas status ${d.id} --wait\`, or raise --timeout`,
  });
}

export async function deploy(
  deps: DeploymentDeps,
  req: DeployRequest,
  opts: { wait: boolean; timeoutMs: number; progress: Progress },
): Promise<DeployResult> {
  const model = await requireModel(deps, req.model, req.version);
  const request: Omit<NewDeployment, 'id'> = { ...req, model: model.name, version: model.version };
  const at = () => iso(deps.clock);

  // Two attempts: a concurrent deploy of the same slot may win the insert; then we join it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const candidates = (await deps.store.listDeployments({ model: model.name, version: model.version, target: req.target })).filter((d) => sameSlot(d, request));
    const observed = await Promise.all(candidates.map(async (d) => (await reconcile(deps, d)).deployment));
    const plan = planDeploy(observed, request);
    let d: DeploymentRecord;
    let outcome: DeployOutcome;
    if (plan.action === 'create') {
      try {
        d = await deps.store.createDeployment({ ...request, id: deps.newId() }, at());
      } catch (e) {
        if (e instanceof MaasError && e.code === 'CONFLICT' && attempt === 0) continue;
        throw e;
      }
      opts.progress(`deployment ${d.id} queued`);
      d = await launch(deps, d, model, opts.progress);
      outcome = 'created';
    } else {
      d = plan.addConsumer ? await deps.store.addConsumer(plan.id, req.consumer, at()) : await requireDeployment(deps, plan.id);
      if (plan.action === 'restart') {
        opts.progress(`deployment ${d.id} was ${d.state}; starting it again`);
        d = await launch(deps, d, model, opts.progress);
        outcome = 'restarted';
      } else {
        outcome = plan.action === 'reuse' ? 'reused' : 'attached';
      }
    }
    if (opts.wait && d.state !== 'ready') d = await waitForDeployment(deps, d, opts.timeoutMs, opts.progress);
    return { deployment: d, outcome };
  }
  throw new MaasError('CONFLICT', 'another deploy of the same model and target is changing it right now', { hint: 'retry in a moment' });
}

export type DecommissionOutcome = 'released' | 'cached' | 'purged' | 'unchanged';

export interface DecommissionResult {
  id: string;
  outcome: DecommissionOutcome;
  remainingConsumers: string[];
  deployment?: DeploymentRecord;
}

export async function decommission(
  deps: DeploymentDeps,
  id: string,
  consumer: string,
  opts: { purge: boolean; force: boolean; cacheTtlMs: number },
): Promise<DecommissionResult> {
  const d = await requireDeployment(deps, id);
  const plan = planDecommission(d, consumer, opts);
  const target = await deps.target(d.target);
  switch (plan.action) {
    case 'refuse':
      if (plan.reason === 'in-use') {
        throw new MaasError('IN_USE', `deployment ${id} is still used by ${plan.remaining.join(', ')}`, {
          hint: 'each consumer decommissions it in turn; --force --purge destroys it anyway',
        });
      }
      throw new MaasError('USAGE', `${consumer} is not a consumer of deployment ${id} (consumers: ${plan.remaining.join(', ')})`, {
        hint: 'pass --consumer NAME of one of them, or --force',
      });
    case 'release': {
      const updated = await deps.store.removeConsumer(id, consumer);
      return { id, outcome: 'released', remainingConsumers: updated.consumers, deployment: updated };
    }
    case 'cache': {
      let updated = d.consumers.includes(consumer) ? await deps.store.removeConsumer(id, consumer) : d;
      if (updated.state === 'cached') return { id, outcome: 'unchanged', remainingConsumers: [], deployment: updated };
      await target.scaleToZero(updated);
      updated = await deps.store.setDeploymentState(id, 'cached', iso(deps.clock), {
        reason: 'no consumer left; scaled to zero',
        endpoint: null,
        expiresAt: new Date(deps.clock.now() + opts.cacheTtlMs).toISOString(),
      });
      return { id, outcome: 'cached', remainingConsumers: [], deployment: updated };
    }
    case 'destroy':
      await target.destroy(d);
      await deps.store.deleteDeployment(id);
      return { id, outcome: 'purged', remainingConsumers: plan.remaining };
  }
}

export async function collectGarbage(deps: DeploymentDeps, opts: { all: boolean; dryRun: boolean }): Promise<DeploymentRecord[]> {
  const doomed = planGc(await deps.store.listDeployments(), deps.clock.now(), opts.all);
  if (opts.dryRun) return doomed;
  for (const d of doomed) {
    const target = await deps.target(d.target);
    await target.destroy(d);
    await deps.store.deleteDeployment(d.id);
  }
  return doomed;
}

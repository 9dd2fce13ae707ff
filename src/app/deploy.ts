// Deploy: reuse, attach to, restart or create a deployment of a registered model version. The
// request is checked and recorded here; launching the model server is a job on the queue
// (`runDeployJob`), so a durable or remote queue can carry it out elsewhere.
import { isoNow } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { planDeploy, sameSlot } from '../domain/deployment-plan.js';
import type { DeploymentRecord, NewDeployment, PlacementMode } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { startedRuntimeOf, type Progress, type TargetOptions, type TargetPlugin } from '../targets/target.js';
import { requireDeployment, requireModel, resolveDeployment } from './lookup.js';
import { routerConfig } from './router-config.js';
import type { Services } from './services.js';

export interface DeployRequest {
  model: string;
  /** Latest when absent. */
  version?: string;
  target: string;
  /** Target flags given (e.g. kubernetes `image`), by key. */
  targetOptions?: TargetOptions;
  mode: PlacementMode;
  node?: string;
  consumer: string;
  /** Wait until ready (or failed) before returning. */
  wait: boolean;
  timeoutMs: number;
}

export type DeployOutcome = 'created' | 'reused' | 'attached' | 'restarted';

export interface DeployResult {
  deployment: DeploymentRecord;
  outcome: DeployOutcome;
  /** The queued launch job, when this call queued one (created or restarted). */
  job?: string;
}

export const DEPLOY_JOB = 'deploy';

export interface DeployJob {
  deploymentId: string;
  targetOptions?: TargetOptions;
}

/** The plugin for a target name, with the choices in the error when there is none. */
export function requirePlugin(plugins: readonly TargetPlugin[], name: string): TargetPlugin {
  const plugin = plugins.find((p) => p.name === name);
  if (!plugin) throw new MaasError('USAGE', `unknown target "${name}"`, { hint: `use one of: ${plugins.map((p) => p.name).join(', ')}` });
  return plugin;
}

/** Placement and target flags that the chosen target understands; USAGE errors otherwise. */
export function checkTargetRequest(
  plugins: readonly TargetPlugin[],
  r: { target: string; mode: PlacementMode; node?: string; targetOptions?: TargetOptions; dryRun?: boolean },
): TargetPlugin {
  const plugin = requirePlugin(plugins, r.target);
  if (r.mode === 'strict' && !r.node)
    throw new MaasError('USAGE', 'strict mode needs --node NAME', { hint: 'or use --mode open to let the scheduler place it' });
  if (r.mode === 'open' && r.node) throw new MaasError('USAGE', '--node only applies to --mode strict', { hint: 'add --mode strict' });
  const supporting = (ok: (p: TargetPlugin) => boolean): string =>
    plugins
      .filter(ok)
      .map((p) => `--target ${p.name}`)
      .join(' or ');
  if (!plugin.modes.includes(r.mode)) {
    throw new MaasError(
      'USAGE',
      `the ${plugin.name} target does not support ${r.mode} placement; it applies to ${supporting((p) => p.modes.includes(r.mode))}`,
    );
  }
  const foreign = Object.keys(r.targetOptions ?? {}).filter((k) => !plugin.flags.some((f) => f.key === k));
  if (foreign.length > 0 || (r.dryRun === true && !plugin.dryRun)) {
    const flags = plugins.flatMap((p) => p.flags.filter((f) => foreign.includes(f.key)).map((f) => f.flags.split(' ')[0] ?? f.flags));
    if (r.dryRun === true && !plugin.dryRun) flags.push('--dry-run');
    throw new MaasError(
      'USAGE',
      `${[...new Set(flags)].join(', ')} ${flags.length === 1 ? 'applies' : 'apply'} to ${supporting((p) => p.name !== plugin.name && (p.dryRun || p.flags.some((f) => foreign.includes(f.key))))}`,
      {
        hint: `the ${plugin.name} target takes none of them`,
      },
    );
  }
  return plugin;
}

/** Brings the stored state in line with what the target observes, recording any transition. */
async function reconcile(s: Services, d: DeploymentRecord): Promise<DeploymentRecord> {
  const observed = await (await s.targets.get(d.target)).observe(d);
  const endpointChanged = observed.endpoint !== undefined && observed.endpoint !== d.endpoint;
  if (observed.state !== d.state || endpointChanged || (observed.state === 'failed' && observed.reason !== d.reason)) {
    return s.deployments.setDeploymentState(d.id, observed.state, isoNow(s.clock), {
      reason: observed.state === 'ready' ? null : (observed.reason ?? null),
      ...(observed.endpoint !== undefined ? { endpoint: observed.endpoint } : {}),
    });
  }
  return d;
}

/** `recorded` learns the deployment as soon as it exists (a face can name it if interrupted). */
export async function deploy(
  s: Services,
  req: DeployRequest,
  progress: Progress,
  hooks: { recorded?: (d: DeploymentRecord) => void } = {},
): Promise<DeployResult> {
  checkTargetRequest(s.targets.plugins, req);
  const model = await requireModel(s, req.model, req.version);
  const target = await s.targets.get(req.target, req.targetOptions);
  // What can never start is refused before a record exists.
  await target.preflight?.(model);
  // The record carries where a deployment really goes (namespace, cluster), so the same deploy
  // from another default namespace is another deployment.
  const placement = await target.placement();
  const request: Omit<NewDeployment, 'id'> = {
    model: model.name,
    version: model.version,
    target: req.target,
    mode: req.mode,
    consumer: req.consumer,
    ...(req.node !== undefined ? { node: req.node } : {}),
    ...(placement.namespace !== undefined ? { namespace: placement.namespace } : {}),
    ...(placement.cluster !== undefined ? { cluster: placement.cluster } : {}),
  };
  const job: Omit<DeployJob, 'deploymentId'> = req.targetOptions && Object.keys(req.targetOptions).length > 0 ? { targetOptions: req.targetOptions } : {};

  // Two attempts: a concurrent deploy of the same slot may win the insert; then we join it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const candidates = (await s.deployments.listDeployments({ model: model.name, version: model.version, target: req.target })).filter((d) =>
      sameSlot(d, request),
    );
    const observed = await Promise.all(candidates.map((d) => reconcile(s, d)));
    const plan = planDeploy(observed, request);
    let d: DeploymentRecord;
    let outcome: DeployOutcome;
    if (plan.action === 'create') {
      try {
        d = await s.deployments.createDeployment({ ...request, id: s.newId('d') }, isoNow(s.clock));
      } catch (e) {
        if (e instanceof MaasError && e.code === 'CONFLICT' && attempt === 0) continue;
        throw e;
      }
      progress(`deployment ${d.id} queued`);
      outcome = 'created';
    } else {
      d = plan.addConsumer ? await s.deployments.addConsumer(plan.id, req.consumer, isoNow(s.clock)) : await requireDeployment(s, plan.id);
      if (plan.action === 'restart') {
        progress(`deployment ${d.id} was ${d.state}; starting it again`);
        d = await s.deployments.setDeploymentState(d.id, 'queued', isoNow(s.clock), { reason: null });
      }
      outcome = plan.action === 'reuse' ? 'reused' : plan.action === 'attach' ? 'attached' : 'restarted';
    }
    hooks.recorded?.(d);
    if (outcome === 'created' || outcome === 'restarted') {
      const launched = await launch(s, d, job, req, progress);
      return { deployment: launched.deployment, outcome, job: launched.job };
    }
    if (req.wait && d.state !== 'ready') d = await waitForDeployment(s, d, req.timeoutMs, progress);
    return { deployment: d, outcome };
  }
  throw new MaasError('CONFLICT', 'another deploy of the same model and target is changing it right now', { hint: 'retry in a moment' });
}

/** Queues the launch of a recorded deployment and, when asked, waits until it is ready. */
async function launch(
  s: Services,
  d: DeploymentRecord,
  job: Omit<DeployJob, 'deploymentId'>,
  o: { wait: boolean; timeoutMs: number },
  progress: Progress,
): Promise<{ deployment: DeploymentRecord; job: string }> {
  const handle = await s.queue.enqueue(DEPLOY_JOB, { deploymentId: d.id, ...job } satisfies DeployJob, progress);
  if (!o.wait) return { deployment: d, job: handle.id };
  await handle.done;
  const launched = await requireDeployment(s, d.id);
  return { deployment: launched.state === 'ready' ? launched : await waitForDeployment(s, launched, o.timeoutMs, progress), job: handle.id };
}

/**
 * Starts a recorded deployment again where it is (after its server died, say): same ID, same
 * consumers, same placement. Also what a cached deployment needs to serve again.
 */
export async function restart(s: Services, handle: string, o: { wait: boolean; timeoutMs: number }, progress: Progress): Promise<DeploymentRecord> {
  const found = await resolveDeployment(s, handle);
  progress(`restarting ${found.id} (${found.model}@${found.version} on ${found.target})`);
  const d = await s.deployments.setDeploymentState(found.id, 'queued', isoNow(s.clock), { reason: null });
  return (await launch(s, d, {}, o, progress)).deployment;
}

function isDeployJob(p: unknown): p is DeployJob {
  return typeof p === 'object' && p !== null && typeof (p as { deploymentId?: unknown }).deploymentId === 'string';
}

/** The worker side of a deploy: start the model server and record what was started, or why not. */
export async function runDeployJob(s: Services, payload: unknown, progress: Progress): Promise<void> {
  if (!isDeployJob(payload)) throw new MaasError('INTERNAL', 'a deploy job without a deployment ID');
  const d = await requireDeployment(s, payload.deploymentId);
  let current = await s.deployments.setDeploymentState(d.id, 'deploying', isoNow(s.clock), { reason: null, expiresAt: null });
  try {
    const target = await s.targets.get(d.target, payload.targetOptions);
    if (d.kind === 'composition') {
      // A composition's router: started from the composition as stored and its members as they are now.
      const record = await s.compositions.getComposition(d.model);
      if (!record)
        throw new MaasError('NOT_FOUND', `composition ${d.model} of router ${d.id} is no longer recorded`, {
          hint: `\`maas decommission ${d.id} --purge\` removes the router`,
        });
      if (!target.startRouter) throw new MaasError('USAGE', `the ${d.target} target cannot run composition routers`);
      const started = await target.startRouter(current, await routerConfig(s, record), progress);
      current = await s.deployments.setDeploymentState(d.id, 'deploying', isoNow(s.clock), {
        runtime: started.runtime,
        ...(started.endpoint !== undefined ? { endpoint: started.endpoint } : {}),
      });
      return;
    }
    const model: ModelVersionRecord = await requireModel(s, d.model, d.version);
    // The profile is read at each start, so a restart serves the one stored now.
    const profile = await s.models.getProfile(model.name, model.version);
    const started = await target.start(current, model, progress, profile ? { profile } : {});
    current = await s.deployments.setDeploymentState(d.id, 'deploying', isoNow(s.clock), {
      runtime: started.runtime,
      ...(started.endpoint !== undefined ? { endpoint: started.endpoint } : {}),
    });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const runtime = startedRuntimeOf(e);
    await s.deployments.setDeploymentState(d.id, 'failed', isoNow(s.clock), { reason, ...(runtime ? { runtime } : {}) });
    throw e;
  }
}

/** Waits for a deployment to leave queued/deploying; records ready or failed. */
export async function waitForDeployment(s: Services, d: DeploymentRecord, timeoutMs: number, progress: Progress): Promise<DeploymentRecord> {
  const target = await s.targets.get(d.target);
  const observed = await target.waitReady(d, s.clock.now() + timeoutMs, progress);
  if (observed.state === 'ready' || observed.state === 'failed') {
    const updated = await s.deployments.setDeploymentState(d.id, observed.state, isoNow(s.clock), {
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

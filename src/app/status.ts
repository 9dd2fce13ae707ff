// Read-only views of deployments: the record merged with what its target observes. Nothing is
// written, so `maas status` and `maas ps` never append history or flap the stored state.
import type { DeploymentRecord } from '../domain/deployment.js';
import { MaasError, toMaasError } from '../core/errors.js';
import type { Observed } from '../targets/target.js';
import type { Services } from './services.js';
import { resolveDeployment } from './lookup.js';

export interface DeploymentView {
  deployment: DeploymentRecord;
  observed: Observed;
}

/** The record as the target sees it now: state, reason and endpoint replaced by the observation. */
export function merge(d: DeploymentRecord, o: Observed): DeploymentRecord {
  const view: DeploymentRecord = { ...d, state: o.state };
  if (o.state === 'ready') delete view.reason;
  else if (o.reason !== undefined) view.reason = o.reason;
  if (o.endpoint !== undefined) view.endpoint = o.endpoint;
  else if (o.state !== 'ready') delete view.endpoint;
  return view;
}

export async function observeDeployment(s: Pick<Services, 'targets'>, d: DeploymentRecord): Promise<DeploymentView> {
  const target = await s.targets.get(d.target);
  const observed = await target.observe(d);
  return { deployment: merge(d, observed), observed };
}

/** One deployment by ID, as its target observes it now. */
export async function deploymentStatus(s: Pick<Services, 'targets' | 'deployments'>, id: string): Promise<DeploymentRecord> {
  return (await observeDeployment(s, await resolveDeployment(s, id))).deployment;
}

/**
 * Every deployment (optionally of one model), observed. One that cannot be observed is shown
 * with its recorded state and why, so it never hides the others.
 */
export async function listDeployments(s: Pick<Services, 'targets' | 'deployments'>, filter: { model?: string } = {}): Promise<DeploymentRecord[]> {
  const records = await s.deployments.listDeployments(filter.model !== undefined ? { model: filter.model } : undefined);
  return Promise.all(
    records.map(async (d) => {
      try {
        return (await observeDeployment(s, d)).deployment;
      } catch (e) {
        const err = e instanceof MaasError ? e : toMaasError(e);
        return { ...d, reason: `cannot observe it: ${err.message}` };
      }
    }),
  );
}

/** Waits (without recording anything) until the deployment is ready or failed, or the timeout. */
export async function watchDeployment(
  s: Pick<Services, 'targets' | 'clock'>,
  d: DeploymentRecord,
  timeoutMs: number,
  progress: (m: string) => void,
): Promise<DeploymentRecord> {
  const target = await s.targets.get(d.target);
  const observed = await target.waitReady(d, s.clock.now() + timeoutMs, progress);
  if (observed.state === 'ready' || observed.state === 'failed') return merge(d, observed);
  throw new MaasError('TIMEOUT', `deployment ${d.id} is not ready after ${Math.round(timeoutMs / 1000)}s (${observed.reason ?? observed.state})`, {
    hint: `it keeps starting in the background: \`maas status ${d.id} --wait\` again, or raise --timeout`,
  });
}

/** What a serving deployment has seen: predictions logged, feedback received, live quality. */
export interface Traffic {
  predictions: number;
  feedback: number;
  /** Since when the live window counts (the server's start or its window's oldest row). */
  since: string | null;
  accuracy?: number | null;
  rmse?: number | null;
}

/**
 * The live traffic of a ready deployment, from its model server's stats; undefined when it is
 * not ready or does not answer in time (status must not fail because of it).
 */
export async function deploymentTraffic(s: Services, d: DeploymentRecord, timeoutMs = 2_000): Promise<Traffic | undefined> {
  if (d.state !== 'ready') return undefined;
  try {
    const endpoint = await (await s.targets.get(d.target)).endpoint(d);
    const stats = await (await s.inference(endpoint, d.model, timeoutMs)).stats();
    const t: Traffic = { predictions: stats.total.rows, feedback: stats.total.feedback, since: stats.window.since };
    if (stats.feedback.accuracy !== undefined) t.accuracy = stats.feedback.accuracy;
    if (stats.feedback.rmse !== undefined) t.rmse = stats.feedback.rmse;
    return t;
  } catch {
    return undefined;
  }
}

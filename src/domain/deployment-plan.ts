// Pure decisions of the deployment lifecycle: reuse, restart or create on deploy; release, cache
// or destroy on decommission; what `maas gc` may purge.
import type { DeploymentRecord, NewDeployment } from './deployment.js';

export type DeployPlan =
  | { action: 'create' }
  | { action: 'reuse'; id: string; addConsumer: boolean }
  | { action: 'attach'; id: string; addConsumer: boolean }
  | { action: 'restart'; id: string; addConsumer: boolean };

type DeployRequest = Omit<NewDeployment, 'id'>;

export function sameSlot(d: DeploymentRecord, r: DeployRequest): boolean {
  return (
    d.model === r.model &&
    d.version === r.version &&
    d.target === r.target &&
    d.mode === r.mode &&
    (d.node ?? '') === (r.node ?? '') &&
    (d.namespace ?? '') === (r.namespace ?? '') &&
    (d.cluster ?? '') === (r.cluster ?? '')
  );
}

/** `existing` must carry observed (reconciled) states. */
export function planDeploy(existing: DeploymentRecord[], request: DeployRequest): DeployPlan {
  const match = existing.find((d) => sameSlot(d, request));
  if (!match) return { action: 'create' };
  const addConsumer = !match.consumers.includes(request.consumer);
  switch (match.state) {
    case 'ready':
      return { action: 'reuse', id: match.id, addConsumer };
    case 'queued':
    case 'deploying':
      return { action: 'attach', id: match.id, addConsumer };
    default:
      return { action: 'restart', id: match.id, addConsumer };
  }
}

export type DecommissionPlan =
  | { action: 'release'; remaining: string[] }
  | { action: 'cache'; remaining: [] }
  | { action: 'destroy'; remaining: string[] }
  | { action: 'refuse'; reason: 'in-use' | 'not-a-consumer'; remaining: string[] };

export function planDecommission(d: DeploymentRecord, consumer: string, opts: { purge: boolean; force: boolean }): DecommissionPlan {
  const isConsumer = d.consumers.includes(consumer);
  const remaining = d.consumers.filter((c) => c !== consumer);
  if (opts.force && opts.purge) return { action: 'destroy', remaining };
  // Purging what others still use is refused whoever asks; that is the more useful answer.
  if (opts.purge && remaining.length > 0) return { action: 'refuse', reason: 'in-use', remaining };
  if (!isConsumer && remaining.length > 0 && !opts.force) return { action: 'refuse', reason: 'not-a-consumer', remaining };
  if (remaining.length > 0) return { action: 'release', remaining };
  if (opts.purge) return { action: 'destroy', remaining: [] };
  return { action: 'cache', remaining: [] };
}

/** Cached deployments whose expiry has passed (and, with `all`, every cached one). */
export function planGc(deployments: DeploymentRecord[], now: number, all = false): DeploymentRecord[] {
  return deployments.filter((d) => d.state === 'cached' && d.consumers.length === 0 && (all || (d.expiresAt !== undefined && Date.parse(d.expiresAt) <= now)));
}

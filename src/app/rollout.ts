// Rollout, rollback and version history: a deployment switches the model version it serves in
// place, without dropping requests. It keeps its ID, consumers, endpoint and request log; the
// target does the switch (Target.rollout), the record's version changes and `rollouts` records
// when, why and on what evidence.
//
// `rollout` is also what promotion calls (e.g. `maas retrain --promote auto`):
//   await rollout(s, { deployment: id, to: 'har@7', reason: 'retrain', comparison, timeoutMs: 120_000 }, progress)
import { isoNow } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord, VersionChange, VersionChangeReason } from '../domain/deployment.js';
import { sameSlot } from '../domain/deployment-plan.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { parseModelRef } from '../domain/model-ref.js';
import type { FeatureSpec } from '../spec/schema.js';
import type { Progress } from '../targets/target.js';
import { requireModel, requireModelServer, resolveDeployment } from './lookup.js';
import type { Services } from './services.js';
import { observeDeployment } from './status.js';

export interface RolloutRequest {
  /** The deployment: ID, unique ID prefix, or NAME[@VERSION] of the model it serves. */
  deployment: string;
  /** `NAME@VERSION`, `@VERSION` or `VERSION` (the deployment's model), or `NAME` (its latest version). */
  to: string;
  reason: VersionChangeReason;
  /** What justified the change (e.g. a comparison of the two versions); kept in the history as given (JSON). */
  comparison?: unknown;
  /** How long the new version may take to serve. */
  timeoutMs: number;
}

export interface RolloutOutcome {
  /** The record after the switch (or as it was, for a no-op). */
  deployment: DeploymentRecord;
  /** False when the deployment already served that version: nothing was done. */
  changed: boolean;
  /** The history entry of this switch, when there was one. */
  change?: VersionChange;
  message: string;
}

/** `to` as a model reference, the deployment's model when it names only a version. */
function targetRef(d: DeploymentRecord, to: string): { name: string; version?: string } {
  const text = to.startsWith('@') ? `${d.model}${to}` : to;
  if (!text.includes('@') && text !== d.model && /^[0-9]/.test(text)) return { name: d.model, version: text };
  return parseModelRef(text);
}

const featureKey = (f: FeatureSpec): string => `${f.name}:${f.type}${f.type === 'category' ? `[${(f.values ?? []).join(',')}]` : ''}`;

/** Why `to` cannot replace `from` behind the same endpoint (other task or features), if it cannot. */
export function incompatibility(from: ModelVersionRecord, to: ModelVersionRecord): string | undefined {
  const a = from.description.spec;
  const b = to.description.spec;
  if (a.task !== b.task) return `its task is ${b.task}, not ${a.task}`;
  const fa = a.features.map(featureKey);
  const fb = b.features.map(featureKey);
  if (fa.length !== fb.length || fa.some((k, i) => k !== fb[i])) {
    const i = fa.findIndex((k, j) => k !== fb[j]);
    const at = i === -1 ? Math.min(fa.length, fb.length) : i;
    return `its features differ (position ${at + 1}: ${fb[at] ?? 'none'} instead of ${fa[at] ?? 'none'})`;
  }
  return undefined;
}

/** Switches what a ready deployment serves to another version of the same model. */
export async function rollout(s: Services, req: RolloutRequest, progress: Progress): Promise<RolloutOutcome> {
  const found = requireModelServer(await resolveDeployment(s, req.deployment), 'a rollout');
  const ref = targetRef(found, req.to);
  if (ref.name !== found.model) {
    throw new MaasError('USAGE', `deployment ${found.id} serves ${found.model}; it cannot roll out ${ref.name}`, {
      hint: `a rollout changes the version of the same model (--to ${found.model}@VERSION); deploy ${ref.name} as its own deployment`,
    });
  }
  const to = await requireModel(s, ref.name, ref.version);
  if (to.version === found.version) {
    return { deployment: found, changed: false, message: `deployment ${found.id} already serves ${found.model}@${found.version}; nothing to do` };
  }
  const from = await requireModel(s, found.model, found.version);
  const why = incompatibility(from, to);
  if (why) {
    throw new MaasError('VALIDATION', `${to.name}@${to.version} cannot replace ${from.name}@${from.version} in deployment ${found.id}: ${why}`, {
      hint: 'consumers send the same inputs and expect the same kind of answer; deploy it as a new deployment instead',
    });
  }
  const { deployment: d } = await observeDeployment(s, found);
  if (d.state !== 'ready') {
    throw new MaasError('UNAVAILABLE', `deployment ${d.id} is ${d.state}, not serving; only a serving deployment is rolled out`, {
      hint: d.state === 'cached' || d.state === 'failed' ? `\`maas restart ${d.id}\` serves it again first` : `wait with \`maas status ${d.id} --wait\``,
    });
  }
  // The record takes the new version's slot: another deployment must not hold it already.
  const taken = (await s.deployments.listDeployments({ model: d.model, version: to.version, target: d.target })).find(
    (o) => o.id !== d.id && sameSlot(o, { ...d, version: to.version, consumer: '' }),
  );
  if (taken) {
    throw new MaasError('CONFLICT', `deployment ${taken.id} already serves ${to.name}@${to.version} in the same place`, {
      hint: `move the consumers to ${taken.id}, or decommission it first`,
    });
  }
  const target = await s.targets.get(d.target);
  if (!target.rollout) throw new MaasError('USAGE', `the ${d.target} target cannot switch versions in place`);
  const switchTarget = target.rollout.bind(target);
  const [profile, fromProfile] = await Promise.all([s.models.getProfile(to.name, to.version), s.models.getProfile(from.name, from.version)]);
  // One version change at a time: a second rollout would start servers the first one then races.
  // A claim older than the timeout plus a minute belongs to a process that died.
  const token = s.newId('rollout');
  const staleBefore = new Date(s.clock.now() - req.timeoutMs - 60_000).toISOString();
  if (!(await s.deployments.claimRollout(d.id, token, isoNow(s.clock), staleBefore))) {
    throw new MaasError('CONFLICT', `another rollout of deployment ${d.id} is running`, { hint: `wait for it, then see \`maas history ${d.id}\`` });
  }
  try {
    return await switchVersion();
  } finally {
    await s.deployments.releaseRollout(d.id, token);
  }

  async function switchVersion(): Promise<RolloutOutcome> {
    progress(`rolling out ${to.name}@${to.version} to deployment ${d.id} (serving ${from.name}@${from.version})`);
    const switched = await switchTarget(d, {
      from,
      to,
      ...(profile ? { extras: { profile } } : {}),
      ...(fromProfile ? { fromExtras: { profile: fromProfile } } : {}),
      deadline: s.clock.now() + req.timeoutMs,
      progress,
    });
    const change: VersionChange = {
      at: isoNow(s.clock),
      from: from.version,
      to: to.version,
      reason: req.reason,
      ...(req.comparison !== undefined ? { comparison: req.comparison } : {}),
    };
    const updated = await s.deployments.changeVersion(d.id, change, {
      runtime: switched.runtime,
      ...(switched.endpoint !== undefined ? { endpoint: switched.endpoint } : {}),
    });
    if (found.state !== 'ready') await s.deployments.setDeploymentState(d.id, 'ready', change.at, { reason: null });
    await switched.retire?.();
    return {
      deployment: (await s.deployments.getDeployment(d.id)) ?? updated,
      changed: true,
      change,
      message: `deployment ${d.id} serves ${to.name}@${to.version} (was ${from.version})`,
    };
  }
}

/** The version served before the current one: the `from` of the last change (a second rollback undoes the first). */
export function previousVersion(d: DeploymentRecord): string | undefined {
  return d.rollouts?.at(-1)?.from;
}

/** Back to the version served before, as a rollout with reason `rollback`. */
export async function rollback(s: Services, req: { deployment: string; timeoutMs: number; comparison?: unknown }, progress: Progress): Promise<RolloutOutcome> {
  const d = requireModelServer(await resolveDeployment(s, req.deployment), 'a rollback');
  const previous = previousVersion(d);
  if (previous === undefined) {
    throw new MaasError('NOT_FOUND', `deployment ${d.id} has only ever served ${d.model}@${d.version}; there is nothing to roll back to`, {
      hint: `\`maas rollout ${d.id} --to ${d.model}@VERSION\` switches it to another version`,
    });
  }
  return rollout(
    s,
    {
      deployment: d.id,
      to: `${d.model}@${previous}`,
      reason: 'rollback',
      timeoutMs: req.timeoutMs,
      ...(req.comparison !== undefined ? { comparison: req.comparison } : {}),
    },
    progress,
  );
}

/** One version in a deployment's history: since when it served, and why. */
export interface HistoryEntry {
  at: string;
  version: string;
  /** The version it replaced (absent for the first). */
  from?: string;
  reason: VersionChangeReason | 'deployed';
  comparison?: unknown;
  /** Whether it serves now. */
  current: boolean;
}

export interface DeploymentHistory {
  deployment: string;
  model: string;
  version: string;
  entries: HistoryEntry[];
}

/** The versions a deployment served over time, oldest first: its creation, then every change. */
export async function deploymentHistory(s: Pick<Services, 'deployments'>, handle: string): Promise<DeploymentHistory> {
  const d = await resolveDeployment(s, handle);
  const changes = d.rollouts ?? [];
  const entries: HistoryEntry[] = [
    { at: d.createdAt, version: changes[0]?.from ?? d.version, reason: 'deployed', current: false },
    ...changes.map((c): HistoryEntry => ({
      at: c.at,
      version: c.to,
      from: c.from,
      reason: c.reason,
      ...(c.comparison !== undefined ? { comparison: c.comparison } : {}),
      current: false,
    })),
  ];
  entries[entries.length - 1]!.current = true;
  return { deployment: d.id, model: d.model, version: d.version, entries };
}

// `maas compose apply`: bring a composition to what its description says. Members are resolved
// and checked for compatibility before anything starts; members that nothing serves are deployed
// with the composition as their consumer (an existing deployment is joined, not duplicated); the
// router is a deployment of kind `composition` started from a RouterConfig. Re-applying converges:
// new members are deployed, the running router is handed the new configuration (it swaps members
// without dropping requests), and members no longer listed are released through the two-step
// decommission path.
import { createHash } from 'node:crypto';
import { isoNow } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { pollUntil } from '../core/poll.js';
import { MaasError } from '../core/errors.js';
import type { AppliedMember, CompositionDescription, CompositionEvent, CompositionRecord } from '../domain/composition.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { parseModelRef, formatModelRef } from '../domain/model-ref.js';
import { canonicalJson } from '../registry/canonical.js';
import { checkMembers, type ProblemLocator } from '../spec/composition-compat.js';
import type { Progress, TargetOptions } from '../targets/target.js';
import { decommission } from './decommission.js';
import { deploy, DEPLOY_JOB, waitForDeployment, type DeployJob } from './deploy.js';
import { requireDeployment, requireModel, resolveDeployment } from './lookup.js';
import { DEFAULT_MEMBER_TIMEOUT_MS, routerConfig } from './router-config.js';
import type { Services } from './services.js';

/** The consumer name a composition holds its members and its router by. */
export const compositionConsumer = (name: string): string => `composition:${name}`;

export interface ComposeApplyRequest {
  description: CompositionDescription;
  /** Places problems with members in the description's file. */
  locate?: ProblemLocator;
  /** Who asks (`token:NAME` on a server): kept in the event, and as the owner by the first. */
  by?: string;
  /** Records the change as this event instead of `applied` / `updated` (adaptive recomposition). */
  as?: Pick<CompositionEvent, 'event' | 'summary' | 'detail'>;
  target: string;
  targetOptions?: TargetOptions;
  /** Return once the work is queued (members and router keep starting in the background). */
  async: boolean;
  timeoutMs: number;
}

export interface MemberOutcome {
  key: string;
  deployment: string;
  /** What happened to it: deployed now, joined (an existing deployment), kept (already a member), restarted. */
  outcome: 'deployed' | 'joined' | 'kept' | 'restarted';
}

export interface ComposeApplyResult {
  composition: CompositionRecord;
  router: DeploymentRecord;
  outcome: 'created' | 'updated' | 'unchanged';
  members: MemberOutcome[];
  /** Member keys released by this apply (no longer listed). */
  released: { key: string; deployment: string; outcome: string }[];
  endpoint?: string;
}

const digestOf = (d: CompositionDescription): string => `sha256:${createHash('sha256').update(canonicalJson(d)).digest('hex')}`;

interface Resolved {
  index: number;
  key: string;
  model: ModelVersionRecord;
  /** An existing deployment named by the member (`deployment:`). */
  deployment?: DeploymentRecord;
  weight: number;
  role: AppliedMember['role'];
  timeoutMs: number;
}

/** Each member's model (and named deployment), before anything changes; NOT_FOUND / VALIDATION naming the member. */
async function resolveMembers(s: Services, c: CompositionDescription): Promise<Resolved[]> {
  const defaultTimeout = c.spec.timeout !== undefined ? parseDuration(c.spec.timeout, 'spec.timeout') : DEFAULT_MEMBER_TIMEOUT_MS;
  const out: Resolved[] = [];
  for (const [index, m] of c.spec.members.entries()) {
    const where = `spec.members[${index}]`;
    try {
      let model: ModelVersionRecord;
      let deployment: DeploymentRecord | undefined;
      if (m.deployment !== undefined) {
        deployment = await resolveDeployment(s, m.deployment);
        if (deployment.kind === 'composition')
          throw new MaasError('VALIDATION', `deployment ${deployment.id} is the router of composition ${deployment.model}, not a model server`);
        model = await requireModel(s, deployment.model, deployment.version);
      } else {
        const ref = parseModelRef(m.model ?? '', { requireVersion: true });
        model = await requireModel(s, ref.name, ref.version);
      }
      out.push({
        index,
        key: formatModelRef(model.name, model.version),
        model,
        ...(deployment ? { deployment } : {}),
        weight: m.weight ?? 1,
        role: m.role ?? 'member',
        timeoutMs: m.timeout !== undefined ? parseDuration(m.timeout, `${where}.timeout`) : defaultTimeout,
      });
    } catch (e) {
      if (!(e instanceof MaasError)) throw e;
      throw new MaasError(e.code, `${where}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
    }
  }
  const seen = new Map<string, number>();
  for (const r of out) {
    const first = seen.get(r.key);
    if (first !== undefined)
      throw new MaasError('VALIDATION', `spec.members[${r.index}] serves ${r.key}, like spec.members[${first}]`, { hint: 'list each model version once' });
    seen.set(r.key, r.index);
  }
  return out;
}

function describeChange(before: AppliedMember[] | undefined, after: AppliedMember[]): string {
  if (!before) return `created with ${after.map((m) => m.key).join(', ')}`;
  const was = new Set(before.map((m) => m.key));
  const now = new Set(after.map((m) => m.key));
  const added = after.filter((m) => !was.has(m.key)).map((m) => m.key);
  const removed = before.filter((m) => !now.has(m.key)).map((m) => m.key);
  const parts = [...(added.length ? [`added ${added.join(', ')}`] : []), ...(removed.length ? [`removed ${removed.join(', ')}`] : [])];
  return parts.length > 0 ? parts.join('; ') : 'members reconfigured';
}

/** How long a re-apply waits for the running router to serve its new members before releasing old ones. */
export const ROUTER_SWITCH_WAIT_MS = 10_000;
const ROUTER_PROBE_TIMEOUT_MS = 2_000;

/**
 * Whether the running router serves `record` (its version, and each member from the deployment
 * recorded for it), asked through its members endpoint until `waitMs` passed. False when it never
 * said so (not reachable, or still on the old file).
 */
async function routerServes(s: Services, router: DeploymentRecord, record: CompositionRecord, waitMs: number): Promise<boolean> {
  const want = `${record.name}@${record.version}\n${record.members
    .map((m) => `${m.key} ${m.deployment}`)
    .sort()
    .join('\n')}`;
  const target = await s.targets.get(router.target);
  const { value } = await pollUntil(
    async () => {
      try {
        const current = await requireDeployment(s, router.id);
        const api = await s.inference(await target.endpoint(current), record.name, ROUTER_PROBE_TIMEOUT_MS);
        const m = await api.members();
        const has = `${m.composition}\n${m.members
          .map((x) => `${x.key} ${x.deployment}`)
          .sort()
          .join('\n')}`;
        return has === want;
      } catch {
        return false;
      }
    },
    (served) => served,
    { clock: s.clock, deadline: s.clock.now() + waitMs, initialMs: 50, maxMs: 250 },
  );
  return value;
}

/**
 * What is checked before anything is started or changed: the name is not a registered model's,
 * every member resolves (model version or deployment) and every member fits the composition
 * (problems located with `locate`). The control plane runs it when a client asks, before queueing.
 */
export async function checkComposition(s: Services, c: CompositionDescription, locate?: ProblemLocator): Promise<void> {
  await resolveChecked(s, c, locate);
}

async function resolveChecked(s: Services, c: CompositionDescription, locate?: ProblemLocator): Promise<Resolved[]> {
  const { name, version } = c.metadata;
  // `maas predict NAME` finds a router by its composition's name, like a model's deployment.
  if (await s.models.getModel(name))
    throw new MaasError('USAGE', `a registered model is named "${name}"; a composition needs a name of its own`, {
      hint: 'rename the composition (metadata.name); `maas predict NAME` must know which one is meant',
    });
  const resolved = await resolveMembers(s, c);
  const problems = checkMembers(
    c,
    resolved.map((r) => ({ index: r.index, ref: r.key, description: r.model.description })),
    ...(locate ? [locate] : []),
  );
  if (problems.length > 0) {
    throw new MaasError(
      'VALIDATION',
      `the members of composition ${name}@${version} do not fit it (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      {
        hint: 'every member must solve the composition task, take every composition feature and (classification) predict the same labels',
        details: { problems },
      },
    );
  }
  return resolved;
}

export async function composeApply(s: Services, req: ComposeApplyRequest, progress: Progress): Promise<ComposeApplyResult> {
  const c = req.description;
  const { name, version } = c.metadata;
  const consumer = compositionConsumer(name);
  const existing = await s.compositions.getComposition(name);
  const digest = digestOf(c);
  // 1. Resolve and check every member before anything is started or changed.
  const resolved = await resolveChecked(s, c, req.locate);
  if (existing && existing.specDigest === digest) {
    const router = await requireDeployment(s, existing.router);
    if (router.state === 'ready' || router.state === 'deploying' || router.state === 'queued') {
      return {
        composition: existing,
        router,
        outcome: 'unchanged',
        members: existing.members.map((m) => ({ key: m.key, deployment: m.deployment, outcome: 'kept' as const })),
        released: [],
        ...(router.endpoint ? { endpoint: router.endpoint } : {}),
      };
    }
  }

  // A target that cannot run the router is refused before any member is deployed.
  if (!existing) {
    const target = await s.targets.get(req.target, req.targetOptions);
    if (!target.startRouter) throw new MaasError('USAGE', `the ${req.target} target cannot run composition routers`);
  }

  // 2. Members: deploy what nothing serves, join what exists.
  const before = new Map((existing?.members ?? []).map((m) => [m.key, m]));
  const applied: AppliedMember[] = [];
  const outcomes: MemberOutcome[] = [];
  for (const r of resolved) {
    let d: DeploymentRecord;
    let outcome: MemberOutcome['outcome'];
    let created = before.get(r.key)?.created ?? false;
    if (r.deployment) {
      d = r.deployment.consumers.includes(consumer) ? r.deployment : await s.deployments.addConsumer(r.deployment.id, consumer, isoNow(s.clock));
      outcome = before.has(r.key) ? 'kept' : 'joined';
      if (!req.async && d.state !== 'ready') d = await waitForDeployment(s, d, req.timeoutMs, progress);
    } else {
      progress(`member ${r.key}`);
      const result = await deploy(
        s,
        {
          model: r.model.name,
          version: r.model.version,
          target: req.target,
          ...(req.targetOptions ? { targetOptions: req.targetOptions } : {}),
          mode: 'open',
          consumer,
          wait: !req.async,
          timeoutMs: req.timeoutMs,
        },
        progress,
      );
      d = result.deployment;
      if (result.outcome === 'created') created = true;
      outcome = before.has(r.key) ? 'kept' : result.outcome === 'created' ? 'deployed' : result.outcome === 'restarted' ? 'restarted' : 'joined';
    }
    applied.push({ key: r.key, deployment: d.id, weight: r.weight, role: r.role, timeoutMs: r.timeoutMs, created });
    outcomes.push({ key: r.key, deployment: d.id, outcome });
  }

  // 3. The router: started on first apply (or when it is not running), else handed the new config.
  const event: CompositionEvent = {
    at: isoNow(s.clock),
    event: existing ? 'updated' : 'applied',
    version,
    summary: describeChange(existing?.members, applied),
    ...req.as,
  };
  if (req.by !== undefined) event.detail = { ...event.detail, by: req.by };
  let router: DeploymentRecord;
  if (existing) {
    router = await requireDeployment(s, existing.router);
    if (router.version !== version)
      router = await s.deployments.changeVersion(router.id, { at: event.at, from: router.version, to: version, reason: 'manual' });
  } else {
    const target = await s.targets.get(req.target, req.targetOptions);
    if (!target.startRouter) throw new MaasError('USAGE', `the ${req.target} target cannot run composition routers`);
    const placement = await target.placement();
    router = await s.deployments.createDeployment(
      {
        id: s.newId('d'),
        kind: 'composition',
        model: name,
        version,
        target: req.target,
        mode: 'open',
        consumer,
        ...(placement.namespace !== undefined ? { namespace: placement.namespace } : {}),
        ...(placement.cluster !== undefined ? { cluster: placement.cluster } : {}),
      },
      isoNow(s.clock),
    );
    progress(`router ${router.id} queued`);
  }
  const record = await s.compositions.saveComposition({ name, version, description: c, specDigest: digest, router: router.id, members: applied }, event);

  const running = router.state === 'ready' || router.state === 'deploying';
  if (existing && running) {
    const target = await s.targets.get(router.target);
    if (!target.updateRouter) throw new MaasError('USAGE', `the ${router.target} target cannot update composition routers`);
    await target.updateRouter(router, await routerConfig(s, record));
    progress(`router ${router.id} updated`);
    // The router takes the new file on its next check (local: within 500 ms); a member released
    // before then would still be asked, and where it answers alone (shadow primary, the last split
    // member) the client would get a 503.
    const leaving = existing.members.some((old) => !applied.some((m) => m.deployment === old.deployment));
    if (leaving && !(await routerServes(s, router, record, Math.min(req.timeoutMs, ROUTER_SWITCH_WAIT_MS))))
      progress(
        `router ${router.id} did not confirm its new members within ${Math.min(req.timeoutMs, ROUTER_SWITCH_WAIT_MS)} ms; releasing the old ones anyway`,
      );
  } else {
    if (existing) router = await s.deployments.setDeploymentState(router.id, 'queued', isoNow(s.clock), { reason: null });
    const handle = await s.queue.enqueue(DEPLOY_JOB, { deploymentId: router.id } satisfies DeployJob, progress);
    if (!req.async) {
      await handle.done;
      router = await waitForDeployment(s, await requireDeployment(s, router.id), req.timeoutMs, progress);
    }
  }

  // 4. Members no longer listed: released once the router stopped sending to them.
  const released: ComposeApplyResult['released'] = [];
  const keep = new Set(applied.map((m) => m.deployment));
  for (const old of existing?.members ?? []) {
    if (keep.has(old.deployment)) continue;
    const r = await decommission(s, { id: old.deployment, consumer, purge: false, force: false, ignoreNotFound: true });
    released.push({ key: old.key, deployment: old.deployment, outcome: r.outcome });
    progress(`member ${old.key} (${old.deployment}) ${r.outcome}`);
  }
  router = await requireDeployment(s, router.id);
  return {
    composition: record,
    router,
    outcome: existing ? 'updated' : 'created',
    members: outcomes,
    released,
    ...(router.endpoint ? { endpoint: router.endpoint } : {}),
  };
}

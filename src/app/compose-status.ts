// `maas compose list | status | describe | delete`: compositions as recorded, their router and
// members as observed now, the router's live measurements, and the two-step end of a composition
// (the router goes; each member is released, and cached or destroyed once no consumer is left).
import { MaasError } from '../core/errors.js';
import type { CompositionRecord } from '../domain/composition.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { CompositionStatsWire } from '../protocol/composition-stats.js';
import { closest } from '../spec/suggest.js';
import { compositionConsumer } from './compose.js';
import { decommission, type DecommissionOutcome } from './decommission.js';
import type { Services } from './services.js';
import { observeDeployment } from './status.js';

export async function requireComposition(s: Pick<Services, 'compositions'>, name: string): Promise<CompositionRecord> {
  const c = await s.compositions.getComposition(name);
  if (c) return c;
  const near = closest(
    name,
    (await s.compositions.listCompositions()).map((x) => x.name),
  );
  throw new MaasError('NOT_FOUND', `no composition "${name}"${near ? ` (did you mean ${near}?)` : ''}`, {
    hint: 'list compositions with `maas compose list`; create one with `maas compose apply FILE`',
  });
}

export interface CompositionSummary {
  name: string;
  version: string;
  mode: string;
  members: number;
  router: string;
  state: DeploymentRecord['state'] | 'missing';
  endpoint?: string;
  updatedAt: string;
}

export async function listCompositions(s: Services): Promise<CompositionSummary[]> {
  const out: CompositionSummary[] = [];
  for (const c of await s.compositions.listCompositions()) {
    const router = await s.deployments.getDeployment(c.router);
    const observed = router ? (await observeDeployment(s, router)).deployment : undefined;
    out.push({
      name: c.name,
      version: c.version,
      mode: c.description.spec.mode,
      members: c.members.length,
      router: c.router,
      state: observed?.state ?? 'missing',
      ...(observed?.endpoint ? { endpoint: observed.endpoint } : {}),
      updatedAt: c.updatedAt,
    });
  }
  return out;
}

export interface CompositionStatus {
  composition: CompositionRecord;
  router?: DeploymentRecord;
  members: { key: string; role: string; weight: number; deployment?: DeploymentRecord; missing?: boolean }[];
  /** The router's live measurements; absent when it is not serving (then `unavailable` says why). */
  measurements?: CompositionStatsWire;
  unavailable?: string;
}

export async function compositionStatus(s: Services, name: string, o: { timeoutMs: number; measure: boolean }): Promise<CompositionStatus> {
  const c = await requireComposition(s, name);
  const routerRecord = await s.deployments.getDeployment(c.router);
  const router = routerRecord ? (await observeDeployment(s, routerRecord)).deployment : undefined;
  const members: CompositionStatus['members'] = [];
  for (const m of c.members) {
    const d = await s.deployments.getDeployment(m.deployment);
    const observed = d ? (await observeDeployment(s, d)).deployment : undefined;
    members.push({ key: m.key, role: m.role, weight: m.weight, ...(observed ? { deployment: observed } : { missing: true }) });
  }
  const status: CompositionStatus = { composition: c, ...(router ? { router } : {}), members };
  if (!o.measure) return status;
  if (!router || router.state !== 'ready') {
    status.unavailable = router ? `the router ${router.id} is ${router.state}` : `the router ${c.router} is gone`;
    return status;
  }
  try {
    const target = await s.targets.get(router.target);
    const api = await s.inference(await target.endpoint(router), c.name, o.timeoutMs);
    status.measurements = await api.members();
  } catch (e) {
    status.unavailable = `the router did not answer: ${e instanceof Error ? e.message : String(e)}`;
  }
  return status;
}

export interface ComposeDeleteResult {
  name: string;
  router: { id: string; outcome: DecommissionOutcome };
  members: { key: string; deployment: string; outcome: DecommissionOutcome; remainingConsumers: string[] }[];
}

/**
 * Deletes a composition: its router is destroyed (it has no other consumer), each member is
 * released by the composition; a member nobody else uses is scaled to zero and cached, or with
 * `purge` destroyed. Members other consumers still use keep serving.
 */
export async function composeDelete(s: Services, name: string, o: { purge: boolean }): Promise<ComposeDeleteResult> {
  const c = await requireComposition(s, name);
  const consumer = compositionConsumer(name);
  const router = await decommission(s, { id: c.router, consumer, purge: true, force: true, ignoreNotFound: true });
  const members: ComposeDeleteResult['members'] = [];
  for (const m of c.members) {
    let r = await decommission(s, { id: m.deployment, consumer, purge: false, force: false, ignoreNotFound: true });
    // With --purge, a member left without consumers goes entirely (the second step, now).
    if (o.purge && r.outcome === 'cached') r = await decommission(s, { id: m.deployment, consumer, purge: true, force: false, ignoreNotFound: true });
    members.push({ key: m.key, deployment: m.deployment, outcome: r.outcome, remainingConsumers: r.remainingConsumers });
  }
  await s.compositions.deleteComposition(name);
  return { name, router: { id: c.router, outcome: router.outcome }, members };
}

// The read routes' caches, one set per server (per ServerDeps): registry answers and deployment
// records reused while their store's data version is unchanged (exact: any write, from any
// process, makes the next read fresh), and target observations of deployments reused for up to
// --status-max-age (bounded staleness: every answer says when its deployment was observed, in
// `observedAt`).
import { merge } from '../app/status.js';
import { resolveDeployment } from '../app/lookup.js';
import { MaasError, toMaasError } from '../core/errors.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { Observed } from '../targets/target.js';
import type { ServerDeps } from './deps.js';
import { ObservationCache, type Observation } from './observation-cache.js';
import { ReadCache } from './read-cache.js';
import type { RouteReply } from './route.js';

/** How long an observation of a deployment answers status requests when the server is not told. */
export const DEFAULT_STATUS_MAX_AGE_MS = 1000;

const JSON_TYPE = 'application/json; charset=utf-8';

/** A deployment record with what its observation depends on. */
interface Resolved {
  record: DeploymentRecord;
  stamp: string;
  /** The status answer made from this record and the observation made at `at`. */
  answer?: { at: number; json: string };
}

interface Caches {
  answers: ReadCache;
  /** By the handle a request named a deployment with (or `list MODEL`). */
  records: ReadCache<Resolved | Resolved[]>;
  observations: ObservationCache<Observed>;
}

const perServer = new WeakMap<ServerDeps, Caches>();

function cachesOf(deps: ServerDeps): Caches {
  let c = perServer.get(deps);
  if (!c) {
    c = {
      answers: new ReadCache(),
      records: new ReadCache<Resolved | Resolved[]>({ maxEntries: 1000, maxWeight: 100_000 }, (r) => (Array.isArray(r) ? r.length + 1 : 1)),
      observations: new ObservationCache(deps.statusMaxAgeMs ?? DEFAULT_STATUS_MAX_AGE_MS),
    };
    perServer.set(deps, c);
  }
  return c;
}

/**
 * The answer of a registry read: `read` runs unless an answer for `key` at the registry's current
 * data version is kept. Registries without a data version are read every time.
 */
export async function registryRead(deps: ServerDeps, key: string, read: () => Promise<unknown>): Promise<RouteReply> {
  // Taken before reading: a write during the read then gives the next request a newer version.
  const version = deps.services.models.dataVersion?.();
  if (version === undefined) return { body: await read() };
  const json = await cachesOf(deps).answers.getOrRead(key, version, async () => JSON.stringify(await read()));
  return { body: null, text: { contentType: JSON_TYPE, body: json } };
}

/** What an observation of `d` depends on: a change to any of it is observed afresh. */
function stamp(d: DeploymentRecord): string {
  return JSON.stringify([d.target, d.kind, d.model, d.version, d.state, d.reason, d.endpoint, d.node, d.namespace, d.cluster, d.updatedAt, d.runtime]);
}

export type ObservedDeployment = DeploymentRecord & {
  /** When the target was observed (ISO 8601); at most --status-max-age before the answer. */
  observedAt: string;
};

/** Records through the records cache when the deployment store has a data version. */
async function records<T extends Resolved | Resolved[]>(deps: ServerDeps, key: string, read: () => Promise<T>): Promise<T> {
  const version = deps.services.deployments.dataVersion?.();
  return version === undefined ? read() : ((await cachesOf(deps).records.getOrRead(key, version, read)) as T);
}

const resolved = (record: DeploymentRecord): Resolved => ({ record, stamp: stamp(record) });

const answer = (d: DeploymentRecord, o: Observation<Observed>): ObservedDeployment => ({ ...merge(d, o.value), observedAt: new Date(o.at).toISOString() });

function observe(deps: ServerDeps, { record: d, stamp: s }: Resolved): Promise<Observation<Observed>> {
  const { services } = deps;
  return cachesOf(deps).observations.get(d.id, s, services.clock.now(), async () => (await services.targets.get(d.target)).observe(d));
}

/** One deployment (by ID, unique prefix or model) as its target was observed at most --status-max-age ago. */
export async function deploymentStatusReply(deps: ServerDeps, handle: string): Promise<RouteReply> {
  const r = await records(deps, `id ${handle}`, async () => resolved(await resolveDeployment(deps.services, handle)));
  const o = await observe(deps, r);
  // The same record and observation make the same answer: serialised once.
  if (r.answer?.at !== o.at) r.answer = { at: o.at, json: JSON.stringify(answer(r.record, o)) };
  return { body: null, text: { contentType: JSON_TYPE, body: r.answer.json } };
}

/** Every deployment (optionally of one model), observed likewise; one that cannot be observed says why. */
export async function deploymentsView(deps: ServerDeps, filter: { model?: string }): Promise<(ObservedDeployment | DeploymentRecord)[]> {
  const all = await records(deps, `list ${filter.model ?? ''}`, async () =>
    (await deps.services.deployments.listDeployments(filter.model !== undefined ? { model: filter.model } : undefined)).map(resolved),
  );
  return Promise.all(
    all.map(async (r) => {
      try {
        return answer(r.record, await observe(deps, r));
      } catch (e) {
        const err = e instanceof MaasError ? e : toMaasError(e);
        return { ...r.record, reason: `cannot observe it: ${err.message}` };
      }
    }),
  );
}

// CRUD and server-side apply on the store, with the API's checks and responses, for the verbs
// maas uses: get, list, create, apply (PATCH with application/apply-patch+yaml), delete and
// deletecollection. Writes can be dry runs (dryRun=All).
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { serverSideApply } from './apply.js';
import { applyDefaults } from './defaults.js';
import { recordUpdate, tracked, type ManagerEntry } from './managed-fields.js';
import { groupVersion, type ResourceDef } from './resources.js';
import { matchFields, matchLabelSelector, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { errors, invalidPatchOptions, successStatus } from './status.js';
import type { Store } from './store.js';
import { clone, isObj, timestamp, type Obj } from './types.js';
import { checkSchema, validate } from './validate.js';

export interface Call {
  def: ResourceDef;
  ns?: string;
  name?: string;
  sub?: string;
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
  /** Manager for non-apply writes when fieldManager is absent (the user agent's product token). */
  agent: string;
  /** Authorizes an extra verb mid-request (apply creating a missing object needs `create`). */
  authorize: (verb: string) => void;
}

export interface Reply {
  code: number;
  body: Obj | string;
  contentType?: string;
}

const APPLY_PATCH = 'application/apply-patch+yaml';

function part(def: ResourceDef): 'main' | 'all' {
  return def.statusSubresource ? 'main' : 'all';
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  for (const x of v) if (x !== 'All') throw errors.badRequest(`Invalid dryRun value: ${x}; must be "All"`);
  return v.length > 0;
}

function parseBody(c: Call): Obj {
  const text = c.body.toString('utf8');
  try {
    // Apply bodies are YAML, of which JSON is a subset; JSON.parse first is much faster on big ones.
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      if (c.contentType !== APPLY_PATCH) throw e;
      v = parseYaml(text);
    }
    if (!isObj(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw errors.badRequest(`the server rejected our request due to an error in our request: ${(e as Error).message}`);
  }
}

function stripTypeMeta(o: Obj): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

function allocateClusterIP(store: Store, def: ResourceDef, o: Obj): void {
  if (def.plural !== 'services') return;
  o.spec ??= {};
  if (o.spec.clusterIP === undefined && (o.spec.type ?? 'ClusterIP') !== 'ExternalName') {
    const used = new Set(store.list(def).map((e) => e.obj.spec?.clusterIP as string));
    let ip: string;
    do ip = `10.96.${randomBytes(1)[0]!}.${(randomBytes(1)[0]! % 250) + 2}`;
    while (used.has(ip));
    o.spec.clusterIP = ip;
    o.spec.clusterIPs = [ip];
  }
}

function checkTypeMeta(def: ResourceDef, o: Obj): void {
  const gv = groupVersion(def);
  if (o.apiVersion !== undefined && o.apiVersion !== gv) {
    throw errors.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${gv})`);
  }
  if (o.kind !== undefined && o.kind !== def.kind) {
    throw errors.badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${def.kind})`);
  }
}

function checkIdentity(c: Call, o: Obj): void {
  if (c.name !== undefined && o.metadata?.name !== undefined && o.metadata.name !== c.name) {
    throw errors.badRequest(`the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${c.name})`);
  }
  if (c.def.namespaced && o.metadata?.namespace !== undefined && o.metadata.namespace !== c.ns) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

function requireNamespace(store: Store, c: Call): void {
  if (c.def.namespaced && !store.namespaceExists(c.ns!)) throw errors.notFound({ plural: 'namespaces', group: '' }, c.ns!);
}

/** Defaults, schema and field validation, then the write (or a dry run). */
function finish(store: Store, c: Call, next: Obj, managers: ManagerEntry[], old: Obj | undefined): { obj: Obj; created: boolean } {
  applyDefaults(c.def, next);
  checkSchema(c.def, next);
  validate(c.def, next, old);
  const r = store.commit(c.def, next, managers, { dryRun: dryRun(c.query) });
  return { obj: r.obj, created: r.created };
}

function selected(store: Store, c: Call): Obj[] {
  const labels = parseLabelSelector(c.query.get('labelSelector'));
  const fields = parseFieldSelector(c.def.plural, c.query.get('fieldSelector'));
  return store
    .list(c.def, c.ns)
    .map((e) => e.obj)
    .filter((o) => matchLabelSelector(labels, o.metadata?.labels) && matchFields(fields, o));
}

export function list(store: Store, c: Call): Reply {
  if (c.query.get('watch') === 'true') throw errors.methodNotAllowed('watch is not served by this API server substitute; poll with list');
  return {
    code: 200,
    body: {
      kind: `${c.def.kind}List`,
      apiVersion: groupVersion(c.def),
      metadata: { resourceVersion: store.resourceVersion },
      items: selected(store, c).map(stripTypeMeta),
    },
  };
}

export function get(store: Store, c: Call): Reply {
  const e = store.get(c.def, c.ns, c.name!);
  if (!e) throw errors.notFound(c.def, c.name!);
  return { code: 200, body: e.obj };
}

export function create(store: Store, c: Call): Reply {
  const o = parseBody(c);
  checkTypeMeta(c.def, o);
  checkIdentity(c, o);
  requireNamespace(store, c);
  const meta = (o.metadata ??= {}) as Obj;
  if (!meta.name)
    throw errors.invalid(c.def, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  if (c.def.namespaced) meta.namespace = c.ns;
  if (meta.resourceVersion) throw errors.badRequest('resourceVersion should not be set on objects to be created');
  for (const k of ['uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp']) delete meta[k];
  if (store.get(c.def, c.ns, String(meta.name))) throw errors.alreadyExists(c.def, String(meta.name));
  if (c.def.statusSubresource) delete o.status;
  allocateClusterIP(store, c.def, o);
  applyDefaults(c.def, o);
  const manager = c.query.get('fieldManager') || c.agent || 'unknown';
  const managers = recordUpdate([], {}, tracked(o, part(c.def)), { manager, apiVersion: groupVersion(c.def), now: timestamp() });
  return { code: 201, body: finish(store, c, o, managers, undefined).obj };
}

/** Server-side apply; the other patch types are not served (maas never sends them). */
export function apply(store: Store, c: Call): Reply {
  if (c.contentType !== APPLY_PATCH) throw errors.unsupportedMediaType(c.contentType);
  const fieldManager = c.query.get('fieldManager');
  if (!fieldManager) throw invalidPatchOptions('fieldManager', 'FieldValueRequired', 'Required value: is required for apply patch');
  const force = c.query.get('force') === 'true';
  const applied = parseBody(c);
  if (!applied.apiVersion || !applied.kind) throw errors.badRequest("error decoding YAML: Object 'Kind' is missing in the applied configuration");
  checkTypeMeta(c.def, applied);
  checkIdentity(c, applied);
  if (applied.metadata?.managedFields !== undefined) throw errors.badRequest('metadata.managedFields must be nil');
  const e = store.get(c.def, c.ns, c.name!);
  if (!e) {
    // Apply creates what is missing, which needs the create permission as well.
    c.authorize('create');
    requireNamespace(store, c);
  }
  const rv = applied.metadata?.resourceVersion as string | undefined;
  if (rv && e && rv !== e.obj.metadata.resourceVersion) throw errors.conflict(c.def, c.name!);
  const p = part(c.def);
  const { merged, entries } = serverSideApply({
    live: e?.obj,
    entries: e?.managers ?? [],
    applied,
    manager: fieldManager,
    force,
    apiVersion: groupVersion(c.def),
    part: p,
    now: timestamp(),
  });
  merged.metadata = { ...(merged.metadata ?? {}), name: c.name, ...(c.def.namespaced ? { namespace: c.ns } : {}) };
  delete merged.metadata.resourceVersion;
  if (p === 'main') {
    if (e) merged.status = clone(e.obj.status);
    else delete merged.status;
  }
  if (e?.obj.spec?.clusterIP && c.def.plural === 'services') {
    merged.spec.clusterIP ??= e.obj.spec.clusterIP;
    merged.spec.clusterIPs ??= e.obj.spec.clusterIPs;
  }
  if (!e) allocateClusterIP(store, c.def, merged);
  const r = finish(store, c, merged, entries, e?.obj);
  return { code: r.created ? 201 : 200, body: r.obj };
}

export function remove(store: Store, c: Call): Reply {
  const e = store.get(c.def, c.ns, c.name!);
  if (!e) throw errors.notFound(c.def, c.name!);
  store.remove(c.def, c.ns, c.name!);
  // Pods and Services answer with the object, the other kinds with a Status (as in the OpenAPI spec).
  if (c.def.plural === 'pods' || c.def.plural === 'services') return { code: 200, body: e.obj };
  return { code: 200, body: successStatus(c.def, c.name!, String(e.obj.metadata.uid)) };
}

export function removeCollection(store: Store, c: Call): Reply {
  const victims = selected(store, c);
  for (const v of victims) store.remove(c.def, v.metadata.namespace, v.metadata.name);
  return {
    code: 200,
    body: {
      kind: `${c.def.kind}List`,
      apiVersion: groupVersion(c.def),
      metadata: { resourceVersion: store.resourceVersion },
      items: victims.map(stripTypeMeta),
    },
  };
}

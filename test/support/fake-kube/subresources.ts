// Subresources: deployments/scale (autoscaling/v1 Scale), pods/log.
import { recordUpdate } from './managed-fields.js';
import { jsonPatch, mergePatch, strategicMerge } from './patch.js';
import type { Controllers } from './rollout.js';
import { byPlural } from './resources.js';
import { selectorString } from './selectors.js';
import { errors } from './status.js';
import type { Store } from './store.js';
import { clone, timestamp, type Obj } from './types.js';
import { PATCH_TYPES, parseBody, type Call, type Reply } from './handlers.js';

function scaleOf(d: Obj): Obj {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      uid: d.metadata.uid,
      resourceVersion: d.metadata.resourceVersion,
      creationTimestamp: d.metadata.creationTimestamp,
    },
    spec: { replicas: d.spec?.replicas ?? 1 },
    status: { replicas: d.status?.replicas ?? 0, selector: selectorString(d.spec?.selector) },
  };
}

export function scale(store: Store, c: Call, method: string): Reply {
  const def = byPlural('deployments');
  const e = store.get(def, c.ns, c.name!);
  if (!e) throw errors.notFound(def, c.name!);
  const current = scaleOf(e.obj);
  if (method === 'GET') return { code: 200, body: current };
  let wanted: Obj;
  if (method === 'PUT') wanted = parseBody(c);
  else if (c.contentType === PATCH_TYPES.json) wanted = jsonPatch(current, parseBody(c)) as Obj;
  else if (c.contentType === PATCH_TYPES.merge || c.contentType === PATCH_TYPES.apply) wanted = mergePatch(current, parseBody(c)) as Obj;
  else if (c.contentType === PATCH_TYPES.strategic) wanted = strategicMerge(current, parseBody(c)) as Obj;
  else throw errors.unsupportedMediaType(c.contentType);
  const rv = wanted.metadata?.resourceVersion as string | undefined;
  if (method === 'PUT' && rv && rv !== e.obj.metadata.resourceVersion) throw errors.conflict(def, c.name!);
  const replicas = wanted.spec?.replicas as unknown;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid({ ...def, kind: 'Scale', group: 'autoscaling' }, c.name!, [
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
    ]);
  }
  if (c.query.getAll('dryRun').length > 0) return { code: 200, body: { ...current, spec: { replicas } } };
  const next = clone(e.obj);
  next.spec.replicas = replicas;
  const managers = recordUpdate(e.managers, { spec: { replicas: e.obj.spec?.replicas } }, { spec: { replicas } }, {
    manager: c.query.get('fieldManager') || c.agent || 'unknown',
    apiVersion: 'autoscaling/v1',
    subresource: 'scale',
    now: timestamp(),
  });
  const r = store.commit(def, next, managers);
  return { code: 200, body: scaleOf(r.obj) };
}

export function podLog(store: Store, controllers: Controllers, c: Call): Reply {
  const def = byPlural('pods');
  const e = store.get(def, c.ns, c.name!);
  if (!e) throw errors.notFound(def, c.name!);
  const pod = e.obj;
  const mains = ((pod.spec?.containers ?? []) as Obj[]).map((x) => String(x.name));
  const inits = ((pod.spec?.initContainers ?? []) as Obj[]).map((x) => String(x.name));
  let container = c.query.get('container') ?? undefined;
  if (!container) {
    if (mains.length !== 1) {
      throw errors.badRequest(`a container name must be specified for pod ${c.name!}, choose one of: [${mains.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`);
    }
    container = mains[0]!;
  }
  if (!mains.includes(container) && !inits.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${c.name!}`);
  const previous = c.query.get('previous') === 'true';
  const statuses = [...((pod.status?.containerStatuses ?? []) as Obj[]), ...((pod.status?.initContainerStatuses ?? []) as Obj[])];
  const st = statuses.find((s) => s.name === container);
  let text: string | undefined;
  if (previous) {
    text = controllers.logs(pod, container, true);
    if (text === undefined) throw errors.badRequest(`previous terminated container "${container}" in pod "${c.name!}" not found`);
  } else {
    const waiting = st?.state?.waiting as Obj | undefined;
    const ran = st?.state?.running || st?.state?.terminated || st?.lastState?.terminated;
    if (!st || (waiting && !ran)) {
      const reason = waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull' ? 'trying and failing to pull image' : String(waiting?.reason ?? 'ContainerCreating');
      throw errors.badRequest(`container "${container}" in pod "${c.name!}" is waiting to start: ${reason}`);
    }
    text = controllers.logs(pod, container, false) ?? '';
  }
  const tail = Number(c.query.get('tailLines') ?? NaN);
  if (Number.isInteger(tail) && tail >= 0) {
    const lines = text.split('\n');
    const hasEnd = text.endsWith('\n');
    const body = hasEnd ? lines.slice(0, -1) : lines;
    text = body.slice(Math.max(0, body.length - tail)).join('\n') + (hasEnd && tail > 0 ? '\n' : '');
  }
  const limit = Number(c.query.get('limitBytes') ?? NaN);
  if (Number.isInteger(limit) && limit > 0) text = Buffer.from(text).subarray(0, limit).toString();
  return { code: 200, body: text, contentType: 'text/plain' };
}

// The pods/log subresource: the current or previous container's output, tailLines and limitBytes,
// and the kubelet's refusals for containers that never ran.
import type { Controllers } from './rollout.js';
import { byPlural } from './resources.js';
import { errors } from './status.js';
import type { Store } from './store.js';
import type { Obj } from './types.js';
import type { Call, Reply } from './handlers.js';

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
      throw errors.badRequest(
        `a container name must be specified for pod ${c.name!}, choose one of: [${mains.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
      );
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
      const reason =
        waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull'
          ? 'trying and failing to pull image'
          : String(waiting?.reason ?? 'ContainerCreating');
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

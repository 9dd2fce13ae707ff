// Which lists are maps keyed by some fields (x-kubernetes-list-type: map / patchMergeKey) and
// which are atomic. Server-side apply and strategic merge patch both depend on it.
import type { Obj } from './types.js';

/**
 * Keys of the list at `path` (field names from the root, e.g. ['spec','template','spec','containers']),
 * or undefined when the list is atomic (args, command, tolerations, ...).
 */
export function listKeys(path: readonly string[]): string[] | undefined {
  const field = path[path.length - 1];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return ['name'];
    case 'volumeMounts':
      return ['mountPath'];
    case 'conditions':
      return ['type'];
    case 'ownerReferences':
      return ['uid'];
    case 'hostAliases':
      return ['ip'];
    case 'topologySpreadConstraints':
      return ['topologyKey', 'whenUnsatisfiable'];
    case 'ports':
      // Container ports are keyed by port and protocol, Service ports likewise by `port`.
      return path.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers')
        ? ['containerPort', 'protocol']
        : ['port', 'protocol'];
    default:
      return undefined;
  }
}

/** The key of a keyed list item; protocol defaults to TCP as the API defaults it. */
export function itemKey(item: Obj, keys: readonly string[]): Obj {
  const k: Obj = {};
  for (const f of keys) {
    const v = item[f] ?? (f === 'protocol' ? 'TCP' : undefined);
    if (v !== undefined) k[f] = v;
  }
  return k;
}

export function sameKey(a: Obj, b: Obj, keys: readonly string[]): boolean {
  return JSON.stringify(itemKey(a, keys)) === JSON.stringify(itemKey(b, keys));
}

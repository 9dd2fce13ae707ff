// The resources the substitute serves, and their discovery documents (what client-node's
// KubernetesObjectApi reads to find the path of a kind).
import type { Obj } from './types.js';

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  /** Subresource name -> discovery entry (kind, verbs). */
  subresources: Record<string, { kind: string; verbs: string[] }>;
  /** metadata.generation counts spec changes. */
  generation: boolean;
  /** Writes to the resource itself keep the stored status. */
  statusSubresource: boolean;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: RW, subresources: {}, generation: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, verbs: RW, subresources: {}, generation: false, statusSubresource: false },
  {
    group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, verbs: RW,
    subresources: { log: { kind: 'Pod', verbs: ['get'] } }, generation: false, statusSubresource: true,
  },
  {
    group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true, verbs: RW,
    subresources: { proxy: { kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] } }, generation: false, statusSubresource: true,
  },
  { group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, verbs: RW, subresources: {}, generation: false, statusSubresource: false },
  { group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, verbs: RW, subresources: {}, generation: false, statusSubresource: false },
  { group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, verbs: RW, subresources: {}, generation: true, statusSubresource: true },
  {
    group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler',
    namespaced: true, verbs: RW, subresources: {}, generation: true, statusSubresource: true,
  },
];

export function groupVersion(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function byPlural(plural: string): ResourceDef {
  const def = RESOURCES.find((r) => r.plural === plural);
  if (!def) throw new Error(`unknown resource ${plural}`);
  return def;
}

/** The APIResourceList of `/api/v1` or `/apis/{group}/{version}`. */
export function apiResourceList(group: string, version: string): Obj | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources = defs.flatMap((d) => [
    { name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs },
    ...Object.entries(d.subresources).map(([sub, s]) => ({ name: `${d.plural}/${sub}`, singularName: '', namespaced: d.namespaced, kind: s.kind, verbs: s.verbs })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

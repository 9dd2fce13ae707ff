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

function resource(
  group: string,
  version: string,
  kind: string,
  namespaced: boolean,
  o: Partial<Pick<ResourceDef, 'subresources' | 'generation' | 'statusSubresource'>> = {},
): ResourceDef {
  const singular = kind.toLowerCase();
  return { group, version, plural: `${singular}s`, singular, kind, namespaced, verbs: RW, subresources: {}, generation: false, statusSubresource: false, ...o };
}

const RESOURCES: ResourceDef[] = [
  resource('', 'v1', 'Namespace', false, { statusSubresource: true }),
  resource('', 'v1', 'Node', false),
  resource('', 'v1', 'Pod', true, { subresources: { log: { kind: 'Pod', verbs: ['get'] } }, statusSubresource: true }),
  resource('', 'v1', 'Service', true, {
    subresources: { proxy: { kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] } },
    statusSubresource: true,
  }),
  resource('', 'v1', 'ConfigMap', true),
  resource('', 'v1', 'Secret', true),
  resource('', 'v1', 'Event', true),
  resource('apps', 'v1', 'Deployment', true, { generation: true, statusSubresource: true }),
  resource('autoscaling', 'v2', 'HorizontalPodAutoscaler', true, { generation: true, statusSubresource: true }),
  resource('batch', 'v1', 'Job', true, { generation: true, statusSubresource: true }),
];

/** Every group version the table serves, in table order. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(groupVersion(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

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
    ...Object.entries(d.subresources).map(([sub, s]) => ({
      name: `${d.plural}/${sub}`,
      singularName: '',
      namespaced: d.namespaced,
      kind: s.kind,
      verbs: s.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

// The resources the substitute serves, and the discovery documents built from them.
import type { Obj } from './types.js';

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  /** Subresource name -> discovery entry (kind, verbs). */
  subresources: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }>;
  /** metadata.generation counts spec changes. */
  generation: boolean;
  /** The API resets status on writes to the main resource. */
  statusSubresource: boolean;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDef[] = [
  {
    group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'],
    subresources: { status: { kind: 'Namespace', verbs: ['get', 'patch', 'update'] } }, generation: false, statusSubresource: true,
  },
  {
    group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, verbs: RW, shortNames: ['no'],
    subresources: { status: { kind: 'Node', verbs: ['get', 'patch', 'update'] } }, generation: false, statusSubresource: false,
  },
  {
    group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, verbs: RW, shortNames: ['po'],
    subresources: { log: { kind: 'Pod', verbs: ['get'] }, status: { kind: 'Pod', verbs: ['get', 'patch', 'update'] } },
    generation: false, statusSubresource: true,
  },
  {
    group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['svc'],
    subresources: {
      proxy: { kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      status: { kind: 'Service', verbs: ['get', 'patch', 'update'] },
    },
    generation: false, statusSubresource: true,
  },
  {
    group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, verbs: RW, shortNames: ['cm'],
    subresources: {}, generation: false, statusSubresource: false,
  },
  {
    group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, verbs: RW, shortNames: ['ev'],
    subresources: {}, generation: false, statusSubresource: false,
  },
  {
    group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, verbs: RW, shortNames: ['deploy'],
    subresources: {
      scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
      status: { kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    },
    generation: true, statusSubresource: true,
  },
  {
    group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler',
    namespaced: true, verbs: RW, shortNames: ['hpa'],
    subresources: { status: { kind: 'HorizontalPodAutoscaler', verbs: ['get', 'patch', 'update'] } }, generation: true, statusSubresource: true,
  },
];

export function groupVersion(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

export function byPlural(plural: string): ResourceDef {
  const def = RESOURCES.find((r) => r.plural === plural);
  if (!def) throw new Error(`unknown resource ${plural}`);
  return def;
}

export function apiResourceList(group: string, version: string): Obj | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: Obj[] = [];
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      storageVersionHash: Buffer.from(`${d.group}/${d.plural}`).toString('base64').slice(0, 11),
    });
    for (const [sub, s] of Object.entries(d.subresources)) {
      resources.push({
        name: `${d.plural}/${sub}`,
        singularName: '',
        namespaced: d.namespaced,
        ...(s.group ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function groups(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (!r.group) continue;
    const v = m.get(r.group) ?? [];
    if (!v.includes(r.version)) v.push(r.version);
    m.set(r.group, v);
  }
  return m;
}

function apiGroup(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups()].map(([n, v]) => apiGroup(n, v)) };
}

export function apiGroupDoc(name: string): Obj | undefined {
  const v = groups().get(name);
  return v ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(name, v) } : undefined;
}

export function apiVersions(host: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
}

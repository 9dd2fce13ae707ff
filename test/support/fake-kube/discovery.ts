// Legacy discovery, what kubectl reads to map kinds to paths: `/api` (APIVersions), `/apis`
// (APIGroupList) and each group version's APIResourceList. Served as plain application/json, so
// kubectl, which asks for aggregated discovery first, falls back to these.
import { apiResourceList, groupVersion, groupVersions } from './resources.js';
import type { Obj } from './types.js';

const GROUP_VERSIONS = groupVersions();

function apiGroupList(): Obj {
  const groups = new Map<string, Obj[]>();
  for (const gv of GROUP_VERSIONS) {
    if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), { groupVersion: groupVersion(gv), version: gv.version }]);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({ name, versions, preferredVersion: versions[0] })),
  };
}

/** The discovery document at these path segments, if they name one. */
export function discovery(segs: string[]): Obj | undefined {
  if (segs[0] === 'api') {
    if (segs.length === 1) return { kind: 'APIVersions', versions: GROUP_VERSIONS.filter((gv) => !gv.group).map((gv) => gv.version) };
    if (segs.length === 2) return apiResourceList('', segs[1]!);
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return apiGroupList();
    if (segs.length === 3) return apiResourceList(segs[1]!, segs[2]!);
  }
  return undefined;
}

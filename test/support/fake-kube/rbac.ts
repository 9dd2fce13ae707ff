// Authorization: an RBAC evaluator over Role/ClusterRole/binding documents (for instance
// manifests/rbac.yaml), with the real Forbidden message.
import { parseAllDocuments } from 'yaml';
import type { Obj } from './types.js';

export interface Attributes {
  user: string;
  verb: string;
  group: string;
  /** Resource plural, e.g. `deployments`. */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Rules granted to one user: cluster-wide and per namespace. */
export interface Policy {
  cluster: PolicyRule[];
  namespaced: Record<string, PolicyRule[]>;
}

function ruleAllows(r: PolicyRule, a: Attributes): boolean {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const groupOk = (r.apiGroups ?? []).some((g) => g === '*' || g === a.group);
  const resOk = (r.resources ?? []).some((x) => x === '*' || x === res || (a.subresource && x === `*/${a.subresource}`));
  const verbOk = r.verbs.some((v) => v === '*' || v === a.verb);
  const nameOk = !r.resourceNames || r.resourceNames.length === 0 || (a.name !== undefined && r.resourceNames.includes(a.name));
  return groupOk && resOk && verbOk && nameOk;
}

export function allowedByPolicy(p: Policy, a: Attributes): boolean {
  if (p.cluster.some((r) => ruleAllows(r, a))) return true;
  return a.namespace !== undefined && (p.namespaced[a.namespace] ?? []).some((r) => ruleAllows(r, a));
}

/** The authorizer's reason, as in `... is forbidden: <reason>`. */
export function forbiddenReason(a: Attributes): string {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}`;
}

/**
 * The rules RBAC grants `user` (e.g. `system:serviceaccount:maas:maas`) from YAML documents with
 * Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
 */
export function policyFromRbacYaml(text: string, user: string): Policy {
  const docs = parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  const subjectMatches = (s: Obj, bindingNs?: string) =>
    (s.kind === 'User' && s.name === user) ||
    (s.kind === 'ServiceAccount' && sa !== null && s.name === sa[2] && (s.namespace ?? bindingNs) === sa[1]) ||
    (s.kind === 'Group' &&
      (s.name === 'system:authenticated' || (sa !== null && (s.name === 'system:serviceaccounts' || s.name === `system:serviceaccounts:${sa[1]}`))));
  const role = (kind: string, name: string, ns?: string): PolicyRule[] =>
    (docs.find((d) => d.kind === kind && d.metadata?.name === name && (kind === 'ClusterRole' || d.metadata?.namespace === ns))?.rules ?? []) as PolicyRule[];
  const policy: Policy = { cluster: [], namespaced: {} };
  for (const b of docs) {
    if (b.kind === 'ClusterRoleBinding' && ((b.subjects ?? []) as Obj[]).some((s) => subjectMatches(s))) {
      policy.cluster.push(...role('ClusterRole', String(b.roleRef?.name)));
    }
    if (b.kind === 'RoleBinding') {
      const ns = String(b.metadata?.namespace ?? 'default');
      if (!((b.subjects ?? []) as Obj[]).some((s) => subjectMatches(s, ns))) continue;
      const rules = b.roleRef?.kind === 'ClusterRole' ? role('ClusterRole', String(b.roleRef.name)) : role('Role', String(b.roleRef?.name), ns);
      (policy.namespaced[ns] ??= []).push(...rules);
    }
  }
  return policy;
}

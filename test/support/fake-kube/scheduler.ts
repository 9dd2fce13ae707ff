// A scheduler with the filters that matter to model pods (NodeUnschedulable, TaintToleration,
// NodeAffinity by node name, NodeResourcesFit) and the FitError message format of kube-scheduler.
import { cpuMillis, memoryBytes } from '../../../src/domain/quantity.js';
import { podRequests } from '../../../src/targets/kubernetes/placement.js';
import type { Obj } from './types.js';

const count = (v: string | number): number | undefined => {
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** Toleration matching as in the API: key (empty with Exists = all), value for Equal, effect (empty = all). */
function tolerates(pod: Obj, taint: Obj): boolean {
  return ((pod.spec?.tolerations ?? []) as Obj[]).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** Required node affinity by node name (`matchFields` on `metadata.name`), what strict placement uses. */
function matchesAffinity(pod: Obj, node: Obj): boolean {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as Obj[] | undefined;
  if (!terms) return true;
  const name = String(node.metadata?.name);
  // Terms are ORed, their fields ANDed; an empty list matches nothing, as in the API.
  return terms.some((t) =>
    ((t.matchFields ?? []) as Obj[]).every((f) => f.key === 'metadata.name' && ((f.values ?? []) as string[]).includes(name) === (f.operator === 'In')),
  );
}

/** Why a node cannot take the pod; empty when it can. */
function filter(pod: Obj, node: Obj, podsOnNode: Obj[]): { reasons: string[]; resourcesOnly: boolean } {
  if (node.spec?.unschedulable && !tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return { reasons: ['node(s) were unschedulable'], resourcesOnly: false };
  }
  const taint = ((node.spec?.taints ?? []) as Obj[]).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t));
  if (taint) return { reasons: [`node(s) had untolerated taint {${String(taint.key)}: ${String(taint.value ?? '')}}`], resourcesOnly: false };
  if (!matchesAffinity(pod, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resourcesOnly: false };
  const alloc = (node.status?.allocatable ?? {}) as Record<string, string>;
  const want = podRequests(pod);
  const used = podsOnNode
    .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    .map((p) => podRequests(p as never))
    .reduce((a, r) => ({ cpuMillis: a.cpuMillis + r.cpuMillis, memoryBytes: a.memoryBytes + r.memoryBytes, gpu: a.gpu + r.gpu }), {
      cpuMillis: 0,
      memoryBytes: 0,
      gpu: 0,
    });
  const reasons: string[] = [];
  if (podsOnNode.length + 1 > (count(alloc.pods ?? 110) ?? 110)) reasons.push('Too many pods');
  if (want.cpuMillis > 0 && used.cpuMillis + want.cpuMillis > (cpuMillis(alloc.cpu ?? 0) ?? 0)) reasons.push('Insufficient cpu');
  if (want.memoryBytes > 0 && used.memoryBytes + want.memoryBytes > (memoryBytes(alloc.memory ?? 0) ?? 0)) reasons.push('Insufficient memory');
  if (want.gpu > 0 && used.gpu + want.gpu > (count(alloc['nvidia.com/gpu'] ?? 0) ?? 0)) reasons.push('Insufficient nvidia.com/gpu');
  return { reasons, resourcesOnly: true };
}

type ScheduleResult = { node: string } | { message: string };

function histogram(items: string[]): string {
  const m = new Map<string, number>();
  for (const r of items) m.set(r, (m.get(r) ?? 0) + 1);
  return [...m]
    .map(([r, n]) => `${n} ${r}`)
    .sort()
    .join(', ');
}

/**
 * Picks the feasible node with the most free CPU (ties by name), or explains like kube-scheduler:
 * `0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: ...`
 */
export function schedule(pod: Obj, nodes: Obj[], podsByNode: Map<string, Obj[]>): ScheduleResult {
  if (nodes.length === 0) return { message: 'no nodes available to schedule pods' };
  const failures: string[] = [];
  const preemption: string[] = [];
  const feasible: Array<{ name: string; free: number }> = [];
  for (const node of nodes) {
    const name = String(node.metadata.name);
    const on = podsByNode.get(name) ?? [];
    const f = filter(pod, node, on);
    if (f.reasons.length === 0) {
      const used = on.reduce((a, p) => a + podRequests(p as never).cpuMillis, 0);
      feasible.push({ name, free: (cpuMillis((node.status?.allocatable?.cpu as string) ?? 0) ?? 0) - used });
    } else {
      failures.push(...f.reasons);
      // Equal-priority pods cannot be preempted, so resource failures find no victims.
      preemption.push(f.resourcesOnly ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling');
    }
  }
  if (feasible.length > 0) {
    feasible.sort((a, b) => b.free - a.free || (a.name < b.name ? -1 : 1));
    return { node: feasible[0]!.name };
  }
  const n = nodes.length;
  return { message: `0/${n} nodes are available: ${histogram(failures)}. preemption: 0/${n} nodes are available: ${histogram(preemption)}.` };
}

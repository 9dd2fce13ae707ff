// Strict placement pre-check: does the named node exist, is it Ready and schedulable, and does
// it have room for the replicas after what already runs there? Pure; the caller reads the node
// and its pods (fieldSelector spec.nodeName=<node>) and passes them in.
import { cpuMillis, formatMillis, memoryBytes } from '../../domain/quantity.js';
import { GPU_RESOURCE, type ServingRequests } from './resources.js';

type Quantities = Record<string, string | number | undefined> | undefined;

export interface NodeLike {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string }> };
  status?: {
    allocatable?: Quantities;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

interface ContainerLike {
  resources?: { requests?: Quantities; limits?: Quantities };
}

export interface PodLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string; containers: ContainerLike[]; initContainers?: ContainerLike[]; overhead?: Quantities };
  status?: { phase?: string };
}

export interface PlacementRequest extends ServingRequests {
  /** How many replicas must fit on the node (strict mode pins them all there). Default 1. */
  replicas?: number;
  /** Used in messages when the node does not exist. */
  nodeName?: string;
}

export interface Free {
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
}

export type PlacementCheck =
  { ok: true; free: Free } | { ok: false; code: 'NotFound' | 'NotReady' | 'Unschedulable' | 'Tainted' | 'Insufficient'; reason: string };

function q(map: Quantities, key: string, parse: (v: string | number) => number | undefined): number {
  const v = map?.[key];
  return v === undefined ? 0 : (parse(v) ?? 0);
}

function containerRequest(c: ContainerLike, key: string, parse: (v: string | number) => number | undefined): number {
  // A container with a limit and no request is given request = limit by the API server.
  const r = c.resources?.requests?.[key] ?? c.resources?.limits?.[key];
  return r === undefined ? 0 : (parse(r) ?? 0);
}

const parseCount = (v: string | number): number | undefined => {
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** What the scheduler counts for a pod: max(sum of containers, largest init container) + overhead. */
export function podRequests(pod: PodLike): Free {
  const one = (key: string, parse: (v: string | number) => number | undefined): number => {
    const sum = (pod.spec?.containers ?? []).reduce((a, c) => a + containerRequest(c, key, parse), 0);
    const init = (pod.spec?.initContainers ?? []).reduce((a, c) => Math.max(a, containerRequest(c, key, parse)), 0);
    return Math.max(sum, init) + q(pod.spec?.overhead, key, parse);
  };
  return { cpuMillis: one('cpu', cpuMillis), memoryBytes: one('memory', memoryBytes), gpu: one(GPU_RESOURCE, parseCount) };
}

/** Bytes for people: `512Mi`, `1.5Gi`. */
function formatBytes(b: number): string {
  for (const [suffix, factor] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (b >= factor) return `${Number((b / factor).toFixed(1))}${suffix}`;
  }
  return `${b}`;
}

/** Pods that hold node resources: not finished. */
function holdsResources(p: PodLike): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

export function checkNodeFits(node: NodeLike | undefined | null, podsOnNode: readonly PodLike[], request: PlacementRequest): PlacementCheck {
  const name = node?.metadata?.name ?? request.nodeName ?? '?';
  if (!node) {
    return { ok: false, code: 'NotFound', reason: `node "${name}" does not exist in the cluster (see \`kubectl get nodes\`)` };
  }
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const why = ready ? [ready.reason, ready.message].filter(Boolean).join(': ') : 'it reports no Ready condition';
    return { ok: false, code: 'NotReady', reason: `node "${name}" is not Ready${why ? ` (${why})` : ''}` };
  }
  if (node.spec?.unschedulable) {
    return { ok: false, code: 'Unschedulable', reason: `node "${name}" is cordoned (spec.unschedulable); uncordon it or pick another node` };
  }
  // Model pods carry no tolerations, so any NoSchedule/NoExecute taint keeps them off the node.
  const taint = node.spec?.taints?.find((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (taint) {
    return {
      ok: false,
      code: 'Tainted',
      reason: `node "${name}" has taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect} that model pods do not tolerate`,
    };
  }
  const alloc = node.status?.allocatable;
  const capacity: Free = { cpuMillis: q(alloc, 'cpu', cpuMillis), memoryBytes: q(alloc, 'memory', memoryBytes), gpu: q(alloc, GPU_RESOURCE, parseCount) };
  const used = podsOnNode.filter(holdsResources).reduce<Free>(
    (a, p) => {
      const r = podRequests(p);
      return { cpuMillis: a.cpuMillis + r.cpuMillis, memoryBytes: a.memoryBytes + r.memoryBytes, gpu: a.gpu + r.gpu };
    },
    { cpuMillis: 0, memoryBytes: 0, gpu: 0 },
  );
  const free: Free = {
    cpuMillis: capacity.cpuMillis - used.cpuMillis,
    memoryBytes: capacity.memoryBytes - used.memoryBytes,
    gpu: capacity.gpu - used.gpu,
  };
  const n = Math.max(1, request.replicas ?? 1);
  const times = n > 1 ? ` (${n} replicas)` : '';
  const short: string[] = [];
  if (request.cpuMillis * n > free.cpuMillis) {
    short.push(
      `cpu: needs ${formatMillis(request.cpuMillis * n)}${times}, free ${formatMillis(Math.max(0, free.cpuMillis))} of ${formatMillis(capacity.cpuMillis)} allocatable`,
    );
  }
  if (request.memoryBytes * n > free.memoryBytes) {
    short.push(
      `memory: needs ${formatBytes(request.memoryBytes * n)}${times}, free ${formatBytes(Math.max(0, free.memoryBytes))} of ${formatBytes(capacity.memoryBytes)} allocatable`,
    );
  }
  if (request.gpu * n > free.gpu) {
    short.push(`${GPU_RESOURCE}: needs ${request.gpu * n}${times}, free ${Math.max(0, free.gpu)} of ${capacity.gpu} allocatable`);
  }
  if (short.length > 0) {
    return { ok: false, code: 'Insufficient', reason: `node "${name}" has not enough room: ${short.join('; ')}` };
  }
  return { ok: true, free };
}

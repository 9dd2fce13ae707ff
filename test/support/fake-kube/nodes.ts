// Node objects for tests to seed: capacity/allocatable, the Ready condition, the taints the node
// lifecycle controller adds (not-ready, cordoned), and the well-known labels.
import { timestamp, type Obj } from './types.js';

export interface NodeSeed {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  gpu?: number;
  ready?: boolean;
  /** Cordoned (`kubectl cordon`). */
  unschedulable?: boolean;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
}

export function nodeObject(seed: NodeSeed, index: number): Obj {
  const quantities: Record<string, string> = { cpu: seed.cpu ?? '4', memory: seed.memory ?? '8Gi', pods: String(seed.pods ?? 110) };
  if (seed.gpu) quantities['nvidia.com/gpu'] = String(seed.gpu);
  const now = timestamp();
  const taints: Obj[] = [...(seed.taints ?? [])];
  if (seed.ready === false) taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule', timeAdded: now });
  if (seed.unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: now });
  const ready =
    seed.ready === false
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'KubeletNotReady',
          message: 'container runtime network not ready: NetworkReady=false',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        }
      : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: seed.name,
      labels: { 'kubernetes.io/hostname': seed.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(seed.labels ?? {}) },
    },
    spec: {
      podCIDR: `10.244.${index}.0/24`,
      ...(seed.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length > 0 ? { taints } : {}),
    },
    status: {
      capacity: { ...quantities },
      allocatable: { ...quantities },
      conditions: [ready],
      addresses: [
        { type: 'InternalIP', address: `172.18.0.${index + 2}` },
        { type: 'Hostname', address: seed.name },
      ],
    },
  };
}

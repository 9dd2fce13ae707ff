// Realistic Node objects for tests to seed: capacity/allocatable, conditions, the not-ready taint
// the node lifecycle controller adds, and the well-known labels.
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

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

export function readyCondition(ready: boolean, message?: string): Obj {
  const now = timestamp();
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: message ?? 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
    : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: message ?? 'container runtime network not ready: NetworkReady=false', lastHeartbeatTime: now, lastTransitionTime: now };
}

export function nodeTaints(seed: NodeSeed): Obj[] {
  const t: Obj[] = [...(seed.taints ?? [])];
  if (seed.ready === false) t.push({ key: NOT_READY_TAINT, effect: 'NoSchedule', timeAdded: timestamp() });
  if (seed.unschedulable) t.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: timestamp() });
  return t;
}

export function nodeObject(seed: NodeSeed, index: number): Obj {
  const quantities: Record<string, string> = {
    cpu: seed.cpu ?? '4',
    memory: seed.memory ?? '8Gi',
    pods: String(seed.pods ?? 110),
    'ephemeral-storage': '100Gi',
  };
  if (seed.gpu) quantities['nvidia.com/gpu'] = String(seed.gpu);
  const now = timestamp();
  const taints = nodeTaints(seed);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: seed.name,
      labels: {
        'kubernetes.io/hostname': seed.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        ...(seed.labels ?? {}),
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {
      podCIDR: `10.244.${index}.0/24`,
      podCIDRs: [`10.244.${index}.0/24`],
      ...(seed.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length > 0 ? { taints } : {}),
    },
    status: {
      capacity: { ...quantities },
      allocatable: { ...quantities },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
        readyCondition(seed.ready !== false),
      ],
      addresses: [
        { type: 'InternalIP', address: `172.18.0.${index + 2}` },
        { type: 'Hostname', address: seed.name },
      ],
      nodeInfo: {
        machineID: `${index}`.padStart(32, '0'),
        systemUUID: `${index}`.padStart(32, '0'),
        bootID: `${index}`.padStart(32, '0'),
        kernelVersion: '6.8.0',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.18',
        kubeletVersion: 'v1.31.0',
        kubeProxyVersion: 'v1.31.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  };
}

// Pods of other workloads that tests place on nodes to take up capacity.
import { timestamp, type Obj } from './types.js';

export function defaultPodSpec(
  seed: { name: string; nodeName: string; cpu?: string; memory?: string; gpu?: number; labels?: Record<string, string> },
  ns: string,
): Obj {
  const requests: Record<string, string> = {};
  if (seed.cpu) requests.cpu = seed.cpu;
  if (seed.memory) requests.memory = seed.memory;
  if (seed.gpu) requests['nvidia.com/gpu'] = String(seed.gpu);
  const now = timestamp();
  return {
    metadata: { name: seed.name, namespace: ns, labels: seed.labels ?? { app: seed.name } },
    spec: {
      nodeName: seed.nodeName,
      containers: [
        { name: 'main', image: 'registry.k8s.io/pause:3.9', resources: { requests, ...(seed.gpu ? { limits: { 'nvidia.com/gpu': String(seed.gpu) } } : {}) } },
      ],
      restartPolicy: 'Always',
    },
    status: {
      phase: 'Running',
      startTime: now,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
    },
  };
}

// What one serving replica asks of a node, from `spec.resources.serving` of a description. Pure.
import { MaasError } from '../../core/errors.js';
import { cpuMillis, formatBytes, formatMillis, memoryBytes } from '../../domain/quantity.js';
import type { ModelDescription } from '../../spec/schema.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Used when a description names no cpu/memory: requests are what HPA and strict placement compute with. */
export const DEFAULT_SERVING = { cpu: '500m', memory: '512Mi' } as const;

export interface ServingRequests {
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
}

export interface ReplicaBounds {
  /** Replicas at deploy time (at least 1; 0 happens only through scale to zero). */
  initial: number;
  min: number;
  max: number;
  /** An HPA is created when the bounds differ after `min` is raised to 1. */
  autoscale: boolean;
}

function serving(description: ModelDescription): NonNullable<NonNullable<ModelDescription['spec']['resources']>['serving']> {
  return description.spec.resources?.serving ?? {};
}

// The schema types quantities loosely (string or number); anything else is treated as absent.
function quantity(v: unknown): string | number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

export function servingRequests(description: ModelDescription): ServingRequests {
  const s = serving(description);
  const cpuRaw = quantity(s.cpu) ?? DEFAULT_SERVING.cpu;
  const memRaw = quantity(s.memory) ?? DEFAULT_SERVING.memory;
  const cpu = cpuMillis(cpuRaw);
  const mem = memoryBytes(memRaw);
  if (cpu === undefined || cpu <= 0) {
    throw new MaasError('VALIDATION', `spec.resources.serving.cpu: "${String(cpuRaw)}" is not a positive CPU quantity`, { hint: 'use e.g. 500m or 1' });
  }
  if (mem === undefined || mem <= 0) {
    throw new MaasError('VALIDATION', `spec.resources.serving.memory: "${String(memRaw)}" is not a positive memory quantity`, {
      hint: 'use e.g. 256Mi or 1Gi',
    });
  }
  return { cpuMillis: cpu, memoryBytes: mem, gpu: s.gpu ?? 0 };
}

/**
 * Container resources with requests equal to limits: the pod gets the Guaranteed QoS class, so
 * its latency does not depend on neighbours and strict placement can count exactly.
 */
export function containerResources(r: ServingRequests): { requests: Record<string, string>; limits: Record<string, string> } {
  const q: Record<string, string> = { cpu: formatMillis(r.cpuMillis), memory: formatBytes(r.memoryBytes) };
  if (r.gpu > 0) q[GPU_RESOURCE] = String(r.gpu);
  return { requests: { ...q }, limits: { ...q } };
}

export function replicaBounds(description: ModelDescription): ReplicaBounds {
  const r = serving(description).replicas;
  const min = Math.max(1, r?.min ?? 1);
  const max = Math.max(min, r?.max ?? min);
  return { initial: min, min, max, autoscale: max !== min };
}

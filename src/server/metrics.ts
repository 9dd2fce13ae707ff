// Prometheus metrics of the control plane on a registry of its own: requests and their latency
// by route, and the job queue (jobs by state, queue depth) read from the queue at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobQueue, JobState } from '../queue/port.js';

export interface ServerMetrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
  text(): Promise<string>;
}

const STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed'];

export function serverMetrics(queue: JobQueue): ServerMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'maas_server_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'maas_server_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let counts: Record<JobState, number> | undefined;
  const refresh = async (): Promise<void> => {
    counts = await queue.counts().catch(() => undefined);
  };
  new Gauge({
    name: 'maas_jobs',
    help: 'Jobs by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      await refresh();
      for (const s of STATES) this.set({ state: s }, counts?.[s] ?? 0);
    },
  });
  new Gauge({
    name: 'maas_queue_depth',
    help: 'Jobs waiting for a worker.',
    registers: [registry],
    collect() {
      this.set(counts?.queued ?? 0);
    },
  });
  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    text: () => registry.metrics(),
  };
}

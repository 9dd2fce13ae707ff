// Prometheus metrics of one model server, on a registry of its own (never prom-client's global
// one, so several servers in one process, e.g. tests, do not collide). The request path only
// bumps plain numbers; prom-client reads them at scrape time (collect hooks and a histogram
// published from our own buckets), so no labels are hashed per request.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Tally {
  route: string;
  status: string;
  n: number;
}

interface Latency {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests = new Map<string, Tally>();
  private readonly errors = new Map<string, Tally>();
  private readonly latency = new Map<string, Latency>();
  private inFlightCount = 0;
  private rowsCount = 0;
  private feedbackCount = 0;

  /** `labels` go on every series (model and version for a single-model server). */
  constructor(labels: Record<string, string>, defaults = true) {
    this.registry.setDefaultLabels(labels);
    if (defaults) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const tallies = (map: Map<string, Tally>) =>
      function (this: Counter<'route' | 'status'>): void {
        this.reset();
        for (const t of map.values()) this.inc({ route: t.route, status: t.status }, t.n);
      };
    new Counter({
      name: 'maas_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
      collect: tallies(this.requests),
    });
    new Counter({
      name: 'maas_errors_total',
      help: 'Requests answered with an error, by route and status',
      labelNames: ['route', 'status'],
      registers,
      collect: tallies(this.errors),
    });
    const read = (f: () => number) =>
      function (this: Counter | Gauge): void {
        this.reset();
        this.inc(f());
      };
    new Counter({ name: 'maas_inference_rows_total', help: 'Rows predicted', registers, collect: read(() => this.rowsCount) });
    new Counter({ name: 'maas_feedback_total', help: 'Feedback items recorded', registers, collect: read(() => this.feedbackCount) });
    new Gauge({ name: 'maas_requests_in_flight', help: 'Requests being processed', registers, collect: read(() => this.inFlightCount) });
    this.registry.registerMetric(this.latencyMetric() as unknown as Metric);
  }

  /** The latency histogram in prom-client's exposition shape, built from our buckets. */
  private latencyMetric(): object {
    const name = 'maas_request_duration_seconds';
    const help = 'HTTP request latency by route';
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => {
        const values: MetricValue[] = [];
        for (const [route, l] of this.latency) {
          let cumulative = 0;
          LATENCY_BUCKETS.forEach((le, i) => {
            cumulative += l.counts[i]!;
            values.push({ metricName: `${name}_bucket`, labels: { le, route }, value: cumulative });
          });
          values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', route }, value: l.count });
          values.push({ metricName: `${name}_sum`, labels: { route }, value: l.sum });
          values.push({ metricName: `${name}_count`, labels: { route }, value: l.count });
        }
        return { name, help, type: 'histogram', values, aggregator: 'sum' };
      },
      reset: () => this.latency.clear(),
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  started(): void {
    this.inFlightCount++;
  }

  finished(route: string, status: number, seconds: number): void {
    this.inFlightCount--;
    const key = `${route} ${status}`;
    const t = this.requests.get(key);
    if (t) t.n++;
    else this.requests.set(key, { route, status: String(status), n: 1 });
    if (status >= 400) {
      const e = this.errors.get(key);
      if (e) e.n++;
      else this.errors.set(key, { route, status: String(status), n: 1 });
    }
    let l = this.latency.get(route);
    if (!l) {
      l = { counts: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      this.latency.set(route, l);
    }
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    l.counts[i]!++;
    l.sum += seconds;
    l.count++;
  }

  rows(n: number): void {
    this.rowsCount += n;
  }

  feedback(n: number): void {
    this.feedbackCount += n;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

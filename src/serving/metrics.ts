// Prometheus metrics of one model server, on a registry of its own (never prom-client's global
// one, so several servers in one process, e.g. tests, do not collide). The request path only
// bumps plain numbers; prom-client reads them at scrape time (collect hooks and a histogram
// published from our own buckets), so no labels are hashed per request. Per-feature counts come
// from the stats at scrape time; drift gauges hold the last scheduled drift check (and are
// absent until one ran).
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { DriftReport } from '../drift/report.js';

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

/**
 * The samples of one histogram series over LATENCY_BUCKETS: cumulative buckets, +Inf, sum and
 * count, each with `labels`.
 */
export function histogramValues(name: string, labels: Record<string, string>, h: { counts: ArrayLike<number>; count: number; sum: number }): MetricValue[] {
  const values: MetricValue[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS.forEach((le, i) => {
    cumulative += h.counts[i]!;
    values.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
  });
  values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: h.count });
  values.push({ metricName: `${name}_sum`, labels, value: h.sum });
  values.push({ metricName: `${name}_count`, labels, value: h.count });
  return values;
}

export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Counts of one feature since the server started. */
export interface FeatureTotals {
  feature: string;
  missing: number;
  outOfRange: number;
  unseen: number;
}

/** Regression errors over the feedback of the window. */
export interface LiveErrors {
  mae: number;
  rmse: number;
}

const DETECTOR_STATE = { stable: 0, warning: 1, drift: 2 } as const;

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests = new Map<string, Tally>();
  private readonly errors = new Map<string, Tally>();
  private readonly latency = new Map<string, Latency>();
  private inFlightCount = 0;
  private rowsCount = 0;
  private feedbackCount = 0;
  private featureTotals: () => readonly FeatureTotals[] = () => [];
  private lastDrift: { report: DriftReport; atMs: number; errors: LiveErrors | undefined } | undefined;

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
    this.featureMetrics();
    this.driftMetrics();
  }

  /** A metric whose series are computed at scrape time (none: only its HELP and TYPE lines). */
  private computed(name: string, help: string, type: 'counter' | 'gauge', values: () => MetricValue[]): void {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
      reset: () => {},
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }

  private featureMetrics(): void {
    const per = (pick: (t: FeatureTotals) => number) => (): MetricValue[] =>
      this.featureTotals().map((t) => ({ labels: { feature: t.feature }, value: pick(t) }));
    this.computed(
      'maas_feature_out_of_range_total',
      'Numeric values outside the declared range, by feature',
      'counter',
      per((t) => t.outOfRange),
    );
    this.computed(
      'maas_feature_missing_total',
      'Missing values, by feature',
      'counter',
      per((t) => t.missing),
    );
    this.computed(
      'maas_feature_unseen_total',
      'Category values the description does not list (refused), by feature',
      'counter',
      per((t) => t.unseen),
    );
  }

  private driftMetrics(): void {
    const from = (f: (d: { report: DriftReport; atMs: number; errors: LiveErrors | undefined }) => MetricValue[]) => (): MetricValue[] =>
      this.lastDrift ? f(this.lastDrift) : [];
    this.computed(
      'maas_drift_score',
      'Drift score of each feature in the last check: a p-value (ks, chisquare, z) or a distance',
      'gauge',
      from(({ report }) =>
        report.features.flatMap((f) => (f.score === null || !Number.isFinite(f.score) ? [] : [{ labels: { feature: f.name, test: f.test }, value: f.score }])),
      ),
    );
    this.computed(
      'maas_drift_detected',
      'Whether the last check found the feature drifted (1) or not (0)',
      'gauge',
      from(({ report }) => report.features.map((f) => ({ labels: { feature: f.name }, value: f.drifted ? 1 : 0 }))),
    );
    this.computed(
      'maas_dataset_drift_share',
      'Share of tested features that drifted in the last check',
      'gauge',
      from(({ report }) => [{ labels: {}, value: report.dataset.share }]),
    );
    this.computed(
      'maas_dataset_drift',
      'Whether the last check found dataset drift (1) or not (0)',
      'gauge',
      from(({ report }) => [{ labels: {}, value: report.dataset.drifted ? 1 : 0 }]),
    );
    this.computed(
      'maas_concept_drift_detector_state',
      'State of each concept drift detector on the feedback stream: 0 stable, 1 warning, 2 drift',
      'gauge',
      from(({ report }) => (report.concept?.detectors ?? []).map((d) => ({ labels: { detector: d.detector }, value: DETECTOR_STATE[d.state] }))),
    );
    this.computed(
      'maas_live_accuracy',
      'Accuracy on the labelled predictions of the window (classification)',
      'gauge',
      from(({ report }) => {
        const q = report.concept?.quality;
        return q && q.metric === 'accuracy' && q.value !== null ? [{ labels: {}, value: q.value }] : [];
      }),
    );
    this.computed(
      'maas_live_error',
      'Error on the labelled predictions of the window (regression), by metric',
      'gauge',
      from(({ report, errors }) => {
        if (errors)
          return [
            { labels: { metric: 'mae' }, value: errors.mae },
            { labels: { metric: 'rmse' }, value: errors.rmse },
          ];
        const q = report.concept?.quality;
        return q && q.metric !== 'accuracy' && q.value !== null ? [{ labels: { metric: q.metric }, value: q.value }] : [];
      }),
    );
    this.computed(
      'maas_drift_last_check_timestamp_seconds',
      'When the last drift check ran (Unix time)',
      'gauge',
      from(({ atMs }) => [{ labels: {}, value: atMs / 1000 }]),
    );
  }

  /** Where the per-feature counters read their counts (the single-model server's stats). */
  setFeatureTotals(read: () => readonly FeatureTotals[]): void {
    this.featureTotals = read;
  }

  /** The result of a drift check, for the drift gauges (`errors`: regression MAE and RMSE). */
  driftChecked(report: DriftReport, atMs: number, errors?: LiveErrors): void {
    this.lastDrift = { report, atMs, errors };
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
        const values = [...this.latency].flatMap(([route, l]) => histogramValues(name, { route }, l));
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

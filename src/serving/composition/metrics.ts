// Per-member Prometheus series of a composition router, on the server's own registry (next to the
// request metrics): call latency as a histogram, calls by outcome, and agreement and accuracy as
// gauges read from the meters at scrape time. The request path only bumps plain numbers.
import type { Metric, Registry } from 'prom-client';
import { histogramValues, LATENCY_BUCKETS, type MetricValue } from '../metrics.js';
import type { CallOutcome } from './member-client.js';

interface MemberSeries {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
  outcomes: Record<CallOutcome, number>;
  forwarded: { ok: number; failed: number };
}

/** What the gauges read: per member key, agreement and accuracy (null: nothing measured yet). */
export type MemberGauges = () => readonly { member: string; agreement: number | null; accuracy: number | null }[];

export class MemberMetrics {
  private readonly series = new Map<string, MemberSeries>();

  constructor(registry: Registry, gauges: MemberGauges) {
    const register = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => MetricValue[]): void => {
      const metric = {
        name,
        help,
        type,
        aggregator: 'sum',
        get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
        reset: () => {},
      };
      registry.registerMetric(metric as unknown as Metric);
    };
    const histogram = 'maas_member_request_duration_seconds';
    register(histogram, 'Latency of requests to each member (answers, errors and timeouts)', 'histogram', () => {
      return [...this.series].flatMap(([member, s]) => histogramValues(histogram, { member }, s));
    });
    register('maas_member_requests_total', 'Requests to each member by outcome (answered, error, timeout)', 'counter', () =>
      [...this.series].flatMap(([member, s]) =>
        (['answered', 'error', 'timeout'] as const).map((outcome) => ({ labels: { member, outcome }, value: s.outcomes[outcome] })),
      ),
    );
    register('maas_member_feedback_forwarded_total', 'Feedback batches forwarded to each member, by result (ok, failed)', 'counter', () =>
      [...this.series].flatMap(([member, s]) => [
        { labels: { member, result: 'ok' }, value: s.forwarded.ok },
        { labels: { member, result: 'failed' }, value: s.forwarded.failed },
      ]),
    );
    register('maas_member_agreement_ratio', "Share of each member's answers that were the composition's", 'gauge', () =>
      gauges().flatMap((g) => (g.agreement === null ? [] : [{ labels: { member: g.member }, value: g.agreement }])),
    );
    register('maas_member_accuracy_ratio', "Each member's accuracy on the composition's labelled predictions (classification)", 'gauge', () =>
      gauges().flatMap((g) => (g.accuracy === null ? [] : [{ labels: { member: g.member }, value: g.accuracy }])),
    );
  }

  private of(member: string): MemberSeries {
    let s = this.series.get(member);
    if (!s) {
      s = {
        counts: new Float64Array(LATENCY_BUCKETS.length + 1),
        sum: 0,
        count: 0,
        outcomes: { answered: 0, error: 0, timeout: 0 },
        forwarded: { ok: 0, failed: 0 },
      };
      this.series.set(member, s);
    }
    return s;
  }

  /** One request to `member` that ended with `outcome` after `seconds`. */
  call(member: string, outcome: CallOutcome, seconds: number): void {
    const s = this.of(member);
    s.outcomes[outcome]++;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** One feedback batch forwarded to `member` (after its retries). */
  forwarded(member: string, ok: boolean): void {
    const s = this.of(member);
    if (ok) s.forwarded.ok++;
    else s.forwarded.failed++;
  }
}

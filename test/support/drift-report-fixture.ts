// A realistic drift report for tests of the renderers (HTML, table, JSON): numeric and categorical
// features, some drifted, one tested on histograms only, one that could not be tested, and a
// concept-drift section with a 300-point timeline and detector events. Deterministic.
import { random } from '../../bench/model-fixtures.js';
import { DRIFT_REPORT_SCHEMA, type DetectorSummary, type DriftReport, type FeatureDrift, type FeaturePlot } from '../../src/drift/report.js';

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

function normalize(weights: number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  return weights.map((w) => (total > 0 ? round(w / total) : 0));
}

/** Equal-width edges over [lo, hi]. */
function edges(lo: number, hi: number, bins: number): number[] {
  return Array.from({ length: bins + 1 }, (_, i) => round(lo + ((hi - lo) * i) / bins, 6));
}

/** Shares of a normal (or log-normal when `log`) distribution per bin, with a little noise. */
function shares(e: number[], mean: number, std: number, rnd: () => number, log = false): number[] {
  const density = (x: number): number => {
    const v = log ? Math.log(Math.max(x, 1e-9)) : x;
    return Math.exp(-0.5 * ((v - mean) / std) ** 2) / (log ? Math.max(x, 1e-9) : 1);
  };
  const w: number[] = [];
  for (let i = 0; i + 1 < e.length; i++) {
    const mid = ((e[i] ?? 0) + (e[i + 1] ?? 0)) / 2;
    w.push(density(mid) * (0.92 + 0.16 * rnd()));
  }
  return normalize(w);
}

function numeric(e: number[], reference: number[], current: number[]): FeaturePlot {
  return { kind: 'numeric', edges: e, reference, current };
}

function categorical(categories: string[], reference: number[], current: number[]): FeaturePlot {
  return { kind: 'categorical', categories, reference: normalize(reference), current: normalize(current) };
}

type Base = Pick<FeatureDrift, 'name' | 'type' | 'test' | 'measure' | 'statistic' | 'p_value' | 'score' | 'threshold' | 'plot'>;

function feature(base: Base, more: Partial<FeatureDrift> = {}): FeatureDrift {
  const drifted = base.score === null ? false : base.measure === 'p_value' ? base.score < base.threshold : base.score >= base.threshold;
  return {
    ...base,
    drifted,
    basis: 'values',
    chosen_by: 'default',
    reference: { count: 48_210, missing: 0 },
    current: { count: 5_000, missing: 0, out_of_range: 0, unseen: 0 },
    ...more,
  };
}

function features(): FeatureDrift[] {
  const rnd = random(20250612);
  const ageEdges = edges(18, 90, 18);
  const incomeEdges = edges(0, 250_000, 20);
  const sessionEdges = edges(0, 3600, 20);
  const latencyEdges = edges(0, 800, 16);
  const ltvEdges = edges(-50, 450, 20);

  const countries = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'ES', 'IT', 'NL', 'MX'];
  const countryRef = [34, 12, 11, 8, 7, 6, 5, 5, 4, 3, 3, 2];
  const countryCur = [22, 10, 9, 8, 19, 11, 4, 4, 4, 3, 3, 3];

  const skus = Array.from({ length: 45 }, (_, i) => `SKU-${String(1000 + i * 37)}${i % 7 === 0 ? '-limited-edition-bundle' : ''}`);
  const skuRef = skus.map((_, i) => 100 / (i + 2) ** 0.9);
  const skuCur = skus.map((_, i) => (100 / (i + 2) ** 0.9) * (i % 5 === 0 ? 1.9 : 0.8 + 0.3 * rnd()));

  return [
    feature({
      name: 'age',
      type: 'integer',
      test: 'ks',
      measure: 'p_value',
      statistic: 0.0132,
      p_value: 0.4112,
      score: 0.4112,
      threshold: 0.05,
      plot: numeric(ageEdges, shares(ageEdges, 41, 12, rnd), shares(ageEdges, 42, 12.5, rnd)),
    }),
    feature(
      {
        name: 'income',
        type: 'number',
        test: 'wasserstein',
        measure: 'distance',
        statistic: 0.2311,
        p_value: null,
        score: 0.2311,
        threshold: 0.1,
        plot: numeric(incomeEdges, shares(incomeEdges, Math.log(52_000), 0.5, rnd, true), shares(incomeEdges, Math.log(71_000), 0.55, rnd, true)),
      },
      { current: { count: 4_962, missing: 38, out_of_range: 37, unseen: 0 } },
    ),
    feature({
      name: 'session_length_s',
      type: 'number',
      test: 'ks',
      measure: 'p_value',
      statistic: 0.1874,
      p_value: 3.2e-14,
      score: 3.2e-14,
      threshold: 0.05,
      plot: numeric(sessionEdges, shares(sessionEdges, Math.log(420), 0.7, rnd, true), shares(sessionEdges, Math.log(260), 0.8, rnd, true)),
    }),
    feature(
      {
        name: 'latency_ms',
        type: 'number',
        test: 'psi',
        measure: 'distance',
        statistic: 0.0812,
        p_value: null,
        score: 0.0812,
        threshold: 0.1,
        plot: numeric(latencyEdges, shares(latencyEdges, 180, 90, rnd), shares(latencyEdges, 205, 95, rnd)),
      },
      { basis: 'histogram', chosen_by: 'description', current: { count: 5_000, missing: 0, out_of_range: 4, unseen: 0 } },
    ),
    feature(
      {
        name: 'country',
        type: 'category',
        test: 'chisquare',
        measure: 'p_value',
        statistic: 412.7,
        p_value: 1.18e-6,
        score: 1.18e-6,
        threshold: 0.05,
        plot: categorical(countries, countryRef, countryCur),
      },
      { current: { count: 4_988, missing: 12, out_of_range: 0, unseen: 12 } },
    ),
    feature({
      name: 'device',
      type: 'category',
      test: 'jensenshannon',
      measure: 'distance',
      statistic: 0.0391,
      p_value: null,
      score: 0.0391,
      threshold: 0.1,
      plot: categorical(['mobile', 'desktop', 'tablet', 'tv'], [61, 31, 7, 1], [64, 29, 6, 1]),
    }),
    feature({
      name: 'is_returning',
      type: 'boolean',
      test: 'z',
      measure: 'p_value',
      statistic: 0.49,
      p_value: 0.6241,
      score: 0.6241,
      threshold: 0.05,
      plot: categorical(['false', 'true'], [58, 42], [57.4, 42.6]),
    }),
    feature(
      {
        name: 'product_sku',
        type: 'category',
        test: 'jensenshannon',
        measure: 'distance',
        statistic: 0.1236,
        p_value: null,
        score: 0.1236,
        threshold: 0.1,
        plot: categorical(skus, skuRef, skuCur),
      },
      { chosen_by: 'flag', current: { count: 5_000, missing: 0, out_of_range: 0, unseen: 57 } },
    ),
    feature(
      {
        name: 'referrer',
        type: 'category',
        test: 'chisquare',
        measure: 'p_value',
        statistic: null,
        p_value: null,
        score: null,
        threshold: 0.05,
        plot: null,
      },
      { error: 'no current values: all 5,000 rows are missing referrer', current: { count: 0, missing: 5_000, out_of_range: 0, unseen: 0 } },
    ),
    feature({
      name: 'customer_lifetime_value_estimate_90d_rolling_mean',
      type: 'number',
      test: 'wasserstein',
      measure: 'distance',
      statistic: 0.0417,
      p_value: null,
      score: 0.0417,
      threshold: 0.1,
      plot: numeric(ltvEdges, shares(ltvEdges, 120, 80, rnd), shares(ltvEdges, 128, 84, rnd)),
    }),
  ];
}

/** Rolling accuracy over 300 labelled feedback rows: ~0.92, then a decline after row ~170. */
function timeline(): { index: number; value: number }[] {
  const rnd = random(7);
  const points: { index: number; value: number }[] = [];
  for (let i = 0; i < 300; i++) {
    const level = i < 170 ? 0.92 : 0.92 - Math.min(0.14, (i - 170) * 0.0018);
    points.push({ index: i, value: round(Math.min(1, level + (rnd() - 0.5) * 0.04)) });
  }
  return points;
}

const DETECTORS: DetectorSummary[] = [
  { detector: 'ddm', state: 'drift', warnings: [176, 181, 185, 189], drifts: [196] },
  { detector: 'eddm', state: 'warning', warnings: [205, 231, 262], drifts: [] },
  { detector: 'adwin', state: 'drift', warnings: [], drifts: [212, 268] },
  { detector: 'page-hinkley', state: 'stable', warnings: [], drifts: [] },
];

/** A drift report for a churn classifier: data drift on 4 of 10 features and concept drift on feedback. */
export function sampleDriftReport(): DriftReport {
  const list = features();
  const drifted = list.filter((f) => f.drifted).length;
  const threshold = 0.3;
  const share = drifted / list.length;
  return {
    schema: DRIFT_REPORT_SCHEMA,
    generated_at: '2025-06-12T09:30:00.000Z',
    subject: { model: 'churn-classifier', version: '3.2.0', deployment: 'churn-prod' },
    reference: { source: 'profile of churn-classifier@3.2.0 (train.csv, sample of 10,000 rows)', rows: 48_210 },
    current: { source: 'request log of deployment churn-prod', rows: 5_000, since: '2025-06-11T09:30:00Z', until: '2025-06-12T09:30:00Z' },
    features: list,
    dataset: { drifted: share >= threshold, share, threshold, drifted_features: drifted, features: list.length },
    concept: {
      stream: 'error_indicator',
      labelled: 300,
      quality: { metric: 'accuracy', labelled: 300, value: 0.842, interval: [0.8, 0.879], declared: 0.91, degraded: true },
      detectors: DETECTORS.map((d) => ({ ...d, warnings: [...d.warnings], drifts: [...d.drifts] })),
      drifted: true,
      timeline: timeline(),
    },
    notes: [
      'latency_ms: the current window only had histograms; psi ran on the profile bins (strict placement).',
      'referrer: no current values, so it was not tested and does not count as drifted.',
      'product_sku: 57 current values were categories the reference never saw.',
    ],
    drift_detected: true,
  };
}

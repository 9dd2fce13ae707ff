// The drift report: one shape for the CLI (table, JSON, YAML, HTML) and the model server's
// `GET /v2/models/{name}/drift`. Field names are snake_case like the rest of the wire; the shape is
// documented in the README ("Drift report") and versioned by `schema`.

import type { LiveQuality } from './live-quality.js';

export const DRIFT_REPORT_SCHEMA = 'maas.dev/drift/v1';

/** Distributions drawn over each other in the HTML report, as shares of each side's present values. */
export type FeaturePlot =
  | { kind: 'numeric'; edges: number[]; reference: number[]; current: number[] }
  | { kind: 'categorical'; categories: string[]; reference: number[]; current: number[] };

export interface FeatureDrift {
  name: string;
  type: 'number' | 'integer' | 'category' | 'boolean';
  /** ks, wasserstein, chisquare, z, jensenshannon, psi, kl, hellinger. */
  test: string;
  /** Whether `score` is a p-value (drift below the threshold) or a distance (drift at or above it). */
  measure: 'p_value' | 'distance';
  statistic: number | null;
  p_value: number | null;
  score: number | null;
  threshold: number;
  drifted: boolean;
  /** `values` when the test ran on rows; `histogram` when only aggregates were available (strict placement). */
  basis: 'values' | 'histogram';
  /** Why the test chose itself: `default` (Evidently's rule by type and size), `description`, `flag`. */
  chosen_by: 'default' | 'description' | 'flag';
  reference: { count: number; missing: number };
  current: { count: number; missing: number; out_of_range: number; unseen: number };
  plot: FeaturePlot | null;
  /** Set when the test could not run (e.g. no current values); such a feature is not drifted. */
  error?: string;
}

export interface DatasetDrift {
  drifted: boolean;
  share: number;
  threshold: number;
  drifted_features: number;
  features: number;
}

export interface DetectorSummary {
  detector: 'ddm' | 'eddm' | 'adwin' | 'page-hinkley';
  state: 'stable' | 'warning' | 'drift';
  /** 0-based positions in the feedback stream, in arrival order. */
  warnings: number[];
  drifts: number[];
}

/** Live quality from feedback against what the description declares. */
export type QualitySummary = LiveQuality;

export interface ConceptDrift {
  /** What the detectors read: 1/0 errors (classification) or absolute errors (regression). */
  stream: 'error_indicator' | 'absolute_error';
  labelled: number;
  quality: QualitySummary;
  detectors: DetectorSummary[];
  drifted: boolean;
  /** Rolling accuracy (or mean absolute error) over the feedback stream, for the timeline plot. */
  timeline: { index: number; value: number }[];
}

export interface DriftReport {
  schema: typeof DRIFT_REPORT_SCHEMA;
  generated_at: string;
  subject: { model: string | null; version: string | null; deployment: string | null };
  reference: { source: string; rows: number };
  current: { source: string; rows: number; since: string | null; until: string | null };
  features: FeatureDrift[];
  dataset: DatasetDrift;
  concept: ConceptDrift | null;
  /** Anything the reader should know (e.g. tests that fell back to histograms, small samples). */
  notes: string[];
  /** True when data drift or concept drift was found (what `--fail-on-drift` exits 3 on). */
  drift_detected: boolean;
}

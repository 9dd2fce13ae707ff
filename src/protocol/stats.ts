// What `GET /v2/models/{name}/stats` answers: the live window of a served model (feature
// histograms and counts, predictions, quality from feedback, a row sample) and the log size.

export interface NumericSummary {
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** `counts[i]` holds values in [edges[i], edges[i+1]); out-of-range values are counted apart. */
  histogram: { edges: number[]; counts: number[]; underflow: number; overflow: number };
}

/** Category and boolean features: how often each value came. */
export interface CountSummary {
  count: number;
  missing: number;
  counts: Record<string, number>;
}

/** What the window saw of a feature besides its distribution (optional: older servers leave these out). */
export interface FeatureCounts {
  /** Numeric values outside the declared range, in the window (served, or refused with `ranges: reject`). */
  out_of_range?: number;
  /** Category values (or codes) the description does not list, in the window; such requests are refused. */
  unseen?: number;
  /** Since the server started. */
  total?: { missing: number; out_of_range: number; unseen: number };
}

export type FeatureStats = { name: string; type: string } & FeatureCounts & (NumericSummary | CountSummary);

/** Classification: counts per label and the mean top probability. */
export interface LabelStats {
  counts: Record<string, number>;
  mean_confidence: number | null;
}

export interface FeedbackStats {
  labelled: number;
  accuracy?: number | null;
  /** `matrix[true][predicted]`, rows and columns in `labels` order. */
  confusion?: { labels: readonly string[]; matrix: number[][] };
  mae?: number | null;
  rmse?: number | null;
}

export interface StatsSnapshot {
  model_name: string;
  model_version: string;
  window: { capacity: number; rows: number; since: string | null; until: string };
  total: { rows: number; feedback: number };
  features: FeatureStats[];
  /** Classification: label counts; regression: a numeric summary of the predicted values. */
  predictions: LabelStats | NumericSummary;
  feedback: FeedbackStats;
  /**
   * A uniform sample of the window: rows as clients send them, each with its prediction. Under
   * strict placement no row is kept: `capacity` 0, no rows, and `withheld` says why.
   */
  reservoir: { capacity: number; features: string[]; rows: unknown[][]; predictions: (string | number | null)[]; withheld?: string };
}

/** The stats answer: the window and the number of rows the request log keeps. */
export interface StatsWire extends StatsSnapshot {
  log: { rows: number };
}

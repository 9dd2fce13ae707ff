// What a composition router answers at `GET /v2/models/{composition}/members`: per-member
// measurements from real traffic and feedback, and the composition's own. `maas compose status
// -o json` prints it (under `measurements`); adaptive recomposition reads it.

/** Latency in milliseconds over the measured window; null before the first answer. */
export interface LatencyWire {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

/** Effectiveness from ground truth: accuracy (classification) or MAE/RMSE (regression). */
export interface QualityWire {
  /** Predictions with ground truth. */
  labelled: number;
  /** Classification: labelled predictions that were right. */
  correct?: number;
  /** Classification: correct / labelled; null without labelled predictions. */
  accuracy?: number | null;
  /** Regression: mean absolute and root mean squared error; null without labelled predictions. */
  mae?: number | null;
  rmse?: number | null;
}

/** Quality per window of `window` labelled predictions, oldest first (the last one may be partial). */
export interface HistoryWire {
  window: number;
  points: { end: string; labelled: number; accuracy?: number; mae?: number }[];
}

export interface MemberStatsWire {
  /** `NAME@VERSION` the member serves. */
  key: string;
  deployment: string;
  role: 'member' | 'primary' | 'shadow';
  weight: number;
  /** Requests sent to the member. */
  requests: number;
  /** Answers in time and without error. */
  answered: number;
  errors: number;
  timeouts: number;
  /** answered / requests; null before the first request. */
  reliability: number | null;
  latencyMs: LatencyWire;
  /**
   * How often the member's answer was the composition's (classification: same label; regression:
   * within 10 % of the composition's value, and the mean absolute difference).
   */
  agreement: { compared: number; rate: number | null; meanAbsDiff?: number | null };
  quality: QualityWire;
  history: HistoryWire;
}

export interface CompositionStatsWire {
  /** `NAME@VERSION` of the composition. */
  composition: string;
  mode: 'ensemble' | 'split' | 'shadow';
  aggregation?: string;
  /** When measuring began (the router's start), ISO 8601. */
  since: string;
  requests: number;
  /** Requests the composition could not answer (no member answered). */
  errors: number;
  latencyMs: LatencyWire;
  quality: QualityWire;
  history: HistoryWire;
  members: MemberStatsWire[];
}

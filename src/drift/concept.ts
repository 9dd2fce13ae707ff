// Concept drift on the feedback stream, in arrival order: the online detectors (DDM and EDDM on
// the 0/1 error indicator of classification; ADWIN and Page-Hinkley on it or on regression's
// absolute errors), live quality against the declared performance, and a rolling timeline.
import { runDetectors, type DetectorName } from './detectors/index.js';
import { liveAccuracy, liveError } from './live-quality.js';
import type { ConceptDrift, DetectorSummary } from './report.js';

export type FeedbackStream = { kind: 'classification'; correct: ArrayLike<number> } | { kind: 'regression'; absErrors: ArrayLike<number> };

export interface DeclaredPerformance {
  accuracy?: number | undefined;
  mae?: number | undefined;
  rmse?: number | undefined;
}

const CLASSIFICATION_DETECTORS: readonly DetectorName[] = ['ddm', 'eddm', 'adwin', 'page-hinkley'];
const REGRESSION_DETECTORS: readonly DetectorName[] = ['adwin', 'page-hinkley'];
const TIMELINE_POINTS = 500;
const VERDICT_DETECTORS: readonly DetectorName[] = ['adwin', 'page-hinkley'];

/** Rolling mean over a trailing window, at most TIMELINE_POINTS points. */
export function rollingTimeline(values: ArrayLike<number>, window?: number): { index: number; value: number }[] {
  const n = values.length;
  if (n === 0) return [];
  const w = Math.max(1, window ?? Math.min(200, Math.max(20, Math.round(n / 20))));
  const step = Math.max(1, Math.ceil(n / TIMELINE_POINTS));
  const out: { index: number; value: number }[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += values[i]!;
    if (i >= w) sum -= values[i - w]!;
    if (i % step === step - 1 || i === n - 1) out.push({ index: i, value: sum / Math.min(i + 1, w) });
  }
  return out;
}

export function detectConceptDrift(stream: FeedbackStream, declared: DeclaredPerformance = {}, detectors?: readonly DetectorName[]): ConceptDrift {
  const errors: ArrayLike<number> = stream.kind === 'classification' ? Float64Array.from(stream.correct, (c) => (c ? 0 : 1)) : stream.absErrors;
  const names = detectors ?? (stream.kind === 'classification' ? CLASSIFICATION_DETECTORS : REGRESSION_DETECTORS);
  const runs = runDetectors(errors, names);
  const summaries: DetectorSummary[] = runs.map((r) => ({
    detector: r.detector,
    state: r.state,
    warnings: r.events.filter((e) => e.kind === 'warning').map((e) => e.index),
    drifts: r.events.filter((e) => e.kind === 'drift').map((e) => e.index),
  }));
  let quality;
  if (stream.kind === 'classification') {
    let correct = 0;
    for (let i = 0; i < stream.correct.length; i++) correct += stream.correct[i] ? 1 : 0;
    quality = liveAccuracy(stream.correct.length, correct, declared.accuracy);
  } else {
    const metric = declared.rmse !== undefined && declared.mae === undefined ? 'rmse' : 'mae';
    quality = liveError(metric, stream.absErrors, metric === 'rmse' ? declared.rmse : declared.mae);
  }
  const timeline = stream.kind === 'classification' ? rollingTimeline(stream.correct) : rollingTimeline(stream.absErrors);
  return {
    stream: stream.kind === 'classification' ? 'error_indicator' : 'absolute_error',
    labelled: errors.length,
    quality: {
      metric: quality.metric,
      labelled: quality.labelled,
      value: quality.value,
      interval: quality.interval,
      declared: quality.declared,
      degraded: quality.degraded,
    },
    detectors: summaries,
    // The verdict rests on ADWIN and Page-Hinkley, which stay quiet on stable streams at River's
    // defaults, and on live quality; DDM and EDDM are shown but alarm early at their defaults
    // (EDDM flags even stable streams), so alone they do not make a verdict.
    drifted: summaries.some((d) => VERDICT_DETECTORS.includes(d.detector) && d.drifts.length > 0) || quality.degraded,
    timeline,
  };
}

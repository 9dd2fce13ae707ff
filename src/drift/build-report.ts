// Assembles the drift report from its parts: data drift (always) and concept drift (when there
// is feedback). One function for the CLI's offline checks and the model server's window.
import type { FeatureSpec, ModelDescription } from '../spec/schema.js';
import { detectConceptDrift, type FeedbackStream } from './concept.js';
import { detectDataDrift, type DriftFeature, type DriftSettings, type DriftSide } from './data-drift.js';
import { DRIFT_REPORT_SCHEMA, type DriftReport } from './report.js';

export interface ReportInput {
  features: readonly DriftFeature[];
  reference: DriftSide;
  current: DriftSide;
  settings?: DriftSettings;
  subject?: { model?: string; version?: string; deployment?: string };
  window?: { since: string | null; until: string | null };
  feedback?: FeedbackStream;
  declared?: { accuracy?: number; mae?: number; rmse?: number };
  generatedAt: string;
  notes?: readonly string[];
}

export function buildDriftReport(input: ReportInput): DriftReport {
  const data = detectDataDrift(input.features, input.reference, input.current, input.settings);
  const concept = input.feedback ? detectConceptDrift(input.feedback, input.declared ?? {}) : null;
  return {
    schema: DRIFT_REPORT_SCHEMA,
    generated_at: input.generatedAt,
    subject: { model: input.subject?.model ?? null, version: input.subject?.version ?? null, deployment: input.subject?.deployment ?? null },
    reference: { source: input.reference.source, rows: input.reference.rows },
    current: { source: input.current.source, rows: input.current.rows, since: input.window?.since ?? null, until: input.window?.until ?? null },
    features: data.features,
    dataset: data.dataset,
    concept: concept && concept.labelled > 0 ? concept : null,
    notes: [...(input.notes ?? []), ...data.notes],
    drift_detected: data.dataset.drifted || (concept !== null && concept.labelled > 0 && concept.drifted),
  };
}

/** The features of a description as the drift tests see them. */
export function driftFeatures(features: readonly FeatureSpec[]): DriftFeature[] {
  return features.map((f) => ({ name: f.name, type: f.type, range: f.range, values: f.values }));
}

/** Tests and thresholds a description asks for (`spec.monitoring`). */
export function descriptionSettings(description: ModelDescription): DriftSettings['description'] {
  const m = description.spec.monitoring;
  if (!m) return undefined;
  return {
    ...(m.test !== undefined ? { test: m.test } : {}),
    ...(m.threshold !== undefined ? { threshold: m.threshold } : {}),
    ...(m.features ? { features: m.features } : {}),
    ...(m.datasetShare !== undefined ? { datasetShare: m.datasetShare } : {}),
  };
}

/** Declared performance the live quality is compared with. */
export function declaredPerformance(description: ModelDescription): { accuracy?: number; mae?: number; rmse?: number } {
  const p = description.spec.performance ?? {};
  return {
    ...(p.accuracy !== undefined ? { accuracy: p.accuracy } : {}),
    ...(p.mae !== undefined ? { mae: p.mae } : {}),
    ...(p.rmse !== undefined ? { rmse: p.rmse } : {}),
  };
}

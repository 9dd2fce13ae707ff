// Lineage of model versions in the embedded registry: one row per version that was produced by a
// training run (`maas retrain`), deleted with the version. The inputs are JSON (a short list);
// the columns beside them answer "what was it trained from, and when" without parsing.
import type { ModelLineage } from '../../domain/training.js';
import type { Db } from './database.js';

export const LINEAGE_MIGRATION_SQL = `
CREATE TABLE model_lineage (
  version_id       INTEGER PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
  parent_version   TEXT NOT NULL,
  trigger          TEXT NOT NULL,
  inputs           TEXT NOT NULL,
  feedback_since   TEXT,
  feedback_until   TEXT,
  training_seconds REAL NOT NULL,
  target           TEXT NOT NULL,
  trained_at       TEXT NOT NULL
);
`;

interface LineageRow {
  parent_version: string;
  trigger: string;
  inputs: string;
  feedback_since: string | null;
  feedback_until: string | null;
  training_seconds: number;
  target: string;
  trained_at: string;
}

/** Stores or replaces the lineage of a version (call inside a write transaction). */
export function putLineage(db: Db, versionId: number, l: ModelLineage): void {
  db.prepare(
    `INSERT OR REPLACE INTO model_lineage (version_id, parent_version, trigger, inputs, feedback_since, feedback_until, training_seconds, target, trained_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    versionId,
    l.parentVersion,
    l.trigger,
    JSON.stringify(l.inputs),
    l.feedbackWindow?.since ?? null,
    l.feedbackWindow?.until ?? null,
    l.trainingSeconds,
    l.target,
    l.trainedAt,
  );
}

export function readLineage(db: Db, versionId: number): ModelLineage | undefined {
  const row = db
    .prepare(
      'SELECT parent_version, trigger, inputs, feedback_since, feedback_until, training_seconds, target, trained_at FROM model_lineage WHERE version_id = ?',
    )
    .get(versionId) as LineageRow | undefined;
  if (!row) return undefined;
  const window = {
    ...(row.feedback_since !== null ? { since: row.feedback_since } : {}),
    ...(row.feedback_until !== null ? { until: row.feedback_until } : {}),
  };
  return {
    parentVersion: row.parent_version,
    trigger: row.trigger as ModelLineage['trigger'],
    inputs: JSON.parse(row.inputs) as ModelLineage['inputs'],
    ...(Object.keys(window).length > 0 ? { feedbackWindow: window } : {}),
    trainingSeconds: row.training_seconds,
    target: row.target as ModelLineage['target'],
    trainedAt: row.trained_at,
  };
}

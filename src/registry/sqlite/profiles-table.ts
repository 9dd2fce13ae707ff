// Reference profiles in the embedded registry: one row per model version that has one, deleted
// with the version. The profile is JSON as built; the columns beside it answer "is there one, of
// how many rows" without parsing it (a profile with its sample can be megabytes).
import type { ReferenceProfile } from '../../drift/profile.js';
import type { ProfileSummary } from '../ports.js';
import type { Db } from './database.js';

export const PROFILES_MIGRATION_SQL = `
CREATE TABLE model_profiles (
  version_id    INTEGER PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
  profile       TEXT NOT NULL,
  row_count     INTEGER NOT NULL,
  feature_count INTEGER NOT NULL,
  sample_rows   INTEGER NOT NULL,
  source_uri    TEXT NOT NULL,
  source_digest TEXT,
  created_at    TEXT NOT NULL
);
`;

interface SummaryRow {
  row_count: number;
  feature_count: number;
  sample_rows: number;
  source_uri: string;
  source_digest: string | null;
  created_at: string;
}

/** Stores or replaces the profile of a version (call inside a write transaction). */
export function putProfile(db: Db, versionId: number, profile: ReferenceProfile): void {
  db.prepare(
    `INSERT OR REPLACE INTO model_profiles (version_id, profile, row_count, feature_count, sample_rows, source_uri, source_digest, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    versionId,
    JSON.stringify(profile),
    profile.rows,
    profile.features.length,
    profile.sample.rows.length,
    profile.source.uri,
    profile.source.digest ?? null,
    profile.createdAt,
  );
}

export function readProfile(db: Db, versionId: number): ReferenceProfile | undefined {
  const row = db.prepare('SELECT profile FROM model_profiles WHERE version_id = ?').get(versionId) as { profile: string } | undefined;
  return row && (JSON.parse(row.profile) as ReferenceProfile);
}

export function readProfileSummary(db: Db, versionId: number): ProfileSummary | undefined {
  const row = db
    .prepare('SELECT row_count, feature_count, sample_rows, source_uri, source_digest, created_at FROM model_profiles WHERE version_id = ?')
    .get(versionId) as SummaryRow | undefined;
  if (!row) return undefined;
  return {
    rows: row.row_count,
    features: row.feature_count,
    sampleRows: row.sample_rows,
    source: { uri: row.source_uri, ...(row.source_digest !== null ? { digest: row.source_digest } : {}) },
    createdAt: row.created_at,
  };
}

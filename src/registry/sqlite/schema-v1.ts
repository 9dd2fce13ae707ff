// Schema version 1. One narrow row per model version with the fields search filters on copied
// out of the spec (so a search never parses JSON); the spec JSON itself lives in its own table so
// scans over versions stay small. Side tables hold the many-valued requirements, each indexed by
// (what is searched, version_id) so a requirement is an index range that yields candidate ids.
// Free text goes to a contentless FTS5 index (the text is rebuilt from the spec when needed).
export const MODEL_VERSIONS_V1 = `
CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  spec_digest TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  artifact_size INTEGER NOT NULL,
  artifact_uri TEXT NOT NULL,
  artifact_path TEXT,
  registered_at TEXT NOT NULL,
  task TEXT NOT NULL,
  algorithm TEXT NOT NULL COLLATE NOCASE,
  cpu_millis INTEGER,
  memory_bytes INTEGER,
  gpu INTEGER NOT NULL DEFAULT 0,
  latency_ms REAL,
  reliability REAL,
  -- 1 on the highest version of each name; kept up to date on insert and delete.
  is_latest INTEGER NOT NULL DEFAULT 0 CHECK (is_latest IN (0, 1)),
  UNIQUE (name, version)
);
-- Covers every column a search filters or ranks on, so ranking the versions in scope reads this
-- index alone (the planner skip-scans is_latest when searching all versions).
CREATE INDEX model_versions_search ON model_versions (is_latest, task, algorithm, cpu_millis, memory_bytes, gpu, latency_ms, reliability, registered_at);

CREATE TABLE model_specs (
  version_id INTEGER PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
  spec TEXT NOT NULL
);

CREATE TABLE model_features (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (version_id, name)
) WITHOUT ROWID;
CREATE INDEX model_features_name ON model_features (name, type, version_id);

CREATE TABLE model_metrics (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE,
  value REAL NOT NULL,
  PRIMARY KEY (version_id, name)
) WITHOUT ROWID;
CREATE INDEX model_metrics_name ON model_metrics (name, value, version_id);

CREATE TABLE model_labels (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
) WITHOUT ROWID;
CREATE INDEX model_labels_pair ON model_labels (key, value, version_id);

-- rowid = model_versions.id
CREATE VIRTUAL TABLE model_text USING fts5 (
  name, description, algorithm, labels, features,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
`;

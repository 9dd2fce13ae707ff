// The control plane's tables in the embedded registry database: the durable job queue (jobs and
// their log lines), API tokens (only a salted scrypt hash of each secret), the audit log of
// mutating calls, and idempotency keys (the first response to a keyed request, replayed to a
// repeat). They live beside the models and deployments so that one SQLite file, one backup and
// one transaction boundary hold a home's whole state.

/** Migration 8: jobs, job logs, API tokens, audit log, idempotency keys. */
export const CONTROL_PLANE_MIGRATION_SQL = `
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  payload         TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  owner           TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL DEFAULT 3,
  run_after       TEXT NOT NULL,
  lease_owner     TEXT,
  lease_until     TEXT,
  progress        TEXT,
  result          TEXT,
  error           TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  started_at      TEXT,
  finished_at     TEXT
);
CREATE INDEX jobs_ready ON jobs (state, run_after);
CREATE TABLE job_logs (
  job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  at      TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  salt         BLOB NOT NULL,
  hash         BLOB NOT NULL,
  created_at   TEXT NOT NULL,
  created_by   TEXT,
  expires_at   TEXT,
  revoked_at   TEXT,
  last_used_at TEXT
);
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  request_id TEXT NOT NULL,
  token_id   TEXT,
  token_name TEXT,
  method     TEXT NOT NULL,
  path       TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT,
  status     INTEGER NOT NULL,
  code       TEXT,
  ip         TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE idempotency_keys (
  owner       TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status      INTEGER,
  body        TEXT,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (owner, key)
);
`;

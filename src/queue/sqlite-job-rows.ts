// Rows of the `jobs` and `job_logs` tables as JobRecords. Idempotency keys are stored scoped to
// their owner (the column is unique on its own), so two owners never see each other's job.
import { unscopedKey } from './idempotency.js';
import type { JobError, JobRecord, JobState } from './port.js';
import { parseJobError } from './transient.js';

export interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  payload: string;
  idempotency_key: string | null;
  owner: string | null;
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  progress: string | null;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface JobLogRow {
  seq: number;
  at: string;
  message: string;
}

/** Plain JSON text; `undefined` (a runner that returns nothing) is stored as NULL. */
export function toJsonText(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value) ?? null;
}

export function jobErrorText(error: JobError): string {
  return JSON.stringify(error);
}

export function rowToRecord(row: JobRow, logs: readonly JobLogRow[]): JobRecord {
  const record: JobRecord = {
    id: row.id,
    kind: row.kind,
    state: row.state,
    payload: JSON.parse(row.payload) as unknown,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    logs: logs.map((l) => ({ at: l.at, message: l.message })),
  };
  if (row.idempotency_key !== null) record.idempotencyKey = unscopedKey(row.idempotency_key);
  if (row.owner !== null) record.owner = row.owner;
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  if (row.progress !== null) record.progress = row.progress;
  if (row.result !== null) record.result = JSON.parse(row.result) as unknown;
  if (row.error !== null) record.error = parseJobError(row.error);
  if (row.state === 'queued') record.runAfter = row.run_after;
  return record;
}

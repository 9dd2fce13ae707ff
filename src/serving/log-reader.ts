// Reads a request log file back as one record per predicted row, inputs decoded by the feature
// list stored in the log itself (for retraining on feedback, audits, tests). Read-only; safe
// while a server writes the same file (WAL).
import Database from 'better-sqlite3';

export interface LoggedFeature {
  name: string;
  type: 'number' | 'integer' | 'category' | 'boolean';
  values?: (string | number)[];
}

export interface LoggedRow {
  id: string;
  ts: number;
  modelVersion: string;
  /** Feature name -> value as a client sends it (category value, boolean); null = missing. */
  inputs: Record<string, string | number | boolean | null>;
  label: string | null;
  value: number | null;
  confidence: number | null;
  feedback?: { label: string | null; value: number | null; ts: number };
}

export interface ReadOptions {
  /** Only rows that have feedback. */
  labelledOnly?: boolean;
  /** Only rows logged at or after this time (ms since the epoch). */
  since?: number;
  limit?: number;
}

interface RawRow {
  id: string;
  ts: number;
  model_version: string;
  inputs: Buffer;
  label: string | null;
  value: Buffer | null;
  confidence: Buffer | null;
  feedback_label: string | null;
  feedback_value: number | null;
  feedback_ts: number | null;
}

const float = (b: Buffer | null): number | null => (b && b.length === 4 ? b.readFloatLE(0) : null);

export function decodeInputs(features: readonly LoggedFeature[], blob: Buffer): LoggedRow['inputs'] {
  const out: LoggedRow['inputs'] = {};
  features.forEach((f, j) => {
    const x = blob.readFloatLE(j * 4);
    if (Number.isNaN(x)) out[f.name] = null;
    else if (f.type === 'category') out[f.name] = f.values?.[x] ?? null;
    else if (f.type === 'boolean') out[f.name] = x !== 0;
    else out[f.name] = x;
  });
  return out;
}

export function readLoggedRows(path: string, opts: ReadOptions = {}): LoggedRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const meta = db.prepare("SELECT value FROM meta WHERE key = 'features'").get() as { value: string } | undefined;
    const features = meta ? (JSON.parse(meta.value) as LoggedFeature[]) : [];
    const where: string[] = [];
    const args: number[] = [];
    if (opts.labelledOnly) where.push('feedback_ts IS NOT NULL');
    if (opts.since !== undefined) {
      where.push('ts >= ?');
      args.push(opts.since);
    }
    const sql = `SELECT * FROM predictions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY batch_seq, row${opts.limit ? ` LIMIT ${Math.floor(opts.limit)}` : ''}`;
    return (db.prepare(sql).all(...args) as RawRow[]).map((r) => {
      const row: LoggedRow = {
        id: r.id,
        ts: r.ts,
        modelVersion: r.model_version,
        inputs: decodeInputs(features, r.inputs),
        label: r.label,
        value: float(r.value),
        confidence: float(r.confidence),
      };
      if (r.feedback_ts !== null) row.feedback = { label: r.feedback_label, value: r.feedback_value, ts: r.feedback_ts };
      return row;
    });
  } finally {
    db.close();
  }
}

// The request log's SQLite side, synchronous: schema, batch writes with retention, feedback
// transactions. request-log.ts runs it on a worker thread (log/worker.ts) so the serving thread
// never waits for SQLite, or in-thread for in-memory logs and tests.
//
// One SQLite row per inference call (a batch of rows: the float32 matrix the model saw, the
// predicted values and confidences as float32 BLOBs, labels as a JSON array), so a 64-row request
// costs one small insert and no number formatting; the `predictions` view expands batches into
// one row per predicted row with its feedback, and log-reader.ts decodes the float32 columns.
import Database from 'better-sqlite3';
import type { FeedbackItem, FeedbackRejection, RecordedTruth } from '../../protocol/feedback.js';
import { parseRowId } from '../../protocol/row-id.js';

export interface RetentionOptions {
  /** Keep at most this many rows (oldest dropped first). */
  maxRows?: number;
  /** Drop rows older than this. */
  maxAgeMs?: number;
}

/** A batch as stored (and as sent to the worker): numbers already packed as float32. */
export interface StoredBatch {
  requestId: string;
  ts: number;
  rows: number;
  firstRow: number;
  totalRows: number;
  values: Float32Array;
  labels?: readonly string[];
  confidences?: Float32Array;
  predictions?: Float32Array;
}

export type { FeedbackItem, FeedbackRejection };

/** A logged prediction joined with its new ground truth. */
export type FeedbackMatch = FeedbackItem & {
  predictedLabel: string | null;
  predictedValue: number | null;
};

/** What one feedback transaction did with each item; every list keeps the request's order. */
export interface FeedbackResults {
  applied: FeedbackMatch[];
  /** Ids whose feedback repeats the recorded truth: nothing was written for them. */
  unchanged: string[];
  rejected: FeedbackRejection[];
}

/**
 * Logged predictions that have ground truth, oldest first, in columns (cheap to send between
 * threads): `values` holds `features` float32 inputs per row, as the model saw them.
 */
export interface LabelledRows {
  ids: string[];
  ts: number[];
  versions: string[];
  values: Float32Array;
  /** The truth: a label (classification) or a value (regression), per row. */
  labels: (string | null)[];
  truths: (number | null)[];
}

/** Which labelled rows: predicted at or after `since` (ms), the most recent `limit`. */
export interface LabelledSelection {
  since?: number;
  limit?: number;
}

/** A feature as the log keeps it (so readers can decode inputs without the description). */
export interface StoredFeature {
  name: string;
  type: string;
  values?: readonly (string | number)[];
}

export interface LogStoreOptions {
  path: string;
  features: readonly StoredFeature[];
  modelVersion: string;
  retention?: RetentionOptions;
  /** SQLite's own checkpoints after commits (default); off when a checkpointer thread does them. */
  autoCheckpoint?: boolean;
}

const AGE_PRUNE_INTERVAL_MS = 1000;
const INSERT_GROUP = 16;

// The view's `id` follows the row id rule of src/protocol/row-id.ts.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS batches (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  first_row INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  total_rows INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  model_version TEXT NOT NULL,
  inputs BLOB NOT NULL,
  labels TEXT,
  confidences BLOB,
  predictions BLOB,
  UNIQUE (request_id, first_row)
);
CREATE TABLE IF NOT EXISTS feedback (
  batch_seq INTEGER NOT NULL,
  row INTEGER NOT NULL,
  id TEXT NOT NULL,
  label TEXT,
  value REAL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (batch_seq, row)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS predictions AS
SELECT
  CASE WHEN b.total_rows = 1 THEN b.request_id ELSE b.request_id || ':' || (b.first_row + r.key) END AS id,
  b.seq AS batch_seq,
  r.key AS row,
  b.ts AS ts,
  b.model_version AS model_version,
  substr(b.inputs, 1 + r.key * (length(b.inputs) / b.rows), length(b.inputs) / b.rows) AS inputs,
  json_extract(b.labels, '$[' || r.key || ']') AS label,
  substr(b.predictions, 1 + r.key * 4, 4) AS value,
  substr(b.confidences, 1 + r.key * 4, 4) AS confidence,
  f.label AS feedback_label,
  f.value AS feedback_value,
  f.ts AS feedback_ts
FROM batches b JOIN (WITH RECURSIVE n(key) AS (SELECT 0 UNION ALL SELECT key + 1 FROM n WHERE key < (SELECT max(rows) FROM batches) - 1) SELECT key FROM n) r ON r.key < b.rows
LEFT JOIN feedback f ON f.batch_seq = b.seq AND f.row = r.key;`;

const COLUMNS = 10;

interface Located {
  seq: number;
  row: number;
  label: string | null;
  value: Buffer | null;
  labelled: number;
  recordedLabel: string | null;
  recordedValue: number | null;
}

export class LogStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly replace: Database.Statement;
  private readonly dropFeedbackOf: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly dropUpTo: Database.Statement;
  private readonly dropFeedbackUpTo: Database.Statement;
  private readonly firstYoung: Database.Statement;
  private readonly rowsUpTo: Database.Statement;
  private readonly findSingle: Database.Statement;
  private readonly findRow: Database.Statement;
  private readonly requestRows: Database.Statement;
  private readonly addFeedback: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly countRows: Database.Statement;
  private readonly labelledRows: Database.Statement;
  private readonly writeAll: (batches: readonly StoredBatch[], now: number) => void;
  private rowCount: number;
  private lastAgePrune = 0;
  /**
   * Float columns are copied into one scratch buffer per statement (SQLite copies bound blobs),
   * instead of wrapping each small Float32Array: taking `.buffer` of a small array makes V8 move
   * it off the heap, which costs more than the copy.
   */
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);
  private scratchFloats = new Float32Array(this.scratch.buffer, 0, this.scratch.length / 4);
  private scratchAt = 0;
  private readonly groupArgs = new Array<unknown>(INSERT_GROUP * COLUMNS);
  private readonly singleArgs = new Array<unknown>(COLUMNS);

  constructor(private readonly opts: LogStoreOptions) {
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.setAutoCheckpoint(opts.autoCheckpoint ?? true);
    this.db.exec(SCHEMA);
    // Readers decode the float32 inputs with the feature list kept beside them.
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run('features', JSON.stringify(opts.features.map((f) => ({ name: f.name, type: f.type, ...(f.type === 'category' ? { values: f.values } : {}) }))));
    const columns = 'request_id, first_row, rows, total_rows, ts, model_version, inputs, labels, confidences, predictions';
    const values = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    this.insert = this.db.prepare(`INSERT INTO batches (${columns}) VALUES ${values} ON CONFLICT DO NOTHING`);
    // Many small batches (one-row requests) go in one statement: the per-statement cost dominates.
    this.insertMany = this.db.prepare(
      `INSERT INTO batches (${columns}) VALUES ${new Array<string>(INSERT_GROUP).fill(values).join(', ')} ON CONFLICT DO NOTHING`,
    );
    this.countRows = this.db.prepare('SELECT coalesce(sum(rows), 0) AS n FROM batches');
    this.replace = this.db.prepare('DELETE FROM batches WHERE request_id = ? AND first_row = ? RETURNING seq, rows');
    this.dropFeedbackOf = this.db.prepare('DELETE FROM feedback WHERE batch_seq = ?');
    this.oldest = this.db.prepare('SELECT seq, rows FROM batches ORDER BY seq LIMIT ?');
    this.dropUpTo = this.db.prepare('DELETE FROM batches WHERE seq <= ?');
    this.dropFeedbackUpTo = this.db.prepare('DELETE FROM feedback WHERE batch_seq <= ?');
    // Batches arrive in time order, so everything before the first young-enough one is too old.
    this.firstYoung = this.db.prepare('SELECT seq FROM batches WHERE ts >= ? ORDER BY seq LIMIT 1');
    this.rowsUpTo = this.db.prepare('SELECT coalesce(sum(rows), 0) AS n FROM batches WHERE seq <= ?');
    // Four row parameters: three in the select list, one in the join.
    const row = '(CAST(? AS INTEGER) - b.first_row)';
    const located = `SELECT b.seq AS seq, ${row} AS row, json_extract(b.labels, '$[' || ${row} || ']') AS label,
      substr(b.predictions, 1 + 4 * ${row}, 4) AS value,
      f.ts IS NOT NULL AS labelled, f.label AS recordedLabel, f.value AS recordedValue
      FROM batches b LEFT JOIN feedback f ON f.batch_seq = b.seq AND f.row = ${row}`;
    this.findSingle = this.db.prepare(`${located} WHERE b.request_id = ? AND b.first_row = 0 AND b.total_rows = 1`);
    this.findRow = this.db.prepare(
      `${located} WHERE b.request_id = ? AND b.first_row <= ? AND b.total_rows > 1 AND ? < b.first_row + b.rows ORDER BY b.first_row DESC LIMIT 1`,
    );
    this.requestRows = this.db.prepare('SELECT total_rows AS n FROM batches WHERE request_id = ? ORDER BY seq DESC LIMIT 1');
    this.addFeedback = this.db.prepare('INSERT INTO feedback (batch_seq, row, id, label, value, ts) VALUES (?, ?, ?, ?, ?, ?)');
    // Newest first so that LIMIT keeps the most recent; rows logged with another feature count
    // (an older version writing the same file) are left out: they cannot be decoded.
    this.labelledRows = this.db.prepare(
      `SELECT CASE WHEN b.total_rows = 1 THEN b.request_id ELSE b.request_id || ':' || (b.first_row + f.row) END AS id,
        b.ts AS ts, b.model_version AS version,
        substr(b.inputs, 1 + f.row * (length(b.inputs) / b.rows), length(b.inputs) / b.rows) AS inputs,
        f.label AS label, f.value AS value
      FROM feedback f JOIN batches b ON b.seq = f.batch_seq
      WHERE b.ts >= ? AND length(b.inputs) = b.rows * ?
      ORDER BY b.seq DESC, f.row DESC LIMIT ?`,
    );
    this.rowCount = (this.countRows.get() as { n: number }).n;
    this.writeAll = this.db.transaction((batches: readonly StoredBatch[], now: number) => {
      let i = 0;
      for (; i + INSERT_GROUP <= batches.length; i += INSERT_GROUP) this.writeGroup(batches, i);
      for (; i < batches.length; i++) this.write(batches[i]!);
      this.prune(now);
    });
  }

  setAutoCheckpoint(on: boolean): void {
    this.db.pragma(`wal_autocheckpoint = ${on ? 1000 : 0}`);
  }

  /** Commits batches in one transaction, then applies retention. */
  writeBatches(batches: readonly StoredBatch[], now: number): void {
    if (batches.length > 0) this.writeAll(batches, now);
  }

  /** Makes room for `floats` more floats in the scratch buffer (only ever grows). */
  private reserve(floats: number): void {
    if ((this.scratchAt >> 2) + floats <= this.scratchFloats.length) return;
    const size = Math.max(this.scratch.length * 2, this.scratchAt + floats * 4);
    const next = Buffer.allocUnsafeSlow(size);
    this.scratch.copy(next, 0, 0, this.scratchAt);
    this.scratch = next;
    this.scratchFloats = new Float32Array(next.buffer, 0, next.length / 4);
  }

  private blob(a: Float32Array): Buffer {
    const at = this.scratchAt;
    this.scratchFloats.set(a, at >> 2);
    this.scratchAt = at + a.length * 4;
    return this.scratch.subarray(at, this.scratchAt);
  }

  private floatsOf(b: StoredBatch): number {
    return b.values.length + (b.confidences?.length ?? 0) + (b.predictions?.length ?? 0);
  }

  private fill(args: unknown[], at: number, b: StoredBatch): void {
    args[at] = b.requestId;
    args[at + 1] = b.firstRow;
    args[at + 2] = b.rows;
    args[at + 3] = b.totalRows;
    args[at + 4] = b.ts;
    args[at + 5] = this.opts.modelVersion;
    args[at + 6] = this.blob(b.values);
    args[at + 7] = b.labels ? JSON.stringify(b.labels) : null;
    args[at + 8] = b.confidences ? this.blob(b.confidences) : null;
    args[at + 9] = b.predictions ? this.blob(b.predictions) : null;
  }

  private writeGroup(batches: readonly StoredBatch[], from: number): void {
    const args = this.groupArgs;
    let rows = 0;
    let floats = 0;
    for (let k = from; k < from + INSERT_GROUP; k++) floats += this.floatsOf(batches[k]!);
    this.scratchAt = 0;
    // Blobs are views into the scratch buffer, so it must not move while the group is built.
    this.reserve(floats);
    for (let k = 0; k < INSERT_GROUP; k++) {
      const b = batches[from + k]!;
      this.fill(args, k * COLUMNS, b);
      rows += b.rows;
    }
    if (this.insertMany.run(args).changes === INSERT_GROUP) {
      this.rowCount += rows;
      return;
    }
    // A reused request id in the group (rare): write each one the careful way, then recount.
    for (let k = from; k < from + INSERT_GROUP; k++) this.write(batches[k]!);
    this.rowCount = (this.countRows.get() as { n: number }).n;
  }

  private write(b: StoredBatch): void {
    const args = this.singleArgs;
    this.scratchAt = 0;
    this.reserve(this.floatsOf(b));
    this.fill(args, 0, b);
    if (this.insert.run(args).changes === 0) {
      // A reused request id: the latest prediction replaces the earlier one (and its feedback).
      for (const old of this.replace.all(b.requestId, b.firstRow) as { seq: number; rows: number }[]) {
        this.rowCount -= old.rows;
        this.dropFeedbackOf.run(old.seq);
      }
      this.insert.run(args);
    }
    this.rowCount += b.rows;
  }

  private dropThrough(seq: number): void {
    this.dropFeedbackUpTo.run(seq);
    this.dropUpTo.run(seq);
  }

  private prune(now: number): void {
    const { maxRows, maxAgeMs } = this.opts.retention ?? {};
    if (maxRows !== undefined && this.rowCount > maxRows) {
      // Drop a little below the bound so that pruning runs once per ~1% of traffic, not per flush.
      const target = maxRows >= 100 ? Math.floor(maxRows * 0.99) : maxRows;
      let excess = this.rowCount - target;
      let through = -1;
      while (excess > 0) {
        const oldest = this.oldest.all(256) as { seq: number; rows: number }[];
        if (oldest.length === 0) break;
        for (const o of oldest) {
          if (excess <= 0) break;
          through = o.seq;
          excess -= o.rows;
          this.rowCount -= o.rows;
        }
        this.dropThrough(through);
      }
    }
    if (maxAgeMs !== undefined && now - this.lastAgePrune >= AGE_PRUNE_INTERVAL_MS) {
      this.lastAgePrune = now;
      const young = this.firstYoung.get(now - maxAgeMs) as { seq: number } | undefined;
      const before = young ? young.seq - 1 : Number.MAX_SAFE_INTEGER;
      const dropped = (this.rowsUpTo.get(before) as { n: number }).n;
      if (dropped > 0) {
        this.rowCount -= dropped;
        this.dropThrough(before);
      }
    }
  }

  /** Finds the logged row an id names: a one-row request's id, or `<request id>:<row>`. */
  private locate(id: string): Located | undefined {
    const single = this.findSingle.get(0, 0, 0, 0, id) as Located | undefined;
    if (single) return single;
    const at = parseRowId(id);
    if (!at) return undefined;
    const { requestId, row } = at;
    return this.findRow.get(row, row, row, row, requestId, row, row) as Located | undefined;
  }

  /** Why an id names no logged row, with the ids it may have meant. */
  private unknownReason(id: string): string {
    const rowsOf = (requestId: string): number | undefined => (this.requestRows.get(requestId) as { n: number } | undefined)?.n;
    const rowsHint = (requestId: string, n: number): string =>
      `${requestId} is a request of ${n} rows; feedback goes to ${requestId}:0 .. ${requestId}:${n - 1}`;
    const n = rowsOf(id);
    if (n !== undefined && n > 1) return rowsHint(id, n);
    const at = parseRowId(id);
    if (at) {
      const m = rowsOf(at.requestId);
      if (m === 1) return `${at.requestId} is a one-row request; its feedback goes to ${at.requestId}`;
      if (m !== undefined && at.row >= m) return rowsHint(at.requestId, m);
    }
    return 'never logged, or dropped by retention';
  }

  /**
   * Attaches ground truth to logged rows in one transaction, per item: a new truth is applied,
   * the recorded truth again is unchanged (a no-op), other truth for a labelled row is a conflict
   * (ground truth is immutable) and an id that names no logged row is unknown.
   */
  applyFeedback(items: readonly FeedbackItem[], now: number): FeedbackResults {
    return this.db.transaction(() => {
      const out: FeedbackResults = { applied: [], unchanged: [], rejected: [] };
      for (const item of items) {
        const at = this.locate(item.id);
        if (!at) {
          out.rejected.push({ id: item.id, reason: 'unknown', message: this.unknownReason(item.id) });
          continue;
        }
        if (at.labelled) {
          const recorded: RecordedTruth = at.recordedLabel !== null ? { label: at.recordedLabel } : { value: at.recordedValue ?? NaN };
          const same = 'label' in item ? 'label' in recorded && recorded.label === item.label : 'value' in recorded && recorded.value === item.value;
          if (same) out.unchanged.push(item.id);
          else {
            const message = 'label' in recorded ? `already has label ${JSON.stringify(recorded.label)}` : `already has value ${recorded.value}`;
            out.rejected.push({ id: item.id, reason: 'conflict', message, recorded });
          }
          continue;
        }
        this.addFeedback.run(at.seq, at.row, item.id, 'label' in item ? item.label : null, 'value' in item ? item.value : null, now);
        out.applied.push({ ...item, predictedLabel: at.label, predictedValue: at.value && at.value.length === 4 ? at.value.readFloatLE(0) : null });
      }
      return out;
    })();
  }

  /** Logged predictions with ground truth, oldest first (see LabelledRows). */
  labelled(selection: LabelledSelection = {}): LabelledRows {
    const F = this.opts.features.length;
    const found = this.labelledRows.all(selection.since ?? -Number.MAX_SAFE_INTEGER, F * 4, selection.limit ?? -1) as {
      id: string;
      ts: number;
      version: string;
      inputs: Buffer;
      label: string | null;
      value: number | null;
    }[];
    found.reverse();
    const values = new Float32Array(found.length * F);
    found.forEach((r, i) => {
      for (let j = 0; j < F; j++) values[i * F + j] = r.inputs.readFloatLE(j * 4);
    });
    return {
      ids: found.map((r) => r.id),
      ts: found.map((r) => r.ts),
      versions: found.map((r) => r.version),
      values,
      labels: found.map((r) => r.label),
      truths: found.map((r) => r.value),
    };
  }

  /** Predicted rows kept. */
  count(): number {
    return this.rowCount;
  }

  close(): void {
    this.db.close();
  }
}

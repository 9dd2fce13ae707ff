// The composition's record of what it answered: one SQLite row per predicted row (the
// composition's answer and, later, the ground truth) and one per member answer to that row (its
// label or value and probabilities, its own prediction id, how the call ended). Leave-one-out
// assessment re-aggregates these without a member; feedback finds the members' prediction ids here
// to forward the truth. Writes are queued and committed together on the next tick; every read
// flushes first, so a feedback that follows an answer always finds its row. Bounded by a number of
// rows (oldest dropped first). In a file, WAL checkpoints (and their disk syncs) run on a
// checkpointer thread, as for the request log: a request never waits behind one.
import Database from 'better-sqlite3';
import { startCheckpointer, type Checkpointer } from '../log/checkpointer.js';
import type { FeedbackItem, FeedbackRejection, RecordedTruth } from '../../protocol/feedback.js';
import { parseRowId } from '../../protocol/row-id.js';
import type { CompositionRecordWire, MemberAnswerWire, RecordsQuery } from '../../protocol/composition-records.js';
import type { CallOutcome } from './member-client.js';

export const DEFAULT_RECORD_RETENTION_ROWS = 100_000;
/** How often the checkpointer thread copies the write-ahead log into the file. */
const CHECKPOINT_INTERVAL_MS = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS composition_rows (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  request_id TEXT NOT NULL,
  row INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  composition TEXT NOT NULL,
  mode TEXT NOT NULL,
  label TEXT,
  value REAL,
  truth_label TEXT,
  truth_value REAL,
  truth_ts INTEGER
);
CREATE INDEX IF NOT EXISTS composition_rows_request ON composition_rows (request_id);
CREATE INDEX IF NOT EXISTS composition_rows_labelled ON composition_rows (truth_ts) WHERE truth_ts IS NOT NULL;
CREATE TABLE IF NOT EXISTS member_answers (
  row_seq INTEGER NOT NULL,
  member TEXT NOT NULL,
  role TEXT NOT NULL,
  counted INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  member_id TEXT,
  label TEXT,
  value REAL,
  probabilities TEXT,
  latency_ms REAL,
  PRIMARY KEY (row_seq, member)
) WITHOUT ROWID;`;

/** One member's answer to one row. */
export interface MemberRecord {
  member: string;
  role: 'member' | 'primary' | 'shadow';
  /** Whether the answer counted for the composition's (false for shadows). */
  counted: boolean;
  outcome: CallOutcome;
  /** The member's own prediction id for the row (answered only). */
  memberId?: string | undefined;
  label?: string | undefined;
  value?: number | undefined;
  /** In the composition's label order. */
  probabilities?: readonly number[] | undefined;
  latencyMs?: number | undefined;
}

/** One predicted row of the composition. */
export interface RowRecord {
  id: string;
  requestId: string;
  row: number;
  rows: number;
  ts: number;
  composition: string;
  mode: string;
  label?: string | undefined;
  value?: number | undefined;
  members: MemberRecord[];
}

/** A row whose truth was applied now: what the composition and each member had answered. */
export interface AppliedTruth {
  item: FeedbackItem;
  predictedLabel: string | null;
  predictedValue: number | null;
  members: MemberRecord[];
}

export interface TruthResults {
  applied: AppliedTruth[];
  unchanged: string[];
  rejected: FeedbackRejection[];
}

interface RowHit {
  seq: number;
  label: string | null;
  value: number | null;
  truth_label: string | null;
  truth_value: number | null;
  truth_ts: number | null;
}

interface AnswerRow {
  member: string;
  role: MemberRecord['role'];
  counted: number;
  outcome: CallOutcome;
  member_id: string | null;
  label: string | null;
  value: number | null;
  probabilities: string | null;
  latency_ms: number | null;
}

function memberOf(a: AnswerRow): MemberRecord {
  return {
    member: a.member,
    role: a.role,
    counted: a.counted === 1,
    outcome: a.outcome,
    ...(a.member_id !== null ? { memberId: a.member_id } : {}),
    ...(a.label !== null ? { label: a.label } : {}),
    ...(a.value !== null ? { value: a.value } : {}),
    ...(a.probabilities !== null ? { probabilities: JSON.parse(a.probabilities) as number[] } : {}),
    ...(a.latency_ms !== null ? { latencyMs: a.latency_ms } : {}),
  };
}

export interface RecordStoreOptions {
  /** SQLite file, or `:memory:`. */
  path: string;
  /** Rows kept (default 100,000). */
  maxRows?: number;
  onError?: (e: unknown) => void;
}

type Pending = { kind: 'row'; record: RowRecord } | { kind: 'answers'; id: string; answers: MemberRecord[] };

export class RecordStore {
  private readonly db: Database.Database;
  private readonly maxRows: number;
  private readonly insertRow: Database.Statement;
  private readonly dropRow: Database.Statement;
  private readonly dropAnswersOf: Database.Statement;
  private readonly insertAnswer: Database.Statement;
  private readonly seqOf: Database.Statement;
  private readonly findRow: Database.Statement;
  private readonly answersOf: Database.Statement;
  private readonly setTruth: Database.Statement;
  private readonly rowsOfRequest: Database.Statement;
  private readonly countAll: Database.Statement;
  private readonly pruneRows: Database.Statement;
  private readonly pruneAnswers: Database.Statement;
  private readonly commit: (batch: readonly Pending[]) => void;
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private rowCount: number;
  private readonly checkpointer: Checkpointer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: RecordStoreOptions) {
    this.maxRows = Math.max(1, opts.maxRows ?? DEFAULT_RECORD_RETENTION_ROWS);
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    if (!this.db.memory) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = startCheckpointer(opts.path, CHECKPOINT_INTERVAL_MS, (message) =>
        opts.onError?.(new Error(`composition records checkpoint failed: ${message}`)),
      );
    }
    this.insertRow = this.db.prepare(
      `INSERT INTO composition_rows (id, request_id, row, rows, ts, composition, mode, label, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.dropRow = this.db.prepare('DELETE FROM composition_rows WHERE id = ? RETURNING seq');
    this.dropAnswersOf = this.db.prepare('DELETE FROM member_answers WHERE row_seq = ?');
    this.insertAnswer = this.db.prepare(
      `INSERT OR REPLACE INTO member_answers (row_seq, member, role, counted, outcome, member_id, label, value, probabilities, latency_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.seqOf = this.db.prepare('SELECT seq FROM composition_rows WHERE id = ?');
    this.findRow = this.db.prepare('SELECT seq, label, value, truth_label, truth_value, truth_ts FROM composition_rows WHERE id = ?');
    this.answersOf = this.db.prepare(
      'SELECT member, role, counted, outcome, member_id, label, value, probabilities, latency_ms FROM member_answers WHERE row_seq = ? ORDER BY member',
    );
    this.setTruth = this.db.prepare('UPDATE composition_rows SET truth_label = ?, truth_value = ?, truth_ts = ? WHERE seq = ?');
    this.rowsOfRequest = this.db.prepare('SELECT max(rows) AS n FROM composition_rows WHERE request_id = ?');
    this.countAll = this.db.prepare('SELECT count(*) AS n FROM composition_rows');
    this.pruneRows = this.db.prepare('DELETE FROM composition_rows WHERE seq <= (SELECT seq FROM composition_rows ORDER BY seq DESC LIMIT 1 OFFSET ?)');
    this.pruneAnswers = this.db.prepare('DELETE FROM member_answers WHERE row_seq < (SELECT coalesce(min(seq), 0) FROM composition_rows)');
    this.rowCount = (this.countAll.get() as { n: number }).n;
    this.commit = this.db.transaction((batch: readonly Pending[]) => {
      for (const p of batch) {
        if (p.kind === 'row') this.writeRow(p.record);
        else this.writeAnswers(p.id, p.answers);
      }
      if (this.rowCount > this.maxRows) {
        // A little below the bound, so that pruning runs once per ~1 % of traffic.
        const keep = this.maxRows >= 100 ? Math.floor(this.maxRows * 0.99) : this.maxRows;
        this.pruneRows.run(keep);
        this.pruneAnswers.run();
        this.rowCount = (this.countAll.get() as { n: number }).n;
      }
    });
  }

  private writeRow(r: RowRecord): void {
    const args = [r.id, r.requestId, r.row, r.rows, r.ts, r.composition, r.mode, r.label ?? null, r.value ?? null];
    if (this.insertRow.run(args).changes === 0) {
      // A reused id: the latest prediction replaces the earlier one (and its truth), as in the request log.
      for (const old of this.dropRow.all(r.id) as { seq: number }[]) this.dropAnswersOf.run(old.seq);
      this.rowCount--;
      this.insertRow.run(args);
    }
    this.rowCount++;
    const seq = (this.seqOf.get(r.id) as { seq: number }).seq;
    for (const a of r.members) this.answer(seq, a);
  }

  private writeAnswers(id: string, answers: readonly MemberRecord[]): void {
    const hit = this.seqOf.get(id) as { seq: number } | undefined;
    if (!hit) return;
    for (const a of answers) this.answer(hit.seq, a);
  }

  private answer(seq: number, a: MemberRecord): void {
    this.insertAnswer.run(
      seq,
      a.member,
      a.role,
      a.counted ? 1 : 0,
      a.outcome,
      a.memberId ?? null,
      a.label ?? null,
      a.value ?? null,
      a.probabilities ? JSON.stringify(a.probabilities) : null,
      a.latencyMs ?? null,
    );
  }

  private queue(p: Pending): void {
    if (this.closed) return;
    this.pending.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Queues the rows of one answered request. */
  addRows(records: readonly RowRecord[]): void {
    for (const record of records) this.queue({ kind: 'row', record });
  }

  /** Queues member answers that came after the row was recorded (shadows). */
  addAnswers(id: string, answers: MemberRecord[]): void {
    if (answers.length > 0) this.queue({ kind: 'answers', id, answers });
  }

  /** Commits everything queued in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.commit(batch);
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  private unknownReason(id: string): string {
    const rowsOf = (requestId: string): number | null => (this.rowsOfRequest.get(requestId) as { n: number | null }).n;
    const n = rowsOf(id);
    if (n !== null && n > 1) return `${id} is a request of ${n} rows; feedback goes to ${id}:0 .. ${id}:${n - 1}`;
    const at = parseRowId(id);
    if (at) {
      const m = rowsOf(at.requestId);
      if (m === 1) return `${at.requestId} is a one-row request; its feedback goes to ${at.requestId}`;
    }
    return 'never recorded, or dropped by retention';
  }

  /** Attaches ground truth per item: applied, unchanged (the same truth again), or rejected (unknown, conflict). */
  applyTruth(items: readonly FeedbackItem[], now: number): TruthResults {
    this.flush();
    return this.db.transaction(() => {
      const out: TruthResults = { applied: [], unchanged: [], rejected: [] };
      for (const item of items) {
        const hit = this.findRow.get(item.id) as RowHit | undefined;
        if (!hit) {
          out.rejected.push({ id: item.id, reason: 'unknown', message: this.unknownReason(item.id) });
          continue;
        }
        if (hit.truth_ts !== null) {
          const recorded: RecordedTruth = hit.truth_label !== null ? { label: hit.truth_label } : { value: hit.truth_value ?? NaN };
          const same = 'label' in item ? 'label' in recorded && recorded.label === item.label : 'value' in recorded && recorded.value === item.value;
          if (same) out.unchanged.push(item.id);
          else {
            const message = 'label' in recorded ? `already has label ${JSON.stringify(recorded.label)}` : `already has value ${recorded.value}`;
            out.rejected.push({ id: item.id, reason: 'conflict', message, recorded });
          }
          continue;
        }
        this.setTruth.run('label' in item ? item.label : null, 'value' in item ? item.value : null, now, hit.seq);
        const members = (this.answersOf.all(hit.seq) as AnswerRow[]).map(memberOf);
        out.applied.push({ item, predictedLabel: hit.label, predictedValue: hit.value, members });
      }
      return out;
    })();
  }

  /** The newest `limit` rows (only labelled ones with `labelled`), oldest first. */
  records(query: RecordsQuery = {}): CompositionRecordWire[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.labelled) where.push('truth_ts IS NOT NULL');
    if (query.since !== undefined) {
      where.push('ts >= ?');
      args.push(query.since);
    }
    const sql = `SELECT seq, id, ts, composition, mode, label, value, truth_label, truth_value, truth_ts FROM composition_rows
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit ?? -1) as (RowHit & { id: string; ts: number; composition: string; mode: string })[];
    rows.reverse();
    return rows.map((r) => {
      const members: Record<string, MemberAnswerWire> = {};
      for (const a of this.answersOf.all(r.seq) as AnswerRow[]) {
        const m = memberOf(a);
        members[m.member] = {
          role: m.role,
          counted: m.counted,
          outcome: m.outcome,
          ...(m.memberId !== undefined ? { memberId: m.memberId } : {}),
          ...(m.label !== undefined ? { label: m.label } : {}),
          ...(m.value !== undefined ? { value: m.value } : {}),
          ...(m.probabilities !== undefined ? { probabilities: [...m.probabilities] } : {}),
          ...(m.latencyMs !== undefined ? { latencyMs: m.latencyMs } : {}),
        };
      }
      return {
        id: r.id,
        time: new Date(r.ts).toISOString(),
        composition: r.composition,
        mode: r.mode,
        answer: r.label !== null ? { label: r.label } : r.value !== null ? { value: r.value } : {},
        members,
        truth: r.truth_ts === null ? null : r.truth_label !== null ? { label: r.truth_label } : { value: r.truth_value ?? NaN },
      };
    });
  }

  /** Rows kept (after flushing). */
  count(): number {
    this.flush();
    return this.rowCount;
  }

  /** Commits what is queued and closes; see stopped() for the checkpointer's last checkpoint. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
    this.stopping = this.checkpointer?.stop();
  }

  /** Resolves once the checkpointer thread (file only) made its last checkpoint after close(). */
  stopped(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }
}

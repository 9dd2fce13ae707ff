// The audit log in the embedded registry (table `audit_log`, migration 8): one row per request,
// ordered by an autoincrement seq. Filters are fixed statements with optional parameters (NULL
// means "no filter"), so no SQL text is ever built from input.
import type { Statement } from 'better-sqlite3';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '../../auth/ports.js';
import type { Db } from './database.js';

interface Row {
  seq: number;
  at: string;
  request_id: string;
  token_id: string | null;
  token_name: string | null;
  method: string;
  path: string;
  action: string;
  target: string | null;
  status: number;
  code: string | null;
  ip: string | null;
}

const SQL = {
  append: `INSERT INTO audit_log (at, request_id, token_id, token_name, method, path, action, target, status, code, ip)
    VALUES (@at, @request_id, @token_id, @token_name, @method, @path, @action, @target, @status, @code, @ip)`,
  // The newest `limit` matches (LIMIT -1 is no limit), then put back in order. `since` is always
  // bound ('' when absent: before every ISO time) so the index on `at` stays usable.
  list: `SELECT * FROM (
      SELECT * FROM audit_log
      WHERE at >= @since AND (@token_name IS NULL OR token_name = @token_name)
      ORDER BY seq DESC LIMIT @limit
    ) ORDER BY seq`,
  prune: `DELETE FROM audit_log WHERE at < @before`,
} as const;

function toRecord(r: Row): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    requestId: r.request_id,
    ...(r.token_id !== null ? { tokenId: r.token_id } : {}),
    ...(r.token_name !== null ? { tokenName: r.token_name } : {}),
    method: r.method,
    path: r.path,
    action: r.action,
    ...(r.target !== null ? { target: r.target } : {}),
    status: r.status,
    ...(r.code !== null ? { code: r.code } : {}),
    ...(r.ip !== null ? { ip: r.ip } : {}),
  };
}

export class SqliteAuditLog implements AuditLog {
  private readonly statements = new Map<keyof typeof SQL, Statement>();

  constructor(private readonly db: Db) {}

  private stmt(name: keyof typeof SQL): Statement {
    let s = this.statements.get(name);
    if (!s) {
      s = this.db.prepare(SQL[name]);
      this.statements.set(name, s);
    }
    return s;
  }

  async append(e: AuditEntry): Promise<void> {
    this.stmt('append').run({
      at: e.at,
      request_id: e.requestId,
      token_id: e.tokenId ?? null,
      token_name: e.tokenName ?? null,
      method: e.method,
      path: e.path,
      action: e.action,
      target: e.target ?? null,
      status: e.status,
      code: e.code ?? null,
      ip: e.ip ?? null,
    });
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const limit = query.limit === undefined || !Number.isFinite(query.limit) ? -1 : Math.max(0, Math.floor(query.limit));
    const rows = this.stmt('list').all({ since: query.since ?? '', token_name: query.tokenName ?? null, limit }) as Row[];
    return rows.map(toRecord);
  }

  async prune(before: string): Promise<number> {
    return this.stmt('prune').run({ before }).changes;
  }
}

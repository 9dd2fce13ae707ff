// Idempotency keys of the control plane in the registry database (table from migration 8), so a
// repeat is recognised across server restarts and by every server process on the home.
import type { IdempotencyBegin, IdempotencyStore } from '../../domain/idempotency.js';
import type { Db } from './database.js';

interface Row {
  fingerprint: string;
  status: number | null;
  body: string | null;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: Db) {}

  begin(owner: string, key: string, fingerprint: string, at: string): Promise<IdempotencyBegin> {
    const claim = this.db.transaction((): IdempotencyBegin => {
      const row = this.db.prepare('SELECT fingerprint, status, body FROM idempotency_keys WHERE owner = ? AND key = ?').get(owner, key) as Row | undefined;
      if (!row) {
        this.db.prepare('INSERT INTO idempotency_keys (owner, key, fingerprint, created_at) VALUES (?, ?, ?, ?)').run(owner, key, fingerprint, at);
        return { state: 'new' };
      }
      if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (row.status === null) return { state: 'pending' };
      return { state: 'done', status: row.status, body: row.body === null ? null : (JSON.parse(row.body) as unknown) };
    });
    return Promise.resolve(claim.immediate());
  }

  finish(owner: string, key: string, status: number, body: unknown): Promise<void> {
    this.db.prepare('UPDATE idempotency_keys SET status = ?, body = ? WHERE owner = ? AND key = ?').run(status, JSON.stringify(body ?? null), owner, key);
    return Promise.resolve();
  }

  release(owner: string, key: string): Promise<void> {
    this.db.prepare('DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND status IS NULL').run(owner, key);
    return Promise.resolve();
  }

  prune(before: string): Promise<number> {
    return Promise.resolve(this.db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(before).changes);
  }
}

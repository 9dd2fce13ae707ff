// API tokens in the embedded registry (table `api_tokens`, migration 8): one row per token with
// the salt and scrypt hash of its secret, never the secret. Scopes are kept as "read,deploy".
// Every statement is prepared once and takes its values as parameters.
import type { Statement } from 'better-sqlite3';
import { MaasError } from '../../core/errors.js';
import type { TokenRecord, TokenStore } from '../../auth/ports.js';
import { isScope } from '../../auth/scopes.js';
import type { Db } from './database.js';
import { DataVersion } from './data-version.js';

interface Row {
  id: string;
  name: string;
  scopes: string;
  salt: Buffer;
  hash: Buffer;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const SQL = {
  insert: `INSERT INTO api_tokens (id, name, scopes, salt, hash, created_at, created_by, expires_at, revoked_at, last_used_at)
    VALUES (@id, @name, @scopes, @salt, @hash, @created_at, @created_by, @expires_at, @revoked_at, @last_used_at)`,
  activeByName: `SELECT id FROM api_tokens WHERE name = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) LIMIT 1`,
  byId: 'SELECT * FROM api_tokens WHERE id = ?',
  list: 'SELECT * FROM api_tokens ORDER BY created_at, id',
  revoke: 'UPDATE api_tokens SET revoked_at = @at WHERE (id = @key OR name = @key) AND revoked_at IS NULL RETURNING *',
  touch: 'UPDATE api_tokens SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)',
} as const;

function toRecord(r: Row): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    // A scope this version does not know grants nothing rather than failing every request.
    scopes: r.scopes.split(',').filter(isScope),
    salt: r.salt,
    hash: r.hash,
    createdAt: r.created_at,
    ...(r.created_by !== null ? { createdBy: r.created_by } : {}),
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
    ...(r.last_used_at !== null ? { lastUsedAt: r.last_used_at } : {}),
  };
}

/** Token rows kept for byId at most (a server authenticates with a few tokens). */
const MAX_KEPT_ROWS = 1000;

export class SqliteTokenStore implements TokenStore {
  private readonly statements = new Map<keyof typeof SQL, Statement>();
  /**
   * Rows read by byId, kept while the data version is unchanged: every request reads its token's
   * row (revocation, expiry), and checking the version costs less than reading the row. Any
   * write, by this store or another connection (`maas token revoke` elsewhere), empties it.
   */
  private readonly kept = new Map<string, TokenRecord>();
  private keptAt = -1;
  private readonly version: DataVersion;

  constructor(private readonly db: Db) {
    this.version = DataVersion.of(db);
  }

  /** Prepared on first use, so opening the registry for other commands costs nothing. */
  private stmt(name: keyof typeof SQL): Statement {
    let s = this.statements.get(name);
    if (!s) {
      s = this.db.prepare(SQL[name]);
      this.statements.set(name, s);
    }
    return s;
  }

  async insert(record: TokenRecord): Promise<void> {
    try {
      this.insertRow(record);
    } finally {
      this.version.bump();
    }
  }

  private insertRow(record: TokenRecord): void {
    // Check and insert in one write transaction, so two processes cannot both take a name.
    this.db
      .transaction(() => {
        if (this.stmt('activeByName').get(record.name, record.createdAt) !== undefined) {
          throw new MaasError('CONFLICT', `an active token is already named "${record.name}"`, {
            hint: `choose another name, or revoke it first: maas token revoke ${record.name}`,
          });
        }
        try {
          this.stmt('insert').run({
            id: record.id,
            name: record.name,
            scopes: record.scopes.join(','),
            salt: record.salt,
            hash: record.hash,
            created_at: record.createdAt,
            created_by: record.createdBy ?? null,
            expires_at: record.expiresAt ?? null,
            revoked_at: record.revokedAt ?? null,
            last_used_at: record.lastUsedAt ?? null,
          });
        } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new MaasError('CONFLICT', `a token with id ${record.id} already exists`, { hint: 'create the token again (ids are random)', cause: e });
          }
          throw e;
        }
      })
      .immediate();
  }

  async byId(id: string): Promise<TokenRecord | undefined> {
    const version = this.version.current();
    if (version !== this.keptAt) {
      this.kept.clear();
      this.keptAt = version;
    }
    let record = this.kept.get(id);
    if (!record) {
      const row = this.stmt('byId').get(id) as Row | undefined;
      if (!row) return undefined;
      record = toRecord(row);
      if (this.kept.size >= MAX_KEPT_ROWS) this.kept.clear();
      this.kept.set(id, record);
    }
    // A copy: callers may change what they are given.
    return { ...record, scopes: [...record.scopes] };
  }

  async list(): Promise<TokenRecord[]> {
    return (this.stmt('list').all() as Row[]).map(toRecord);
  }

  async revoke(idOrName: string, at: string): Promise<TokenRecord[]> {
    let rows: Row[];
    try {
      rows = this.stmt('revoke').all({ key: idOrName, at }) as Row[];
    } finally {
      this.version.bump();
    }
    return rows.map(toRecord).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async touch(id: string, at: string): Promise<void> {
    try {
      this.stmt('touch').run({ id, at });
    } finally {
      this.version.bump();
    }
  }
}

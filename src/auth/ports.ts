// Where API tokens and the audit log are kept. The embedded registry implements both in its
// SQLite file (registry/sqlite/tokens-table.ts, audit-table.ts); tests use in-memory fakes.
import type { Scope } from './scopes.js';

export interface TokenRecord {
  /** 12 lowercase hex characters: the public part of the token text. */
  id: string;
  name: string;
  scopes: Scope[];
  salt: Buffer;
  /** scrypt of the secret with `salt`; the secret itself is never stored. */
  hash: Buffer;
  /** ISO times. */
  createdAt: string;
  createdBy?: string;
  expiresAt?: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

export interface TokenStore {
  /**
   * Stores a new token. CONFLICT when the id is taken, or when a token with the same name is
   * active at `record.createdAt` (not revoked, not expired), checked atomically with the insert.
   */
  insert(record: TokenRecord): Promise<void>;
  byId(id: string): Promise<TokenRecord | undefined>;
  /** Every token, revoked and expired ones too, oldest first. */
  list(): Promise<TokenRecord[]>;
  /** Revokes the not yet revoked tokens whose id or name is `idOrName`; returns them as revoked. */
  revoke(idOrName: string, at: string): Promise<TokenRecord[]>;
  /** Records a use of the token (last_used_at). */
  touch(id: string, at: string): Promise<void>;
}

/** One request to the control plane, as the audit log keeps it. */
export interface AuditEntry {
  at: string;
  requestId: string;
  tokenId?: string;
  tokenName?: string;
  method: string;
  path: string;
  /** What was attempted, e.g. `deploy` or `token.revoke`. */
  action: string;
  /** What it acted on, e.g. a deployment ID or `name@version`. */
  target?: string;
  /** HTTP status of the answer. */
  status: number;
  /** The MaasError code of a refusal or failure. */
  code?: string;
  ip?: string;
}

/** An entry as stored: `seq` orders entries and lets a reader continue where it stopped. */
export interface AuditRecord extends AuditEntry {
  seq: number;
}

export interface AuditQuery {
  /** Entries at or after this ISO time. */
  since?: string;
  /** At most this many: the most recent ones. */
  limit?: number;
  tokenName?: string;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Matching entries, oldest first (with `limit`, the newest `limit` of them, still oldest first). */
  list(query?: AuditQuery): Promise<AuditRecord[]>;
  /** Deletes the entries older than `before` (ISO time); returns how many. */
  prune(before: string): Promise<number>;
}

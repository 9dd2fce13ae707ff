// API tokens of the control plane: create (the plaintext is returned once and only its salted
// scrypt hash is stored), list, revoke, and authenticate a request's token into a principal with
// scopes. Every refusal to authenticate looks the same, so a caller learns nothing about which
// part was wrong. Verifying a secret is slow by design; VerifiedTokenCache lets a server do it
// once per token while revocation and expiry are still read from the store on every call.
import { createHash } from 'node:crypto';
import { isoNow, type Clock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { MaasError } from '../core/errors.js';
import { hashSecret, newSalt, verifySecret, type HashSecret } from '../auth/password-hash.js';
import type { TokenRecord, TokenStore } from '../auth/ports.js';
import { grants, parseScopes, type Scope } from '../auth/scopes.js';
import { isTokenId, newTokenSecret, parseTokenText, type RandomBytes } from '../auth/token-secret.js';
import { closest } from '../spec/suggest.js';
import type { Services } from './services.js';

export type TokenServices = Pick<Services, 'tokens'> & { clock: Pick<Clock, 'now'> };

export interface CreateTokenRequest {
  name: string;
  /** "read,deploy" or a list of scope names. */
  scopes: string | readonly string[];
  /** A duration from now, e.g. `30d`; absent, the token does not expire. */
  expires?: string;
  /** Who created it (user@host, or the creating token's name). */
  createdBy?: string;
}

export interface CreatedToken {
  /** The token text: shown once, never stored. */
  token: string;
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt?: string;
}

export type TokenState = 'active' | 'expired' | 'revoked';

/** A token as listed: everything but the salt and hash. */
export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  state: TokenState;
  createdAt: string;
  createdBy?: string;
  expiresAt?: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

export interface RevokeOutcome {
  tokens: TokenInfo[];
  /** Nothing changed: every match was revoked before. */
  alreadyRevoked: boolean;
}

/** Who a request acts for, once its token is authenticated. */
export interface Principal {
  tokenId: string;
  name: string;
  scopes: Scope[];
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Longest accepted expiry: ten years. */
const MAX_EXPIRY_MS = 3650 * 86_400_000;
/** last_used_at is written at most this often per token: a write per request would contend. */
const TOUCH_INTERVAL_MS = 60_000;

function tokensOf(s: Pick<Services, 'tokens'>): TokenStore {
  if (!s.tokens) {
    throw new MaasError('USAGE', 'this registry does not keep API tokens', {
      hint: 'API tokens live in the embedded registry (registry.db in MAAS_HOME); remove the `registry` setting to use it',
    });
  }
  return s.tokens;
}

/** Token names are case-insensitive (kept lowercase) and never look like a token id. */
export function tokenName(input: string): string {
  const name = input.trim().toLowerCase();
  if (!NAME.test(name)) {
    throw new MaasError('VALIDATION', `invalid token name "${input.slice(0, 80)}"`, {
      hint: 'use 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. ci-deploy)',
    });
  }
  if (isTokenId(name)) {
    throw new MaasError('VALIDATION', `token name "${name}" looks like a token id`, {
      hint: 'choose a name that is not 12 hex characters, so revoking by name or id is unambiguous',
    });
  }
  return name;
}

function expiresAt(expires: string | undefined, now: number): string | undefined {
  if (expires === undefined) return undefined;
  const ms = parseDuration(expires, 'expiry');
  if (!(ms > 0 && ms <= MAX_EXPIRY_MS)) {
    throw new MaasError('VALIDATION', `expiry "${expires}" must be more than 0 and at most 3650d`, {
      hint: 'e.g. --expires 30d; leave it out for a token that does not expire',
    });
  }
  return new Date(now + ms).toISOString();
}

export function tokenState(t: Pick<TokenRecord, 'revokedAt' | 'expiresAt'>, now: number): TokenState {
  if (t.revokedAt !== undefined) return 'revoked';
  if (t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

function info(t: TokenRecord, now: number): TokenInfo {
  return {
    id: t.id,
    name: t.name,
    scopes: [...t.scopes],
    state: tokenState(t, now),
    createdAt: t.createdAt,
    ...(t.createdBy !== undefined ? { createdBy: t.createdBy } : {}),
    ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
    ...(t.revokedAt !== undefined ? { revokedAt: t.revokedAt } : {}),
    ...(t.lastUsedAt !== undefined ? { lastUsedAt: t.lastUsedAt } : {}),
  };
}

/**
 * A new token with `scopes`. CONFLICT when an active token has the name already (so revoking by
 * name means one token). `hash` is the scrypt function (tests pass a counting one).
 */
export async function createToken(
  s: TokenServices,
  request: CreateTokenRequest,
  randomBytes: RandomBytes,
  hash: HashSecret = hashSecret,
): Promise<CreatedToken> {
  const store = tokensOf(s);
  const name = tokenName(request.name);
  const scopes = parseScopes(request.scopes);
  const now = s.clock.now();
  const expires = expiresAt(request.expires, now);
  const token = newTokenSecret(randomBytes);
  const salt = newSalt(randomBytes);
  const record: TokenRecord = {
    id: token.id,
    name,
    scopes,
    salt,
    hash: await hash(token.secret, salt),
    createdAt: isoNow(s.clock),
    ...(request.createdBy !== undefined ? { createdBy: request.createdBy } : {}),
    ...(expires !== undefined ? { expiresAt: expires } : {}),
  };
  await store.insert(record);
  return { token: token.text, id: token.id, name, scopes, createdAt: record.createdAt, ...(expires !== undefined ? { expiresAt: expires } : {}) };
}

export async function listTokens(s: TokenServices): Promise<TokenInfo[]> {
  const now = s.clock.now();
  return (await tokensOf(s).list()).map((t) => info(t, now));
}

/**
 * Revokes the token with this id or name (the full token text works too). Revoking again is not
 * an error: the outcome says nothing changed. NOT_FOUND when no token matches.
 */
export async function revokeToken(s: TokenServices, idOrName: string): Promise<RevokeOutcome> {
  const store = tokensOf(s);
  const key = parseTokenText(idOrName)?.id ?? idOrName.trim().toLowerCase();
  const now = s.clock.now();
  const revoked = await store.revoke(key, isoNow(s.clock));
  if (revoked.length > 0) return { tokens: revoked.map((t) => info(t, now)), alreadyRevoked: false };
  const all = await store.list();
  const before = all.filter((t) => t.id === key || t.name === key);
  if (before.length > 0) return { tokens: before.map((t) => info(t, now)), alreadyRevoked: true };
  const near = closest(key, [...new Set(all.map((t) => t.name))]);
  throw new MaasError('NOT_FOUND', `no token with id or name "${idOrName.slice(0, 80)}"${near ? ` (did you mean ${near}?)` : ''}`, {
    hint: 'list tokens with `maas token list`',
  });
}

function unauthorized(): MaasError {
  return new MaasError('UNAUTHORIZED', 'invalid or expired token', {
    hint: 'send a valid token as `Authorization: Bearer maas_...`; an admin creates one with `maas token create --name NAME --scope read`',
  });
}

/**
 * Remembers which token texts have been verified against which stored hash, so a server runs
 * scrypt once per token. Keys are SHA-256 digests of the token text (the cache never holds a
 * secret); the least recently used entry goes when it is full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Buffer>();

  constructor(readonly maxEntries = 1000) {}

  get size(): number {
    return this.entries.size;
  }

  static key(tokenText: string): string {
    return createHash('sha256').update(tokenText).digest('hex');
  }

  /** True when `key` was verified against this very hash (a replaced hash needs verifying again). */
  verified(key: string, hash: Buffer): boolean {
    const known = this.entries.get(key);
    if (!known || !known.equals(hash)) return false;
    this.entries.delete(key);
    this.entries.set(key, known);
    return true;
  }

  remember(key: string, hash: Buffer): void {
    this.entries.delete(key);
    this.entries.set(key, Buffer.from(hash));
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forgets everything (e.g. after tokens were rotated in bulk). */
  clear(): void {
    this.entries.clear();
  }
}

/**
 * The principal of a token's text. UNAUTHORIZED, always with the same message, for malformed,
 * unknown, revoked, expired and wrong tokens. Revocation and expiry are checked on every call;
 * with a cache, the secret is verified once per token.
 */
export async function authenticate(s: TokenServices, tokenText: string, cache?: VerifiedTokenCache, hash: HashSecret = hashSecret): Promise<Principal> {
  const store = tokensOf(s);
  const parts = parseTokenText(tokenText);
  if (!parts) throw unauthorized();
  const row = await store.byId(parts.id);
  const now = s.clock.now();
  // Dead tokens are refused before any hashing: their state is not a secret worth the CPU.
  if (!row || tokenState(row, now) !== 'active') throw unauthorized();
  const key = cache && VerifiedTokenCache.key(tokenText);
  if (!(cache && key && cache.verified(key, row.hash))) {
    if (!(await verifySecret(parts.secret, row.salt, row.hash, hash))) throw unauthorized();
    if (cache && key) cache.remember(key, row.hash);
  }
  if (row.lastUsedAt === undefined || now - Date.parse(row.lastUsedAt) >= TOUCH_INTERVAL_MS) {
    try {
      await store.touch(row.id, isoNow(s.clock));
    } catch {
      // "Last used" is bookkeeping: a busy database must not turn an authenticated request away.
    }
  }
  return { tokenId: row.id, name: row.name, scopes: [...row.scopes] };
}

/** FORBIDDEN unless the principal's scopes grant `needed`. */
export function requireScope(principal: Principal, needed: Scope): void {
  if (grants(principal.scopes, needed)) return;
  throw new MaasError('FORBIDDEN', `token "${principal.name}" lacks the "${needed}" scope (it has: ${principal.scopes.join(', ') || 'none'})`, {
    hint: `use a token with the ${needed} scope; an admin creates one with \`maas token create --name NAME --scope ${needed}\``,
  });
}

/** Active tokens with the admin scope (a server refuses to start without one). */
export async function countAdminTokens(s: TokenServices): Promise<number> {
  const now = s.clock.now();
  return (await tokensOf(s).list()).filter((t) => tokenState(t, now) === 'active' && grants(t.scopes, 'admin')).length;
}

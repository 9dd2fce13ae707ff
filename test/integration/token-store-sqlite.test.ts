// API tokens and the audit log in a real registry file: the token use cases through
// SqliteTokenStore (create, list, revoke, authenticate, the one-active-name rule across
// connections), raw rows that hold no plaintext, the audit log's order and filters, and the
// retention of audit entries and idempotency keys.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticate, countAdminTokens, createToken, listTokens, revokeToken, VerifiedTokenCache, type TokenServices } from '../../src/app/tokens.js';
import type { AuditEntry } from '../../src/auth/ports.js';
import { parseTokenText } from '../../src/auth/token-secret.js';
import { ManualClock } from '../../src/core/clock.js';
import { SqliteAuditLog } from '../../src/registry/sqlite/audit-table.js';
import { SqliteIdempotencyStore } from '../../src/registry/sqlite/idempotency-table.js';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import { SqliteTokenStore } from '../../src/registry/sqlite/tokens-table.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
let clock: ManualClock;
const opened: SqliteRegistry[] = [];
const open = (): SqliteRegistry => {
  const r = SqliteRegistry.open({ file: join(dir.path, 'registry.db') });
  opened.push(r);
  return r;
};
let registry: SqliteRegistry;
let s: TokenServices;

beforeEach(() => {
  dir = tempDir('maas-tokens-');
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  registry = open();
  s = { clock, tokens: new SqliteTokenStore(registry.db) };
});
afterEach(() => {
  for (const r of opened.splice(0)) r.close();
  dir.cleanup();
});

describe('SqliteTokenStore', () => {
  it('creates, lists, authenticates and revokes', async () => {
    const ci = await createToken(s, { name: 'ci', scopes: 'read,deploy', expires: '30d', createdBy: 'alice@host' }, randomBytes);
    clock.advance(1000);
    const ops = await createToken(s, { name: 'ops', scopes: 'admin' }, randomBytes);
    expect(await countAdminTokens(s)).toBe(1);
    const cache = new VerifiedTokenCache();
    expect(await authenticate(s, ci.token, cache)).toEqual({ tokenId: ci.id, name: 'ci', scopes: ['read', 'deploy'] });
    expect(await listTokens(s)).toEqual([
      {
        id: ci.id,
        name: 'ci',
        scopes: ['read', 'deploy'],
        state: 'active',
        createdAt: '2026-01-01T00:00:00.000Z',
        createdBy: 'alice@host',
        expiresAt: '2026-01-31T00:00:00.000Z',
        lastUsedAt: '2026-01-01T00:00:01.000Z',
      },
      { id: ops.id, name: 'ops', scopes: ['admin'], state: 'active', createdAt: '2026-01-01T00:00:01.000Z' },
    ]);
    // Another connection (another process) revokes: the cached token is refused on its next use.
    const other = open();
    const revoked = await revokeToken({ clock, tokens: new SqliteTokenStore(other.db) }, 'ci');
    expect(revoked.tokens.map((t) => [t.id, t.state, t.revokedAt])).toEqual([[ci.id, 'revoked', '2026-01-01T00:00:01.000Z']]);
    expect((await rejection(authenticate(s, ci.token, cache))).code).toBe('UNAUTHORIZED');
    expect((await revokeToken(s, ci.id)).alreadyRevoked).toBe(true);
    expect((await rejection(revokeToken(s, 'nobody'))).code).toBe('NOT_FOUND');
    clock.advance(29 * 86_400_000);
    expect((await listTokens(s)).map((t) => t.state)).toEqual(['revoked', 'active']);
  });

  it('keeps one active token per name across connections, and ids unique', async () => {
    await createToken(s, { name: 'ci', scopes: 'read' }, randomBytes);
    const second = { clock, tokens: new SqliteTokenStore(open().db) };
    const e = await rejection(createToken(second, { name: 'ci', scopes: 'read' }, randomBytes));
    expect([e.code, e.message]).toEqual(['CONFLICT', 'an active token is already named "ci"']);
    const fixed = (n: number): Buffer => Buffer.alloc(n, 7);
    await createToken(s, { name: 'one', scopes: 'read' }, fixed);
    expect((await rejection(createToken(s, { name: 'two', scopes: 'read' }, fixed))).message).toBe(`a token with id ${'07'.repeat(6)} already exists`);
  });

  it('stores only the salt and hash: no column of the raw row holds the token or its secret', async () => {
    const t = await createToken(s, { name: 'ci', scopes: 'read' }, randomBytes);
    const { secret } = parseTokenText(t.token)!;
    const raw = registry.db.prepare('SELECT * FROM api_tokens').all() as Record<string, unknown>[];
    expect(raw).toHaveLength(1);
    const row = raw[0]!;
    expect(Object.keys(row).sort()).toEqual(['created_at', 'created_by', 'expires_at', 'hash', 'id', 'last_used_at', 'name', 'revoked_at', 'salt', 'scopes']);
    expect(row).toMatchObject({ id: t.id, name: 'ci', scopes: 'read' });
    const secretBytes = Buffer.from(secret, 'base64url');
    for (const v of Object.values(row)) {
      const text = Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(t.token);
      if (Buffer.isBuffer(v)) expect(v.includes(secretBytes)).toBe(false);
    }
    expect((row.salt as Buffer).length).toBe(16);
    expect((row.hash as Buffer).length).toBe(32);
    // Nor anywhere in the database file.
    registry.db.pragma('wal_checkpoint(TRUNCATE)');
    const { readFileSync } = await import('node:fs');
    const file = readFileSync(join(dir.path, 'registry.db'));
    expect(file.includes(Buffer.from(secret))).toBe(false);
    expect(file.includes(secretBytes)).toBe(false);
  });

  it('treats hostile revoke input as a value, not SQL', async () => {
    await createToken(s, { name: 'ci', scopes: 'read' }, randomBytes);
    expect((await rejection(revokeToken(s, "x' OR '1'='1"))).code).toBe('NOT_FOUND');
    expect((await listTokens(s)).map((t) => t.state)).toEqual(['active']);
  });
});

describe('SqliteAuditLog', () => {
  const entry = (at: string, tokenName: string | undefined, action: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
    at,
    requestId: `r-${action}`,
    ...(tokenName ? { tokenName, tokenId: `${tokenName}-id` } : {}),
    method: 'POST',
    path: `/v1/${action}`,
    action,
    status: 200,
    ...extra,
  });

  it('lists in append order, filters by time and token, and limits to the newest', async () => {
    const audit = new SqliteAuditLog(registry.db);
    await audit.append(entry('2026-01-01T00:00:01.000Z', 'ci', 'deploy', { target: 'har@1', ip: '127.0.0.1' }));
    await audit.append(entry('2026-01-01T00:00:02.000Z', 'ops', 'token.create'));
    await audit.append(entry('2026-01-01T00:00:03.000Z', undefined, 'deploy', { status: 401, code: 'UNAUTHORIZED' }));
    await audit.append(entry('2026-01-01T00:00:04.000Z', 'ci', 'decommission', { status: 404, code: 'NOT_FOUND', target: 'd-1' }));
    const all = await audit.list();
    expect(all.map((e) => [e.seq, e.action])).toEqual([
      [1, 'deploy'],
      [2, 'token.create'],
      [3, 'deploy'],
      [4, 'decommission'],
    ]);
    expect(all[0]).toEqual({
      seq: 1,
      at: '2026-01-01T00:00:01.000Z',
      requestId: 'r-deploy',
      tokenId: 'ci-id',
      tokenName: 'ci',
      method: 'POST',
      path: '/v1/deploy',
      action: 'deploy',
      target: 'har@1',
      status: 200,
      ip: '127.0.0.1',
    });
    expect(all[2]).toEqual({
      seq: 3,
      at: '2026-01-01T00:00:03.000Z',
      requestId: 'r-deploy',
      method: 'POST',
      path: '/v1/deploy',
      action: 'deploy',
      status: 401,
      code: 'UNAUTHORIZED',
    });
    expect((await audit.list({ since: '2026-01-01T00:00:02.000Z' })).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await audit.list({ tokenName: 'ci' })).map((e) => e.seq)).toEqual([1, 4]);
    expect((await audit.list({ limit: 2 })).map((e) => e.seq)).toEqual([3, 4]);
    expect((await audit.list({ tokenName: 'ci', since: '2026-01-01T00:00:02.000Z', limit: 5 })).map((e) => e.seq)).toEqual([4]);
    expect(await audit.list({ limit: 0 })).toEqual([]);
    expect(await audit.list({ tokenName: "' OR 1=1 --" })).toEqual([]);
    // Another connection sees the same log.
    expect((await new SqliteAuditLog(open().db).list()).length).toBe(4);
  });

  it('prunes the entries older than the retention and keeps the rest in order', async () => {
    const audit = new SqliteAuditLog(registry.db);
    for (const at of ['2026-01-01T00:00:01.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']) await audit.append(entry(at, 'ci', 'deploy'));
    expect(await audit.prune('2026-01-02T00:00:00.000Z')).toBe(1);
    expect((await audit.list()).map((e) => e.at)).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
    expect(await audit.prune('2026-01-02T00:00:00.000Z')).toBe(0);
  });
});

describe('SqliteIdempotencyStore', () => {
  it('forgets keys first used before the retention: a later repeat is a new request', async () => {
    const keys = new SqliteIdempotencyStore(registry.db);
    expect(await keys.begin('ci', 'k-old', 'f1', '2026-01-01T00:00:00.000Z')).toEqual({ state: 'new' });
    await keys.finish('ci', 'k-old', 202, { job: 'j-1' });
    expect(await keys.begin('ci', 'k-new', 'f2', '2026-01-03T00:00:00.000Z')).toEqual({ state: 'new' });
    await keys.finish('ci', 'k-new', 202, { job: 'j-2' });
    expect(await keys.prune('2026-01-02T00:00:00.000Z')).toBe(1);
    expect(await keys.begin('ci', 'k-old', 'f1', '2026-01-04T00:00:00.000Z')).toEqual({ state: 'new' });
    expect(await keys.begin('ci', 'k-new', 'f2', '2026-01-04T00:00:00.000Z')).toEqual({ state: 'done', status: 202, body: { job: 'j-2' } });
  });
});

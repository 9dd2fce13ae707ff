// API token use cases over the in-memory token store and a manual clock: create -> authenticate
// with its scopes, nothing secret stored, one refusal message for every bad token, scopes,
// revocation and expiry, and the verified-token cache (scrypt once per token, revocation at once).
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  authenticate,
  countAdminTokens,
  createToken,
  listTokens,
  requireScope,
  revokeToken,
  VerifiedTokenCache,
  type CreatedToken,
  type TokenServices,
} from '../../src/app/tokens.js';
import { hashSecret, type HashSecret } from '../../src/auth/password-hash.js';
import { parseTokenText } from '../../src/auth/token-secret.js';
import { ManualClock } from '../../src/core/clock.js';
import { thrown, rejection } from '../support/assert.js';
import { MemoryTokenStore } from '../support/memory-stores.js';

let clock: ManualClock;
let tokens: MemoryTokenStore;
let s: TokenServices;
/** scrypt, counted. */
let hashes: number;
const counted: HashSecret = (secret, salt) => {
  hashes++;
  return hashSecret(secret, salt);
};

const create = (name: string, scopes: string, extra: { expires?: string } = {}): Promise<CreatedToken> =>
  createToken(s, { name, scopes, createdBy: 'alice@host', ...extra }, randomBytes, counted);

beforeEach(() => {
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  tokens = new MemoryTokenStore();
  s = { clock, tokens };
  hashes = 0;
});

const UNAUTHORIZED = 'invalid or expired token';

describe('createToken', () => {
  it('returns a token that authenticates with its scopes', async () => {
    const t = await create('CI', 'deploy,read', { expires: '30d' });
    expect(t).toEqual({
      token: expect.stringMatching(/^maas_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/),
      id: t.token.slice(5, 17),
      name: 'ci',
      scopes: ['read', 'deploy'],
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-31T00:00:00.000Z',
    });
    expect(await authenticate(s, t.token, undefined, counted)).toEqual({ tokenId: t.id, name: 'ci', scopes: ['read', 'deploy'] });
  });

  it('never stores the plaintext token or secret, in any form', async () => {
    const t = await create('ci', 'read');
    const { secret } = parseTokenText(t.token)!;
    const stored = tokens.records.get(t.id)!;
    const forms = [t.token, secret, Buffer.from(secret, 'base64url').toString('hex'), Buffer.from(secret, 'base64url').toString('base64')];
    const fields = Object.values(stored).map((v) =>
      Buffer.isBuffer(v) ? [v.toString('hex'), v.toString('base64'), v.toString('latin1')] : [JSON.stringify(v)],
    );
    for (const text of fields.flat()) for (const f of forms) expect(text).not.toContain(f);
    expect(Buffer.from(secret, 'base64url').length).toBe(32);
    for (const buf of [stored.salt, stored.hash]) expect(buf.includes(Buffer.from(secret, 'base64url'))).toBe(false);
    expect(stored.salt).toHaveLength(16);
    expect(stored.hash).toHaveLength(32);
    expect(stored.createdBy).toBe('alice@host');
  });

  it('validates name, scopes and expiry', async () => {
    expect((await rejection(create('', 'read'))).code).toBe('VALIDATION');
    expect((await rejection(create('has space', 'read'))).code).toBe('VALIDATION');
    expect((await rejection(create('-flag', 'read'))).code).toBe('VALIDATION');
    expect((await rejection(create('x'.repeat(65), 'read'))).code).toBe('VALIDATION');
    expect((await rejection(create('0123456789ab', 'read'))).message).toContain('looks like a token id');
    const scope = await rejection(create('ci', 'read,root'));
    expect([scope.code, scope.message, scope.hint]).toEqual(['VALIDATION', 'unknown scope "root"', expect.stringContaining('read, deploy, admin')]);
    expect((await rejection(create('ci', 'read', { expires: 'soon' }))).code).toBe('USAGE');
    expect((await rejection(create('ci', 'read', { expires: '0s' }))).code).toBe('VALIDATION');
    expect((await rejection(create('ci', 'read', { expires: '99999d' }))).code).toBe('VALIDATION');
    expect(tokens.records.size).toBe(0);
    expect(hashes).toBe(0);
  });

  it('refuses a second active token with the same name, but not once the first is revoked or expired', async () => {
    await create('ci', 'read', { expires: '1h' });
    const dup = await rejection(create('Ci', 'deploy'));
    expect([dup.code, dup.message]).toEqual(['CONFLICT', 'an active token is already named "ci"']);
    clock.advance(3_600_000);
    const second = await create('ci', 'deploy');
    await revokeToken(s, 'ci');
    await create('ci', 'admin');
    const third = (await listTokens(s)).find((t) => t.state === 'active');
    // The second and third were made at the same instant: compare by id, not by list order.
    const states = new Map((await listTokens(s)).map((t) => [t.id, t.state]));
    expect(states.get(second.id)).toBe('revoked');
    expect([...states.values()].sort()).toEqual(['active', 'revoked', 'revoked']);
    expect(third?.name).toBe('ci');
    expect(third?.id).not.toBe(second.id);
  });
});

describe('authenticate', () => {
  it('refuses malformed, unknown, wrong-secret, revoked and expired tokens with one message', async () => {
    const good = await create('ci', 'read', { expires: '1d' });
    const other = await create('other', 'read');
    const wrongSecret = `${good.token.slice(0, 18)}${parseTokenText(other.token)!.secret}`;
    const unknown = `maas_ffffffffffff_${parseTokenText(good.token)!.secret}`;
    const refusals = [];
    for (const text of ['', 'garbage', `Bearer ${good.token}`, 'x'.repeat(100_000), unknown, wrongSecret])
      refusals.push(await rejection(authenticate(s, text)));
    await revokeToken(s, 'other');
    refusals.push(await rejection(authenticate(s, other.token)));
    clock.advance(86_400_000);
    refusals.push(await rejection(authenticate(s, good.token)));
    for (const e of refusals) {
      expect([e.code, e.message, e.exitCode, e.httpStatus]).toEqual(['UNAUTHORIZED', UNAUTHORIZED, 8, 401]);
      expect(e.hint).toBe(refusals[0]!.hint);
      expect(e.hint).toContain('maas token create');
    }
  });

  it('records last use at most once a minute', async () => {
    const t = await create('ci', 'read');
    await authenticate(s, t.token);
    expect(tokens.records.get(t.id)!.lastUsedAt).toBe('2026-01-01T00:00:00.000Z');
    const writes = tokens.writes;
    clock.advance(30_000);
    await authenticate(s, t.token);
    expect(tokens.writes).toBe(writes);
    clock.advance(30_000);
    await authenticate(s, t.token);
    expect(tokens.records.get(t.id)!.lastUsedAt).toBe('2026-01-01T00:01:00.000Z');
    expect(tokens.writes).toBe(writes + 1);
  });

  it('still authenticates when recording the use fails', async () => {
    const t = await create('ci', 'read');
    tokens.touch = () => Promise.reject(new Error('database is locked'));
    expect((await authenticate(s, t.token)).name).toBe('ci');
  });
});

describe('VerifiedTokenCache', () => {
  it('verifies a secret once, yet refuses a revoked token at once', async () => {
    const t = await create('ci', 'deploy');
    const cache = new VerifiedTokenCache();
    hashes = 0;
    await authenticate(s, t.token, cache, counted);
    await authenticate(s, t.token, cache, counted);
    await authenticate(s, t.token, cache, counted);
    expect(hashes).toBe(1);
    await revokeToken(s, t.id);
    expect((await rejection(authenticate(s, t.token, cache, counted))).message).toBe(UNAUTHORIZED);
    expect(hashes).toBe(1);
  });

  it('refuses an expired token although its secret was verified', async () => {
    const t = await create('ci', 'read', { expires: '2m' });
    const cache = new VerifiedTokenCache();
    await authenticate(s, t.token, cache, counted);
    clock.advance(120_000);
    expect((await rejection(authenticate(s, t.token, cache, counted))).code).toBe('UNAUTHORIZED');
  });

  it('does not remember failures, and a wrong secret for a cached id still fails', async () => {
    const t = await create('ci', 'read');
    const cache = new VerifiedTokenCache();
    await authenticate(s, t.token, cache, counted);
    hashes = 0;
    const wrong = `${t.token.slice(0, -2)}${t.token.endsWith('AA') ? 'EA' : 'AA'}`;
    await rejection(authenticate(s, wrong, cache, counted));
    await rejection(authenticate(s, wrong, cache, counted));
    expect(hashes).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('is bounded, dropping the least recently used entry', () => {
    const cache = new VerifiedTokenCache(2);
    const h = Buffer.from('h');
    cache.remember('a', h);
    cache.remember('b', h);
    expect(cache.verified('a', h)).toBe(true);
    cache.remember('c', h);
    expect(cache.size).toBe(2);
    expect(cache.verified('b', h)).toBe(false);
    expect(cache.verified('a', h)).toBe(true);
    // Verified against another hash (a replaced row): not a hit.
    expect(cache.verified('a', Buffer.from('other'))).toBe(false);
  });

  it('keys by a digest of the token, never the token', () => {
    expect(VerifiedTokenCache.key('maas_x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('requireScope', () => {
  it('passes implied scopes and names what is missing otherwise', async () => {
    const t = await create('ci', 'read,deploy');
    const p = await authenticate(s, t.token);
    requireScope(p, 'read');
    requireScope(p, 'deploy');
    const e = thrown(() => requireScope(p, 'admin'));
    expect([e.code, e.message, e.httpStatus]).toEqual(['FORBIDDEN', 'token "ci" lacks the "admin" scope (it has: read, deploy)', 403]);
    expect(e.hint).toContain('--scope admin');
    requireScope({ tokenId: 'x', name: 'root', scopes: ['admin'] }, 'deploy');
  });
});

describe('list, revoke and count', () => {
  it('lists without salt or hash, with each state', async () => {
    const a = await create('a', 'admin');
    clock.advance(1000);
    await create('b', 'read', { expires: '1s' });
    clock.advance(1000);
    await create('c', 'deploy');
    await revokeToken(s, 'c');
    const list = await listTokens(s);
    expect(list.map((t) => [t.name, t.state])).toEqual([
      ['a', 'active'],
      ['b', 'expired'],
      ['c', 'revoked'],
    ]);
    expect(list[0]).toEqual({ id: a.id, name: 'a', scopes: ['admin'], state: 'active', createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'alice@host' });
    expect(JSON.stringify(list)).not.toMatch(/salt|hash/);
  });

  it('revokes by id, name or the token itself; again is not an error; unknown is NOT_FOUND', async () => {
    const a = await create('deployer', 'deploy');
    const b = await create('reader', 'read');
    const c = await create('ops', 'admin');
    expect((await revokeToken(s, a.id)).tokens.map((t) => [t.name, t.state])).toEqual([['deployer', 'revoked']]);
    expect((await revokeToken(s, 'READER')).tokens.map((t) => t.id)).toEqual([b.id]);
    expect((await revokeToken(s, c.token)).tokens.map((t) => t.name)).toEqual(['ops']);
    const again = await revokeToken(s, 'reader');
    expect([again.alreadyRevoked, again.tokens[0]!.revokedAt]).toEqual([true, '2026-01-01T00:00:00.000Z']);
    const missing = await rejection(revokeToken(s, 'readr'));
    expect([missing.code, missing.exitCode, missing.message]).toEqual(['NOT_FOUND', 4, 'no token with id or name "readr" (did you mean reader?)']);
  });

  it('counts active admin tokens only', async () => {
    expect(await countAdminTokens(s)).toBe(0);
    await create('ops', 'admin');
    await create('ops2', 'admin', { expires: '1h' });
    await create('old', 'admin');
    await create('ci', 'deploy');
    await revokeToken(s, 'old');
    expect(await countAdminTokens(s)).toBe(2);
    clock.advance(3_600_000);
    expect(await countAdminTokens(s)).toBe(1);
  });

  it('says so when the registry keeps no tokens', async () => {
    const e = await rejection(listTokens({ clock }));
    expect([e.code, e.message]).toEqual(['USAGE', 'this registry does not keep API tokens']);
  });
});

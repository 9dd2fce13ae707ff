// Token text `maas_<id>_<secret>`: made from the injected random source, and parsed without
// throwing whatever arrives in an Authorization header.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTokenId, newTokenSecret, parseTokenText, TOKEN_LENGTH } from '../../src/auth/token-secret.js';

/** A random source that returns 0, 1, 2, ... so the token is predictable. */
function counting(): (n: number) => Buffer {
  let next = 0;
  return (n) => Buffer.from(Array.from({ length: n }, () => next++ % 256));
}

describe('newTokenSecret', () => {
  it('makes maas_<12 hex>_<43 base64url> from the random source', () => {
    const t = newTokenSecret(counting());
    expect(t.id).toBe('000102030405');
    expect(t.secret).toBe(Buffer.from(Array.from({ length: 32 }, (_, i) => i + 6)).toString('base64url'));
    expect(t.text).toBe(`maas_${t.id}_${t.secret}`);
    expect(t.text).toHaveLength(TOKEN_LENGTH);
    expect(parseTokenText(t.text)).toEqual({ id: t.id, secret: t.secret });
  });

  it('parses back every token it makes, including secrets with _ and -', () => {
    for (let i = 0; i < 500; i++) {
      const t = newTokenSecret(randomBytes);
      expect(parseTokenText(t.text)).toEqual({ id: t.id, secret: t.secret });
    }
    const dashes = newTokenSecret((n) => Buffer.alloc(n, 0xfb));
    expect(dashes.secret).toMatch(/[-_]/);
    expect(parseTokenText(dashes.text)).toEqual({ id: dashes.id, secret: dashes.secret });
  });

  it('refuses a random source that returns too few bytes', () => {
    expect(() => newTokenSecret(() => Buffer.alloc(3))).toThrow(RangeError);
  });
});

describe('parseTokenText', () => {
  const good = newTokenSecret(counting()).text;
  const hostile: [string, unknown][] = [
    ['empty', ''],
    ['huge', `maas_000102030405_${'A'.repeat(10_000_000)}`],
    ['wrong prefix', `mass_${good.slice(5)}`],
    ['upper-case prefix', `MAAS_${good.slice(5)}`],
    ['non-hex id', `maas_00010203040g_${good.slice(18)}`],
    ['upper-case id', `maas_ABCDEF012345_${good.slice(18)}`],
    ['short id', `maas_0001020304_${good.slice(18)}A`.slice(0, TOKEN_LENGTH)],
    ['missing separator', `maas_000102030405-${good.slice(18)}`],
    ['secret one short', good.slice(0, -1)],
    ['secret one long', `${good}A`],
    ['padding', `${good.slice(0, -1)}=`],
    ['standard base64 characters', `${good.slice(0, -2)}+/`],
    ['non-canonical last character', `${good.slice(0, -1)}${String.fromCharCode(good.charCodeAt(good.length - 1) + 1)}`],
    ['unicode look-alike', `maas_000102030405_${good.slice(18, -1)}é`],
    ['unicode digits in id', `maas_٠١٢٣٤٥٦٧٨٩ab_${good.slice(18)}`],
    ['surrounding space', ` ${good.slice(1)}`],
    ['trailing newline', `${good.slice(0, -1)}\n`],
    ['NUL byte', `${good.slice(0, -1)}\u0000`],
    ['Bearer prefix', `Bearer ${good}`],
    ['not a string', 42],
    ['undefined', undefined],
    ['object', { toString: () => good }],
  ];
  it.each(hostile)('%s -> undefined', (_name, input) => {
    expect(() => parseTokenText(input)).not.toThrow();
    expect(parseTokenText(input)).toBeUndefined();
  });

  it('accepts only the exact shape', () => {
    expect(parseTokenText(good)).toBeDefined();
  });
});

describe('isTokenId', () => {
  it('is 12 lowercase hex characters', () => {
    expect(isTokenId('0123456789ab')).toBe(true);
    expect(isTokenId('0123456789AB')).toBe(false);
    expect(isTokenId('0123456789a')).toBe(false);
    expect(isTokenId('ci')).toBe(false);
  });
});

// Salted scrypt of token secrets: the right secret verifies, a wrong one does not, and the salt
// changes the hash.
import { describe, expect, it } from 'vitest';
import { hashSecret, KEY_LENGTH, newSalt, SALT_LENGTH, verifySecret } from '../../src/auth/password-hash.js';

const salt = (byte: number): Buffer => Buffer.alloc(SALT_LENGTH, byte);

describe('hashSecret / verifySecret', () => {
  it('verifies the right secret and refuses a wrong one', async () => {
    const hash = await hashSecret('s3cret', salt(1));
    expect(hash).toHaveLength(KEY_LENGTH);
    expect(await verifySecret('s3cret', salt(1), hash)).toBe(true);
    expect(await verifySecret('s3creT', salt(1), hash)).toBe(false);
    expect(await verifySecret('', salt(1), hash)).toBe(false);
    // Same secret, other salt: no match.
    expect(await verifySecret('s3cret', salt(2), hash)).toBe(false);
  });

  it('is deterministic for one salt and differs across salts', async () => {
    const a = await hashSecret('same secret', salt(7));
    expect((await hashSecret('same secret', salt(7))).equals(a)).toBe(true);
    expect((await hashSecret('same secret', salt(8))).equals(a)).toBe(false);
  });

  it('uses N=16384, r=8, p=1 (a known vector computed with those parameters)', async () => {
    const { scryptSync } = await import('node:crypto');
    const expected = scryptSync('vector', salt(3), 32, { N: 16384, r: 8, p: 1 });
    expect((await hashSecret('vector', salt(3))).equals(expected)).toBe(true);
  });

  it('refuses a stored hash of another length without throwing', async () => {
    const hash = await hashSecret('x', salt(1));
    expect(await verifySecret('x', salt(1), hash.subarray(0, 16))).toBe(false);
    expect(await verifySecret('x', salt(1), Buffer.alloc(0))).toBe(false);
  });

  it('makes salts of 16 bytes from the random source', () => {
    expect(newSalt((n) => Buffer.alloc(n + 4, 9))).toEqual(Buffer.alloc(SALT_LENGTH, 9));
    expect(() => newSalt(() => Buffer.alloc(4))).toThrow(RangeError);
  });
});

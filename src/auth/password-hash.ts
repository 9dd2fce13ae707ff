// Token secrets are stored as salted scrypt hashes. The cost (N=2^14, r=8, p=1: about 16 MiB and
// tens of milliseconds) makes guessing from a stolen database slow; a server verifies each token
// once and caches the result (app/tokens.ts), so the cost is paid per token, not per request.
import { scrypt, timingSafeEqual } from 'node:crypto';

export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
export const KEY_LENGTH = 32;
export const SALT_LENGTH = 16;

/** What the use cases call to hash a secret; tests pass a counting one. */
export type HashSecret = (secret: string, salt: Buffer) => Promise<Buffer>;

export function hashSecret(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, { ...SCRYPT_PARAMS, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes `secret` with `salt` and compares with `hash` in constant time. */
export async function verifySecret(secret: string, salt: Buffer, hash: Buffer, hashFn: HashSecret = hashSecret): Promise<boolean> {
  const computed = await hashFn(secret, salt);
  // timingSafeEqual needs equal lengths; a stored hash of another length can never match.
  return computed.length === hash.length && timingSafeEqual(computed, hash);
}

/** A fresh salt from the given random source. */
export function newSalt(randomBytes: (n: number) => Buffer): Buffer {
  const salt = randomBytes(SALT_LENGTH);
  if (salt.length < SALT_LENGTH) throw new RangeError(`random source returned ${salt.length} bytes, expected ${SALT_LENGTH}`);
  return Buffer.from(salt.subarray(0, SALT_LENGTH));
}

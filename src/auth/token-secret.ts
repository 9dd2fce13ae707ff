// The text of an API token: `maas_<id>_<secret>`. The id (12 lowercase hex characters) is public
// and finds the stored record; the secret (32 random bytes, base64url) is only ever stored as a
// salted hash. The fixed prefix lets secret scanners and humans recognise a leaked token.
export const TOKEN_PREFIX = 'maas_';
const ID_BYTES = 6;
const SECRET_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const SECRET_CHARS = 43;
/** Every token has exactly this many characters. */
export const TOKEN_LENGTH = TOKEN_PREFIX.length + 2 * ID_BYTES + 1 + SECRET_CHARS;

const TOKEN = /^maas_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export type RandomBytes = (n: number) => Buffer;

export interface TokenParts {
  id: string;
  secret: string;
}

export interface NewToken extends TokenParts {
  /** What the holder sends; shown once and never stored. */
  text: string;
}

function random(randomBytes: RandomBytes, n: number): Buffer {
  const bytes = randomBytes(n);
  // A short buffer would silently weaken every token made from it.
  if (bytes.length < n) throw new RangeError(`random source returned ${bytes.length} bytes, expected ${n}`);
  return bytes.subarray(0, n);
}

export function newTokenSecret(randomBytes: RandomBytes): NewToken {
  const id = random(randomBytes, ID_BYTES).toString('hex');
  const secret = random(randomBytes, SECRET_BYTES).toString('base64url');
  return { id, secret, text: `${TOKEN_PREFIX}${id}_${secret}` };
}

/**
 * The id and secret of a token's text, or undefined for anything else. Never throws: the length
 * is checked before any pattern runs, so hostile input (huge, binary, non-string) costs nothing.
 */
export function parseTokenText(text: unknown): TokenParts | undefined {
  if (typeof text !== 'string' || text.length !== TOKEN_LENGTH) return undefined;
  const m = TOKEN.exec(text);
  if (!m) return undefined;
  const [, id, secret] = m as unknown as [string, string, string];
  // Only the canonical encoding of 32 bytes: other spellings of the same bytes are not tokens.
  if (Buffer.from(secret, 'base64url').toString('base64url') !== secret) return undefined;
  return { id, secret };
}

/** True for text shaped like a token id (12 lowercase hex characters). */
export function isTokenId(text: string): boolean {
  return /^[0-9a-f]{12}$/.test(text);
}

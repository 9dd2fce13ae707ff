// Who may read a strict server's labelled rows: only a request whose bearer token equals the
// trimmed contents of the token file (`maas serve --labelled-token-file`, a mounted Kubernetes
// Secret shared with the in-cluster retraining Job). The file is read again on every request, so
// a rotated or deleted Secret takes effect without a restart. Every failure (no file, an empty
// one, no or another header, a wrong token) is the same `false`; the comparison runs in constant
// time over sha256 digests. Nothing here logs or returns the token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(.+)$/i.exec(authorization?.trim() ?? '');
  const token = m?.[1]?.trim();
  return token ? token : undefined;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Whether the request's Authorization header carries the token the file holds now. */
export async function labelledTokenAccepted(tokenFile: string, authorization: string | undefined): Promise<boolean> {
  let expected = '';
  try {
    expected = (await readFile(tokenFile, 'utf8')).trim();
  } catch {
    // Missing (the optional Secret is absent between retraining runs) or unreadable: nobody gets in.
  }
  const presented = bearerToken(authorization);
  // Digests have one length whatever was sent, and comparing them takes the same time wherever they differ.
  const same = timingSafeEqual(digest(presented ?? ''), digest(expected));
  return same && expected !== '' && presented !== undefined;
}

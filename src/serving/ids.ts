// Request ids: unique without coordination (a random per-process prefix plus a counter), cheap
// enough to mint one per request. Per-row ids follow src/protocol/row-id.ts.
import { randomBytes } from 'node:crypto';

export interface IdSource {
  next(): string;
}

export function createIdSource(prefix = randomBytes(4).toString('hex')): IdSource {
  // Start time in the prefix keeps ids from different runs apart even if the random part repeats.
  const head = `${Date.now().toString(36)}${prefix}-`;
  let n = 0;
  return { next: () => head + (n++).toString(36) };
}

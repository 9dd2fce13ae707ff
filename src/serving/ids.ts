// Request ids: unique without coordination (a random per-process prefix plus a counter), cheap
// enough to mint one per request, and the derived per-row ids that feedback targets.
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

/**
 * The log id of row `row` of a request: the request id itself for a one-row request, otherwise
 * `<id>:<row>` with rows counted from 0 (across the whole file for a data reference).
 */
export function rowId(requestId: string, totalRows: number, row: number): string {
  return totalRows === 1 ? requestId : `${requestId}:${row}`;
}

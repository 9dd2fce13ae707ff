// The id under which the server logs each predicted row, and which feedback names: the request
// id itself for a one-row request, otherwise `<requestId>:<row>` with rows counted from 0 (across
// the whole file for a data reference).

export function rowId(requestId: string, totalRows: number, row: number): string {
  return totalRows === 1 ? requestId : `${requestId}:${row}`;
}

/** The ids of all `n` rows of a request's answer, in row order. */
export function rowIds(requestId: string, n: number): string[] {
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = rowId(requestId, n, i);
  return ids;
}

/** The request and row a multi-row id names (`<requestId>:<row>`), or undefined for other ids. */
export function parseRowId(id: string): { requestId: string; row: number } | undefined {
  const m = /^(.*):(\d+)$/.exec(id);
  return m ? { requestId: m[1]!, row: Number(m[2]) } : undefined;
}

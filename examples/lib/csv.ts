// Minimal CSV (RFC 4180 quoting) for the example data: numeric feature columns plus a label column.

export interface Table {
  header: string[];
  rows: string[][];
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function formatCsv(table: Table): string {
  const lines = [table.header, ...table.rows].map((r) => r.map(quote).join(','));
  return `${lines.join('\n')}\n`;
}

/** Parses CSV text; blank lines are skipped, every row must have as many cells as the header. */
export function parseCsv(text: string): Table {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endRow = (): void => {
    row.push(cell);
    cell = '';
    if (!(row.length === 1 && row[0] === '')) records.push(row);
    row = [];
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') endRow();
    else if (ch !== '\r') cell += ch;
    i++;
  }
  if (cell !== '' || row.length > 0) endRow();
  const [header, ...rows] = records;
  if (!header) throw new Error('empty CSV: expected a header row');
  rows.forEach((r, n) => {
    if (r.length !== header.length) throw new Error(`CSV row ${n + 2} has ${r.length} cells, the header has ${header.length}`);
  });
  return { header, rows };
}

// The one CSV reader and writer of maas (RFC 4180 via csv-parse): a header row, then records of
// strings. Cells are never converted here ("007" stays "007"); readers convert by feature type.
import { parse } from 'csv-parse/sync';
import { MaasError } from '../core/errors.js';

export interface CsvTable {
  /** Column names, trimmed. */
  header: string[];
  /** Data records, every one as long as the header. */
  rows: string[][];
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

function countNewlines(record: readonly string[]): number {
  let n = 0;
  for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Reads CSV text: quoted fields (with commas, newlines and doubled quotes), LF, CRLF or CR line
 * ends, an optional BOM; blank lines are skipped. `what` names the text in error messages.
 * Line ends are normalized to LF first, also inside quoted fields, so that line numbers in
 * messages are exact.
 */
export function parseCsv(text: string, what = 'CSV'): CsvTable {
  let parsed: ParsedRecord[];
  try {
    parsed = parse(text.replace(/\r\n?/g, '\n'), {
      bom: true,
      skip_empty_lines: true,
      // Ragged records are refused below with their line; a stray quote inside a field is data.
      relax_column_count: true,
      relax_quotes: true,
      record_delimiter: '\n',
      info: true,
    }) as unknown as ParsedRecord[];
  } catch (e) {
    throw new MaasError('VALIDATION', `${what}: ${(e as Error).message}`, {
      cause: e,
      hint: 'quote fields that contain commas, quotes or line breaks ("a ""quoted"" word")',
    });
  }
  // A line of only spaces is as blank as an empty one.
  const records = parsed.filter((p) => !(p.record.length === 1 && p.record[0]!.trim() === ''));
  const head = records.shift();
  if (!head) throw new MaasError('VALIDATION', `${what} is empty; it needs a header row naming the columns`);
  const header = head.record.map((h) => h.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new MaasError('VALIDATION', `${what} header names column "${name}" twice; give every column a distinct name`);
    seen.add(name);
  }
  const rows = records.map(({ record, info }) => {
    if (record.length !== header.length) {
      // info.lines is where the record ends; a record spans one line per newline in its fields.
      const line = info.lines - countNewlines(record);
      throw new MaasError('VALIDATION', `${what} line ${line} has ${record.length} cell${record.length === 1 ? '' : 's'}, the header has ${header.length}`, {
        hint: 'every line needs one cell per header column; quote cells that contain commas',
      });
    }
    return record;
  });
  return { header, rows };
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** CSV text of a table (quoted only where needed), LF line ends and a final newline. */
export function formatCsv(table: { header: readonly string[]; rows: readonly (readonly string[])[] }): string {
  const lines = [table.header, ...table.rows].map((r) => r.map(quote).join(','));
  return `${lines.join('\n')}\n`;
}

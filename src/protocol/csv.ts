// The one CSV reader and writer of maas (RFC 4180 via csv-parse): a header row, then records of
// strings. Cells are never converted here ("007" stays "007"); readers convert by feature type.
// `parseCsv` reads a whole text; `csvRows` streams chunks (large data files) with the same rules.
import { Readable, pipeline } from 'node:stream';
import { parse as parseStream } from 'csv-parse';
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

/** csv-parse's options for both readers; line ends are normalized to LF before parsing. */
const OPTIONS = {
  bom: true,
  skip_empty_lines: true,
  // Ragged records are refused with their line; a stray quote inside a field is data.
  relax_column_count: true,
  relax_quotes: true,
  record_delimiter: '\n',
  info: true,
} as const;

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
    parsed = parse(text.replace(/\r\n?/g, '\n'), OPTIONS) as unknown as ParsedRecord[];
  } catch (e) {
    throw syntaxError(e, what);
  }
  // A line of only spaces is as blank as an empty one.
  const records = parsed.filter((p) => !isBlank(p.record));
  const head = records.shift();
  if (!head) throw emptyError(what);
  const header = headerOf(head.record, what);
  const rows = records.map((r) => checkedRecord(r, header.length, what));
  return { header, rows };
}

function syntaxError(e: unknown, what: string): MaasError {
  return new MaasError('VALIDATION', `${what}: ${(e as Error).message}`, {
    cause: e,
    hint: 'quote fields that contain commas, quotes or line breaks ("a ""quoted"" word")',
  });
}

const emptyError = (what: string): MaasError => new MaasError('VALIDATION', `${what} is empty; it needs a header row naming the columns`);

const isBlank = (record: readonly string[]): boolean => record.length === 1 && record[0]!.trim() === '';

function headerOf(record: readonly string[], what: string): string[] {
  const header = record.map((h) => h.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new MaasError('VALIDATION', `${what} header names column "${name}" twice; give every column a distinct name`);
    seen.add(name);
  }
  return header;
}

function checkedRecord({ record, info }: ParsedRecord, columns: number, what: string): string[] {
  if (record.length !== columns) {
    // info.lines is where the record ends; a record spans one line per newline in its fields.
    const line = info.lines - countNewlines(record);
    throw new MaasError('VALIDATION', `${what} line ${line} has ${record.length} cell${record.length === 1 ? '' : 's'}, the header has ${columns}`, {
      hint: 'every line needs one cell per header column; quote cells that contain commas',
    });
  }
  return record;
}

const CR = 0x0d;
const LF = 0x0a;
const LF_BUFFER = Buffer.from([LF]);

/** CRLF and lone CR to LF, also when a CRLF is split between two chunks (CR is never part of a UTF-8 sequence). */
async function* toLf(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  let pendingCr = false;
  for await (const chunk of chunks) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (b.length === 0) continue;
    const parts: Buffer[] = [];
    let start = 0;
    if (pendingCr) {
      parts.push(LF_BUFFER);
      if (b[0] === LF) start = 1;
      pendingCr = false;
    }
    for (let i = b.indexOf(CR, start); i >= 0; i = b.indexOf(CR, start)) {
      parts.push(b.subarray(start, i));
      if (i === b.length - 1) {
        pendingCr = true;
        start = b.length;
        break;
      }
      parts.push(LF_BUFFER);
      start = b[i + 1] === LF ? i + 2 : i + 1;
    }
    if (start < b.length) parts.push(b.subarray(start));
    if (parts.length > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
  if (pendingCr) yield LF_BUFFER;
}

/**
 * Streams CSV from chunks of UTF-8 (a file read stream, say) with the rules of parseCsv: the
 * first item is the header (trimmed, names distinct), then every data record, each as long as
 * the header. Stopping early (break) stops reading the chunks.
 */
export async function* csvRows(chunks: AsyncIterable<Uint8Array | string>, what = 'CSV'): AsyncGenerator<string[], void, undefined> {
  const source = Readable.from(toLf(chunks));
  const parser = parseStream(OPTIONS);
  // Errors of either side end the parser's iteration below; nothing else to do when it ends.
  pipeline(source, parser, () => {});
  let header: string[] | undefined;
  try {
    for await (const p of parser as AsyncIterable<ParsedRecord>) {
      if (isBlank(p.record)) continue;
      if (header === undefined) {
        header = headerOf(p.record, what);
        yield header;
      } else yield checkedRecord(p, header.length, what);
    }
  } catch (e) {
    if (typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('CSV_')) throw syntaxError(e, what);
    throw e;
  } finally {
    source.destroy();
    parser.destroy();
  }
  if (header === undefined) throw emptyError(what);
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** CSV text of a table (quoted only where needed), LF line ends and a final newline. */
export function formatCsv(table: { header: readonly string[]; rows: readonly (readonly string[])[] }): string {
  const lines = [table.header, ...table.rows].map((r) => r.map(quote).join(','));
  return `${lines.join('\n')}\n`;
}

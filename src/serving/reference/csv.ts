// A small RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF, an optional BOM.
import { badRequest } from '../errors.js';

/** All records of `text`; blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  // atStart: at the start of a field (a quote opens a quoted field); content: the line is not blank.
  let atStart = true;
  let content = false;
  const endRecord = (): void => {
    if (content) {
      record.push(field);
      records.push(record);
    }
    record = [];
    field = '';
    atStart = true;
    content = false;
  };
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"' && atStart) {
      // Quoted field: read to the closing quote.
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) throw badRequest(`data_ref CSV: unterminated quoted field starting on line ${startLine}`);
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      atStart = false;
      content = true;
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw badRequest(`data_ref CSV: unexpected text after a quoted field on line ${line}`);
      continue;
    }
    if (ch === ',') {
      record.push(field);
      field = '';
      atStart = true;
      content = true;
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      continue;
    }
    // Plain run of characters up to the next delimiter.
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10 || c === 13) break;
      j++;
    }
    field += text.slice(i, j);
    atStart = false;
    content = true;
    i = j;
  }
  endRecord();
  return records;
}

// The one CSV reader (client rows, feedback files, server data references, examples).
import { describe, expect, it } from 'vitest';
import type { MaasError } from '../../src/core/errors.js';
import { rejection, thrown } from '../support/assert.js';
import { csvRows, formatCsv, parseCsv } from '../../src/protocol/csv.js';

const fails = (fn: () => unknown): MaasError => thrown(fn);

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF mixed with LF, a BOM and skips blank lines', () => {
    expect(parseCsv('\ufeffa,b\r\n"1,5","say ""hi"""\n\n3,\n')).toEqual({
      header: ['a', 'b'],
      rows: [
        ['1,5', 'say "hi"'],
        ['3', ''],
      ],
    });
  });

  it('keeps line breaks inside quoted fields, whatever the line ends', () => {
    expect(parseCsv('a\n"multi\nline"\n').rows).toEqual([['multi\nline']]);
    expect(parseCsv('a,b\r\n"multi\r\nline",2\r\n').rows).toEqual([['multi\nline', '2']]);
    expect(parseCsv('a,b\r1,2\r3,4').rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('never converts cells: "007" stays "007", spaces stay', () => {
    expect(parseCsv('code,n\n007, 1.50 \n').rows).toEqual([['007', ' 1.50 ']]);
  });

  it('trims header names and skips lines of only spaces', () => {
    expect(parseCsv(' a , b\n   \n1,2\n')).toEqual({ header: ['a', 'b'], rows: [['1', '2']] });
  });

  it('takes a quote inside an unquoted field as data', () => {
    expect(parseCsv('h,w\n5\'6",2\n').rows).toEqual([['5\'6"', '2']]);
  });

  it('refuses a ragged row, naming its line (counting blank lines and quoted line breaks)', () => {
    const e = fails(() => parseCsv('a,b,c\n1,2,3\n\n"x\ny",2,3\n4,5\n', 'the input CSV'));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toBe('the input CSV line 6 has 2 cells, the header has 3');
    expect(fails(() => parseCsv('a,b\r\n1,2\r\n3\r\n')).message).toBe('CSV line 3 has 1 cell, the header has 2');
    expect(fails(() => parseCsv('a,b\n1,2,3\n')).message).toBe('CSV line 2 has 3 cells, the header has 2');
  });

  it('reports an unterminated quote with its line', () => {
    expect(fails(() => parseCsv('a\n"oops\n')).message).toMatch(/^CSV: Quote Not Closed.*line 2/);
  });

  it('refuses empty text and a header naming a column twice', () => {
    expect(fails(() => parseCsv('')).message).toContain('CSV is empty');
    expect(fails(() => parseCsv('\n\n')).message).toContain('needs a header row');
    expect(fails(() => parseCsv('a,b,a\n1,2,3\n')).message).toContain('column "a" twice');
  });

  it('reads a header without rows', () => {
    expect(parseCsv('a,b\n')).toEqual({ header: ['a', 'b'], rows: [] });
  });
});

describe('formatCsv', () => {
  it('quotes only where needed and round-trips through parseCsv', () => {
    const table = {
      header: ['id', 'note'],
      rows: [
        ['007', 'plain'],
        ['a,b', 'say "hi"'],
        ['x', 'two\nlines'],
      ],
    };
    const text = formatCsv(table);
    expect(text).toBe('id,note\n007,plain\n"a,b","say ""hi"""\nx,"two\nlines"\n');
    expect(parseCsv(text)).toEqual(table);
  });
});

/** Everything csvRows yields for `text` cut into chunks of `size` bytes (as a file stream would). */
async function streamed(text: string, size: number, what?: string): Promise<string[][]> {
  const bytes = Buffer.from(text);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const out: string[][] = [];
  for await (const row of csvRows(chunks(), what)) out.push(row);
  return out;
}

describe('csvRows (streaming)', () => {
  const texts = [
    '\ufeffa,b\r\n"1,5","say ""hi"""\n\n3,\n',
    'a,b\r\n"multi\r\nline",2\r\n',
    'a,b\r1,2\r3,4',
    ' a , b \n  \n007, 1.50 \n',
    'x,\u00e9t\u00e9\n\u00e0,\u{1F600}\r\n2,3\n',
    'a,b\n',
  ];

  it('reads what parseCsv reads, however the bytes are split (CRLF, quotes, BOM, UTF-8 across chunks)', async () => {
    for (const text of texts) {
      const { header, rows } = parseCsv(text);
      for (const size of [1, 2, 3, 7, 1 << 16]) expect(await streamed(text, size), `${JSON.stringify(text)} in ${size}-byte chunks`).toEqual([header, ...rows]);
    }
  });

  it('refuses what parseCsv refuses, with the same messages', async () => {
    const bad = ['a,b,c\n1,2,3\n\n"x\ny",2,3\n4,5\n', 'a,b\r\n1,2\r\n3\r\n', 'a\n"oops\n', '', '\n\n', 'a,b,a\n1,2,3\n'];
    for (const text of bad) {
      const sync = fails(() => parseCsv(text, 'the data'));
      for (const size of [1, 4, 1 << 16]) {
        const e = await rejection(streamed(text, size, 'the data'));
        expect(e.code).toBe('VALIDATION');
        expect(e.message, `${JSON.stringify(text)} in ${size}-byte chunks`).toBe(sync.message);
      }
    }
  });

  it('stops reading its source when the caller stops', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      yield 'a,b\n';
      for (;;) {
        pulled++;
        yield '1,2\n'.repeat(100);
      }
    }
    let n = 0;
    for await (const _row of csvRows(endless())) if (++n === 3) break;
    const after = pulled;
    await new Promise((r) => setTimeout(r, 20));
    expect(pulled).toBe(after);
    expect(pulled).toBeLessThan(50);
  });
});

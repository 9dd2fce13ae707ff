// Prediction input to an OIP request: formats, conversion by feature type, row ids.
import { describe, expect, it } from 'vitest';
import type { MaasError } from '../../src/core/errors.js';
import { thrown } from '../support/assert.js';
import type { FeatureSpec } from '../../src/spec/schema.js';
import { formatFromName, sniffFormat } from '../../src/protocol/formats.js';
import { parseRowId, rowId, rowIds } from '../../src/protocol/row-id.js';
import { parseInputText, rowsToRequest } from '../../src/protocol/rows.js';

const features: FeatureSpec[] = [
  { name: 'x', type: 'number' },
  { name: 'n', type: 'integer', optional: true },
  { name: 'code', type: 'category', values: ['007', '7', 'a, b'] },
  { name: 'flag', type: 'boolean' },
];

const fails = (fn: () => unknown): MaasError => thrown(fn);

/** CSV (or any) text straight to the column data of each feature. */
function columns(text: string, format?: 'csv' | 'json' | 'ndjson'): Record<string, unknown[]> {
  const parsed = parseInputText(text, format);
  const request = rowsToRequest(parsed.rows ?? [], features);
  return Object.fromEntries((request.inputs ?? []).map((i) => [i.name, i.data]));
}

describe('prediction input', () => {
  it('keeps a category "007" as "007" (not the number 7)', () => {
    expect(columns('x,code,flag\n1,007,true\n2,7,false\n').code).toEqual(['007', '7']);
    expect(columns('[{"x":1,"code":7,"flag":true}]').code).toEqual(['7']);
  });

  it('reads a quoted CSV field with a line break and a comma as one cell', () => {
    const cols = columns('x,code,flag,note\n1,"a, b",true,"first line\nsecond line"\n2,7,0,plain\n');
    expect(cols.x).toEqual([1, 2]);
    expect(cols.code).toEqual(['a, b', '7']);
  });

  it('reads CSV with a BOM and CRLF line ends', () => {
    expect(columns('\ufeffx,code,flag\r\n1.5,007,TRUE\r\n\r\n2,7,0\r\n')).toEqual({ x: [1.5, 2], n: [null, null], code: ['007', '7'], flag: [true, false] });
  });

  it('refuses a ragged CSV row with its line number', () => {
    const e = fails(() => parseInputText('x,code,flag\n1,007,true\n2,7\n'));
    expect(e.message).toBe('the input CSV line 3 has 2 cells, the header has 3');
  });

  it('converts every cell by its feature type, with errors naming row and feature', () => {
    const cols = columns('x,n,code,flag\n 3 ,4,007,1\n-1e2,,7,false\n');
    expect(cols).toEqual({ x: [3, -100], n: [4, null], code: ['007', '7'], flag: [true, false] });
    expect(fails(() => columns('x,code,flag\n1,007,true\nabc,007,true\n')).message).toBe('row 2 feature "x": "abc" is not a number');
    expect(fails(() => columns('x,n,code,flag\n1,2.5,007,true\n')).message).toBe('row 1 feature "n": "2.5" is not an integer');
    expect(fails(() => columns('x,code,flag\n1,007,yes\n')).message).toBe('row 1 feature "flag": "yes" is not a boolean (true/false or 1/0)');
    expect(fails(() => columns('[{"x":true,"code":"007","flag":true}]')).message).toBe('row 1 feature "x": true is not a number');
    expect(fails(() => columns('[{"x":1,"code":["007"],"flag":true}]')).message).toBe('row 1 feature "code": an array is not a category value');
  });

  it('leaves empty cells missing (null) and refuses rows without a required feature', () => {
    expect(columns('x,code,flag\n,007,\n').x).toEqual([null]);
    const e = fails(() => columns('x,flag\n1,true\n'));
    expect(e.message).toBe('row 1 has no value for feature "code"');
    expect(e.hint).toBe('every row needs: x, n, code, flag');
  });

  it('reads JSON rows, a matrix in feature order, one object, NDJSON and passes an OIP request through', () => {
    expect(columns('[{"x":1,"code":"007","flag":true}]')).toEqual({ x: [1], n: [null], code: ['007'], flag: [true] });
    expect(columns('[[1, 2, "007", 0], [3, null, "7", 1]]')).toEqual({ x: [1, 3], n: [2, null], code: ['007', '7'], flag: [false, true] });
    expect(columns('{"x":1,"code":"007","flag":true}').x).toEqual([1]);
    expect(columns('{"x":1,"code":"007","flag":true}\n\n{"x":2,"code":"7","flag":false}\n').x).toEqual([1, 2]);
    const request = { id: 'r', inputs: [{ name: 'input', shape: [1, 4], datatype: 'BYTES', data: [1, 2, '007', true] }] };
    expect(parseInputText(JSON.stringify(request))).toEqual({ request });
  });

  it('sends one column per feature with the datatype of its type', () => {
    const request = rowsToRequest([{ x: 1, code: '007', flag: true }], features);
    expect(request.inputs?.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['x', 'FP32', [1]],
      ['n', 'INT64', [1]],
      ['code', 'BYTES', [1]],
      ['flag', 'BOOL', [1]],
    ]);
  });

  it('explains empty, malformed and unusable input', () => {
    expect(fails(() => parseInputText('  \n')).message).toBe('the input data is empty');
    expect(fails(() => parseInputText('[{"x":1}')).message).toContain('not valid JSON');
    expect(fails(() => parseInputText('{"x":1}\n{oops}\n', 'ndjson')).message).toContain('line 2');
    expect(fails(() => parseInputText('[1, 2]')).message).toContain('row 1 of the input is 1');
    expect(fails(() => parseInputText('"text"', 'json')).message).toContain('must be rows');
    expect(fails(() => rowsToRequest([], features)).message).toBe('no rows to predict');
  });
});

describe('formats', () => {
  it('names the format by extension and sniffs it from content', () => {
    expect(formatFromName('rows.CSV')).toBe('csv');
    expect(formatFromName('https://h/x.jsonl?sig=1')).toBe('ndjson');
    expect(formatFromName('x.json')).toBe('json');
    expect(formatFromName('x.txt')).toBeUndefined();
    expect(formatFromName(undefined)).toBeUndefined();
    expect(sniffFormat('  [1]')).toBe('json');
    expect(sniffFormat('{"a":1}\n{"a":2}')).toBe('ndjson');
    expect(sniffFormat('{\n  "a": {"b": 1}\n}')).toBe('json');
    expect(sniffFormat('\ufeffa,b')).toBe('csv');
  });
});

describe('row ids', () => {
  it('uses the request id for one row and <id>:<row> for several', () => {
    expect(rowIds('r', 1)).toEqual(['r']);
    expect(rowIds('r', 3)).toEqual(['r:0', 'r:1', 'r:2']);
    expect(rowId('r', 20, 19)).toBe('r:19');
    expect(parseRowId('a:b:12')).toEqual({ requestId: 'a:b', row: 12 });
    expect(parseRowId('plain')).toBeUndefined();
  });
});

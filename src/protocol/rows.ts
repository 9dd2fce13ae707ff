// Prediction input text (JSON rows, a JSON matrix, a whole OIP request, NDJSON, CSV) to rows,
// and rows to an Open Inference Protocol request in column mode: one input per feature, every
// cell converted by its feature's type.
import type { FeatureSpec } from '../spec/schema.js';
import { MaasError } from '../core/errors.js';
import { closest } from '../spec/suggest.js';
import { parseCsv } from './csv.js';
import { sniffFormat, type DataFormat } from './formats.js';
import { FEATURE_DATATYPE, type InferRequest, type RequestInput } from './oip.js';

/** A row keyed by feature name, or `{ __vector: [...] }` with values in feature order. */
export type Row = Record<string, unknown>;

export interface ParsedInput {
  rows?: Row[];
  /** A request given whole (an object with `inputs`), passed through unchanged. */
  request?: InferRequest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonRow(value: unknown, i: number): Row {
  if (Array.isArray(value)) return { __vector: value };
  if (isObject(value)) return value;
  throw new MaasError('USAGE', `row ${i + 1} of the input is ${JSON.stringify(value)}, not an object keyed by feature name or an array in feature order`);
}

function parseNdjson(text: string): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new MaasError('USAGE', `the input data is not valid NDJSON: line ${i + 1}: ${(e as Error).message}`, {
        cause: e,
        hint: 'one JSON object (or array) per line',
      });
    }
    rows.push(jsonRow(value, rows.length));
  }
  return rows;
}

function csvRows(text: string): Row[] {
  const { header, rows } = parseCsv(text, 'the input CSV');
  // Feature names start with a letter or `_`: a first line of numbers is data, not a header.
  if (header.length > 0 && header.every((h) => h.trim() !== '' && Number.isFinite(Number(h)))) {
    throw new MaasError(
      'USAGE',
      `the input CSV has no header row: its first line holds values (${header.slice(0, 4).join(', ')}${header.length > 4 ? ', ...' : ''})`,
      {
        hint: 'add a first line with the feature names (`maas describe` lists them), or send rows as JSON arrays in feature order',
      },
    );
  }
  return rows.map((cells) => {
    const row: Row = {};
    for (let j = 0; j < header.length; j++) row[header[j]!] = cells[j]!.trim();
    return row;
  });
}

/**
 * Parses prediction input; `format` defaults to sniffing the content. Returns rows (CSV cells
 * as strings, JSON values as given), or a ready OIP request passed through.
 */
export function parseInputText(text: string, format?: DataFormat): ParsedInput {
  // trim() also drops a byte order mark.
  const trimmed = text.trim();
  if (trimmed === '') throw new MaasError('USAGE', 'the input data is empty', { hint: 'pass rows as JSON, NDJSON or CSV' });
  const fmt = format ?? sniffFormat(trimmed);
  if (fmt === 'csv') return { rows: csvRows(text) };
  if (fmt === 'ndjson') return { rows: parseNdjson(text.replace(/^\uFEFF/, '')) };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (e) {
    throw new MaasError('USAGE', `the input data is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (Array.isArray(value)) return { rows: value.map(jsonRow) };
  if (isObject(value) && 'inputs' in value) return { request: value };
  if (isObject(value)) return { rows: [value] };
  throw new MaasError('USAGE', 'the input data must be rows (array of objects), a matrix, an OIP request, NDJSON or CSV');
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'an array' : isObject(v) ? 'an object' : String(v);
}

/** One cell as its feature's datatype expects it; null = missing (the server checks optional). */
function cellValue(f: FeatureSpec, v: unknown, row: number): unknown {
  if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return null;
  const bad = (what: string): MaasError => new MaasError('VALIDATION', `row ${row + 1} feature "${f.name}": ${show(v)} is not ${what}`);
  switch (f.type) {
    case 'number':
    case 'integer': {
      const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
      if (!Number.isFinite(x)) throw bad('a number');
      if (f.type === 'integer' && !Number.isInteger(x)) throw bad('an integer');
      return x;
    }
    case 'category':
      // Category values are compared as strings: "007" is not 7.
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw bad('a category value');
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const t = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : '';
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw bad('a boolean (true/false or 1/0)');
    }
  }
}

const IGNORED_COLUMNS = new Set(['id']);

/** Columns of keyed rows that no feature reads (the first row decides; `id` is allowed). */
export function unusedColumns(rows: readonly Row[], features: readonly FeatureSpec[]): string[] {
  const first = rows[0];
  if (!first || Array.isArray(first.__vector)) return [];
  const names = new Set(features.map((f) => f.name));
  return Object.keys(first).filter((k) => !names.has(k) && !IGNORED_COLUMNS.has(k));
}

/** Shape mistakes named as such: a misspelt column, a vector of the wrong length. */
function checkShape(rows: readonly Row[], features: readonly FeatureSpec[]): void {
  const order = `in feature order: ${features.map((f) => f.name).join(', ')}`;
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]!.__vector;
    if (!Array.isArray(v)) break;
    if (v.length !== features.length) {
      throw new MaasError('USAGE', `row ${i + 1} has ${v.length} value${v.length === 1 ? '' : 's'}, the model takes ${features.length}`, { hint: order });
    }
  }
  const unused = unusedColumns(rows, features);
  const keys = new Set(Object.keys(rows[0] ?? {}));
  const missing = features.filter((f) => !f.optional && !keys.has(f.name)).map((f) => f.name);
  if (unused.length === 0 || missing.length === 0) return;
  const guesses = missing.map((m) => [m, closest(m, unused)] as const).filter((g): g is readonly [string, string] => g[1] !== undefined);
  const message =
    guesses.length > 0
      ? guesses.map(([want, got]) => `unknown column "${got}" (did you mean "${want}"?)`).join('; ')
      : `the input has no column ${missing.map((m) => `"${m}"`).join(', ')}; it has ${unused.map((u) => `"${u}"`).join(', ')} instead`;
  throw new MaasError('USAGE', message, { hint: `the model reads: ${features.map((f) => f.name).join(', ')}` });
}

/** Rows (keyed by feature name, or `__vector` arrays in feature order) to column inputs. */
export function rowsToRequest(rows: readonly Row[], features: readonly FeatureSpec[]): InferRequest {
  if (rows.length === 0) throw new MaasError('USAGE', 'no rows to predict');
  checkShape(rows, features);
  const inputs = features.map((f, j): RequestInput => {
    const data = rows.map((r, i) => {
      const v = Array.isArray(r.__vector) ? (r.__vector as unknown[])[j] : r[f.name];
      if (v === undefined && !f.optional) {
        throw new MaasError('USAGE', `row ${i + 1} has no value for feature "${f.name}"`, {
          hint: `every row needs: ${features.map((x) => x.name).join(', ')}`,
        });
      }
      return cellValue(f, v, i);
    });
    return { name: f.name, shape: [rows.length], datatype: FEATURE_DATATYPE[f.type], data };
  });
  return { inputs };
}

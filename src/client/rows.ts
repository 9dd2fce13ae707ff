// Prediction input files (JSON rows, JSON matrix, raw OIP request, NDJSON, CSV) to an Open
// Inference Protocol request in column mode: one input per feature.
import type { FeatureSpec } from '../spec/schema.js';
import { MaasError } from '../core/errors.js';

export type Row = Record<string, unknown>;

export interface OipInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface OipRequest {
  id?: string;
  inputs?: OipInput[];
  outputs?: { name: string }[];
  parameters?: Record<string, unknown>;
}

const DATATYPE: Record<FeatureSpec['type'], string> = { number: 'FP32', integer: 'INT64', category: 'BYTES', boolean: 'BOOL' };

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseCsv(text: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header) return [];
  const names = splitCsvLine(header).map((h) => h.trim());
  return lines.map((line, i) => {
    const cells = splitCsvLine(line);
    if (cells.length !== names.length) throw new MaasError('USAGE', `CSV line ${i + 2} has ${cells.length} cells, the header has ${names.length}`);
    const row: Row = {};
    names.forEach((n, j) => {
      const v = (cells[j] ?? '').trim();
      row[n] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    });
    return row;
  });
}

/** Parses prediction input text; returns either rows, or a ready OIP request (passed through). */
export function parseInputText(text: string, hint: 'json' | 'ndjson' | 'csv' | undefined): { rows?: Row[]; request?: OipRequest } {
  const trimmed = text.trim();
  if (trimmed === '') throw new MaasError('USAGE', 'the input data is empty', { hint: 'pass rows as JSON, NDJSON or CSV' });
  const format = hint ?? (trimmed.startsWith('[') || (trimmed.startsWith('{') && !trimmed.includes('\n{')) ? 'json' : trimmed.startsWith('{') ? 'ndjson' : 'csv');
  try {
    if (format === 'csv') return { rows: parseCsv(trimmed) };
    if (format === 'ndjson') return { rows: trimmed.split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l) as Row) };
    const value = JSON.parse(trimmed) as unknown;
    if (Array.isArray(value)) return { rows: value.map((r) => (Array.isArray(r) ? { __vector: r } : (r as Row))) };
    if (value && typeof value === 'object' && 'inputs' in value) return { request: value as OipRequest };
    if (value && typeof value === 'object') return { rows: [value as Row] };
  } catch (e) {
    if (e instanceof MaasError) throw e;
    throw new MaasError('USAGE', `the input data is not valid ${format.toUpperCase()}: ${(e as Error).message}`, { cause: e });
  }
  throw new MaasError('USAGE', 'the input data must be rows (array of objects), a matrix, an OIP request, NDJSON or CSV');
}

/** Rows (objects keyed by feature name, or `__vector` arrays in feature order) to column inputs. */
export function rowsToRequest(rows: Row[], features: FeatureSpec[]): OipRequest {
  if (rows.length === 0) throw new MaasError('USAGE', 'no rows to predict');
  const inputs = features.map((f, j): OipInput => {
    const data = rows.map((r, i) => {
      const v = Array.isArray(r.__vector) ? (r.__vector as unknown[])[j] : r[f.name];
      if (v === undefined && !f.optional) {
        throw new MaasError('USAGE', `row ${i + 1} has no value for feature "${f.name}"`, { hint: `every row needs: ${features.map((x) => x.name).join(', ')}` });
      }
      return v ?? null;
    });
    return { name: f.name, shape: [rows.length], datatype: DATATYPE[f.type], data };
  });
  return { inputs };
}

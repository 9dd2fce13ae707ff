// Turns fetched reference data (CSV with a header, JSON, NDJSON) into validated rows.
import { MaasError } from '../../core/errors.js';
import { parseCsv } from '../../protocol/csv.js';
import { formatFromContentType, formatFromName, sniffFormat, type DataFormat } from '../../protocol/formats.js';
import { badRequest } from '../errors.js';
import type { ServedModel } from '../dataplane/model.js';
import type { EncodedRows } from '../dataplane/types.js';
import { encodeCsvRows, encodeRecords } from '../dataplane/records.js';
import { encodeInputs } from '../dataplane/infer-request.js';
import { ValueError, encodeValue, valueRefused } from '../dataplane/encode-value.js';
import type { FetchedData } from './fetch-ref.js';

/** The format: as requested, else by content type, else by extension, else by the first character. */
export function detectFormat(data: FetchedData, requested: DataFormat | undefined): DataFormat {
  return requested ?? formatFromContentType(data.contentType) ?? formatFromName(data.path) ?? sniffFormat(data.text);
}

function readCsv(text: string): { header: string[]; rows: string[][] } {
  try {
    return parseCsv(text, 'data_ref CSV');
  } catch (e) {
    throw e instanceof MaasError ? badRequest(e.message) : e;
  }
}

/** Rows given as arrays in feature order. */
function encodeArrays(model: ServedModel, rows: readonly unknown[][], firstRow: number): EncodedRows {
  const F = model.features.length;
  const values = new Float32Array(rows.length * F);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== F) throw badRequest(`data_ref row ${r + firstRow}: ${row.length} values, the model has ${F} features`);
    for (let j = 0; j < F; j++) {
      const f = model.features[j]!;
      try {
        values[r * F + j] = encodeValue(f, row[j], 'json');
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        throw valueRefused(`data_ref row ${r + firstRow} feature "${f.name}"`, f, e);
      }
    }
  }
  return { rows: rows.length, values };
}

function encodeJsonRows(model: ServedModel, rows: readonly unknown[]): EncodedRows {
  if (rows.length > 0 && Array.isArray(rows[0])) {
    if (!rows.every(Array.isArray)) throw badRequest('data_ref JSON: mix of arrays and objects; use one kind of row');
    return encodeArrays(model, rows as unknown[][], 1);
  }
  return encodeRecords(model, rows, 1);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`${what}: malformed JSON (${(e as Error).message})`);
  }
}

/** Validates and encodes every row; row count limits apply per inference batch, not here. */
export function parseReferenceData(model: ServedModel, data: FetchedData, requested: DataFormat | undefined): EncodedRows {
  const format = detectFormat(data, requested);
  let encoded: EncodedRows;
  if (format === 'csv') {
    const { header, rows } = readCsv(data.text);
    encoded = encodeCsvRows(model, header, rows, 1);
  } else if (format === 'json') {
    const doc = parseJson(data.text, 'data_ref JSON');
    if (Array.isArray(doc)) encoded = encodeJsonRows(model, doc);
    else if (typeof doc === 'object' && doc !== null && 'inputs' in doc) encoded = encodeInputs(model, doc.inputs, false);
    else throw badRequest('data_ref JSON must be an array of rows or an object with "inputs"');
  } else {
    const rows: unknown[] = [];
    const lines = data.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line !== '') rows.push(parseJson(line, `data_ref NDJSON line ${i + 1}`));
    }
    encoded = encodeJsonRows(model, rows);
  }
  if (encoded.rows === 0) throw badRequest('data_ref has no rows');
  return encoded;
}

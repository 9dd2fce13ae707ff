// Rows given as records (objects keyed by feature name, or CSV cells under a header), as in
// referenced data files. Same rules as inline inputs; errors name the row and the feature.
import { badRequest, listSome } from '../errors.js';
import type { ServedModel } from './model.js';
import { ValueError, encodeValue, valueRefused } from './encode-value.js';
import type { EncodedRows } from './types.js';

/** Checks a header or a record's keys: unknown columns are refused unless they are the target. */
export function checkColumns(model: ServedModel, columns: readonly string[], where: string): void {
  const unknown = columns.filter((c) => !model.featureIndex.has(c) && !model.ignoredColumns.has(c));
  if (unknown.length > 0) {
    throw badRequest(
      `${where}: unknown column${unknown.length > 1 ? 's' : ''} ${listSome(unknown.map((c) => `"${c}"`))}; expected the features ${listSome(model.features.map((f) => f.name))}`,
    );
  }
  const present = new Set(columns);
  const missing = model.features.filter((f) => !f.optional && !present.has(f.name)).map((f) => f.name);
  if (missing.length > 0) throw badRequest(`${where}: missing column${missing.length > 1 ? 's' : ''} ${listSome(missing.map((c) => `"${c}"`))}`);
}

/**
 * Encodes CSV rows whose cells are in `header` order. `firstRow` numbers rows in messages
 * (1-based data rows, not counting the header).
 */
export function encodeCsvRows(model: ServedModel, header: readonly string[], rows: readonly string[][], firstRow = 1): EncodedRows {
  checkColumns(model, header, 'data_ref header');
  const F = model.features.length;
  const columnOf = model.features.map((f) => header.indexOf(f.name));
  const values = new Float32Array(rows.length * F);
  for (let r = 0; r < rows.length; r++) {
    const cells = rows[r]!;
    if (cells.length !== header.length) throw badRequest(`data_ref row ${r + firstRow}: ${cells.length} cells, the header has ${header.length}`);
    for (let j = 0; j < F; j++) {
      const f = model.features[j]!;
      const c = columnOf[j]!;
      try {
        values[r * F + j] = encodeValue(f, c < 0 ? null : cells[c], 'text');
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        throw valueRefused(`data_ref row ${r + firstRow} column "${f.name}"`, f, e);
      }
    }
  }
  return { rows: rows.length, values };
}

/** Encodes JSON objects keyed by feature name. */
export function encodeRecords(model: ServedModel, records: readonly unknown[], firstRow = 1): EncodedRows {
  const F = model.features.length;
  const values = new Float32Array(records.length * F);
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      throw badRequest(`data_ref row ${r + firstRow}: expected an object keyed by feature name`);
    const obj = rec as Record<string, unknown>;
    checkColumns(model, Object.keys(obj), `data_ref row ${r + firstRow}`);
    for (let j = 0; j < F; j++) {
      const f = model.features[j]!;
      try {
        values[r * F + j] = encodeValue(f, obj[f.name], 'json');
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        throw valueRefused(`data_ref row ${r + firstRow} feature "${f.name}"`, f, e);
      }
    }
  }
  return { rows: records.length, values };
}

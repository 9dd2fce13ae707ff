// Rows of a data set (CSV records, request rows, profile samples) as typed columns per feature:
// numbers (NaN = missing) for number/integer features, strings (null = missing) for category
// and boolean features. The drift tests and the profile builder read only this form.
import type { FeatureType } from '../spec/schema.js';

export interface ColumnFeature {
  readonly name: string;
  readonly type: FeatureType;
}

export type FeatureColumn = { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: (string | null)[] };

export interface Columns {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, FeatureColumn>;
}

export const isNumericType = (t: FeatureType): boolean => t === 'number' || t === 'integer';

const TRUE = new Set(['true', '1', 'yes', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'f', 'n']);

/** A cell as the numeric form sees it: NaN when missing or not a number. */
export function numericCell(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return Number.NaN;
  const s = v.trim();
  if (s === '') return Number.NaN;
  const n = Number(s);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** A cell as the categorical form sees it; booleans normalised to 'true'/'false'. */
export function categoricalCell(v: unknown, type: FeatureType): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'boolean') {
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    const s = (typeof v === 'string' ? v : JSON.stringify(v)).trim().toLowerCase();
    if (TRUE.has(s)) return 'true';
    if (FALSE.has(s)) return 'false';
    return s === '' ? null : s;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  const s = typeof v === 'string' ? v.trim() : JSON.stringify(v);
  return s === '' ? null : s;
}

/** Growable columns: one `add` per record, `finish` trims the buffers. */
export class ColumnsBuilder {
  private rows = 0;
  private readonly numeric = new Map<string, { data: Float64Array; length: number }>();
  private readonly categorical = new Map<string, (string | null)[]>();

  constructor(private readonly features: readonly ColumnFeature[]) {
    for (const f of features) {
      if (isNumericType(f.type)) this.numeric.set(f.name, { data: new Float64Array(1024), length: 0 });
      else this.categorical.set(f.name, []);
    }
  }

  add(record: Readonly<Record<string, unknown>>): void {
    for (const f of this.features) {
      const v = record[f.name];
      const col = this.numeric.get(f.name);
      if (col) {
        if (col.length === col.data.length) {
          const grown = new Float64Array(col.data.length * 2);
          grown.set(col.data);
          col.data = grown;
        }
        col.data[col.length++] = numericCell(v);
      } else this.categorical.get(f.name)!.push(categoricalCell(v, f.type));
    }
    this.rows++;
  }

  finish(): Columns {
    const columns = new Map<string, FeatureColumn>();
    for (const f of this.features) {
      const col = this.numeric.get(f.name);
      if (col) columns.set(f.name, { kind: 'numeric', values: col.data.slice(0, col.length) });
      else columns.set(f.name, { kind: 'categorical', values: this.categorical.get(f.name)! });
    }
    return { rows: this.rows, columns };
  }
}

export function columnsOf(features: readonly ColumnFeature[], records: Iterable<Readonly<Record<string, unknown>>>): Columns {
  const b = new ColumnsBuilder(features);
  for (const r of records) b.add(r);
  return b.finish();
}

/** The non-missing values of a column and how many were missing. */
export function presentValues(
  column: FeatureColumn,
): { kind: 'numeric'; values: Float64Array; missing: number } | { kind: 'categorical'; values: string[]; missing: number } {
  if (column.kind === 'numeric') {
    let n = 0;
    const out = new Float64Array(column.values.length);
    for (const x of column.values) if (!Number.isNaN(x)) out[n++] = x;
    return { kind: 'numeric', values: n === out.length ? out : out.slice(0, n), missing: column.values.length - n };
  }
  const values = column.values.filter((v): v is string => v !== null);
  return { kind: 'categorical', values, missing: column.values.length - values.length };
}

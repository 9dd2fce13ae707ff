// The reference profile of a model version: what its training data looked like, per feature,
// plus a bounded uniform sample of rows for the exact (value-based) drift tests. Computed once
// at registration (or by `maas profile set`) and carried by every deployment of the version.
import type { Random } from '../core/clock.js';
import type { FeatureType } from '../spec/schema.js';
import { ColumnsBuilder, categoricalCell, isNumericType, numericCell, presentValues, type ColumnFeature, type Columns, type FeatureColumn } from './columns.js';
import { Reservoir } from './reservoir.js';

export const PROFILE_SCHEMA = 1;
export const DEFAULT_SAMPLE_SIZE = 10_000;
export const PROFILE_BINS = 20;
/** Distinct values are counted exactly up to this many; beyond it `distinct` is a lower bound. */
export const DISTINCT_CAP = 1000;
export const PROFILE_QUANTILES = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1] as const;

export interface NumericFeatureProfile {
  name: string;
  type: 'number' | 'integer';
  count: number;
  missing: number;
  mean: number | null;
  /** Sample standard deviation (n - 1). */
  std: number | null;
  min: number | null;
  max: number | null;
  quantiles: { q: number; value: number }[];
  distinct: number;
  distinctCapped: boolean;
  /** Equal-width bins over [min, max]; the server's window histograms use the same edges. */
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoricalFeatureProfile {
  name: string;
  type: 'category' | 'boolean';
  count: number;
  missing: number;
  distinct: number;
  distinctCapped: boolean;
  counts: Record<string, number>;
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

export type TargetProfile =
  | { name: string; kind: 'categorical'; count: number; missing: number; counts: Record<string, number> }
  | { name: string; kind: 'numeric'; count: number; missing: number; mean: number | null; std: number | null; min: number | null; max: number | null };

export interface ReferenceProfile {
  schema: typeof PROFILE_SCHEMA;
  rows: number;
  source: { uri: string; digest?: string };
  createdAt: string;
  features: FeatureProfile[];
  target?: TargetProfile;
  /** A uniform sample of the rows, features in description order. */
  sample: { capacity: number; columns: string[]; rows: (number | string | null)[][] };
}

export interface ProfileOptions {
  /** Column holding the label or target value, when the data has it. */
  target?: { name: string; kind: 'categorical' | 'numeric' };
  sampleSize?: number;
  bins?: number;
  random: Random;
}

/** numpy's default (linear) quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (pos - lo);
}

/** Equal-width edges over [min, max]; a constant column gets one unit-wide bin. */
export function equalWidthEdges(min: number, max: number, bins: number): number[] {
  if (!(max > min)) return [min, min + 1];
  const w = (max - min) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * w));
}

/** Counts of values on edges: [edges[i], edges[i+1]), the last bin closed; outside counted apart. */
export function histogramCounts(values: ArrayLike<number>, edges: readonly number[]): { counts: number[]; underflow: number; overflow: number } {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let underflow = 0;
  let overflow = 0;
  const lo = edges[0]!;
  const hi = edges[bins]!;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) continue;
    if (x < lo) underflow++;
    else if (x > hi) overflow++;
    else if (x === hi) counts[bins - 1]!++;
    else {
      // Binary search: edges need not be equal-width (a profile may be given any edges).
      let a = 0;
      let b = bins;
      while (b - a > 1) {
        const m = (a + b) >> 1;
        if (x >= edges[m]!) a = m;
        else b = m;
      }
      counts[a]!++;
    }
  }
  return { counts, underflow, overflow };
}

function numericProfile(name: string, type: 'number' | 'integer', column: FeatureColumn, bins: number): NumericFeatureProfile {
  const present = presentValues(column);
  const values = present.kind === 'numeric' ? present.values : new Float64Array(0);
  const n = values.length;
  const sorted = values.slice().sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  const mean = n > 0 ? sum / n : null;
  let ss = 0;
  if (mean !== null) for (const x of sorted) ss += (x - mean) ** 2;
  let distinct = 0;
  for (let i = 0; i < n && distinct < DISTINCT_CAP + 1; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const min = n > 0 ? sorted[0]! : null;
  const max = n > 0 ? sorted[n - 1]! : null;
  const edges = min === null || max === null ? [] : equalWidthEdges(min, max, bins);
  return {
    name,
    type,
    count: n,
    missing: present.missing,
    mean,
    std: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
    min,
    max,
    quantiles: n > 0 ? PROFILE_QUANTILES.map((q) => ({ q, value: quantileSorted(sorted, q) })) : [],
    distinct: Math.min(distinct, DISTINCT_CAP),
    distinctCapped: distinct > DISTINCT_CAP,
    histogram: { edges, counts: edges.length ? histogramCounts(sorted, edges).counts : [] },
  };
}

function countValues(values: readonly (string | null)[]): { counts: Record<string, number>; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    if (v === null) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts: Object.fromEntries(counts), missing };
}

function categoricalProfile(name: string, type: 'category' | 'boolean', column: FeatureColumn): CategoricalFeatureProfile {
  const values = column.kind === 'categorical' ? column.values : [];
  const { counts, missing } = countValues(values);
  const distinct = Object.keys(counts).length;
  return { name, type, count: values.length - missing, missing, distinct, distinctCapped: false, counts };
}

/** Streams records into a profile: columns for the statistics, a reservoir for the sample. */
export class ProfileBuilder {
  private readonly columns: ColumnsBuilder;
  private readonly reservoir: Reservoir<(number | string | null)[]>;
  private readonly target: (string | null)[] = [];

  constructor(
    private readonly features: readonly ColumnFeature[],
    private readonly options: ProfileOptions,
  ) {
    this.columns = new ColumnsBuilder(features);
    this.reservoir = new Reservoir(options.sampleSize ?? DEFAULT_SAMPLE_SIZE, options.random);
  }

  add(record: Readonly<Record<string, unknown>>): void {
    this.columns.add(record);
    this.reservoir.offer(() =>
      this.features.map((f) => (isNumericType(f.type) ? sampleNumber(numericCell(record[f.name])) : categoricalCell(record[f.name], f.type))),
    );
    if (this.options.target) {
      const v = record[this.options.target.name];
      this.target.push(v === undefined ? null : categoricalCell(v, 'category'));
    }
  }

  finish(meta: { source: { uri: string; digest?: string }; createdAt: string }): ReferenceProfile {
    const data = this.columns.finish();
    return {
      schema: PROFILE_SCHEMA,
      rows: data.rows,
      source: meta.source,
      createdAt: meta.createdAt,
      features: profileFeatures(this.features, data, this.options.bins ?? PROFILE_BINS),
      ...(this.options.target && this.target.some((v) => v !== null) ? { target: targetProfile(this.options.target, this.target) } : {}),
      sample: { capacity: this.reservoir.capacity, columns: this.features.map((f) => f.name), rows: this.reservoir.items },
    };
  }
}

const sampleNumber = (x: number): number | null => (Number.isNaN(x) ? null : x);

export function profileFeatures(features: readonly ColumnFeature[], data: Columns, bins = PROFILE_BINS): FeatureProfile[] {
  return features.map((f) => {
    const column = data.columns.get(f.name)!;
    return isNumericType(f.type)
      ? numericProfile(f.name, f.type as 'number' | 'integer', column, bins)
      : categoricalProfile(f.name, f.type as 'category' | 'boolean', column);
  });
}

function targetProfile(target: { name: string; kind: 'categorical' | 'numeric' }, values: (string | null)[]): TargetProfile {
  if (target.kind === 'categorical') {
    const { counts, missing } = countValues(values);
    return { name: target.name, kind: 'categorical', count: values.length - missing, missing, counts };
  }
  const p = numericProfile(target.name, 'number', { kind: 'numeric', values: Float64Array.from(values, (v) => numericCell(v)) }, 1);
  return { name: target.name, kind: 'numeric', count: p.count, missing: p.missing, mean: p.mean, std: p.std, min: p.min, max: p.max };
}

/** The profile's sample as columns (what value-based tests use as the reference). */
export function sampleColumns(profile: ReferenceProfile, features: readonly { name: string; type: FeatureType }[]): Columns {
  const index = new Map(profile.sample.columns.map((c, i) => [c, i]));
  const b = new ColumnsBuilder(features.filter((f) => index.has(f.name)));
  for (const row of profile.sample.rows) {
    const record: Record<string, unknown> = {};
    for (const f of features) {
      const i = index.get(f.name);
      if (i !== undefined) record[f.name] = row[i];
    }
    b.add(record);
  }
  return b.finish();
}

// Data drift of a current data set against a reference: per feature, the test chosen by the
// description, a flag or Evidently's default rule, run on raw values when both sides have them
// and on histograms otherwise; then the dataset verdict from the share of drifted features.
import type { FeatureType } from '../spec/schema.js';
import { presentValues, type Columns } from './columns.js';
import { equalWidthEdges, histogramCounts, sampleColumns, type ReferenceProfile } from './profile.js';
import type { DatasetDrift, FeatureDrift, FeaturePlot } from './report.js';
import {
  DEFAULT_THRESHOLDS,
  defaultTest,
  defaultTestFromCounts,
  runHistogramTest,
  runTest,
  type ColumnHistogram,
  type ColumnValues,
  type TestOutcome,
} from './stats/index.js';
import { NUMERIC_ONLY_TESTS, type DriftTestName } from './test-names.js';

export const DEFAULT_DATASET_SHARE = 0.5;
const PLOT_BINS = 20;
const PLOT_MAX_CATEGORIES = 30;

export interface DriftFeature {
  readonly name: string;
  readonly type: FeatureType;
  /** Declared range (values outside it are counted). */
  readonly range?: { min?: number; max?: number } | undefined;
  /** Declared category values (others are counted as unseen). */
  readonly values?: readonly (string | number)[] | undefined;
}

/** What one side knows of a feature: raw present values, or only a histogram, and its counts. */
export interface SideFeature {
  count: number;
  missing: number;
  values?: ColumnValues;
  histogram?: ColumnHistogram;
  /** Distinct present values, when known without the values. */
  distinct?: number;
  outOfRange?: number;
  unseen?: number;
}

export interface DriftSide {
  rows: number;
  source: string;
  features: ReadonlyMap<string, SideFeature>;
}

export interface TestChoice {
  test?: DriftTestName;
  threshold?: number;
}

/** Tests and thresholds from the description (`spec.monitoring`) and from flags (flags win). */
export interface DriftSettings {
  description?: TestChoice & { features?: Readonly<Record<string, TestChoice>>; datasetShare?: number };
  flags?: TestChoice & { features?: Readonly<Record<string, TestChoice>>; datasetShare?: number };
}

const isNumeric = (t: FeatureType): boolean => t === 'number' || t === 'integer';

/** A side from raw rows: present values per feature, with out-of-range and unseen counts. */
export function sideFromColumns(data: Columns, features: readonly DriftFeature[], source: string): DriftSide {
  const out = new Map<string, SideFeature>();
  for (const f of features) {
    const column = data.columns.get(f.name);
    if (!column) continue;
    const present = presentValues(column);
    let outOfRange = 0;
    let unseen = 0;
    if (present.kind === 'numeric') {
      const lo = f.range?.min ?? -Infinity;
      const hi = f.range?.max ?? Infinity;
      for (const x of present.values) if (x < lo || x > hi) outOfRange++;
    } else if (f.type === 'category' && f.values) {
      const known = new Set(f.values.map(String));
      for (const v of present.values) if (!known.has(v)) unseen++;
    }
    out.set(f.name, {
      count: present.values.length,
      missing: present.missing,
      values: present.kind === 'numeric' ? { kind: 'numeric', values: present.values } : { kind: 'categorical', values: present.values },
      outOfRange,
      unseen,
    });
  }
  return { rows: data.rows, source, features: out };
}

/**
 * A side from a stored profile: its sample rows as values, its histograms and full-data counts.
 * The sample is what value-based tests read; `rows` stays the size of the whole reference, which
 * is what the default test rule looks at.
 */
export function sideFromProfile(profile: ReferenceProfile, features: readonly DriftFeature[], source: string): DriftSide {
  const sample = sampleColumns(profile, features);
  const fromSample = sideFromColumns(sample, features, source);
  const out = new Map<string, SideFeature>();
  for (const p of profile.features) {
    const s = fromSample.features.get(p.name);
    const histogram: ColumnHistogram =
      'histogram' in p
        ? { kind: 'numeric', edges: p.histogram.edges, counts: p.histogram.counts, underflow: 0, overflow: 0 }
        : { kind: 'categorical', counts: p.counts };
    const side: SideFeature = { count: p.count, missing: p.missing, histogram, distinct: p.distinct };
    if (s?.values && s.count > 0) side.values = s.values;
    out.set(p.name, side);
  }
  return { rows: profile.rows, source, features: out };
}

function chosenTest(f: DriftFeature, settings: DriftSettings): { test?: DriftTestName; threshold?: number; by: FeatureDrift['chosen_by'] } {
  const flag = settings.flags?.features?.[f.name] ?? {};
  const desc = settings.description?.features?.[f.name] ?? {};
  const pick = <K extends keyof TestChoice>(k: K): [TestChoice[K], FeatureDrift['chosen_by']] | undefined => {
    for (const [choice, by] of [
      [flag, 'flag'],
      [settings.flags ?? {}, 'flag'],
      [desc, 'description'],
      [settings.description ?? {}, 'description'],
    ] as const) {
      if (choice[k] !== undefined) return [choice[k], by];
    }
    return undefined;
  };
  const test = pick('test');
  const threshold = pick('threshold');
  return {
    ...(test ? { test: test[0] as DriftTestName } : {}),
    ...(threshold ? { threshold: threshold[0] as number } : {}),
    by: test?.[1] ?? threshold?.[1] ?? 'default',
  };
}

/** Both sides as histograms on the same edges (numeric) or over the same categories. */
function histogramsOf(ref: SideFeature, cur: SideFeature): [ColumnHistogram, ColumnHistogram] | undefined {
  const numericEdges = (h: ColumnHistogram | undefined): readonly number[] | undefined => (h?.kind === 'numeric' && h.edges.length > 1 ? h.edges : undefined);
  const onEdges = (side: SideFeature, edges: readonly number[]): ColumnHistogram | undefined => {
    if (side.histogram?.kind === 'numeric' && side.histogram.edges.length === edges.length && side.histogram.edges.every((e, i) => e === edges[i]))
      return side.histogram;
    if (side.values?.kind === 'numeric') return { kind: 'numeric', edges, ...histogramCounts(side.values.values, edges) };
    return undefined;
  };
  const edges = numericEdges(cur.histogram) ?? numericEdges(ref.histogram);
  if (edges) {
    const r = onEdges(ref, edges);
    const c = onEdges(cur, edges);
    return r && c ? [r, c] : undefined;
  }
  const counts = (side: SideFeature): ColumnHistogram | undefined => {
    if (side.histogram?.kind === 'categorical') return side.histogram;
    if (side.values?.kind === 'categorical') {
      const m: Record<string, number> = {};
      for (const v of side.values.values) m[v] = (m[v] ?? 0) + 1;
      return { kind: 'categorical', counts: m };
    }
    return undefined;
  };
  const r = counts(ref);
  const c = counts(cur);
  return r && c ? [r, c] : undefined;
}

function distinctOf(ref: SideFeature, cur: SideFeature): number {
  const keys = new Set<string>();
  for (const side of [ref, cur]) {
    if (side.values) {
      const v: ArrayLike<number | string> = side.values.values;
      for (let i = 0; i < v.length; i++) keys.add(String(v[i]));
    } else if (side.histogram?.kind === 'categorical') for (const k of Object.keys(side.histogram.counts)) keys.add(k);
  }
  return Math.max(keys.size, ref.distinct ?? 0, cur.distinct ?? 0);
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

function plotOf(f: DriftFeature, ref: SideFeature, cur: SideFeature, histograms: [ColumnHistogram, ColumnHistogram] | undefined): FeaturePlot | null {
  if (ref.values?.kind === 'numeric' && cur.values?.kind === 'numeric') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of [ref.values.values, cur.values.values])
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    if (!Number.isFinite(lo)) return null;
    const edges = equalWidthEdges(lo, hi, PLOT_BINS);
    return {
      kind: 'numeric',
      edges,
      reference: shares(histogramCounts(ref.values.values, edges).counts),
      current: shares(histogramCounts(cur.values.values, edges).counts),
    };
  }
  if (!histograms) return null;
  const [r, c] = histograms;
  if (r.kind === 'numeric' && c.kind === 'numeric') return { kind: 'numeric', edges: [...r.edges], reference: shares(r.counts), current: shares(c.counts) };
  if (r.kind === 'categorical' && c.kind === 'categorical') {
    const rs = Object.values(r.counts).reduce((a, b) => a + b, 0) || 1;
    const cs = Object.values(c.counts).reduce((a, b) => a + b, 0) || 1;
    const categories = [...new Set([...Object.keys(r.counts), ...Object.keys(c.counts), ...(f.values ?? []).map(String)])]
      .sort((a, b) => (r.counts[b] ?? 0) + (c.counts[b] ?? 0) - (r.counts[a] ?? 0) - (c.counts[a] ?? 0) || a.localeCompare(b))
      .slice(0, PLOT_MAX_CATEGORIES);
    return {
      kind: 'categorical',
      categories,
      reference: categories.map((k) => (r.counts[k] ?? 0) / rs),
      current: categories.map((k) => (c.counts[k] ?? 0) / cs),
    };
  }
  return null;
}

function featureDrift(f: DriftFeature, ref: SideFeature | undefined, cur: SideFeature | undefined, settings: DriftSettings): FeatureDrift {
  const choice = chosenTest(f, settings);
  const base = {
    name: f.name,
    type: f.type,
    reference: { count: ref?.count ?? 0, missing: ref?.missing ?? 0 },
    current: { count: cur?.count ?? 0, missing: cur?.missing ?? 0, out_of_range: cur?.outOfRange ?? 0, unseen: cur?.unseen ?? 0 },
    chosen_by: choice.by,
  };
  const failed = (test: string, error: string, plot: FeaturePlot | null = null): FeatureDrift => ({
    ...base,
    test,
    measure: 'p_value',
    statistic: null,
    p_value: null,
    score: null,
    threshold: choice.threshold ?? Number.NaN,
    drifted: false,
    basis: 'values',
    plot,
    error,
  });
  if (!ref || ref.count === 0) return failed(choice.test ?? 'none', 'the reference has no values for this feature');
  if (!cur || cur.count === 0) return failed(choice.test ?? 'none', 'no current values for this feature');
  const histograms = histogramsOf(ref, cur);
  const plot = plotOf(f, ref, cur, histograms);
  const useValues = ref.values !== undefined && cur.values !== undefined;
  let test = choice.test;
  if (test === undefined) {
    if (useValues) test = defaultTest(ref.values!, cur.values!);
    else test = defaultTestFromCounts(isNumeric(f.type) ? 'numeric' : 'categorical', ref.count, distinctOf(ref, cur));
  }
  if (NUMERIC_ONLY_TESTS.includes(test) && !isNumeric(f.type)) return failed(test, `${test} needs numbers; ${f.name} is ${f.type}`, plot);
  let outcome: TestOutcome;
  try {
    if (useValues) outcome = runTest(test, ref.values!, cur.values!, choice.threshold);
    else if (histograms) outcome = runHistogramTest(test, histograms[0], histograms[1], choice.threshold);
    else return failed(test, 'the two sides have no common form to compare (no values and no histograms on the same edges)', plot);
  } catch (e) {
    return failed(test, e instanceof Error ? e.message : String(e), plot);
  }
  return {
    ...base,
    test,
    measure: outcome.measure,
    statistic: outcome.statistic,
    p_value: outcome.pValue,
    score: outcome.score,
    threshold: outcome.threshold,
    drifted: outcome.drifted,
    basis: outcome.basis,
    plot,
  };
}

export interface DataDriftResult {
  features: FeatureDrift[];
  dataset: DatasetDrift;
  notes: string[];
}

/** Runs every feature's test and the dataset verdict. Pure: both sides are already in memory. */
export function detectDataDrift(features: readonly DriftFeature[], reference: DriftSide, current: DriftSide, settings: DriftSettings = {}): DataDriftResult {
  const results = features.map((f) => featureDrift(f, reference.features.get(f.name), current.features.get(f.name), settings));
  const tested = results.filter((r) => r.error === undefined);
  const drifted = tested.filter((r) => r.drifted).length;
  const threshold = settings.flags?.datasetShare ?? settings.description?.datasetShare ?? DEFAULT_DATASET_SHARE;
  const share = tested.length > 0 ? drifted / tested.length : 0;
  const notes: string[] = [];
  const byHistogram = tested.filter((r) => r.basis === 'histogram').map((r) => r.name);
  if (byHistogram.length > 0)
    notes.push(
      `${byHistogram.length} feature${byHistogram.length === 1 ? '' : 's'} compared by histogram (no raw rows available): ${byHistogram.slice(0, 5).join(', ')}${byHistogram.length > 5 ? ', ...' : ''}`,
    );
  const untested = results.filter((r) => r.error !== undefined);
  if (untested.length > 0)
    notes.push(`${untested.length} feature${untested.length === 1 ? '' : 's'} not tested: ${untested.map((r) => `${r.name} (${r.error})`).join('; ')}`);
  if (current.rows > 0 && current.rows < 30) notes.push(`only ${current.rows} current rows: tests have little power on so few`);
  return {
    features: results,
    dataset: { drifted: tested.length > 0 && share >= threshold, share, threshold, drifted_features: drifted, features: tested.length },
    notes,
  };
}

export { DEFAULT_THRESHOLDS };

// Entry point of the drift statistics: Evidently's column drift tests over raw values (matching
// scipy/Evidently to rounding) or over aggregates (approximations, see histogram.ts), and
// Evidently's default choice of test. Pure: no I/O, no randomness, no clock.
import { binNumeric, fillZeroes, sharesFromCounts } from './binning.js';
import { chiSquareFromCounts } from './chisquare.js';
import { hellingerFromCounts, hellingerNumeric } from './hellinger.js';
import {
  checkSameEdges,
  histogramCategories,
  histogramStd,
  histogramTotal,
  ksStatisticFromHistograms,
  occupiedCells,
  rebinSturges,
  wassersteinFromHistograms,
  type NumericHistogram,
} from './histogram.js';
import { jensenShannon } from './jensen-shannon.js';
import { klDivergence } from './kl-div.js';
import { ksPValue, ksTestSorted } from './ks.js';
import { psi } from './psi.js';
import { alignCounts, countSorted, countStrings, distinctUnionSorted, sortedSample, type AlignedCounts } from './samples.js';
import { chooseDefault } from './select.js';
import { populationStd, wassersteinNorm, wassersteinSorted } from './wasserstein.js';
import { zTestFromCounts } from './z-test.js';

import { DRIFT_TESTS, type DriftTestName } from '../test-names.js';

export { DRIFT_TESTS, type DriftTestName };
export type ColumnKind = 'numeric' | 'categorical';
/** Raw values (missing removed): numbers for numeric columns, strings for categorical (booleans as 'true'/'false'). */
export type ColumnValues = { kind: 'numeric'; values: ArrayLike<number> } | { kind: 'categorical'; values: readonly string[] };
/** Aggregates only: a numeric histogram on fixed edges (counts[i] in [edges[i], edges[i+1]), last bin closed) with underflow/overflow, or category counts. */
export type ColumnHistogram =
  | { kind: 'numeric'; edges: readonly number[]; counts: readonly number[]; underflow: number; overflow: number }
  | { kind: 'categorical'; counts: Readonly<Record<string, number>> };

export interface TestOutcome {
  test: DriftTestName;
  /** 'p_value' tests drift when the p-value is below the threshold; 'distance' tests when the statistic reaches it. */
  measure: 'p_value' | 'distance';
  statistic: number;
  pValue: number | null; // null for distance tests
  /** The number compared with the threshold (pValue or statistic). */
  score: number;
  threshold: number;
  drifted: boolean;
  basis: 'values' | 'histogram';
}

export const DEFAULT_THRESHOLDS: Record<DriftTestName, number> = {
  ks: 0.05,
  wasserstein: 0.1,
  chisquare: 0.05,
  z: 0.05,
  jensenshannon: 0.1,
  psi: 0.1,
  kl: 0.1,
  hellinger: 0.1,
};

const P_VALUE_TESTS: ReadonlySet<DriftTestName> = new Set(['ks', 'chisquare', 'z']);

function isDriftTest(test: string): test is DriftTestName {
  return (DRIFT_TESTS as readonly string[]).includes(test);
}

/** Evidently's default test for a column, from raw values (see select.ts for the rule). */
export function defaultTest(reference: ColumnValues, current: ColumnValues): DriftTestName {
  sameKind(reference.kind, current.kind);
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    const ref = sortedSample(reference.values, 'reference');
    const cur = sortedSample(current.values, 'current');
    return chooseDefault('numeric', ref.length, distinctUnionSorted(ref, cur));
  }
  const ref = reference.values as readonly string[];
  const cur = current.values as readonly string[];
  if (ref.length === 0) throw new Error('reference is empty: drift tests need at least one value on each side');
  if (cur.length === 0) throw new Error('current is empty: drift tests need at least one value on each side');
  return chooseDefault('categorical', ref.length, new Set([...ref, ...cur]).size);
}

/** The same rule when only counts are known: reference row count and distinct values over both sides. */
export function defaultTestFromCounts(kind: ColumnKind, referenceRows: number, distinct: number): DriftTestName {
  if (kind !== 'numeric' && kind !== 'categorical') throw new Error(`unknown column kind '${String(kind)}'`);
  if (!Number.isInteger(referenceRows) || referenceRows < 1) throw new Error(`referenceRows must be a positive integer, got ${referenceRows}`);
  if (!Number.isInteger(distinct) || distinct < 1) throw new Error(`distinct must be a positive integer, got ${distinct}`);
  return chooseDefault(kind, referenceRows, distinct);
}

/** Runs one test on raw values. Throws a plain Error for requests that cannot be answered. */
export function runTest(test: DriftTestName, reference: ColumnValues, current: ColumnValues, threshold?: number): TestOutcome {
  const limit = checkRequest(test, threshold);
  sameKind(reference.kind, current.kind);
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    return outcome(test, numericTest(test, sortedSample(reference.values, 'reference'), sortedSample(current.values, 'current')), limit, 'values');
  }
  if (test === 'ks' || test === 'wasserstein') throw new Error(`${test} needs a numeric column, got a categorical one`);
  const counts = alignCounts(countStrings(reference.values as readonly string[], 'reference'), countStrings(current.values as readonly string[], 'current'));
  return outcome(test, countsTest(test, counts), limit, 'values');
}

/** Runs one test on aggregates (approximations for numeric histograms; exact for category counts). */
export function runHistogramTest(test: DriftTestName, reference: ColumnHistogram, current: ColumnHistogram, threshold?: number): TestOutcome {
  const limit = checkRequest(test, threshold);
  sameKind(reference.kind, current.kind);
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    return outcome(test, numericHistogramTest(test, reference, current), limit, 'histogram');
  }
  if (test === 'ks' || test === 'wasserstein') throw new Error(`${test} needs a numeric histogram, got category counts`);
  const ref = categoryCounts(reference.counts as Readonly<Record<string, number>>, 'reference');
  const cur = categoryCounts(current.counts as Readonly<Record<string, number>>, 'current');
  return outcome(test, countsTest(test, alignCounts(ref, cur)), limit, 'histogram');
}

interface Raw {
  statistic: number;
  pValue: number | null;
}

function numericTest(test: DriftTestName, ref: Float64Array, cur: Float64Array): Raw {
  switch (test) {
    case 'ks':
      return ksTestSorted(ref, cur);
    case 'wasserstein':
      return { statistic: wassersteinSorted(ref, cur) / wassersteinNorm(populationStd(ref)), pValue: null };
    case 'jensenshannon': {
      const b = binNumeric(ref, cur, false);
      return { statistic: jensenShannon(b.reference, b.current), pValue: null };
    }
    case 'psi': {
      const b = binNumeric(ref, cur, true);
      return { statistic: psi(b.reference, b.current), pValue: null };
    }
    case 'kl': {
      const b = binNumeric(ref, cur, true);
      return { statistic: klDivergence(b.reference, b.current), pValue: null };
    }
    case 'hellinger':
      return { statistic: hellingerNumeric(ref, cur, distinctUnionSorted(ref, cur)), pValue: null };
    case 'chisquare':
    case 'z':
      return countsTest(test, alignCounts(countSorted(ref), countSorted(cur)));
  }
}

/** Tests that only look at value counts: chisquare, z, and the per-value binning of the others. */
function countsTest<K extends string | number>(test: DriftTestName, c: AlignedCounts<K>): Raw {
  switch (test) {
    case 'chisquare':
      return chiSquareFromCounts(c.reference, c.current, c.referenceTotal, c.currentTotal);
    case 'z':
      return zTestFromCounts(c.keys, c.reference, c.current, c.referenceTotal, c.currentTotal);
    case 'jensenshannon': {
      const s = sharesFromCounts(c.reference, c.current, c.referenceTotal, c.currentTotal, false);
      return { statistic: jensenShannon(s.reference, s.current), pValue: null };
    }
    case 'psi': {
      const s = sharesFromCounts(c.reference, c.current, c.referenceTotal, c.currentTotal, true);
      return { statistic: psi(s.reference, s.current), pValue: null };
    }
    case 'kl': {
      const s = sharesFromCounts(c.reference, c.current, c.referenceTotal, c.currentTotal, true);
      return { statistic: klDivergence(s.reference, s.current), pValue: null };
    }
    case 'hellinger':
      return { statistic: hellingerFromCounts(c.reference, c.current, c.referenceTotal, c.currentTotal), pValue: null };
    case 'ks':
    case 'wasserstein':
      throw new Error(`${test} needs a numeric column`);
  }
}

function numericHistogramTest(test: DriftTestName, ref: NumericHistogram, cur: NumericHistogram): Raw {
  const nRef = histogramTotal(ref, 'reference');
  const nCur = histogramTotal(cur, 'current');
  checkSameEdges(ref, cur);
  switch (test) {
    case 'ks': {
      // The exact/asymptotic p-value needs whole sample sizes.
      const n1 = Math.round(nRef);
      const n2 = Math.round(nCur);
      return ksPValue(ksStatisticFromHistograms(ref, cur, nRef, nCur), Math.max(n1, 1), Math.max(n2, 1));
    }
    case 'wasserstein':
      return { statistic: wassersteinFromHistograms(ref, cur, nRef, nCur) / wassersteinNorm(histogramStd(ref, nRef)), pValue: null };
    case 'chisquare':
    case 'z':
      return countsTest(test, alignCounts(histogramCategories(ref), histogramCategories(cur)));
    case 'jensenshannon':
    case 'psi':
    case 'kl':
    case 'hellinger': {
      // Few occupied reference cells: Evidently's per-value path; else its Sturges bins.
      if (test !== 'hellinger' && occupiedCells(ref) <= 20) {
        return countsTest(test, alignCounts(histogramCategories(ref), histogramCategories(cur)));
      }
      const r = rebinSturges(ref, cur, nRef + nCur);
      if (test === 'hellinger') return { statistic: hellingerFromCounts(r.a, r.b, nRef, nCur), pValue: null };
      const shares = sharesFromCounts(r.a, r.b, nRef, nCur, false);
      if (test === 'jensenshannon') return { statistic: jensenShannon(shares.reference, shares.current), pValue: null };
      fillZeroes(shares.reference);
      fillZeroes(shares.current);
      return { statistic: test === 'psi' ? psi(shares.reference, shares.current) : klDivergence(shares.reference, shares.current), pValue: null };
    }
  }
}

function categoryCounts(counts: Readonly<Record<string, number>>, what: string): Map<string, number> {
  const out = new Map<string, number>();
  let total = 0;
  for (const [key, c] of Object.entries(counts)) {
    if (!(c >= 0) || !Number.isFinite(c)) throw new Error(`${what} count of '${key}' must be a finite non-negative number, got ${c}`);
    if (c > 0) out.set(key, c); // a category nobody saw is not a value of the column
    total += c;
  }
  if (total <= 0) throw new Error(`${what} is empty: drift tests need at least one value on each side`);
  return out;
}

function checkRequest(test: DriftTestName, threshold: number | undefined): number {
  if (!isDriftTest(test)) throw new Error(`unknown drift test '${String(test)}'; known: ${DRIFT_TESTS.join(', ')}`);
  const limit = threshold ?? DEFAULT_THRESHOLDS[test];
  if (!Number.isFinite(limit)) throw new Error(`threshold for ${test} must be a finite number, got ${limit}`);
  return limit;
}

function sameKind(a: ColumnKind, b: ColumnKind): void {
  if (a !== b) throw new Error(`reference is ${a} but current is ${b}: both sides must be the same kind of column`);
}

function outcome(test: DriftTestName, raw: Raw, threshold: number, basis: 'values' | 'histogram'): TestOutcome {
  const pValueTest = P_VALUE_TESTS.has(test);
  const pValue = pValueTest ? raw.pValue! : null;
  const score = pValueTest ? pValue! : raw.statistic;
  // Evidently: ks drifts when p <= threshold, chisquare and z when p < threshold, distances when >= threshold.
  const drifted = test === 'ks' ? score <= threshold : pValueTest ? score < threshold : score >= threshold;
  return { test, measure: pValueTest ? 'p_value' : 'distance', statistic: raw.statistic, pValue, score, threshold, drifted, basis };
}

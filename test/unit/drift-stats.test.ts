import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THRESHOLDS,
  DRIFT_TESTS,
  defaultTest,
  defaultTestFromCounts,
  runHistogramTest,
  runTest,
  type ColumnHistogram,
  type ColumnValues,
  type DriftTestName,
} from '../../src/drift/stats/index.js';
import { chiSquareSf } from '../../src/drift/stats/incomplete-gamma.js';
import { kstwoSf } from '../../src/drift/stats/kolmogorov.js';
import { outerProbInside, probOutsideSquare } from '../../src/drift/stats/ks-exact.js';
import { ndtr } from '../../src/drift/stats/normal.js';
import { smirnovSf } from '../../src/drift/stats/smirnov.js';
import { sortFloat64 } from '../../src/drift/stats/sort.js';

// Reference values from scripts/fixtures/drift_stats.py (scipy + Evidently's tests transcribed
// with numpy). Non-finite numbers are stored as the strings "inf", "-inf", "nan".
type Num = number | 'inf' | '-inf' | 'nan';
interface Expected {
  statistic: Num;
  p_value?: Num;
  drifted: boolean;
}
interface Case {
  name: string;
  kind: 'numeric' | 'categorical';
  default_test: DriftTestName;
  distinct: number;
  reference: number[] | string[];
  current: number[] | string[];
  expected: Partial<Record<DriftTestName, Expected>>;
}
interface Fixture {
  special: {
    ndtr: [number, number][];
    chdtrc: [number, number, number][];
    smirnov: [number, number, number][];
    kstwo_sf: [number, number, number][];
    ks_exact: [number, number, number, number, number][];
  };
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/drift/stats.json'), 'utf8')) as Fixture;

const num = (v: Num): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v);

/** The agreement we promise: 1e-6 absolute; p-values under 1e-6 to 1e-6 relative or 1e-12 absolute. */
function expectMatch(got: number | null, want: number, what: string): void {
  expect(got, what).not.toBeNull();
  const g = got!;
  if (!Number.isFinite(want) || Number.isNaN(want)) {
    expect(Object.is(g, want), `${what}: ${g} vs ${want}`).toBe(true);
    return;
  }
  const abs = Math.abs(g - want);
  const ok = Math.abs(want) < 1e-6 ? abs <= 1e-12 || abs <= 1e-6 * Math.abs(want) : abs <= 1e-6;
  expect(ok, `${what}: got ${g}, want ${want} (abs ${abs})`).toBe(true);
}

/** Tighter check for the special functions themselves (they agree with scipy to ~1e-10). */
function expectRel(got: number, want: number, rel: number, what: string): void {
  const abs = Math.abs(got - want);
  expect(abs <= rel * Math.abs(want) || abs <= 1e-300, `${what}: got ${got}, want ${want}`).toBe(true);
}

const column = (c: Case, side: 'reference' | 'current'): ColumnValues =>
  c.kind === 'numeric' ? { kind: 'numeric', values: c[side] as number[] } : { kind: 'categorical', values: c[side] as string[] };

describe('special functions against scipy', () => {
  it('ndtr (Cephes)', () => {
    for (const [x, y] of fixture.special.ndtr) expectRel(ndtr(x), y, 1e-15, `ndtr(${x})`);
  });

  it('chi-square survival function (gammaincc)', () => {
    for (const [df, x, y] of fixture.special.chdtrc) expectRel(chiSquareSf(x, df), y, 1e-12, `chdtrc(${df}, ${x})`);
  });

  it('one-sided Smirnov survival function', () => {
    for (const [n, x, y] of fixture.special.smirnov) expectRel(smirnovSf(n, x), y, 1e-9, `smirnov(${n}, ${x})`);
  });

  it('kstwo.sf over every branch of _kolmogn', () => {
    for (const [n, x, y] of fixture.special.kstwo_sf) expectRel(kstwoSf(x, n), y, 1e-9, `kstwo.sf(${x}, ${n})`);
  });

  it('exact two-sample KS probabilities, bit for bit', () => {
    for (const [n1, n2, g, h, p] of fixture.special.ks_exact) {
      const got = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
      expect(got, `exact(${n1}, ${n2}, h=${h})`).toBe(p);
    }
  });
});

describe('drift tests on raw values against scipy / Evidently', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const ref = column(c, 'reference');
      const cur = column(c, 'current');
      expect(defaultTest(ref, cur)).toBe(c.default_test);
      expect(defaultTestFromCounts(c.kind, c.reference.length, c.distinct)).toBe(c.default_test);
      for (const [test, exp] of Object.entries(c.expected) as [DriftTestName, Expected][]) {
        const out = runTest(test, ref, cur);
        expectMatch(out.statistic, num(exp.statistic), `${test} statistic`);
        if (exp.p_value !== undefined) {
          const want = num(exp.p_value);
          // scipy's chisquare gives NaN for a single category (no degrees of freedom); we say 1.
          expectMatch(out.pValue, test === 'chisquare' && Number.isNaN(want) ? 1 : want, `${test} p-value`);
          expect(out.measure).toBe('p_value');
          expect(out.score).toBe(out.pValue);
        } else {
          expect(out.measure).toBe('distance');
          expect(out.pValue).toBeNull();
          expect(out.score).toBe(out.statistic);
        }
        expect(out.drifted, `${test} drifted`).toBe(exp.drifted);
        expect(out).toMatchObject({ test, threshold: DEFAULT_THRESHOLDS[test], basis: 'values' });
      }
    });
  }

  it('does not reorder the caller array', () => {
    const values = [3, 1, 2, 5, 4];
    runTest('ks', { kind: 'numeric', values }, { kind: 'numeric', values: [1, 2] });
    expect(values).toEqual([3, 1, 2, 5, 4]);
  });

  it('applies custom thresholds with Evidently comparisons (ks drifts at p <= threshold)', () => {
    const c = fixture.cases.find((x) => x.name === '20 vs 20 shift 0.5')!;
    const p = runTest('ks', column(c, 'reference'), column(c, 'current')).pValue!;
    expect(runTest('ks', column(c, 'reference'), column(c, 'current'), p).drifted).toBe(true);
    expect(runTest('ks', column(c, 'reference'), column(c, 'current'), p / 2).drifted).toBe(false);
    const w = runTest('wasserstein', column(c, 'reference'), column(c, 'current')).statistic;
    expect(runTest('wasserstein', column(c, 'reference'), column(c, 'current'), w).drifted).toBe(true);
    expect(runTest('wasserstein', column(c, 'reference'), column(c, 'current'), w * 1.01).drifted).toBe(false);
  });
});

describe('default test selection (Evidently _get_default_stattest)', () => {
  it('follows the rule from counts', () => {
    const rows: [ColumnValues['kind'], number, number, DriftTestName][] = [
      ['numeric', 1000, 6, 'ks'],
      ['numeric', 1000, 5, 'chisquare'],
      ['numeric', 1000, 3, 'chisquare'],
      ['numeric', 1000, 2, 'z'],
      ['numeric', 1000, 1, 'z'],
      ['categorical', 1000, 3, 'chisquare'],
      ['categorical', 1000, 2, 'z'],
      ['numeric', 1001, 6, 'wasserstein'],
      ['numeric', 1001, 5, 'jensenshannon'],
      ['numeric', 1001, 2, 'jensenshannon'],
      ['categorical', 1001, 2, 'jensenshannon'],
      ['categorical', 50000, 40, 'jensenshannon'],
    ];
    for (const [kind, n, distinct, want] of rows) expect(defaultTestFromCounts(kind, n, distinct), `${kind} n=${n} distinct=${distinct}`).toBe(want);
  });
});

/** A histogram of raw values on the given edges (test helper, same bin rule as the type documents). */
function histogram(values: readonly number[], edges: readonly number[]): ColumnHistogram {
  const counts = new Array<number>(edges.length - 1).fill(0);
  let underflow = 0;
  let overflow = 0;
  for (const v of values) {
    if (v < edges[0]!) underflow++;
    else if (v > edges[edges.length - 1]!) overflow++;
    else {
      let lo = 0;
      let hi = edges.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (edges[mid]! <= v) lo = mid;
        else hi = mid;
      }
      counts[lo]!++;
    }
  }
  return { kind: 'numeric', edges, counts, underflow, overflow };
}

function categoryCounts(values: readonly string[]): ColumnHistogram {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return { kind: 'categorical', counts };
}

describe('histogram forms (aggregates only)', () => {
  it('category counts give exactly the raw-value results', () => {
    for (const c of fixture.cases.filter((x) => x.kind === 'categorical')) {
      for (const test of Object.keys(c.expected) as DriftTestName[]) {
        const raw = runTest(test, column(c, 'reference'), column(c, 'current'));
        const agg = runHistogramTest(test, categoryCounts(c.reference as string[]), categoryCounts(c.current as string[]));
        expect(agg.basis).toBe('histogram');
        expect(agg.statistic, `${c.name} ${test}`).toBeCloseTo(raw.statistic, 12);
        if (raw.pValue !== null) expect(agg.pValue!, `${c.name} ${test}`).toBeCloseTo(raw.pValue, 12);
        expect(agg.drifted).toBe(raw.drifted);
      }
    }
  });

  it('numeric columns with few values, one value per bin: chisquare, z and per-value binning are exact', () => {
    for (const c of fixture.cases.filter((x) => x.kind === 'numeric' && x.distinct <= 20)) {
      const values = [...new Set([...(c.reference as number[]), ...(c.current as number[])])].sort((a, b) => a - b);
      // Edges halfway between consecutive values, so that each value has its own bin.
      const edges = [values[0]! - 0.5, ...values.slice(1).map((v, i) => (v + values[i]!) / 2), values[values.length - 1]! + 0.5];
      const ref = histogram(c.reference as number[], edges);
      const cur = histogram(c.current as number[], edges);
      for (const test of ['chisquare', 'z', 'jensenshannon', 'psi', 'kl'] as const) {
        if (!c.expected[test]) continue;
        const raw = runTest(test, column(c, 'reference'), column(c, 'current'));
        const agg = runHistogramTest(test, ref, cur);
        expect(agg.statistic, `${c.name} ${test}`).toBeCloseTo(raw.statistic, 12);
        if (raw.pValue !== null) expect(agg.pValue!, `${c.name} ${test}`).toBeCloseTo(raw.pValue, 12);
      }
    }
  });

  it('fine histograms of continuous data approximate the raw-value tests', () => {
    const bins = 2000;
    const cases = fixture.cases.filter((x) => x.kind === 'numeric' && x.distinct >= 50 && Math.min(x.reference.length, x.current.length) >= 50);
    expect(cases.length).toBeGreaterThan(8);
    for (const c of cases) {
      const all = [...(c.reference as number[]), ...(c.current as number[])];
      const lo = Math.min(...all);
      const hi = Math.max(...all);
      const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
      const ref = histogram(c.reference as number[], edges);
      const cur = histogram(c.current as number[], edges);
      const raw = (t: DriftTestName) => runTest(t, column(c, 'reference'), column(c, 'current'));
      const agg = (t: DriftTestName) => runHistogramTest(t, ref, cur);

      // KS: the statistic at bin edges never exceeds the raw one, and the p-value stays close.
      expect(agg('ks').statistic).toBeLessThanOrEqual(raw('ks').statistic + 1e-12);
      expect(Math.abs(agg('ks').pValue! - raw('ks').pValue!), `${c.name} ks p`).toBeLessThan(0.05);
      const near = (t: DriftTestName, abs: number, rel: number) => {
        const a = agg(t).statistic;
        const r = raw(t).statistic;
        expect(Math.abs(a - r), `${c.name} ${t}: histogram ${a} vs raw ${r}`).toBeLessThanOrEqual(abs + rel * Math.abs(r));
      };
      near('wasserstein', 1e-3, 0.01);
      near('jensenshannon', 5e-3, 0.02);
      near('psi', 5e-3, 0.03);
      near('kl', 5e-3, 0.03);
      // Evidently bins Hellinger by the number of *distinct* values, which a histogram cannot see.
      near('hellinger', 0.035, 0.0);
    }
  });

  it('handles underflow and overflow counts', () => {
    const edges = [0, 1, 2, 3];
    const ref: ColumnHistogram = { kind: 'numeric', edges, counts: [10, 20, 10], underflow: 0, overflow: 0 };
    const cur: ColumnHistogram = { kind: 'numeric', edges, counts: [10, 20, 10], underflow: 5, overflow: 5 };
    const ks = runHistogramTest('ks', ref, cur);
    // ECDF difference at edge 0 is 0 - 5/50 = -0.1, the largest gap.
    expect(ks.statistic).toBeCloseTo(0.1, 12);
    expect(runHistogramTest('wasserstein', ref, ref).statistic).toBe(0);
    expect(runHistogramTest('wasserstein', ref, cur).statistic).toBeGreaterThan(0);
    expect(runHistogramTest('chisquare', ref, cur).statistic).toBe(Infinity);
  });
});

describe('errors', () => {
  const n = (values: number[]): ColumnValues => ({ kind: 'numeric', values });
  const s = (values: string[]): ColumnValues => ({ kind: 'categorical', values });

  it('rejects impossible requests with plain Errors', () => {
    expect(() => runTest('ks', n([]), n([1]))).toThrow(/reference is empty/);
    expect(() => runTest('wasserstein', n([1]), n([]))).toThrow(/current is empty/);
    expect(() => runTest('chisquare', s([]), s(['a']))).toThrow(/empty/);
    expect(() => runTest('ks', n([1, NaN]), n([1]))).toThrow(/NaN/);
    expect(() => runTest('z', s(['a', 'b', 'c']), s(['a']))).toThrow(/binary/);
    expect(() => runTest('z', n([1, 2]), n([3]))).toThrow(/binary/);
    expect(() => runTest('ks', s(['a']), s(['b']))).toThrow(/numeric/);
    expect(() => runTest('wasserstein', s(['a']), s(['b']))).toThrow(/numeric/);
    expect(() => runTest('ks', n([1]), s(['b']))).toThrow(/same kind/);
    expect(() => runTest('bogus' as DriftTestName, n([1]), n([1]))).toThrow(/unknown drift test/);
    expect(() => runTest('ks', n([1]), n([1]), NaN)).toThrow(/threshold/);
    expect(() => defaultTest(n([]), n([1]))).toThrow(/empty/);
    expect(() => defaultTestFromCounts('numeric', 0, 3)).toThrow(/referenceRows/);
    expect(() => defaultTestFromCounts('categorical', 10, 0)).toThrow(/distinct/);
  });

  it('rejects malformed histograms', () => {
    const h = (edges: number[], counts: number[], underflow = 0, overflow = 0): ColumnHistogram => ({ kind: 'numeric', edges, counts, underflow, overflow });
    expect(() => runHistogramTest('ks', h([0, 1, 2], [1, 1]), h([0, 1, 3], [1, 1]))).toThrow(/same edges/);
    expect(() => runHistogramTest('ks', h([0, 1, 2], [1]), h([0, 1, 2], [1, 1]))).toThrow(/counts/);
    expect(() => runHistogramTest('ks', h([0, 2, 1], [1, 1]), h([0, 2, 1], [1, 1]))).toThrow(/increasing/);
    expect(() => runHistogramTest('ks', h([0, 1, 2], [1, -1]), h([0, 1, 2], [1, 1]))).toThrow(/non-negative/);
    expect(() => runHistogramTest('ks', h([0, 1, 2], [0, 0]), h([0, 1, 2], [1, 1]))).toThrow(/empty/);
    expect(() => runHistogramTest('ks', { kind: 'categorical', counts: { a: 1 } }, { kind: 'categorical', counts: { a: 1 } })).toThrow(/numeric/);
    expect(() => runHistogramTest('chisquare', { kind: 'categorical', counts: { a: 0 } }, { kind: 'categorical', counts: { a: 1 } })).toThrow(/empty/);
    expect(() => runHistogramTest('z', { kind: 'categorical', counts: { a: 1, b: 1, c: 1 } }, { kind: 'categorical', counts: { a: 1 } })).toThrow(/binary/);
  });
});

describe('sorting', () => {
  it('radix sort orders like the typed-array sort, including -0, infinities and subnormals', () => {
    const values = new Float64Array(10000);
    let seed = 12345;
    for (let i = 0; i < values.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      values[i] = (seed / 2147483648 - 0.5) * 10 ** ((seed % 40) - 20);
    }
    values.set([-0, 0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE], 0);
    const a = values.slice();
    const b = values.slice();
    a.sort();
    sortFloat64(b);
    expect(Array.from(b).every((v, i) => Object.is(v, a[i]))).toBe(true);
  });

  it('lists every test once', () => {
    expect(new Set(DRIFT_TESTS).size).toBe(8);
    expect(Object.keys(DEFAULT_THRESHOLDS).sort()).toEqual([...DRIFT_TESTS].sort());
  });
});

// The reference profile builder and the typed columns it reads: the numbers (means, sample
// standard deviations, numpy's linear quantiles, histogram edges and counts), missing values,
// booleans, the distinct cap, the target, and the bounded reproducible sample.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { ColumnsBuilder, categoricalCell, columnsOf, numericCell, presentValues } from '../../src/drift/columns.js';
import {
  DEFAULT_SAMPLE_SIZE,
  DISTINCT_CAP,
  PROFILE_BINS,
  PROFILE_QUANTILES,
  ProfileBuilder,
  equalWidthEdges,
  histogramCounts,
  quantileSorted,
  sampleColumns,
  type CategoricalFeatureProfile,
  type NumericFeatureProfile,
  type ProfileOptions,
  type ReferenceProfile,
} from '../../src/drift/profile.js';
import type { FeatureType } from '../../src/spec/schema.js';

const META = { source: { uri: 'file:///data/train.csv', digest: `sha256:${'0'.repeat(64)}` }, createdAt: '2026-01-01T00:00:00.000Z' };

function profileOf(features: [string, FeatureType][], records: Record<string, unknown>[], options: Partial<ProfileOptions> = {}): ReferenceProfile {
  const b = new ProfileBuilder(
    features.map(([name, type]) => ({ name, type })),
    { random: seededRandom(1), ...options },
  );
  for (const r of records) b.add(r);
  return b.finish(META);
}

const numericFeature = (p: ReferenceProfile, name: string): NumericFeatureProfile => p.features.find((f) => f.name === name) as NumericFeatureProfile;
const categoricalFeature = (p: ReferenceProfile, name: string): CategoricalFeatureProfile =>
  p.features.find((f) => f.name === name) as CategoricalFeatureProfile;

describe('quantileSorted (numpy linear)', () => {
  it('interpolates between order statistics like numpy.quantile', () => {
    // numpy.quantile([1, 2, 3, 4], [0, .25, .5, .75, 1]) = [1, 1.75, 2.5, 3.25, 4]
    const xs = Float64Array.from([1, 2, 3, 4]);
    expect([0, 0.25, 0.5, 0.75, 1].map((q) => quantileSorted(xs, q))).toEqual([1, 1.75, 2.5, 3.25, 4]);
    // numpy.quantile(range(1, 11), [.01, .05, .95, .99]) = [1.09, 1.45, 9.55, 9.91]
    const ten = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    const got = [0.01, 0.05, 0.95, 0.99].map((q) => quantileSorted(ten, q));
    [1.09, 1.45, 9.55, 9.91].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
    expect(quantileSorted(Float64Array.from([7]), 0.3)).toBe(7);
    expect(quantileSorted(new Float64Array(0), 0.5)).toBeNaN();
  });
});

describe('histograms', () => {
  it('equal-width edges over [min, max], one unit bin for a constant column', () => {
    expect(equalWidthEdges(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    const e = equalWidthEdges(0.1, 0.7, 3);
    expect(e).toHaveLength(4);
    expect(e[0]).toBe(0.1);
    expect(e[3]).toBe(0.7);
    expect(equalWidthEdges(3, 3, 20)).toEqual([3, 4]);
  });

  it('counts [e_i, e_i+1) with the last bin closed; outside values apart; NaN ignored', () => {
    const edges = [0, 2, 4, 6, 8, 10];
    const r = histogramCounts([0, 2, 3.9, 4, 10, 9.999, -1, 11, Number.NaN], edges);
    expect(r).toEqual({ counts: [1, 2, 1, 0, 2], underflow: 1, overflow: 1 });
    // Edges need not be equal-width.
    expect(histogramCounts([0.5, 1, 5, 99, 100], [0, 1, 10, 100]).counts).toEqual([1, 2, 2]);
  });
});

describe('ProfileBuilder: numeric features', () => {
  const p = profileOf(
    [
      ['x', 'number'],
      ['n', 'integer'],
    ],
    [
      { x: '1', n: '10' },
      { x: ' 2 ', n: '10' },
      { x: '3', n: '' },
      { x: '4', n: 'ten' },
      { x: '', n: '30' },
      { x: 'n/a', n: 20 },
    ],
  );

  it('means, sample standard deviations, min, max and quantiles of the present values', () => {
    const x = numericFeature(p, 'x');
    expect(x).toMatchObject({ type: 'number', count: 4, missing: 2, mean: 2.5, min: 1, max: 4, distinct: 4, distinctCapped: false });
    expect(x.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(x.quantiles.map((q) => q.q)).toEqual([...PROFILE_QUANTILES]);
    expect(x.quantiles.find((q) => q.q === 0.5)?.value).toBe(2.5);
    expect(x.quantiles.find((q) => q.q === 0.25)?.value).toBe(1.75);
    const n = numericFeature(p, 'n');
    expect(n).toMatchObject({ type: 'integer', count: 4, missing: 2, mean: 17.5, min: 10, max: 30, distinct: 3 });
    expect(n.std).toBeCloseTo(Math.sqrt((7.5 ** 2 + 7.5 ** 2 + 12.5 ** 2 + 2.5 ** 2) / 3), 12);
    expect(p.rows).toBe(6);
  });

  it('histograms on PROFILE_BINS equal-width bins over [min, max], the maximum in the last bin', () => {
    const x = numericFeature(p, 'x');
    expect(x.histogram.edges).toHaveLength(PROFILE_BINS + 1);
    expect(x.histogram.edges[0]).toBe(1);
    expect(x.histogram.edges[PROFILE_BINS]).toBe(4);
    expect(x.histogram.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(x.histogram.counts[0]).toBe(1);
    expect(x.histogram.counts[PROFILE_BINS - 1]).toBe(1);
    const few = numericFeature(profileOf([['x', 'number']], [{ x: 0 }, { x: 5 }, { x: 10 }], { bins: 2 }), 'x');
    expect(few.histogram).toEqual({ edges: [0, 5, 10], counts: [1, 2] });
  });

  it('a constant column has one unit-wide bin; a column with no values has no statistics', () => {
    const c = numericFeature(profileOf([['x', 'number']], [{ x: 3 }, { x: 3 }]), 'x');
    expect(c).toMatchObject({ mean: 3, std: 0, min: 3, max: 3, distinct: 1, histogram: { edges: [3, 4], counts: [2] } });
    const one = numericFeature(profileOf([['x', 'number']], [{ x: 3 }]), 'x');
    expect(one.std).toBeNull();
    const none = numericFeature(profileOf([['x', 'number']], [{ x: '' }, {}]), 'x');
    expect(none).toMatchObject({
      count: 0,
      missing: 2,
      mean: null,
      std: null,
      min: null,
      max: null,
      quantiles: [],
      distinct: 0,
      histogram: { edges: [], counts: [] },
    });
  });

  it('counts distinct values exactly up to DISTINCT_CAP, then says it is a lower bound', () => {
    const at = numericFeature(
      profileOf(
        [['x', 'number']],
        Array.from({ length: DISTINCT_CAP }, (_, i) => ({ x: i })),
      ),
      'x',
    );
    expect(at).toMatchObject({ distinct: DISTINCT_CAP, distinctCapped: false });
    const over = numericFeature(
      profileOf(
        [['x', 'number']],
        Array.from({ length: DISTINCT_CAP + 500 }, (_, i) => ({ x: i / 7 })),
      ),
      'x',
    );
    expect(over).toMatchObject({ distinct: DISTINCT_CAP, distinctCapped: true, count: DISTINCT_CAP + 500 });
    // Repeats do not count twice.
    const repeated = numericFeature(
      profileOf(
        [['x', 'number']],
        Array.from({ length: 5000 }, (_, i) => ({ x: i % 10 })),
      ),
      'x',
    );
    expect(repeated).toMatchObject({ distinct: 10, distinctCapped: false });
  });
});

describe('ProfileBuilder: categorical features, booleans and the target', () => {
  it('counts categories (trimmed) and missing values', () => {
    const p = profileOf([['c', 'category']], [{ c: 'a' }, { c: ' a ' }, { c: 'b' }, { c: '' }, {}, { c: 7 }, { c: null }]);
    expect(categoricalFeature(p, 'c')).toEqual({
      name: 'c',
      type: 'category',
      count: 4,
      missing: 3,
      distinct: 3,
      distinctCapped: false,
      counts: { a: 2, b: 1, '7': 1 },
    });
  });

  it('normalises booleans to true/false and keeps other words as they are', () => {
    const p = profileOf(
      [['b', 'boolean']],
      ['true', 'False', '1', '0', 'yes', 'N', '', 'maybe', true].map((b) => ({ b })),
    );
    expect(categoricalFeature(p, 'b')).toMatchObject({ type: 'boolean', count: 8, missing: 1, distinct: 3, counts: { true: 4, false: 3, maybe: 1 } });
  });

  it('profiles a categorical target as counts and a numeric one as moments', () => {
    const records = [
      { x: 1, y: 'walk' },
      { x: 2, y: 'sit' },
      { x: 3, y: 'walk' },
      { x: 4, y: '' },
    ];
    const cat = profileOf([['x', 'number']], records, { target: { name: 'y', kind: 'categorical' } });
    expect(cat.target).toEqual({ name: 'y', kind: 'categorical', count: 3, missing: 1, counts: { walk: 2, sit: 1 } });
    const num = profileOf(
      [['x', 'number']],
      [
        { x: 1, y: '2' },
        { x: 2, y: '4' },
        { x: 3, y: 'x' },
      ],
      { target: { name: 'y', kind: 'numeric' } },
    );
    expect(num.target).toMatchObject({ name: 'y', kind: 'numeric', count: 2, missing: 1, mean: 3, min: 2, max: 4 });
    expect((num.target as { std: number }).std).toBeCloseTo(Math.SQRT2, 12);
    // No value of the column at all: no target.
    expect(profileOf([['x', 'number']], records, { target: { name: 'nope', kind: 'categorical' } }).target).toBeUndefined();
  });
});

describe('ProfileBuilder: the sample', () => {
  const records = Array.from({ length: 1000 }, (_, i) => ({ x: String(i), c: i % 3 === 0 ? '' : `k${i % 5}` }));
  const features: [string, FeatureType][] = [
    ['x', 'number'],
    ['c', 'category'],
  ];

  it('keeps every row, in order, when they fit; features in description order, missing as null', () => {
    const p = profileOf(features, records.slice(0, 4));
    expect(p.sample).toEqual({
      capacity: DEFAULT_SAMPLE_SIZE,
      columns: ['x', 'c'],
      rows: [
        [0, null],
        [1, 'k1'],
        [2, 'k2'],
        [3, null],
      ],
    });
    expect(p).toMatchObject({ schema: 1, rows: 4, ...META });
  });

  it('is bounded by the sample size, drawn from the rows, and reproducible from the seed', () => {
    const a = profileOf(features, records, { sampleSize: 50, random: seededRandom(42) });
    const b = profileOf(features, records, { sampleSize: 50, random: seededRandom(42) });
    const c = profileOf(features, records, { sampleSize: 50, random: seededRandom(43) });
    expect(a.sample.capacity).toBe(50);
    expect(a.sample.rows).toHaveLength(50);
    expect(b.sample.rows).toEqual(a.sample.rows);
    expect(c.sample.rows).not.toEqual(a.sample.rows);
    const xs = a.sample.rows.map((r) => r[0] as number);
    expect(new Set(xs).size).toBe(50);
    for (const r of a.sample.rows) expect(r[1]).toBe(records[r[0] as number]!.c || null);
    // Not just the first rows: a uniform sample reaches into the whole stream.
    expect(Math.max(...xs)).toBeGreaterThan(500);
    // The statistics are of all rows, not of the sample.
    expect(numericFeature(a, 'x')).toMatchObject({ count: 1000, min: 0, max: 999, mean: 499.5 });
  });

  it('is uniform: every row is kept with probability capacity / rows', () => {
    const hits = new Array<number>(100).fill(0);
    const runs = 2000;
    for (let seed = 0; seed < runs; seed++) {
      const p = profileOf(
        [['x', 'number']],
        Array.from({ length: 100 }, (_, i) => ({ x: i })),
        { sampleSize: 10, random: seededRandom(seed) },
      );
      for (const [x] of p.sample.rows) hits[x as number]!++;
    }
    // Expected 200 per row; a binomial sd is ~13.4, so 5 sd either side.
    for (const h of hits) expect(Math.abs(h - runs * 0.1)).toBeLessThan(70);
  });

  it('reads back as columns (what value-based tests use)', () => {
    const p = profileOf(features, records.slice(0, 4));
    const cols = sampleColumns(p, [
      { name: 'c', type: 'category' },
      { name: 'x', type: 'number' },
      { name: 'unknown', type: 'number' },
    ]);
    expect(cols.rows).toBe(4);
    expect([...cols.columns.keys()]).toEqual(['c', 'x']);
    expect(cols.columns.get('x')).toEqual({ kind: 'numeric', values: Float64Array.from([0, 1, 2, 3]) });
    expect(cols.columns.get('c')).toEqual({ kind: 'categorical', values: [null, 'k1', 'k2', null] });
  });
});

describe('columns', () => {
  it('reads cells as numbers (NaN = missing) and as categories (null = missing)', () => {
    expect(['1', ' 2.5 ', '-3e2', '', '  ', 'abc', 'Infinity', 'NaN'].map(numericCell)).toEqual([1, 2.5, -300, NaN, NaN, NaN, NaN, NaN]);
    expect([4, true, false, null, undefined, {}].map(numericCell)).toEqual([4, 1, 0, NaN, NaN, NaN]);
    expect(categoricalCell(' a ', 'category')).toBe('a');
    expect(categoricalCell('', 'category')).toBeNull();
    expect(categoricalCell(3, 'category')).toBe('3');
    expect(categoricalCell(Number.NaN, 'category')).toBeNull();
    expect(categoricalCell(undefined, 'category')).toBeNull();
    expect(['TRUE', 't', 'Y', '1', 1, true].map((v) => categoricalCell(v, 'boolean'))).toEqual(['true', 'true', 'true', 'true', 'true', 'true']);
    expect(['false', 'F', 'no', '0', 0, false].map((v) => categoricalCell(v, 'boolean'))).toEqual(['false', 'false', 'false', 'false', 'false', 'false']);
  });

  it('grows past its initial buffers and keeps rows aligned across columns', () => {
    const n = 5000;
    const b = new ColumnsBuilder([
      { name: 'x', type: 'number' },
      { name: 'c', type: 'category' },
    ]);
    for (let i = 0; i < n; i++) b.add({ x: i, c: i % 2 ? 'odd' : 'even' });
    const cols = b.finish();
    expect(cols.rows).toBe(n);
    const x = cols.columns.get('x');
    expect(x?.kind === 'numeric' && x.values.length).toBe(n);
    expect(x?.kind === 'numeric' && x.values[n - 1]).toBe(n - 1);
    const present = presentValues(columnsOf([{ name: 'x', type: 'number' }], [{ x: 1 }, { x: '' }, { x: 3 }]).columns.get('x')!);
    expect(present).toEqual({ kind: 'numeric', values: Float64Array.from([1, 3]), missing: 1 });
    expect(presentValues({ kind: 'categorical', values: ['a', null, 'b'] })).toEqual({ kind: 'categorical', values: ['a', 'b'], missing: 1 });
  });
});

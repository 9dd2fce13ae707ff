import { describe, expect, it } from 'vitest';
import type { ModelDescription } from '../../src/spec/schema.js';
import { seededRandom, type Clock } from '../../src/core/clock.js';
import { compileModel } from '../../src/serving/dataplane/model.js';
import { ServingStats } from '../../src/serving/stats.js';
import { Reservoir, mergeSamples } from '../../src/drift/reservoir.js';
import { equalWidthEdges, histogramCounts } from '../../src/drift/profile.js';

const clock: Pick<Clock, 'now'> = { now: () => 1_700_000_000_000 };

function model(task: 'classification' | 'regression' = 'classification') {
  const d: ModelDescription = {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'toy', version: '1' },
    spec: {
      task,
      algorithm: 'MLP',
      artifact: { uri: 'file://./m.onnx', format: 'onnx' },
      features: [
        { name: 'x', type: 'number', range: { min: 0, max: 10 } },
        { name: 'free', type: 'number' },
        { name: 'color', type: 'category', values: ['red', 'green'] },
        { name: 'flag', type: 'boolean', optional: true },
      ],
      ...(task === 'classification' ? { outputs: { labels: ['a', 'b'] } } : {}),
    },
  };
  return compileModel(d);
}

function rows(list: number[][]): { rows: number; values: Float32Array } {
  return { rows: list.length, values: new Float32Array(list.flat()) };
}

describe('ServingStats', () => {
  it('bins declared ranges, counts categories and booleans, and tracks predictions', () => {
    const stats = new ServingStats(model(), { random: seededRandom(1), clock, bins: 10 });
    stats.observe({
      ...rows([
        [0, 5, 0, 1],
        [9.99, 6, 1, NaN],
        [10, 7, 1, 0],
      ]),
      labels: ['a', 'b', 'b'],
      probabilities: [
        [0.9, 0.1],
        [0.4, 0.6],
        [0.2, 0.8],
      ],
    });
    const s = stats.snapshot();
    const x = s.features[0]!;
    expect(x).toMatchObject({ name: 'x', count: 3, missing: 0, min: 0, max: 10 });
    if (!('histogram' in x)) throw new Error('numeric');
    expect(x.histogram.edges[0]).toBe(0);
    expect(x.histogram.edges[10]).toBe(10);
    expect(x.histogram.counts).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(s.features[2]).toMatchObject({ counts: { red: 1, green: 2 }, count: 3 });
    expect(s.features[3]).toMatchObject({ counts: { false: 1, true: 1 }, missing: 1 });
    expect(s.predictions).toMatchObject({ counts: { a: 1, b: 2 } });
    expect((s.predictions as { mean_confidence: number }).mean_confidence).toBeCloseTo((0.9 + 0.6 + 0.8) / 3);
    expect(s.window.rows).toBe(3);
    // The sample comes back in random order.
    const sampled = s.reservoir.rows.map((r, i) => JSON.stringify([...r, s.reservoir.predictions[i]])).sort();
    expect(sampled).toEqual(['[0,5,"red",true,"a"]', '[10,7,"green",false,"b"]', '[9.99,6,"green",null,"b"]']);
  });

  it('fixes bins of undeclared ranges after the warm-up and keeps every value counted', () => {
    const stats = new ServingStats(model(), { random: seededRandom(2), clock, bins: 4, warmup: 4 });
    stats.observe(
      rows([
        [1, 0, 0, 0],
        [1, 1, 0, 0],
      ]),
    );
    const early = stats.snapshot().features[1]!;
    if (!('histogram' in early)) throw new Error('numeric');
    expect(early.histogram.counts.reduce((a, b) => a + b, 0)).toBe(2);
    stats.observe(
      rows([
        [1, 2, 0, 0],
        [1, 3, 0, 0],
        [1, 100, 0, 0],
        [1, -50, 0, 0],
      ]),
    );
    const late = stats.snapshot().features[1]!;
    if (!('histogram' in late)) throw new Error('numeric');
    // Bins from the first four values (0..3, padded by a quarter of the span).
    expect(late.histogram.edges[0]).toBe(-0.75);
    expect(late.histogram.edges[4]).toBe(3.75);
    expect(late.histogram.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(late.histogram.overflow).toBe(1);
    expect(late.histogram.underflow).toBe(1);
    expect(late.count).toBe(6);
  });

  it('slides the window: old chunks drop out, totals keep counting', () => {
    const stats = new ServingStats(model(), { random: seededRandom(3), clock, windowRows: 4, chunks: 2, reservoirSize: 3 });
    for (let i = 0; i < 10; i++) stats.observe({ ...rows([[i, i, 0, 1]]), labels: ['a'] });
    const s = stats.snapshot();
    expect(s.window.capacity).toBe(4);
    expect(s.window.rows).toBe(4);
    expect(s.total.rows).toBe(10);
    expect(s.features[0]).toMatchObject({ min: 6, max: 9, count: 4 });
    expect(s.reservoir.rows).toHaveLength(3);
    for (const r of s.reservoir.rows) expect(r[0]).toBeGreaterThanOrEqual(6);
  });

  it('measures live accuracy and the confusion matrix from feedback', () => {
    const stats = new ServingStats(model(), { random: seededRandom(4), clock });
    stats.observeFeedback([
      { label: 'a', predictedLabel: 'a', predictedValue: null },
      { label: 'b', predictedLabel: 'a', predictedValue: null },
      { label: 'b', predictedLabel: 'b', predictedValue: null },
    ]);
    const f = stats.snapshot().feedback;
    expect(f.labelled).toBe(3);
    expect(f.accuracy).toBeCloseTo(2 / 3);
    expect(f.confusion).toEqual({
      labels: ['a', 'b'],
      matrix: [
        [1, 0],
        [1, 1],
      ],
    });
  });

  it('measures MAE and RMSE for regression, and summarizes predicted values', () => {
    const stats = new ServingStats(model('regression'), { random: seededRandom(5), clock, warmup: 2 });
    stats.observe({
      ...rows([
        [1, 1, 0, 1],
        [2, 2, 1, 0],
      ]),
      predictions: [10, 20],
    });
    stats.observeFeedback([
      { value: 12, predictedLabel: null, predictedValue: 10 },
      { value: 16, predictedLabel: null, predictedValue: 20 },
    ]);
    const s = stats.snapshot();
    expect(s.feedback).toEqual({ labelled: 2, mae: 3, rmse: Math.sqrt(10) });
    expect(s.predictions).toMatchObject({ count: 2, mean: 15, min: 10, max: 20 });
    expect([...s.reservoir.predictions].sort()).toEqual([10, 20]);
  });
});

describe('ServingStats on a reference profile', () => {
  it('bins on the profile edges exactly as the profile counts, values on edges included', () => {
    const edges = equalWidthEdges(-0.3, 0.7, 10);
    const stats = new ServingStats(model(), { random: seededRandom(9), clock, edges: new Map([['free', edges]]) });
    const random = seededRandom(10);
    // Values on every edge (as float32, like the encoded rows), random ones, and outliers both sides.
    const values = Float32Array.from([...edges, ...Array.from({ length: 500 }, () => random.next() * 1.4 - 0.5), -9, 9]);
    stats.observe(rows(Array.from(values, (x) => [1, x, 0, 1])));
    const free = stats.snapshot().features[1]!;
    if (!('histogram' in free)) throw new Error('numeric');
    expect(free.histogram.edges).toEqual(edges);
    const expected = histogramCounts(values, edges);
    expect(free.histogram).toMatchObject({ counts: expected.counts, underflow: expected.underflow, overflow: expected.overflow });
  });

  it('counts out-of-range and refused values per feature, in the window and in totals', () => {
    const stats = new ServingStats(model(), { random: seededRandom(11), clock, windowRows: 3, chunks: 1 });
    stats.observe(
      rows([
        [11, 1, 0, NaN],
        [-1, 1, 0, 1],
      ]),
    );
    stats.countRefused(2, 'unseen');
    stats.countRefused(0, 'out_of_range');
    expect(stats.snapshot().features[0]).toMatchObject({ out_of_range: 3, unseen: 0, total: { out_of_range: 3, missing: 0 } });
    // A full window starts a new chunk: the window forgets, the totals do not.
    stats.observe(
      rows([
        [5, 1, 0, 1],
        [5, 1, 0, 1],
      ]),
    );
    const s = stats.snapshot();
    expect(s.features[0]).toMatchObject({ out_of_range: 0, total: { out_of_range: 3 } });
    expect(s.features[3]).toMatchObject({ missing: 0, total: { missing: 1 } });
    expect(stats.featureTotals()[2]).toEqual({ feature: 'color', missing: 0, outOfRange: 0, unseen: 1 });
  });
});

describe('reservoir sampling', () => {
  it('keeps a bounded uniform sample (Algorithm R)', () => {
    const counts = new Array<number>(100).fill(0);
    const random = seededRandom(7);
    for (let t = 0; t < 2000; t++) {
      const r = new Reservoir<number>(10, random);
      for (let i = 0; i < 100; i++) r.offer(() => i);
      expect(r.items).toHaveLength(10);
      for (const i of r.items) counts[i]!++;
    }
    // Each item is kept with probability 10/100: 200 expected of 2000 trials.
    for (const c of counts) {
      expect(c).toBeGreaterThan(130);
      expect(c).toBeLessThan(270);
    }
  });

  it('merges per-chunk samples into a uniform sample of the union', () => {
    const random = seededRandom(8);
    let fromSmall = 0;
    for (let t = 0; t < 2000; t++) {
      const big = new Reservoir<string>(10, random);
      const small = new Reservoir<string>(10, random);
      for (let i = 0; i < 90; i++) big.offer(() => 'big');
      for (let i = 0; i < 10; i++) small.offer(() => 'small');
      const merged = mergeSamples([big, small], 10, random);
      expect(merged).toHaveLength(10);
      fromSmall += merged.filter((x) => x === 'small').length;
    }
    // 10 % of the union comes from the small part: about 1 per sample.
    expect(fromSmall / 2000).toBeGreaterThan(0.85);
    expect(fromSmall / 2000).toBeLessThan(1.15);
  });
});

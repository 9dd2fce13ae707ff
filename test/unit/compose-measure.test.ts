// The router's meters: latency quantiles, reliability, agreement, quality and its history, and the
// wire shapes of the snapshots.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import {
  CompositionMeter,
  LatencyRecorder,
  MAX_HISTORY_POINTS,
  MemberMeter,
  QualityTracker,
  regressionAgreement,
  type MemberMeta,
} from '../../src/compose/measure.js';
import type { CompositionStatsWire, MemberStatsWire } from '../../src/protocol/composition-stats.js';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const META: MemberMeta = { key: 'iris@2', deployment: 'd-1234567890', role: 'member', weight: 2 };

/** numpy.quantile's default (linear): sorted[h] interpolated, h = (n - 1) q. */
function reference(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

describe('LatencyRecorder', () => {
  it('gives exact quantiles and the mean of 10,000 random latencies', () => {
    const random = seededRandom(2026);
    const rec = new LatencyRecorder();
    const samples: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      // Log-normal-ish, 0.05 ms .. tens of seconds: exp of a sum of uniforms.
      const ms = 0.05 * Math.exp(12 * ((random.next() + random.next() + random.next()) / 3));
      samples.push(ms);
      rec.record(ms);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const s = rec.summary();
    // The ring keeps every sample of the window, so the quantiles are exact (the stated accuracy: 0 %, bar rounding).
    expect(s.p50).toBeCloseTo(reference(sorted, 0.5), 9);
    expect(s.p95).toBeCloseTo(reference(sorted, 0.95), 9);
    expect(s.p99).toBeCloseTo(reference(sorted, 0.99), 9);
    expect(s.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / samples.length, 6);
    for (const q of [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.999, 1]) {
      const want = reference(sorted, q);
      expect(Math.abs(rec.quantile(q)! - want) / want).toBeLessThan(1e-12);
    }
  });

  it('keeps the last `capacity` samples only', () => {
    const rec = new LatencyRecorder(100);
    for (let i = 1; i <= 150; i++) rec.record(i);
    // Window: 51..150 -> median (100 + 101) / 2, mean 100.5, min 51, max 150.
    expect(rec.count).toBe(100);
    expect(rec.quantile(0.5)).toBe(100.5);
    expect(rec.mean()).toBe(100.5);
    expect(rec.quantile(0)).toBe(51);
    expect(rec.quantile(1)).toBe(150);
    rec.record(1000); // evicts 51; the cached sort is dropped
    expect(rec.quantile(0)).toBe(52);
    expect(rec.quantile(1)).toBe(1000);
  });

  it('is all null before the first sample and ignores non-finite ones', () => {
    const rec = new LatencyRecorder();
    rec.record(NaN);
    rec.record(Infinity);
    expect(rec.summary()).toEqual({ p50: null, p95: null, p99: null, mean: null });
    rec.record(-3);
    expect(rec.summary()).toEqual({ p50: 0, p95: 0, p99: 0, mean: 0 });
  });
});

describe('MemberMeter', () => {
  it('counts requests, answers, errors and timeouts; latency from answers only', () => {
    const m = new MemberMeter({ task: 'classification' });
    for (let i = 0; i < 7; i++) m.record('answered', 10 + i); // 10..16
    m.record('error', 1);
    m.record('timeout', 1000);
    m.record('timeout');
    const s = m.snapshot(META);
    expect(s.requests).toBe(10);
    expect(s.answered).toBe(7);
    expect(s.errors).toBe(1);
    expect(s.timeouts).toBe(2);
    expect(s.reliability).toBe(0.7);
    expect(s.latencyMs).toEqual({ p50: 13, p95: reference([10, 11, 12, 13, 14, 15, 16], 0.95), p99: reference([10, 11, 12, 13, 14, 15, 16], 0.99), mean: 13 });
    expect(s.latencyMs.p99).toBeLessThanOrEqual(16);
  });

  it('measures agreement with the composition', () => {
    const m = new MemberMeter({ task: 'classification' });
    [true, true, false, true].forEach((same) => m.agreement(same));
    expect(m.snapshot(META).agreement).toEqual({ compared: 4, rate: 0.75 });
  });

  it('measures regression agreement within 10 % and the mean absolute difference', () => {
    // composition 10: 10.9 agrees (|0.9| <= 1), 11.5 does not; composition -20: -18 agrees (2 <= 2);
    // composition 0: 1e-10 agrees, 0.001 does not.
    expect(regressionAgreement(10.9, 10).same).toBe(true);
    expect(regressionAgreement(11.5, 10)).toEqual({ same: false, absDiff: 1.5 });
    expect(regressionAgreement(-18, -20)).toEqual({ same: true, absDiff: 2 });
    expect(regressionAgreement(1e-10, 0).same).toBe(true);
    expect(regressionAgreement(0.001, 0).same).toBe(false);

    const m = new MemberMeter({ task: 'regression' });
    expect(m.snapshot(META).agreement).toEqual({ compared: 0, rate: null, meanAbsDiff: null });
    for (const [member, composition] of [
      [10.5, 10], // agrees, diff 0.5
      [11.5, 10], // no, 1.5
      [-18, -20], // agrees, 2
      [0, 0], // agrees, 0
    ] as const) {
      const { same, absDiff } = regressionAgreement(member, composition);
      m.agreement(same, absDiff);
    }
    // rate 3/4; mean |diff| (0.5 + 1.5 + 2 + 0) / 4 = 1
    expect(m.snapshot(META).agreement).toEqual({ compared: 4, rate: 0.75, meanAbsDiff: 1 });
  });

  it('accumulates accuracy and shows the partial window as the last history point', () => {
    // Window 10, 25 labelled at T0 + i s: correct when i % 4 != 3 (i = 3, 7, 11, 15, 19, 23 wrong).
    const m = new MemberMeter({ task: 'classification', historyWindow: 10 });
    for (let i = 0; i < 25; i++) m.quality(i % 4 !== 3, T0 + i * 1000);
    const s = m.snapshot(META);
    // Totals: 19 of 25 right.
    expect(s.quality).toEqual({ labelled: 25, correct: 19, accuracy: 19 / 25 });
    expect(s.history).toEqual({
      window: 10,
      points: [
        { end: iso(T0 + 9_000), labelled: 10, accuracy: 0.8 }, // i 0..9: 3, 7 wrong
        { end: iso(T0 + 19_000), labelled: 10, accuracy: 0.7 }, // i 10..19: 11, 15, 19 wrong
        { end: iso(T0 + 24_000), labelled: 5, accuracy: 0.8 }, // i 20..24: 23 wrong -> 4/5, partial
      ],
    });
  });

  it('accumulates MAE and RMSE, and the history of MAE', () => {
    // Errors 1, -3 (abs 3), 0, 4 with window 2: MAE (1+3+0+4)/4 = 2, RMSE sqrt((1+9+0+16)/4) = sqrt(6.5).
    const m = new MemberMeter({ task: 'regression', historyWindow: 2 });
    [1, -3, 0, 4].forEach((e, i) => m.quality({ absError: e }, T0 + i));
    m.quality({ absError: NaN }, T0 + 10); // ignored
    const s = m.snapshot(META);
    expect(s.quality).toEqual({ labelled: 4, mae: 2, rmse: Math.sqrt(6.5) });
    expect(s.history.points).toEqual([
      { end: iso(T0 + 1), labelled: 2, mae: 2 },
      { end: iso(T0 + 3), labelled: 2, mae: 2 },
    ]);
  });

  it('keeps at most 200 history points, dropping the oldest, the partial one included', () => {
    expect(MAX_HISTORY_POINTS).toBe(200);
    // Window 1, 250 labelled: 250 closed windows, the last 200 shown (i = 50..249).
    const q = new QualityTracker('classification', 1);
    for (let i = 0; i < 250; i++) q.add(i % 2 === 0, T0 + i);
    let h = q.history();
    expect(h.points).toHaveLength(200);
    expect(h.points[0]).toEqual({ end: iso(T0 + 50), labelled: 1, accuracy: 1 });
    expect(h.points[199]).toEqual({ end: iso(T0 + 249), labelled: 1, accuracy: 0 });

    // Window 2, 401 labelled: 200 closed windows + a partial of 1 -> the oldest closed one gives way.
    const p = new QualityTracker('classification', 2);
    for (let i = 0; i < 401; i++) p.add(true, T0 + i);
    h = p.history();
    expect(h.points).toHaveLength(200);
    expect(h.points[0]!.end).toBe(iso(T0 + 3)); // window 2 (i = 2, 3); window 1 (i = 0, 1) dropped
    expect(h.points[198]).toEqual({ end: iso(T0 + 399), labelled: 2, accuracy: 1 });
    expect(h.points[199]).toEqual({ end: iso(T0 + 400), labelled: 1, accuracy: 1 });
  });

  it('snapshots exactly the wire shape, with nulls before any data', () => {
    const s = new MemberMeter({ task: 'classification' }).snapshot(META);
    expectTypeOf(s).toEqualTypeOf<MemberStatsWire>();
    expect(s).toStrictEqual({
      key: 'iris@2',
      deployment: 'd-1234567890',
      role: 'member',
      weight: 2,
      requests: 0,
      answered: 0,
      errors: 0,
      timeouts: 0,
      reliability: null,
      latencyMs: { p50: null, p95: null, p99: null, mean: null },
      agreement: { compared: 0, rate: null },
      quality: { labelled: 0, correct: 0, accuracy: null },
      history: { window: 100, points: [] },
    } satisfies MemberStatsWire);
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);

    const r = new MemberMeter({ task: 'regression', historyWindow: 50 }).snapshot({ ...META, role: 'shadow' });
    expect(r.quality).toStrictEqual({ labelled: 0, mae: null, rmse: null });
    expect(r.agreement).toStrictEqual({ compared: 0, rate: null, meanAbsDiff: null });
    expect(r.history).toStrictEqual({ window: 50, points: [] });
  });
});

describe('CompositionMeter', () => {
  it('counts requests and errors and snapshots the wire shape around the member snapshots', () => {
    const c = new CompositionMeter({ task: 'classification', composition: 'vote@1', mode: 'ensemble', aggregation: 'majority', since: T0, historyWindow: 2 });
    const empty = c.snapshot([]);
    expectTypeOf(empty).toEqualTypeOf<CompositionStatsWire>();
    expect(empty).toStrictEqual({
      composition: 'vote@1',
      mode: 'ensemble',
      aggregation: 'majority',
      since: '2026-01-01T00:00:00.000Z',
      requests: 0,
      errors: 0,
      latencyMs: { p50: null, p95: null, p99: null, mean: null },
      quality: { labelled: 0, correct: 0, accuracy: null },
      history: { window: 2, points: [] },
      members: [],
    } satisfies CompositionStatsWire);

    c.record('answered', 20);
    c.record('answered', 40);
    c.record('error', 5000); // no member answered: not a latency
    c.quality(true, T0 + 1);
    c.quality(false, T0 + 2);
    c.quality(true, T0 + 3);
    const member = new MemberMeter({ task: 'classification' });
    member.record('answered', 18);
    const s = c.snapshot([member.snapshot(META)]);
    expect(s.requests).toBe(3);
    expect(s.errors).toBe(1);
    expect(s.latencyMs).toEqual({ p50: 30, p95: 39, p99: 39.8, mean: 30 });
    expect(s.quality).toEqual({ labelled: 3, correct: 2, accuracy: 2 / 3 });
    expect(s.history.points).toEqual([
      { end: iso(T0 + 2), labelled: 2, accuracy: 0.5 },
      { end: iso(T0 + 3), labelled: 1, accuracy: 1 },
    ]);
    expect(s.members).toHaveLength(1);
    expect(s.members[0]!.requests).toBe(1);
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
  });

  it('has no aggregation field in split or shadow mode', () => {
    const s = new CompositionMeter({ task: 'regression', composition: 'ab@1', mode: 'split', since: T0 }).snapshot([]);
    expect('aggregation' in s).toBe(false);
    expect(s.quality).toStrictEqual({ labelled: 0, mae: null, rmse: null });
  });
});

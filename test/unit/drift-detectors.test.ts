import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Adwin,
  createDetector,
  DETECTOR_DEFAULTS,
  DETECTOR_NAMES,
  DetectorMonitor,
  resolveParams,
  runDetectors,
  type DetectorName,
  type DetectorParams,
} from '../../src/drift/detectors/index.js';

// Reference indices from scripts/fixtures/drift_detectors.py: a line-by-line pure-Python
// transcription of River 0.26.1's detectors (River itself cannot be installed here), run on
// deterministic streams. The script also asserts River's own documented outputs before writing.
interface Fixture {
  defaults: Record<DetectorName, Record<string, number | string>>;
  streams: Record<string, { kind: 'binary' | 'real'; description: string; values: number[] }>;
  cases: { detector: DetectorName; stream: string; params: Record<string, number | string>; drift: number[]; warning?: number[] }[];
  documented: { detector: DetectorName; stream: string; params: Record<string, number | string>; drift: number[]; firstWarnings: number[]; source: string }[];
}

const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/drift/detectors.json'), 'utf8')) as Fixture;

function values(stream: string): number[] {
  const s = fixture.streams[stream];
  if (!s) throw new Error(`no stream ${stream}`);
  return s.values;
}

/** Every index where the flags are true after that value. */
function flags(name: DetectorName, xs: readonly number[], params: Record<string, number | string> = {}): { drift: number[]; warning: number[] } {
  const detector = createDetector(name, params as Partial<DetectorParams[DetectorName]>);
  const drift: number[] = [];
  const warning: number[] = [];
  xs.forEach((x, i) => {
    detector.update(x);
    if (detector.driftDetected) drift.push(i);
    if (detector.warningDetected) warning.push(i);
  });
  return { drift, warning };
}

/** Indices where a sorted index list starts a run (entry into the warning zone). */
function entries(indices: readonly number[]): number[] {
  return indices.filter((i, k) => k === 0 || indices[k - 1] !== i - 1);
}

function label(c: Fixture['cases'][number]): string {
  const changed = Object.entries(c.params).filter(([k, v]) => fixture.defaults[c.detector][k] !== v);
  return `${c.detector} on ${c.stream}${changed.length > 0 ? ` (${changed.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`;
}

describe('drift detector defaults', () => {
  it("are River's", () => {
    // The signatures of DDM(warm_start=30, warning_threshold=2.0, drift_threshold=3.0),
    // EDDM(warm_start=30, alpha=0.95, beta=0.9), ADWIN(delta=0.002, clock=32, max_buckets=5,
    // min_window_length=5, grace_period=10) and PageHinkley(min_instances=30, delta=0.005,
    // threshold=50.0, alpha=1 - 0.0001, mode="both") in River 0.26.1.
    expect(DETECTOR_DEFAULTS).toEqual({
      ddm: { warmStart: 30, warningThreshold: 2, driftThreshold: 3 },
      eddm: { warmStart: 30, alpha: 0.95, beta: 0.9 },
      adwin: { delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 },
      'page-hinkley': { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' },
    });
    expect(DETECTOR_DEFAULTS).toEqual(fixture.defaults);
    for (const name of DETECTOR_NAMES) expect(resolveParams(name)).toEqual(fixture.defaults[name]);
  });
});

describe('drift detectors against the River transcription', () => {
  it('covers every detector, with and without a change', () => {
    for (const name of DETECTOR_NAMES) {
      expect(fixture.cases.filter((c) => c.detector === name && c.drift.length > 0).length).toBeGreaterThan(2);
      expect(fixture.cases.filter((c) => c.detector === name && c.drift.length === 0).length).toBeGreaterThan(0);
    }
  });

  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s flags the same indices', (_, c) => {
    const got = flags(c.detector, values(c.stream), c.params);
    expect(got.drift).toEqual(c.drift);
    // ADWIN and Page-Hinkley have no warning zone; the fixture has no warning list for them.
    expect(got.warning).toEqual(c.warning ?? []);
  });

  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s: runDetectors reports drift events and warning entries', (_, c) => {
    const [run] = runDetectors(values(c.stream), [c.detector], { [c.detector]: c.params });
    expect(run!.events.filter((e) => e.kind === 'drift').map((e) => e.index)).toEqual(c.drift);
    expect(run!.events.filter((e) => e.kind === 'warning').map((e) => e.index)).toEqual(entries(c.warning ?? []));
    expect(run!.seen).toBe(values(c.stream).length);
    expect(run!.lastDriftIndex).toBe(c.drift.at(-1) ?? null);
    expect(run!.params).toEqual(c.params);
  });

  it.each(fixture.documented.map((d) => [d.source, d] as const))("reproduces River's documented output: %s", (_, d) => {
    // River's docstring loop: print the first warning after each drift, and every drift.
    const detector = createDetector(d.detector, d.params as Partial<DetectorParams[DetectorName]>);
    const drift: number[] = [];
    const firstWarnings: number[] = [];
    let printWarning = true;
    values(d.stream).forEach((x, i) => {
      detector.update(x);
      if (detector.warningDetected && printWarning) {
        firstWarnings.push(i);
        printWarning = false;
      }
      if (detector.driftDetected) {
        drift.push(i);
        printWarning = true;
      }
    });
    expect({ drift, firstWarnings }).toEqual({ drift: d.drift, firstWarnings: d.firstWarnings });
  });

  it('raise no false alarm on stable streams at the defaults (ADWIN, Page-Hinkley; DDM on an improving model)', () => {
    expect(flags('adwin', values('gaussian-stable')).drift).toEqual([]);
    expect(flags('page-hinkley', values('gaussian-stable')).drift).toEqual([]);
    expect(flags('adwin', values('bernoulli-stable')).drift).toEqual([]);
    expect(flags('ddm', values('bernoulli-improving')).drift).toEqual([]);
    // DDM and EDDM do alarm on bernoulli-stable, in River too (the fixture holds River's indices):
    // DDM fixes p_min/s_min from its first 31 values, EDDM is known to be jumpy at alpha=0.95.
    expect(flags('ddm', values('bernoulli-stable')).drift).toEqual([90]);
  });
});

describe('small cases derived by hand', () => {
  it('DDM: a run of errors after the warm start (warmStart=5)', () => {
    // n counts values; DDM acts once n > warmStart. p = errors/n, s = sqrt(p(1-p)/n).
    // n=6..10 (one error at the start, then zeros): p+s falls each step (0.319, 0.275, 0.242,
    //   0.216, 0.195), so the minimum is taken at n=10: p_min = 0.1, s_min = 0.0949;
    //   warning above 0.1 + 2 * 0.0949 = 0.2897, drift above 0.1 + 3 * 0.0949 = 0.3846.
    // n=11 (error): p = 2/11 = 0.1818, s = 0.1163, p+s = 0.2981 -> warning (index 10).
    // n=12 (error): p = 0.25, s = 0.125, p+s = 0.375 -> still a warning (index 11).
    // n=13 (error): p = 4/13 = 0.3077, s = 0.1280, p+s = 0.4357 -> drift (index 12), warning cleared.
    const xs = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    expect(flags('ddm', xs, { warmStart: 5 })).toEqual({ drift: [12], warning: [10, 11] });
    const [run] = runDetectors(xs, ['ddm'], { ddm: { warmStart: 5 } });
    expect(run).toEqual({
      detector: 'ddm',
      params: { warmStart: 5, warningThreshold: 2, driftThreshold: 3 },
      events: [
        { index: 10, kind: 'warning' },
        { index: 12, kind: 'drift' },
      ],
      state: 'drift',
      seen: 13,
      lastDriftIndex: 12,
    });
  });

  it('DDM: no error during the warm start leaves s_min = 0, so the first error is a drift', () => {
    // n=6 (index 5): p = 0, s = 0 -> p_min = s_min = 0. n=7: p = 1/7, p+s = 0.275 > 0 + 3 * 0:
    // drift at index 6 (no warning: the drift test clears it). This is why DDM alarms early
    // on low error rates, in River as here.
    expect(flags('ddm', [0, 0, 0, 0, 0, 0, 1], { warmStart: 5 })).toEqual({ drift: [6], warning: [] });
    // Within the warm start nothing is tested at all.
    expect(flags('ddm', [0, 0, 0, 0, 1], { warmStart: 5 })).toEqual({ drift: [], warning: [] });
  });

  it('EDDM: errors every 4 values, then every value (warmStart=2)', () => {
    // Distances between errors d: 4, 4, 4, 4 (errors at n = 4, 8, 12, 16), then 1 from n = 17 on.
    // p2s = mean(d) + 2 * sd(d) (sd with ddof 1); max of p2s kept; level = p2s / max.
    // n=4: p2s = 4 = max. n=8..16: p2s = 4, level 1 (no warning).
    // n=17: d = 4,4,4,4,1: mean 3.4, var 1.8, p2s = 6.083 > 4 -> new max.
    // n=18: mean 3, var 2.4, p2s = 6.098 -> new max.
    // n=19: mean 2.714, var 2.571, p2s = 5.921, level 0.971 >= alpha 0.95 -> no warning.
    // n=20: mean 2.5, var 2.571, p2s = 5.707, level 0.936 < 0.95 -> warning (index 19).
    // n=21: mean 2.333, var 2.5, p2s = 5.496, level 0.901 >= beta 0.9 -> still warning (index 20).
    // n=22: mean 2.2, var 2.4, p2s = 5.298, level 0.869 < 0.9 -> drift (index 21); River leaves the
    //   warning flag as it was on the drift step.
    const xs = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    expect(flags('eddm', xs, { warmStart: 2 })).toEqual({ drift: [21], warning: [19, 20, 21] });
    const [run] = runDetectors(xs, ['eddm'], { eddm: { warmStart: 2 } });
    expect(run!.events).toEqual([
      { index: 19, kind: 'warning' },
      { index: 21, kind: 'drift' },
    ]);
    expect(run!.state).toBe('drift');
  });

  it('EDDM: nothing is judged until more than warmStart errors have been seen', () => {
    // Same stream with warmStart=12: the stream has 10 errors, never more than 12, so EDDM only
    // tracks the maximum of p2s and never compares a level -- no warning, no drift.
    const xs = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    expect(flags('eddm', xs, { warmStart: 12 })).toEqual({ drift: [], warning: [] });
  });

  it('ADWIN: one check at tick 32 (clock=32) on 16 zeros then 16 tens', () => {
    // maxBuckets=100 keeps every value in its own bucket. clock=32: the only check is after the
    // 32nd value (index 31). Window: width 32, mean 5, variance/width = 25.
    // delta' = ln(2 ln(32) / 0.002) = 8.1507. Cut between zeros and tens: n0 = n1 = 16,
    // m = 1/(16-5+1) + 1/(16-5+1) = 1/6, eps = sqrt(2 m 25 delta') + 2/3 delta' m = 8.2415 + 0.9056
    // = 9.147 < |0 - 10| -> drift at index 31.
    const xs = [...Array<number>(16).fill(0), ...Array<number>(16).fill(10)];
    expect(flags('adwin', xs, { maxBuckets: 100 }).drift).toEqual([31]);
    // With clock=64 the check never comes within these 32 values.
    expect(flags('adwin', xs, { maxBuckets: 100, clock: 64 }).drift).toEqual([]);
    const adwin = new Adwin({ maxBuckets: 100 });
    for (const x of xs) adwin.update(x);
    // The cut dropped the old zeros; the window mean moved up from 5.
    expect(adwin.width).toBeLessThan(32);
    expect(adwin.estimation).toBeGreaterThan(5);
  });

  it('ADWIN: the same step from 0 to 1 is too small for 32 values', () => {
    // Same window with values 0/1: variance/width = 0.25. Any cut has |mean0 - mean1| <= 1, while
    // eps >= 2/3 delta' m + sqrt(2 m 0.25 delta') with m >= 1/6 (n0 + n1 = 32, both shifted by 4):
    // eps >= 0.9056 + 0.8242 = 1.730 > 1 -> no drift.
    const xs = [...Array<number>(16).fill(0), ...Array<number>(16).fill(1)];
    expect(flags('adwin', xs, { maxBuckets: 100 }).drift).toEqual([]);
  });

  it('Page-Hinkley: a step up with threshold 1, delta 0, alpha 1', () => {
    // Zeros: mean 0, deviations 0, sums 0. Index 4 (x=2): mean = 2/5 = 0.4, deviation 1.6,
    // sum_increase = 1.6, its minimum 0, 1.6 > 1 -> drift (index 4) in modes up and both.
    // sum_decrease = 1.6 is a new maximum, so max - sum = 0 -> no drift in mode down.
    const xs = [0, 0, 0, 0, 2, 2, 2, 2];
    const base = { threshold: 1, delta: 0, alpha: 1, minInstances: 1 };
    expect(flags('page-hinkley', xs, { ...base, mode: 'up' }).drift).toEqual([4]);
    expect(flags('page-hinkley', xs, { ...base, mode: 'both' }).drift).toEqual([4]);
    expect(flags('page-hinkley', xs, { ...base, mode: 'down' }).drift).toEqual([]);
    // minInstances=6: index 4 has n=5; at index 5, mean = 0.667, sum_increase = 1.6 + 1.333 = 2.933 > 1.
    expect(flags('page-hinkley', xs, { ...base, minInstances: 6 }).drift).toEqual([5]);
  });

  it('Page-Hinkley: a step down with threshold 2, delta 0.5, alpha 1', () => {
    // Threes: deviation 0, sum_decrease grows by delta: 0.5, 1, 1.5, 2 (the maximum).
    // Index 4 (x=0): mean 2.4, deviation -2.4, sum_decrease = 2 - 2.4 + 0.5 = 0.1, 2 - 0.1 = 1.9 <= 2.
    // Index 5 (x=0): mean 2, deviation -2, sum_decrease = 0.1 - 2 + 0.5 = -1.4, 2 + 1.4 = 3.4 > 2 -> drift.
    // sum_increase only falls (-0.5 per three, then lower), so mode up never fires.
    const xs = [3, 3, 3, 3, 0, 0, 0];
    const base = { threshold: 2, delta: 0.5, alpha: 1, minInstances: 1 };
    expect(flags('page-hinkley', xs, { ...base, mode: 'down' }).drift).toEqual([5]);
    expect(flags('page-hinkley', xs, { ...base, mode: 'up' }).drift).toEqual([]);
  });

  it('Page-Hinkley at the defaults: a jump of 100 is held back until 30 values', () => {
    // From index 10 every deviation is positive and large (the first is 100 - 100/11 = 90.9), so
    // sum_increase - min > 50 at once; the test only runs from n = min_instances = 30 (index 29).
    const xs = [...Array<number>(10).fill(0), ...Array<number>(20).fill(100)];
    expect(flags('page-hinkley', xs).drift).toEqual([29]);
  });
});

describe('incremental use', () => {
  it('a monitor fed one value at a time matches runDetectors and reports its state', () => {
    const xs = values('bernoulli-abrupt');
    const monitor = new DetectorMonitor('ddm');
    const states = new Set<string>();
    for (const x of xs) {
      monitor.update(x);
      states.add(monitor.state);
    }
    expect(monitor.run()).toEqual(runDetectors(xs, ['ddm'])[0]);
    expect(states).toEqual(new Set(['stable', 'warning', 'drift']));
    expect(JSON.parse(JSON.stringify(monitor.run()))).toEqual(monitor.run());
  });

  it('returns the events raised by each value and can keep only the latest', () => {
    const monitor = new DetectorMonitor('ddm', { warmStart: 5 }, { maxEvents: 1 });
    const raised = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1].map((x) => monitor.update(x));
    expect(raised[10]).toEqual([{ index: 10, kind: 'warning' }]);
    expect(raised[12]).toEqual([{ index: 12, kind: 'drift' }]);
    expect(monitor.run().events).toEqual([{ index: 12, kind: 'drift' }]);
    // River restarts the detector on the value after a drift.
    monitor.update(0);
    expect(monitor.state).toBe('stable');
  });

  it('runs all four detectors by default', () => {
    expect(runDetectors([0, 1, 0]).map((r) => [r.detector, r.state, r.seen])).toEqual([
      ['ddm', 'stable', 3],
      ['eddm', 'stable', 3],
      ['adwin', 'stable', 3],
      ['page-hinkley', 'stable', 3],
    ]);
    expect(runDetectors([], ['adwin'])).toEqual([
      { detector: 'adwin', params: DETECTOR_DEFAULTS.adwin, events: [], state: 'stable', seen: 0, lastDriftIndex: null },
    ]);
  });
});

describe('input and parameter checks', () => {
  it('binary detectors take 0 or 1 only; real-valued ones finite numbers', () => {
    expect(() => createDetector('ddm').update(0.5)).toThrow(RangeError);
    expect(() => createDetector('eddm').update(2)).toThrow(RangeError);
    expect(() => createDetector('adwin').update(Number.NaN)).toThrow(RangeError);
    expect(() => createDetector('page-hinkley').update(Infinity)).toThrow(RangeError);
  });

  it("rejects unknown or broken parameters, and River's own invalid combinations", () => {
    expect(() => createDetector('ddm', { nope: 1 } as never)).toThrow(/no parameter 'nope'/);
    expect(() => createDetector('ddm', { toString: 1 } as never)).toThrow(/no parameter 'toString'/);
    expect(() => createDetector('adwin', { clock: 0 })).toThrow(/clock/);
    expect(() => createDetector('adwin', { maxBuckets: 2.5 })).toThrow(/maxBuckets/);
    expect(() => createDetector('adwin', { delta: 1 })).toThrow(/delta/);
    expect(() => createDetector('eddm', { alpha: 0.8, beta: 0.9 })).toThrow(/alpha/);
    expect(() => createDetector('page-hinkley', { mode: 'sideways' as never })).toThrow(/mode/);
    expect(() => createDetector('page-hinkley', { threshold: Number.NaN })).toThrow(/finite/);
    expect(() => createDetector('nope' as never)).toThrow(/unknown drift detector/);
  });
});

// The model server watching drift itself, in-process over real loopback HTTP: out-of-range and
// unseen values counted, the window bounded by rows and age, GET .../drift against a reference
// profile, the scheduled check and its Prometheus gauges, and strict placement keeping raw rows in.
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheus, type Sample } from '../support/prometheus.js';
import { performance } from 'node:perf_hooks';
import { ManualClock, seededRandom, type Random } from '../../src/core/clock.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import type { DriftReport } from '../../src/drift/report.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { Prediction, Runtime } from '../../src/serving/runtime.js';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../src/serving/server.js';
import { ROUTES, matchRoute, type RouteName } from '../../src/serving/http/router.js';
import { NO_PROFILE_MESSAGE, STRICT_NOTE } from '../../src/serving/drift-check.js';

type Features = ModelDescription['spec']['features'];

const FEATURES: Features = [
  { name: 'a', type: 'number', range: { min: -5, max: 5 } },
  { name: 'b', type: 'number' },
  { name: 'c', type: 'number' },
  { name: 'd', type: 'integer', range: { min: 0, max: 20 } },
  { name: 'color', type: 'category', values: ['red', 'green', 'blue'] },
  { name: 'flag', type: 'boolean', optional: true },
];

function describeModel(monitoring?: NonNullable<ModelDescription['spec']['monitoring']>, features: Features = FEATURES): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'toy', version: '1' },
    spec: {
      task: 'classification',
      algorithm: 'threshold',
      artifact: { uri: 'file://./m.onnx', format: 'onnx' },
      features,
      outputs: { labels: ['low', 'high'] },
      ...(monitoring ? { monitoring } : {}),
    },
  };
}

/** "high" when the first feature is positive; never looks at the others. */
function signRuntime(width: number): Runtime {
  return {
    info: { name: 'test-sign', inputs: [], outputs: [] },
    async predict(matrix: Float32Array, rows: number): Promise<Prediction> {
      const probabilities: number[][] = [];
      for (let r = 0; r < rows; r++) {
        const p = matrix[r * width]! > 0 ? 0.75 : 0.25;
        probabilities.push([1 - p, p]);
      }
      return { probabilities };
    },
    async close() {},
  };
}

function normal(random: Random): number {
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

type Row = (number | string | boolean | null)[];

/** Rows in FEATURES order; `shifted` moves a and b and turns the colour mix around (3 of 6 features). */
function generate(n: number, seed: number, shifted = false): Row[] {
  const random = seededRandom(seed);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const a = normal(random) + (shifted ? 1.2 : 0);
    const b = 10 + 2 * normal(random) + (shifted ? 2 : 0);
    const c = normal(random);
    const d = Math.max(0, Math.min(20, Math.round(8 + 2 * normal(random))));
    const u = random.next();
    const mix = shifted ? [0.15, 0.3] : [0.55, 0.3];
    const color = u < mix[0]! ? 'red' : u < mix[0]! + mix[1]! ? 'green' : 'blue';
    const flag = random.next() < 0.05 ? null : random.next() < 0.5;
    rows.push([a, b, c, d, color, flag]);
  }
  return rows;
}

function profileOf(rows: readonly Row[], features: Features = FEATURES): ReferenceProfile {
  const builder = new ProfileBuilder(features, { random: seededRandom(99) });
  for (const r of rows) builder.add(Object.fromEntries(features.map((f, j) => [f.name, r[j]])));
  return builder.finish({ source: { uri: 'memory://training.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
}

const servers: ModelServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(opts: Partial<ModelServerOptions> = {}): Promise<ModelServer> {
  const description = opts.description ?? describeModel();
  const server = await startModelServer({
    description,
    artifactPath: '/nowhere.onnx',
    port: 0,
    loadRuntime: async () => signRuntime(description.spec.features.length),
    random: seededRandom(7),
    driftIntervalMs: 0,
    ...opts,
  });
  servers.push(server);
  await server.ready;
  return server;
}

async function call(server: ModelServer, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const INFER = '/v2/models/toy/infer';
const DRIFT = '/v2/models/toy/drift';
const tensor = (rows: readonly Row[], id?: string) => ({
  ...(id ? { id } : {}),
  inputs: [{ name: 'input', shape: [rows.length, rows[0]!.length], datatype: 'BYTES', data: rows }],
});

/** Sends rows in requests of 500 and checks every one is served. */
async function send(server: ModelServer, rows: readonly Row[], idPrefix = 'r'): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const res = await call(server, INFER, tensor(rows.slice(i, i + 500), `${idPrefix}${i}`));
    expect(res.status, res.text).toBe(200);
  }
}

async function metrics(server: ModelServer): Promise<{ types: Map<string, string>; samples: Sample[] }> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parsePrometheus(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

const reference = profileOf(generate(5000, 1));

describe('values the description does not expect', () => {
  it('serves out-of-range values and counts them, counts missing values, and counts unseen categories before refusing them', async () => {
    const server = await start();
    const rows: Row[] = [
      [9, 10, 0, 25, 'red', true],
      [-7, 10, 0, 3, 'green', null],
      [1, 10, 0, 3, 'blue', false],
    ];
    expect((await call(server, INFER, tensor(rows))).status).toBe(200);
    const unseen = await call(server, INFER, tensor([[1, 10, 0, 3, 'purple', true]]));
    expect(unseen.status).toBe(400);
    expect(unseen.json.error).toContain('unknown category "purple"');
    const code = await call(server, INFER, { inputs: [{ name: 'input', shape: [1, 6], datatype: 'FP32', data: [1, 10, 0, 3, 7, 1] }] });
    expect(code.status).toBe(400);

    const stats = (await call(server, '/v2/models/toy/stats')).json;
    const byName = Object.fromEntries((stats.features as { name: string }[]).map((f) => [f.name, f]));
    expect(byName.a).toMatchObject({ count: 3, out_of_range: 2, unseen: 0, total: { missing: 0, out_of_range: 2, unseen: 0 } });
    expect(byName.d).toMatchObject({ out_of_range: 1 });
    expect(byName.b).toMatchObject({ out_of_range: 0 });
    expect(byName.color).toMatchObject({ count: 3, unseen: 2, total: { unseen: 2 } });
    expect(byName.flag).toMatchObject({ missing: 1, total: { missing: 1 } });
    expect(stats.window.rows).toBe(3);

    const { samples } = await metrics(server);
    expect(value(samples, 'maas_feature_out_of_range_total', { feature: 'a', model: 'toy', version: '1' })).toBe(2);
    expect(value(samples, 'maas_feature_out_of_range_total', { feature: 'd' })).toBe(1);
    expect(value(samples, 'maas_feature_unseen_total', { feature: 'color' })).toBe(2);
    expect(value(samples, 'maas_feature_missing_total', { feature: 'flag' })).toBe(1);
    expect(value(samples, 'maas_feature_missing_total', { feature: 'a' })).toBe(0);
  });

  it('refuses out-of-range values with 400 under ranges: reject, and still counts them', async () => {
    const server = await start({ description: describeModel({ ranges: 'reject' }) });
    const res = await call(server, INFER, tensor([[9, 10, 0, 3, 'red', true]]));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('input "input" row 1 feature "a": 9 is above the maximum 5');
    const below = await call(server, INFER, { inputs: [{ name: 'input', shape: [1, 6], datatype: 'FP64', data: [-6, 10, 0, 3, 0, 1] }] });
    expect(below.json.error).toBe('input "input" row 1 feature "a": -6 is below the minimum -5');
    expect((await call(server, INFER, tensor([[1, 10, 0, 3, 'red', true]]))).status).toBe(200);
    const stats = (await call(server, '/v2/models/toy/stats')).json;
    expect(stats.features[0]).toMatchObject({ name: 'a', count: 1, out_of_range: 2, total: { out_of_range: 2 } });
    expect(value((await metrics(server)).samples, 'maas_feature_out_of_range_total', { feature: 'a' })).toBe(2);
  });
});

describe('GET .../drift', () => {
  it('answers 404 with what to do when the server has no reference profile', async () => {
    const server = await start();
    for (const path of [DRIFT, '/v2/models/toy/versions/1/drift']) {
      const res = await call(server, path);
      expect(res.status).toBe(404);
      expect(res.json.error).toBe(NO_PROFILE_MESSAGE);
    }
    expect((await call(server, '/v2/models/other/drift')).json.error).toContain('unknown model "other"');
  });

  it('refuses, at startup, a profile that does not fit the features', async () => {
    const other = profileOf(
      generate(50, 2).map((r) => r.slice(0, 5)),
      FEATURES.slice(0, 5),
    );
    await expect(start({ profile: other })).rejects.toThrow(/does not fit toy@1: the profile has no feature flag/);
    await expect(start({ profile: { ...reference, schema: 2 } as unknown as ReferenceProfile })).rejects.toThrow(/not a reference profile: schema is 2/);
  });

  it('finds the shifted features and dataset drift in a shifted stream, and no dataset drift in an unshifted one', async () => {
    const steady = await start({ profile: reference });
    const moved = await start({ profile: reference });
    await send(steady, generate(2000, 2));
    await send(moved, generate(2000, 3, true));

    const calm = (await call(steady, DRIFT)).json as DriftReport;
    expect(calm.schema).toBe('maas.dev/drift/v1');
    expect(calm.subject).toEqual({ model: 'toy', version: '1', deployment: null });
    expect(calm.reference).toEqual({ source: 'memory://training.csv', rows: 5000 });
    expect(calm.current).toMatchObject({ rows: 2000, since: expect.any(String), until: expect.any(String) });
    expect(calm.features.map((f) => f.basis)).toEqual(new Array(6).fill('values'));
    expect(calm.dataset.drifted).toBe(false);
    expect(calm.drift_detected).toBe(false);

    const shifted = (await call(moved, '/v2/models/toy/versions/1/drift')).json as DriftReport;
    expect(
      shifted.features
        .filter((f) => f.drifted)
        .map((f) => f.name)
        .sort(),
    ).toEqual(['a', 'b', 'color']);
    expect(shifted.dataset).toMatchObject({ drifted: true, drifted_features: 3, features: 6, share: 0.5 });
    expect(shifted.drift_detected).toBe(true);
    // Counts come from the whole window; flag had missing values on both sides.
    const flag = shifted.features.find((f) => f.name === 'flag')!;
    expect(flag.current.count + flag.current.missing).toBe(2000);
    expect(flag.reference.missing).toBeGreaterThan(0);
  });

  it('takes test and threshold overrides for every feature and refuses bad ones', async () => {
    const server = await start({ profile: reference });
    await send(server, generate(600, 4));
    const res = await call(server, `${DRIFT}?test=ks&threshold=0.01`);
    expect(res.status).toBe(200);
    const report = res.json as DriftReport;
    for (const f of report.features.filter((x) => x.type === 'number' || x.type === 'integer'))
      expect(f).toMatchObject({ test: 'ks', threshold: 0.01, measure: 'p_value', chosen_by: 'flag' });
    // ks needs numbers: the category feature is reported untested, not drifted.
    expect(report.features.find((f) => f.name === 'color')).toMatchObject({ test: 'ks', drifted: false, error: expect.stringContaining('needs numbers') });
    const psi = (await call(server, `${DRIFT}?test=psi`)).json as DriftReport;
    expect(new Set(psi.features.map((f) => f.test))).toEqual(new Set(['psi']));
    const share = (await call(server, `${DRIFT}?share=0.25`)).json as DriftReport;
    expect(share.dataset.threshold).toBe(0.25);
    for (const bad of ['?test=nope', '?threshold=-1', '?threshold=abc', '?threshold=', '?window=5', '?test=ks&test=z', '?share=1.5']) {
      const r = await call(server, `${DRIFT}${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.json.error).toBeTruthy();
    }
  });

  it('adds concept drift from feedback in arrival order', async () => {
    const server = await start({ profile: reference });
    const rows = generate(400, 5);
    await send(server, rows, 'q');
    // The model says "high" when a > 0: feedback agrees for the first 200 rows, then always disagrees.
    const feedback = rows.map((r, i) => {
      const predicted = (r[0] as number) > 0 ? 'high' : 'low';
      const truth = i < 200 ? predicted : predicted === 'high' ? 'low' : 'high';
      return { id: `q0:${i}`, label: truth };
    });
    expect((await call(server, '/v2/models/toy/feedback', { feedback })).json.applied).toBe(400);
    const report = (await call(server, DRIFT)).json as DriftReport;
    expect(report.concept).toMatchObject({ stream: 'error_indicator', labelled: 400, drifted: true });
    expect(report.concept!.quality).toMatchObject({ metric: 'accuracy', labelled: 400, value: 0.5 });
    expect(report.concept!.detectors.map((d) => d.detector)).toEqual(['ddm', 'eddm', 'adwin', 'page-hinkley']);
    expect(report.concept!.detectors.some((d) => d.drifts.length > 0 && d.drifts[0]! >= 200)).toBe(true);
    expect(report.drift_detected).toBe(true);
  });
});

describe('the scheduled drift check', () => {
  it('fills the gauges soon after the start, without waiting a whole interval', async () => {
    const server = await start({ profile: reference, driftIntervalMs: 600_000, driftFirstCheckMs: 30 });
    await send(server, generate(300, 8));
    let stamp: number | undefined;
    for (let i = 0; i < 200 && stamp === undefined; i++) {
      await new Promise((r) => setTimeout(r, 25));
      stamp = value((await metrics(server)).samples, 'maas_drift_last_check_timestamp_seconds', { model: 'toy', version: '1' });
    }
    expect(stamp).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('publishes drift gauges in valid Prometheus text and updates them on every check', async () => {
    // A small window, so that a shifted stream replaces the steady one.
    const server = await start({ description: describeModel({ window: { rows: 1000 } }), profile: reference, driftIntervalMs: 40 });
    const before = await metrics(server);
    expect(before.types.get('maas_dataset_drift')).toBe('gauge');
    expect(before.types.get('maas_feature_out_of_range_total')).toBe('counter');
    // No check has run on an empty window yet: a gauge exists only once a check ran.
    await send(server, generate(1000, 6));
    const feedback = generate(200, 6).map((r, i) => ({ id: `r0:${i}`, label: (r[0] as number) > 0 ? 'high' : 'low' }));
    expect((await call(server, '/v2/models/toy/feedback', { feedback })).status).toBe(200);

    const waitFor = async (ok: (s: Sample[]) => boolean): Promise<Sample[]> => {
      for (let i = 0; i < 200; i++) {
        const { samples } = await metrics(server);
        if (ok(samples)) return samples;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the scheduled check did not update the gauges within 5 s');
    };
    const steady = await waitFor((s) => value(s, 'maas_live_accuracy') === 1);
    const first = value(steady, 'maas_drift_last_check_timestamp_seconds', { model: 'toy', version: '1' })!;
    expect(first).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(value(steady, 'maas_dataset_drift')).toBe(0);
    expect(value(steady, 'maas_dataset_drift_share')).toBeLessThan(0.5);
    expect(value(steady, 'maas_drift_detected', { feature: 'a' })).toBe(0);
    expect(steady.filter((s) => s.name === 'maas_drift_score').map((s) => s.labels.feature)).toEqual(['a', 'b', 'c', 'd', 'color', 'flag']);
    expect(steady.find((s) => s.name === 'maas_drift_score' && s.labels.feature === 'a')!.labels).toMatchObject({ test: expect.any(String), model: 'toy' });
    expect(value(steady, 'maas_concept_drift_detector_state', { detector: 'ddm' })).toBe(0);

    await send(server, generate(1000, 7, true), 's');
    const drifted = await waitFor((s) => value(s, 'maas_dataset_drift') === 1);
    expect(value(drifted, 'maas_drift_last_check_timestamp_seconds')).toBeGreaterThan(first);
    expect(value(drifted, 'maas_dataset_drift_share')).toBeGreaterThanOrEqual(0.5);
    expect(value(drifted, 'maas_drift_detected', { feature: 'a' })).toBe(1);
    expect(value(drifted, 'maas_drift_detected', { feature: 'c' })).toBe(0);
  });

  it('reports MAE and RMSE gauges for regression', async () => {
    const description: ModelDescription = { ...describeModel(), spec: { ...describeModel().spec, task: 'regression', outputs: {} } };
    const server = await start({
      description,
      profile: reference,
      driftIntervalMs: 20,
      loadRuntime: async () => ({
        info: { name: 'zero', inputs: [], outputs: [] },
        predict: async (_m: Float32Array, rows: number) => ({ values: new Array<number>(rows).fill(0) }),
        close: async () => {},
      }),
    });
    await send(server, generate(2, 8));
    await call(server, '/v2/models/toy/feedback', {
      feedback: [
        { id: 'r0:0', value: 3 },
        { id: 'r0:1', value: -4 },
      ],
    });
    for (let i = 0; i < 200; i++) {
      const { samples } = await metrics(server);
      if (value(samples, 'maas_live_error', { metric: 'mae' }) !== undefined) {
        expect(value(samples, 'maas_live_error', { metric: 'mae' })).toBe(3.5);
        expect(value(samples, 'maas_live_error', { metric: 'rmse' })).toBeCloseTo(Math.sqrt(12.5));
        expect(value(samples, 'maas_live_accuracy')).toBeUndefined();
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no live error gauge within 5 s');
  });
});

describe('the window', () => {
  it('drops rows older than window.age (on the server clock)', async () => {
    const clock = new ManualClock();
    const server = await start({ description: describeModel({ window: { age: '1h' } }), profile: reference, clock });
    await send(server, generate(10, 9), 'old');
    clock.advance(30 * 60_000);
    await send(server, generate(5, 10), 'new');
    expect((await call(server, '/v2/models/toy/stats')).json.window.rows).toBe(15);
    clock.advance(45 * 60_000);
    const stats = (await call(server, '/v2/models/toy/stats')).json;
    expect(stats.window.rows).toBe(5);
    expect(stats.total.rows).toBe(15);
    expect((await call(server, DRIFT)).json.current.rows).toBe(5);
    clock.advance(2 * 3_600_000);
    expect((await call(server, '/v2/models/toy/stats')).json.window.rows).toBe(0);
  });

  it('bins numeric features on the profile edges, with underflow and overflow', async () => {
    const server = await start({ profile: reference });
    await send(server, [
      [-100, 10, 0, 3, 'red', true],
      [0, 1000, 0, 3, 'red', true],
    ]);
    const stats = (await call(server, '/v2/models/toy/stats')).json;
    const a = reference.features[0]!;
    if (!('histogram' in a)) throw new Error('numeric');
    expect(stats.features[0].histogram.edges).toEqual(a.histogram.edges);
    expect(stats.features[0].histogram).toMatchObject({ underflow: 1, overflow: 0 });
    expect(stats.features[1].histogram).toMatchObject({ underflow: 0, overflow: 1 });
  });
});

describe('strict placement', () => {
  const DISTINCT = 123.456789;
  /** Any rendering of the distinctive value (as sent, as float32, shortest float32). */
  const leaks = (text: string): boolean => /123\.45|123456/.test(text);

  /** Every GET route of the router table, with the model's name and version filled in. */
  function getPaths(): string[] {
    const paths: string[] = [];
    for (const [route, r] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][]) {
      if (r.method !== 'GET') continue;
      for (const p of r.paths) paths.push(p.replace('{name}', 'toy').replace('{version}', '1'));
      expect(route).toBeTruthy();
    }
    return paths;
  }

  async function exercise(server: ModelServer, strict: boolean): Promise<string[]> {
    const bodies: string[] = [];
    const rows = generate(200, 11);
    // The distinctive value in a numeric feature with and without a declared range.
    for (const i of [3, 50, 120]) {
      rows[i]![0] = DISTINCT;
      rows[i]![1] = DISTINCT;
      rows[i]![2] = -DISTINCT;
    }
    const infer = await call(server, INFER, tensor(rows, 'leak'));
    expect(infer.status).toBe(200);
    expect(leaks(infer.text)).toBe(false);
    for (const item of [
      { id: 'leak:3', label: 'high' },
      { id: 'leak:50', label: 'low' },
      { id: 'leak:50', label: 'high' },
      { id: 'nothing', label: 'low' },
    ]) {
      const res = await call(server, '/v2/models/toy/feedback', item);
      bodies.push(res.text);
    }
    for (const path of getPaths()) {
      const res = await call(server, path);
      // Labelled rows are raw rows: a strict server refuses them (403), an open one answers.
      const refused = path.endsWith('/labelled') && strict;
      // Composition-router routes answer 404 on a model server.
      const absent = path.endsWith('/members') || path.endsWith('/records');
      expect(res.status, `${path}: ${res.text}`).toBe(refused ? 403 : absent ? 404 : 200);
      bodies.push(res.text);
    }
    return bodies;
  }

  it('the router table and the matcher agree on every route', () => {
    for (const [route, r] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][])
      for (const p of r.paths) {
        const m = matchRoute(r.method, p.replace('{name}', 'toy').replace('{version}', '1'));
        expect(m, p).toMatchObject({ kind: 'route', route });
      }
  });

  it('no raw row leaves a strict server: no route answers with the values sent', async () => {
    const server = await start({ profile: reference, strict: true });
    const bodies = await exercise(server, true);
    for (const body of bodies) expect(leaks(body), body.slice(0, 300)).toBe(false);

    const stats = (await call(server, '/v2/models/toy/stats')).json;
    expect(stats.reservoir).toMatchObject({ capacity: 0, rows: [], predictions: [], withheld: expect.stringContaining('strict placement') });
    expect(stats.features[1]).toMatchObject({ min: null, max: null, count: 200 });
    const report = (await call(server, DRIFT)).json as DriftReport;
    expect(report.features.filter((f) => !f.error).map((f) => f.basis)).toEqual(new Array(6).fill('histogram'));
    expect(report.notes).toContain(STRICT_NOTE);
  });

  it('(the check above would see a leak: an open server shows the values in its sample)', async () => {
    const server = await start({ profile: reference });
    const bodies = await exercise(server, false);
    expect(bodies.some(leaks)).toBe(true);
  });

  it('keeps no raw rows without a profile either, and answers drift with the missing profile', async () => {
    const server = await start({ strict: true, description: describeModel(undefined, [{ name: 'a', type: 'number' }, ...FEATURES.slice(1)]) });
    const rows = generate(150, 12);
    rows[7]![0] = DISTINCT;
    expect((await call(server, INFER, tensor(rows))).status).toBe(200);
    const stats = await call(server, '/v2/models/toy/stats');
    expect(leaks(stats.text)).toBe(false);
    // The warm-up bins of an undeclared range are rounded outward under strict placement.
    for (const e of [stats.json.features[0].histogram.edges[0], stats.json.features[0].histogram.edges.at(-1)]) expect(Number.isInteger(e / 10)).toBe(true);
    expect((await call(server, DRIFT)).status).toBe(404);
  });
});

describe('drift check cost', () => {
  it('computes /drift on a 10,000-row window with 14 features in well under a second', async () => {
    const features: Features = [
      ...Array.from({ length: 10 }, (_, i) => ({ name: `n${i}`, type: 'number' as const })),
      { name: 'k0', type: 'integer', range: { min: 0, max: 50 } },
      { name: 'c0', type: 'category', values: ['a', 'b', 'c', 'd'] },
      { name: 'c1', type: 'category', values: Array.from({ length: 12 }, (_, i) => `v${i}`) },
      { name: 'f0', type: 'boolean' },
    ];
    const make = (n: number, seed: number, shift: number): Row[] => {
      const random = seededRandom(seed);
      return Array.from({ length: n }, () => [
        ...Array.from({ length: 10 }, (_, i) => normal(random) * (i + 1) + shift),
        Math.floor(random.next() * 50),
        ['a', 'b', 'c', 'd'][Math.floor(random.next() * 4)]!,
        `v${Math.floor(random.next() * 12)}`,
        random.next() < 0.3,
      ]);
    };
    const profile = profileOf(make(10_000, 20, 0), features);
    const server = await start({ description: describeModel(undefined, features), profile });
    await send(server, make(10_000, 21, 0.1));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const res = await call(server, DRIFT);
      times.push(performance.now() - t);
      expect(res.status).toBe(200);
      expect(res.json.current.rows).toBe(10_000);
    }
    const strict = await start({ description: describeModel(undefined, features), profile, strict: true });
    await send(strict, make(10_000, 21, 0.1));
    const strictTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      expect((await call(strict, DRIFT)).status).toBe(200);
      strictTimes.push(performance.now() - t);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    console.log(
      `GET /drift, 10,000-row window, 14 features: median ${median(times).toFixed(1)} ms (first ${times[0]!.toFixed(1)} ms); strict (histograms) median ${median(strictTimes).toFixed(1)} ms`,
    );
    expect(median(times)).toBeLessThan(1000);
  });
});

// The model server in-process over real loopback HTTP, with small in-test runtimes.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { Prediction, Runtime } from '../../src/serving/runtime.js';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../src/serving/server.js';
import type { InferenceBackend, ModelRef, ModelTarget } from '../../src/serving/backend.js';
import { ServingError } from '../../src/serving/errors.js';
import { MaasError } from '../../src/core/errors.js';
import type { StatsWire } from '../../src/protocol/stats.js';
import { tempDir } from '../support/cli.js';

const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'toy', version: '2' },
  spec: {
    task: 'classification',
    algorithm: 'threshold',
    artifact: { uri: 'file://./m.onnx', format: 'onnx' },
    features: [
      { name: 'x', type: 'number', range: { min: 0, max: 10 } },
      { name: 'color', type: 'category', values: ['red', 'green'] },
    ],
    outputs: { labels: ['low', 'high'] },
    inference: { maxBatchSize: 8 },
  },
};

/** Predicts "high" when x > 5; `gate` holds every prediction until released, `entered` counts calls. */
function thresholdRuntime(gate?: Promise<void>, entered?: () => void): Runtime {
  return {
    info: { name: 'test-threshold', inputs: [], outputs: [] },
    async predict(matrix: Float32Array, rows: number): Promise<Prediction> {
      entered?.();
      if (gate) await gate;
      const probabilities: number[][] = [];
      for (let r = 0; r < rows; r++) {
        const p = Math.min(1, matrix[r * 2]! / 10);
        probabilities.push([1 - p, p]);
      }
      return { probabilities };
    },
    async close() {},
  };
}

const servers: ModelServer[] = [];
const dirs: { cleanup: () => void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

async function start(opts: Partial<ModelServerOptions> = {}): Promise<ModelServer> {
  const server = await startModelServer({
    description,
    artifactPath: '/nowhere.onnx',
    port: 0,
    loadRuntime: async () => thresholdRuntime(),
    ...opts,
  });
  servers.push(server);
  return server;
}

async function call(server: ModelServer, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const row = (x: number, color = 'red') => ({ inputs: [{ name: 'input', shape: [1, 2], datatype: 'BYTES', data: [x, color] }] });
const INFER = '/v2/models/toy/infer';

describe('model server over HTTP', () => {
  it('reports live at once and ready only once the runtime is loaded', async () => {
    let release!: (r: Runtime) => void;
    const server = await start({ loadRuntime: () => new Promise<Runtime>((r) => (release = r)) });
    expect((await call(server, '/v2/health/live')).status).toBe(200);
    const notReady = await call(server, '/v2/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.json.error).toContain('not loaded');
    expect((await call(server, '/v2/models/toy/ready')).status).toBe(503);
    expect((await call(server, INFER, row(1))).status).toBe(503);
    release(thresholdRuntime());
    await server.ready;
    expect((await call(server, '/v2/health/ready')).json).toEqual({ ready: true });
    expect((await call(server, '/v2/models/toy/ready')).status).toBe(200);
    expect((await call(server, '/v2/models/toy/versions/2/ready')).status).toBe(200);
  });

  it('serves server and model metadata and 404s unknown models and versions', async () => {
    const server = await start({ serverVersion: '9.9.9' });
    await server.ready;
    expect((await call(server, '/v2')).json).toEqual({ name: 'maas', version: '9.9.9', extensions: ['feedback', 'stats', 'drift', 'data_ref', 'metrics'] });
    const meta = await call(server, '/v2/models/toy');
    expect(meta.json).toMatchObject({ name: 'toy', versions: ['2'], platform: 'onnxruntime' });
    expect((await call(server, '/v2/models/toy/versions/2')).status).toBe(200);
    const unknown = await call(server, '/v2/models/other');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toContain('unknown model "other"');
    const version = await call(server, '/v2/models/toy/versions/3/infer', row(1));
    expect(version.status).toBe(404);
    expect(version.json.error).toContain('unknown version "3"');
    expect((await call(server, '/v2/nothing')).status).toBe(404);
  });

  it('predicts, echoing the caller id (body or x-request-id) or generating unique ones', async () => {
    const server = await start();
    await server.ready;
    const res = await call(server, INFER, { ...row(8), id: 'mine' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('mine');
    expect(res.json).toEqual({
      model_name: 'toy',
      model_version: '2',
      id: 'mine',
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [1], data: ['high'] },
        {
          name: 'probabilities',
          datatype: 'FP32',
          shape: [1, 2],
          data: [expect.closeTo(0.2, 5), expect.closeTo(0.8, 5)],
        },
      ],
    });
    expect((await call(server, INFER, row(1), { 'x-request-id': 'from-header' })).json.id).toBe('from-header');
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await call(server, INFER, row(1))).json.id as string);
    expect(ids.size).toBe(20);
    expect((await call(server, '/v2/health/live')).headers.get('x-request-id')).toBeTruthy();
  });

  it('answers bad requests with a JSON error and keeps serving', async () => {
    const server = await start({ maxBodyBytes: 2000 });
    await server.ready;
    const bad: [unknown, number, string][] = [
      ['{"inputs": [', 400, 'malformed JSON'],
      ['', 400, 'empty'],
      ['[1,2]', 400, 'JSON object'],
      [{ inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [1] }] }, 400, 'needs 2 values'],
      [{ inputs: [{ name: 'input', shape: [1, 2], datatype: 'BOOL', data: [true, true] }] }, 400, 'datatype BOOL'],
      [
        {
          inputs: [
            { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
            { name: 'size', shape: [1], datatype: 'FP32', data: [1] },
          ],
        },
        400,
        'unknown input "size"',
      ],
      [{ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }, 400, 'missing input for feature "color"'],
      [row(1, 'blue'), 400, 'unknown category "blue"'],
      [{ inputs: [{ name: 'input', shape: [9, 2], datatype: 'FP32', data: new Array(18).fill(0) }] }, 413, 'maxBatchSize 8'],
      [{ inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: new Array(2000).fill(0) }] }, 413, 'larger than the limit of 2000 bytes'],
    ];
    for (const [body, status, message] of bad) {
      const res = await call(server, INFER, body);
      expect(res.status, message).toBe(status);
      expect(res.json.error).toContain(message);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect((await call(server, INFER, row(3))).status).toBe(200);
    }
    const wrongMethod = await fetch(`${server.url}${INFER}`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(((await wrongMethod.json()) as { error: string }).error).toContain('not allowed');
  });

  it('survives aborted bodies and malformed HTTP', async () => {
    const server = await start();
    await server.ready;
    const { port } = server;
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`POST ${INFER} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"inputs": [`);
        setImmediate(() => s.destroy());
      });
      s.on('close', () => resolve());
    });
    const garbage = await new Promise<string>((resolve) => {
      let got = '';
      const s = net.connect(port, '127.0.0.1', () => s.write('NOT HTTP\r\n\r\n'));
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
    });
    expect(garbage).toContain('400');
    expect((await call(server, INFER, row(3))).status).toBe(200);
  });

  it('takes feedback for logged rows (single, batch), 404s unknown ids and 409s repeats', async () => {
    const server = await start();
    await server.ready;
    await call(server, INFER, { ...row(9), id: 'one' });
    await call(server, INFER, {
      id: 'two',
      inputs: [
        {
          name: 'input',
          shape: [2, 2],
          datatype: 'BYTES',
          data: [
            [1, 'red'],
            [9, 'green'],
          ],
        },
      ],
    });
    const single = await call(server, '/v2/models/toy/feedback', { id: 'one', label: 'high' });
    expect(single.status).toBe(200);
    expect(single.json).toMatchObject({ accepted: 1, ids: ['one'] });
    const batch = await call(server, '/v2/models/toy/feedback', {
      feedback: [
        { id: 'two:0', label: 'high' },
        { id: 'two:1', label: 'high' },
      ],
    });
    expect(batch.json).toMatchObject({ accepted: 2 });
    const unknown = await call(server, '/v2/models/toy/feedback', { feedback: [{ id: 'zzz', label: 'low' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toContain('"zzz"');
    expect((await call(server, '/v2/models/toy/feedback', { id: 'one', label: 'low' })).status).toBe(409);
    const medium = await call(server, '/v2/models/toy/feedback', { id: 'one', label: 'medium' });
    expect(medium.status).toBe(400);
    expect(medium.json.error).toBe('feedback: label "medium" is not one of the model\'s labels (low, high)');
    // The protocol's validator refuses first, with its own words; the model check comes on top.
    const both = await call(server, '/v2/models/toy/feedback', { feedback: [{ id: 'two:0', label: 'low', value: 1 }] });
    expect(both.status).toBe(400);
    expect(both.json.error).toBe('feedback[0]: give "label" or "value", not both');
    const value = await call(server, '/v2/models/toy/feedback', { id: 'one', value: 1 });
    expect(value.status).toBe(400);
    expect(value.json.error).toBe('feedback: "label" is required (a string; this is a classification model)');
    const twice = await call(server, '/v2/models/toy/feedback', {
      feedback: [
        { id: 'two:0', label: 'low' },
        { id: 'two:0', label: 'high' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.json.error).toContain('appears more than once');
    const stats = await call(server, '/v2/models/toy/stats');
    expect(stats.json.feedback).toMatchObject({ labelled: 3, accuracy: 2 / 3 });
    expect(stats.json.window.rows).toBe(3);
    expect(stats.json.log.rows).toBe(3);
    expect(stats.json.predictions.counts).toEqual({ low: 1, high: 2 });
  });

  it('infers from a file data reference in batches and logs rows as <id>:<row>', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const csv = join(dir.path, 'rows.csv');
    writeFileSync(csv, `x,color\n${Array.from({ length: 20 }, (_, i) => `${i % 10},${i % 2 ? 'red' : 'green'}`).join('\n')}\n`);
    const server = await start({ reference: { fileRoot: dir.path } });
    await server.ready;
    const res = await call(server, INFER, { id: 'ref', parameters: { data_ref: pathToFileURL(csv).href } });
    expect(res.status).toBe(200);
    expect(res.json.outputs[0].shape).toEqual([20]);
    expect(res.json.outputs[1].shape).toEqual([20, 2]);
    expect((await call(server, '/v2/models/toy/feedback', { id: 'ref:19', label: 'high' })).status).toBe(200);
    const outside = await call(server, INFER, { parameters: { data_ref: 'file:///etc/hostname' } });
    expect(outside.status).toBe(400);
  });

  it('answers 500 with a JSON error when the runtime fails, logs the event, and keeps serving', async () => {
    const events: Record<string, unknown>[] = [];
    let calls = 0;
    const flaky: Runtime = {
      ...thresholdRuntime(),
      async predict(matrix, rows) {
        if (calls++ === 0) throw new Error('session exploded');
        return thresholdRuntime().predict(matrix, rows);
      },
    };
    const server = await start({ loadRuntime: async () => flaky, events: (e) => events.push(e) });
    await server.ready;
    const failed = await call(server, INFER, row(1));
    expect(failed.status).toBe(500);
    expect(failed.json.error).toBe('inference failed: session exploded');
    expect(events).toContainEqual(expect.objectContaining({ level: 'error', event: 'request_failed', status: 500, route: 'infer' }));
    expect((await call(server, INFER, row(1))).status).toBe(200);
  });

  it('exposes Prometheus metrics', async () => {
    const server = await start();
    await server.ready;
    await call(server, INFER, row(1));
    await call(server, INFER, row(1, 'blue'));
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/maas_requests_total\{route="infer",status="200",model="toy",version="2"\} 1/);
    expect(text).toMatch(/maas_errors_total\{route="infer",status="400",model="toy",version="2"\} 1/);
    expect(text).toMatch(/maas_inference_rows_total\{model="toy",version="2"\} 1/);
    expect(text).toContain('maas_request_duration_seconds_bucket');
    expect(text).toContain('maas_requests_in_flight');
  });

  it('closes gracefully: in-flight requests complete and the log is flushed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const logDb = join(dir.path, 'log.db');
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let calls = 0;
    let bothIn!: () => void;
    const inside = new Promise<void>((r) => (bothIn = r));
    const server = await startModelServer({
      description,
      artifactPath: '/x',
      port: 0,
      logDb,
      loadRuntime: async () => thresholdRuntime(gate, () => ++calls === 2 && bothIn()),
    });
    await server.ready;
    const inflight = [call(server, INFER, { ...row(2), id: 'a' }), call(server, INFER, { ...row(7), id: 'b' })];
    await inside;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    // No new connections once closing.
    await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
    open();
    const answers = await Promise.all(inflight);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await closing;
    const db = new Database(logDb, { readonly: true });
    const ids = db.prepare('SELECT id FROM predictions ORDER BY id').all();
    db.close();
    expect(ids).toEqual([{ id: 'a' }, { id: 'b' }]);
  });
});

/** An in-memory backend: each model answers with its own name; "b" is not loaded at first. */
function fakeBackend(): InferenceBackend & { closed: number; loaded: Set<string>; calls: string[] } {
  const refs: ModelRef[] = [
    { name: 'a', version: '1' },
    { name: 'b', version: '1' },
    { name: 'b', version: '2' },
  ];
  const loaded = new Set(['a']);
  const calls: string[] = [];
  const stats = (m: ModelTarget): StatsWire => ({
    model_name: m.name,
    model_version: m.version ?? '',
    window: { capacity: 10, rows: 0, since: null, until: new Date(0).toISOString() },
    total: { rows: 0, feedback: 0 },
    features: [],
    predictions: { counts: {}, mean_confidence: null },
    feedback: { labelled: 0 },
    reservoir: { capacity: 0, features: [], rows: [], predictions: [] },
    log: { rows: 0 },
  });
  const backend = {
    closed: 0,
    loaded,
    calls,
    models: () => refs,
    start: async () => {},
    ready: () => loaded.size === 2,
    modelReady: (m: ModelTarget) => loaded.has(m.name),
    serverMetadata: () => ({ name: 'fake', version: '0', extensions: [] }),
    modelMetadata: (m: ModelTarget) => ({
      name: m.name,
      versions: refs.filter((r) => r.name === m.name).map((r) => r.version),
      platform: 'fake',
      inputs: [],
      outputs: [],
    }),
    async infer(m: ModelTarget, body: unknown, requestId: string, deliver?: (o: { id: string; body: string }) => void) {
      calls.push(`infer ${m.name}@${m.version ?? '*'}`);
      if ((body as { fail?: string }).fail === 'usage') throw new MaasError('USAGE', 'rows are missing; send some');
      if ((body as { fail?: string }).fail === 'busy') throw new ServingError(503, `model ${m.name} is busy`);
      const out = { id: requestId, body: JSON.stringify({ model_name: m.name, model_version: m.version, id: requestId, outputs: [] }) };
      deliver?.(out);
      return out;
    },
    async feedback(m: ModelTarget) {
      calls.push(`feedback ${m.name}`);
      return { accepted: 1, ids: [m.name] };
    },
    stats: async (m: ModelTarget) => stats(m),
    async close() {
      backend.closed++;
    },
  };
  return backend;
}

describe('model server lifecycle', () => {
  it('reports ready with the model, runtime and load time on the given clock', async () => {
    const events: Record<string, unknown>[] = [];
    let t = 1000;
    const server = await start({
      clock: { now: () => t },
      events: (e) => events.push(e),
      loadRuntime: async () => {
        t += 250;
        return thresholdRuntime();
      },
    });
    await server.ready;
    expect(events).toContainEqual({ level: 'info', event: 'ready', model: 'toy', version: '2', runtime: 'test-threshold', loadMs: 250 });
  });

  it('releases a runtime that finishes loading after close', async () => {
    let release!: (r: Runtime) => void;
    let closed = 0;
    const server = await start({ loadRuntime: () => new Promise<Runtime>((r) => (release = r)) });
    const closing = server.close();
    release({ ...thresholdRuntime(), close: async () => void closed++ });
    await closing;
    await server.ready;
    expect(closed).toBe(1);
  });
});

describe('model server over any backend', () => {
  it('routes each served model to the backend and 404s models and versions it does not serve', async () => {
    const backend = fakeBackend();
    const server = await startModelServer({ backend, port: 0 });
    await server.ready;
    expect((await call(server, '/v2')).json).toEqual({ name: 'fake', version: '0', extensions: [] });
    expect((await call(server, '/v2/models/a')).json).toMatchObject({ name: 'a', versions: ['1'] });
    expect((await call(server, '/v2/models/b')).json).toMatchObject({ name: 'b', versions: ['1', '2'] });

    const a = await call(server, '/v2/models/a/infer', { id: 'r1' });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ model_name: 'a', model_version: '1', id: 'r1', outputs: [] });
    const b = await call(server, '/v2/models/b/versions/2/infer', {}, { 'x-request-id': 'r2' });
    expect(b.json).toEqual({ model_name: 'b', model_version: '2', id: 'r2', outputs: [] });
    // Two versions under one name and none asked for: the backend picks.
    await call(server, '/v2/models/b/infer', {});
    expect(backend.calls).toEqual(['infer a@1', 'infer b@2', 'infer b@*']);

    expect((await call(server, '/v2/models/b/feedback', { id: 'x', label: 'y' })).json).toMatchObject({ accepted: 1, ids: ['b'] });
    expect((await call(server, '/v2/models/a/versions/1/stats')).json).toMatchObject({ model_name: 'a', model_version: '1', log: { rows: 0 } });

    const c = await call(server, '/v2/models/c/infer', {});
    expect(c.status).toBe(404);
    expect(c.json.error).toBe('unknown model "c"; this server serves "a", "b"');
    expect((await call(server, '/v2/models/c')).status).toBe(404);
    expect((await call(server, '/v2/models/c/stats')).status).toBe(404);
    const v = await call(server, '/v2/models/b/versions/3/ready');
    expect(v.status).toBe(404);
    expect(v.json.error).toBe('unknown version "3" of model b; this server serves versions 1, 2');
    expect(backend.calls).toHaveLength(4);

    await server.close();
    expect(backend.closed).toBe(1);
  });

  it('reports readiness per model and for the whole backend', async () => {
    const backend = fakeBackend();
    const server = await startModelServer({ backend, port: 0 });
    servers.push(server);
    expect((await call(server, '/v2/models/a/ready')).json).toEqual({ name: 'a', version: '1', ready: true });
    const b = await call(server, '/v2/models/b/ready');
    expect(b.status).toBe(503);
    expect(b.json.error).toBe('model b is not ready');
    expect((await call(server, '/v2/health/ready')).json.error).toBe('not every model is loaded yet');
    backend.loaded.add('b');
    expect((await call(server, '/v2/health/ready')).status).toBe(200);
    expect((await call(server, '/v2/models/b/versions/2/ready')).json).toEqual({ name: 'b', version: '2', ready: true });
  });

  it('answers protocol usage errors with 400 and backend errors with their status', async () => {
    const server = await startModelServer({ backend: fakeBackend(), port: 0 });
    servers.push(server);
    const usage = await call(server, '/v2/models/a/infer', { fail: 'usage' });
    expect(usage.status).toBe(400);
    expect(usage.json.error).toBe('rows are missing; send some');
    const busy = await call(server, '/v2/models/a/infer', { fail: 'busy' });
    expect(busy.status).toBe(503);
    expect(busy.json.error).toBe('model a is busy');
  });
});

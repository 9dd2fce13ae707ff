// `maas serve` as real processes (the built bin) on loopback, running real onnxruntime sessions
// on models the example trainer and ONNX writer make. Needs `npm run build` first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { generateHar, harToCsv } from '../../examples/har/generate.js';
import { harDescription, trainHar } from '../../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../../examples/lib/mlp.js';
import { linearRegressionOnnx } from '../../examples/lib/onnx-writer.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { BIN, REPO_ROOT } from '../support/cli.js';

interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

let dir: string;
let har: ModelDescription;
let harRows: number[][];
let harLabels: string[];
let main: Served;
let regression: Served;
let refServer: http.Server;
let refBase: string;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

async function sleepTick(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Spawns `maas serve` and waits (bounded) for its endpoint file and readiness. */
async function serve(name: string, description: ModelDescription, artifact: string, extra: string[] = []): Promise<Served> {
  const descFile = join(dir, `${name}.yaml`);
  writeFileSync(descFile, stringify(description));
  const endpointFile = join(dir, `${name}.endpoint.json`);
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--description',
      descFile,
      '--artifact',
      artifact,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--endpoint-file',
      endpointFile,
      '--log-db',
      join(dir, `${name}.db`),
      ...extra,
    ],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, MAAS_HOME: join(dir, 'home'), CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 400 && !existsSync(endpointFile); i++) {
    if (child.exitCode !== null) break;
    await sleepTick(50);
  }
  if (!existsSync(endpointFile)) throw new Error(`maas serve did not start: ${err}`);
  const { url } = JSON.parse(readFileSync(endpointFile, 'utf8')) as { url: string; port: number; pid: number };
  for (let i = 0; i < 400; i++) {
    if ((await request(url, 'GET', '/v2/health/ready')).status === 200) return { child, url, stderr: () => err, exited };
    await sleepTick(50);
  }
  throw new Error(`maas serve never became ready: ${err}`);
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  json: any;
  text: string;
  headers: http.IncomingHttpHeaders;
}

function request(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const post = (s: Served, path: string, body: unknown, headers?: Record<string, string>) => request(s.url, 'POST', path, body, headers);
const get = (s: Served, path: string) => request(s.url, 'GET', path);
const INFER = '/v2/models/har-classifier/infer';
const FEEDBACK = '/v2/models/har-classifier/feedback';

function tensor(rows: number[][], id?: string) {
  return { ...(id ? { id } : {}), inputs: [{ name: 'input', shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows.flat() }] };
}

async function stop(s: Served): Promise<number | null> {
  if (s.child.exitCode === null) s.child.kill('SIGTERM');
  return s.exited;
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('run `npm run build` before the integration tests');
  dir = mkdtempSync(join(tmpdir(), 'maas-serve-'));
  const options = { ...DEFAULT_MLP_OPTIONS, epochs: 15, seed: 3, testFraction: 0.2 };
  const trained = trainHar(harToCsv(generateHar({ rows: 1500, seed: 11 })), options);
  har = harDescription(trained, { name: 'har-classifier', version: '1', options });
  har.spec.inference = { ...har.spec.inference, maxBatchSize: 256 };
  writeFileSync(join(dir, 'har.onnx'), trained.onnx);
  // Fresh windows, clamped into the declared ranges so that every row is valid.
  const fresh = generateHar({ rows: 400, seed: 12 });
  harRows = fresh.rows.map((r) => r.map((v, j) => Math.min(har.spec.features[j]!.range!.max!, Math.max(har.spec.features[j]!.range!.min!, v))));
  harLabels = fresh.labels;

  const reg: ModelDescription = {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'energy', version: '4' },
    spec: {
      task: 'regression',
      algorithm: 'LinearRegression',
      artifact: { uri: 'file://./energy.onnx', format: 'onnx' },
      features: [
        { name: 'temp', type: 'number', range: { min: -30, max: 50 } },
        { name: 'site', type: 'category', values: ['north', 'south', 'east'] },
        { name: 'holiday', type: 'boolean' },
      ],
      outputs: { unit: 'kWh' },
    },
  };
  writeFileSync(join(dir, 'energy.onnx'), linearRegressionOnnx({ mean: [0, 0, 0], std: [1, 1, 1], weights: [2, 10, -5], bias: 1 }));

  writeFileSync(
    join(dir, 'rows.csv'),
    ['activity,' + trained.features.join(','), ...harRows.slice(0, 300).map((r, i) => `${harLabels[i]},${r.join(',')}`)].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'big.csv'), trained.features.join(',') + '\n' + `${harRows[0]!.join(',')}\n`.repeat(2000));
  refServer = http.createServer((req, res) => {
    if (req.url === '/rows.ndjson') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(
        harRows
          .slice(0, 10)
          .map((r) => JSON.stringify(Object.fromEntries(trained.features.map((f, j) => [f, r[j]]))))
          .join('\n'),
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => refServer.listen(0, '127.0.0.1', r));
  refBase = `http://127.0.0.1:${(refServer.address() as AddressInfo).port}`;

  [main, regression] = await Promise.all([
    serve('har', har, join(dir, 'har.onnx'), [
      '--max-body',
      '64Ki',
      '--max-ref-bytes',
      '64Ki',
      '--allow-ref-host',
      '127.0.0.1',
      '--ref-root',
      dir,
      '--stats-window',
      '100000',
    ]),
    serve('energy', reg, join(dir, 'energy.onnx')),
  ]);
});

afterAll(async () => {
  const codes = await Promise.all([main, regression].filter(Boolean).map(stop));
  agent.destroy();
  await new Promise((r) => refServer?.close(r));
  rmSync(dir, { recursive: true, force: true });
  expect(codes.every((c) => c === 0)).toBe(true);
});

describe('maas serve: the Open Inference Protocol endpoints', () => {
  it('answers health, server and model metadata and readiness', async () => {
    expect((await get(main, '/v2/health/live')).json).toEqual({ live: true });
    expect((await get(main, '/v2/health/ready')).json).toEqual({ ready: true });
    const server = await get(main, '/v2');
    expect(server.json).toMatchObject({ name: 'maas', extensions: expect.arrayContaining(['feedback', 'stats']) });
    expect(server.json.version).toMatch(/^\d+\.\d+\.\d+/);
    const meta = await get(main, '/v2/models/har-classifier');
    expect(meta.json).toMatchObject({ name: 'har-classifier', versions: ['1'], platform: 'onnxruntime' });
    expect(meta.json.inputs).toHaveLength(14);
    expect(meta.json.inputs[0]).toMatchObject({ name: 'acc_x_mean', datatype: 'FP32', shape: [-1] });
    expect(meta.json.outputs.map((o: { name: string }) => o.name)).toEqual(['label', 'probabilities']);
    expect((await get(main, '/v2/models/har-classifier/versions/1')).status).toBe(200);
    expect((await get(main, '/v2/models/har-classifier/ready')).json).toMatchObject({ ready: true });
    expect((await get(main, '/v2/models/har-classifier/versions/1/ready')).status).toBe(200);
    expect((await get(main, '/v2/models/har-classifier/versions/7')).status).toBe(404);
    expect((await get(main, '/v2/models/nope')).status).toBe(404);
  });

  it('classifies a [N, F] tensor and columns alike, most rows correctly', async () => {
    const rows = harRows.slice(0, 100);
    const res = await post(main, INFER, tensor(rows, 'batch-1'));
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('batch-1');
    expect(res.json.id).toBe('batch-1');
    const [label, probs] = res.json.outputs;
    expect(label).toMatchObject({ name: 'label', datatype: 'BYTES', shape: [100] });
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [100, 6] });
    const correct = (label.data as string[]).filter((l, i) => l === harLabels[i]).length;
    expect(correct).toBeGreaterThan(70);
    const columns = {
      inputs: har.spec.features.map((f, j) => ({ name: f.name, shape: [3], datatype: 'FP64', data: rows.slice(0, 3).map((r) => r[j]) })),
      outputs: [{ name: 'label' }],
    };
    const byColumn = await post(main, INFER, columns);
    expect(byColumn.json.outputs).toHaveLength(1);
    expect(byColumn.json.outputs[0].data).toEqual(label.data.slice(0, 3));
  });

  it('predicts regression values with category and boolean features', async () => {
    const res = await post(regression, '/v2/models/energy/infer', {
      inputs: [
        { name: 'temp', shape: [2], datatype: 'FP32', data: [10, 20] },
        { name: 'site', shape: [2], datatype: 'BYTES', data: ['south', 'east'] },
        { name: 'holiday', shape: [2], datatype: 'BOOL', data: [true, false] },
      ],
    });
    expect(res.status).toBe(200);
    // 2*temp + 10*code - 5*holiday + 1
    expect(res.json.outputs).toEqual([{ name: 'value', datatype: 'FP32', shape: [2], data: [26, 61] }]);
    const unknown = await post(regression, '/v2/models/energy/infer', {
      inputs: [{ name: 'input', shape: [1, 3], datatype: 'BYTES', data: [1, 'west', true] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toContain('unknown category "west"');
    const fb = await post(regression, '/v2/models/energy/feedback', { id: res.json.id + ':0', value: 30 });
    expect(fb.status).toBe(200);
    const stats = await get(regression, '/v2/models/energy/stats');
    expect(stats.json.feedback).toMatchObject({ labelled: 1, mae: 4, rmse: 4 });
    expect(stats.json.features[1].counts).toMatchObject({ south: 1, east: 1, north: 0 });
  });

  it('answers malformed requests with the right 4xx and a JSON error, then serves the next one', async () => {
    const good = tensor(harRows.slice(0, 1));
    const wide = harRows[0]!.slice();
    wide[0] = 99;
    const cases: [string, unknown, number, string][] = [
      ['bad JSON', '{"inputs": [{', 400, 'malformed JSON'],
      ['not an object', '"hello"', 400, 'JSON object'],
      ['missing inputs', { id: 'x' }, 400, 'inputs is required'],
      ['missing shape', { inputs: [{ name: 'input', datatype: 'FP32', data: harRows[0] }] }, 400, 'shape'],
      ['missing datatype', { inputs: [{ name: 'input', shape: [1, 14], data: harRows[0] }] }, 400, 'datatype is required'],
      ['wrong shape', { inputs: [{ name: 'input', shape: [1, 13], datatype: 'FP32', data: harRows[0]!.slice(1) }] }, 400, '[N, 14]'],
      ['data vs shape', { inputs: [{ name: 'input', shape: [2, 14], datatype: 'FP32', data: harRows[0] }] }, 400, 'needs 28 values'],
      ['wrong datatype', { inputs: [{ name: 'input', shape: [1, 14], datatype: 'FP32', data: harRows[0]!.map(String) }] }, 400, 'expected a number'],
      ['unknown datatype', { inputs: [{ name: 'input', shape: [1, 14], datatype: 'STRING', data: harRows[0] }] }, 400, 'unknown datatype'],
      [
        'unknown input',
        {
          inputs: [
            { name: 'acc_x_mean', shape: [1], datatype: 'FP32', data: [0] },
            { name: 'speed', shape: [1], datatype: 'FP32', data: [0] },
          ],
        },
        400,
        'unknown input "speed"',
      ],
      ['missing input', { inputs: [{ name: 'acc_x_mean', shape: [1], datatype: 'FP32', data: [0] }] }, 400, 'missing inputs for features "acc_y_mean"'],
      ['batch too big', tensor(harRows.slice(0, 257)), 413, 'maxBatchSize 256'],
      ['body too big', tensor(new Array(2000).fill(harRows[0])), 413, 'larger than the limit'],
      ['unknown output', { ...good, outputs: [{ name: 'value' }] }, 400, 'unknown output'],
    ];
    // Out of its declared range is data, not a malformed request: served and counted.
    expect((await post(main, INFER, tensor([wide]))).status).toBe(200);
    expect((await get(main, '/v2/models/har-classifier/stats')).json.features[0].total.out_of_range).toBeGreaterThanOrEqual(1);
    for (const [what, body, status, message] of cases) {
      const res = await post(main, INFER, body);
      expect(res.status, what).toBe(status);
      expect(res.json?.error, what).toContain(message);
      expect(res.headers['x-request-id'], what).toBeTruthy();
      expect((await post(main, INFER, good)).status, `after ${what}`).toBe(200);
    }
    const put = await request(main.url, 'PUT', INFER, good);
    expect(put.status).toBe(405);
    expect(put.json.error).toContain('not allowed');
  });

  it('takes feedback singly and in batches, per item, and refuses only what names nothing or contradicts the record', async () => {
    const res = await post(main, INFER, tensor(harRows.slice(0, 4), 'fb'));
    expect(res.status).toBe(200);
    const single = await post(main, FEEDBACK, { id: 'fb:0', label: harLabels[0] });
    expect(single.json).toMatchObject({ accepted: 1, applied: 1, unchanged: 0, rejected: [] });
    const partial = await post(main, FEEDBACK, {
      feedback: [
        { id: 'fb:1', label: harLabels[1] },
        { id: 'fb:nope', label: 'walking' },
      ],
    });
    expect(partial.status).toBe(200);
    expect(partial.json).toMatchObject({ accepted: 1, applied: 1, ids: ['fb:1'], rejected: [{ id: 'fb:nope', reason: 'unknown' }] });
    const batch = await post(main, FEEDBACK, { feedback: [1, 2, 3].map((i) => ({ id: `fb:${i}`, label: harLabels[i] })) });
    expect(batch.json).toMatchObject({ accepted: 3, applied: 2, unchanged: 1, unchangedIds: ['fb:1'], ids: ['fb:1', 'fb:2', 'fb:3'] });
    // Nothing recordable: refused as a whole, naming the items.
    const other = harLabels[0] === 'walking' ? 'sitting' : 'walking';
    const conflict = await post(main, FEEDBACK, { id: 'fb:0', label: other });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toBe(`"fb:0" already has label ${JSON.stringify(harLabels[0])}; no feedback was recorded`);
    const unknown = await post(main, FEEDBACK, { feedback: [{ id: 'fb', label: 'walking' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('unknown prediction id "fb" (fb is a request of 4 rows; feedback goes to fb:0 .. fb:3); no feedback was recorded');
  });

  it('infers by reference from a file:// CSV and an http:// URL, refusing other schemes, hosts and oversized data', async () => {
    const csv = await post(main, INFER, { id: 'csv', parameters: { data_ref: pathToFileURL(join(dir, 'rows.csv')).href } });
    expect(csv.status, csv.text).toBe(200);
    expect(csv.json.id).toBe('csv');
    expect(csv.json.outputs[0].shape).toEqual([300]);
    const inline = await post(main, INFER, tensor(harRows.slice(0, 200)));
    expect(csv.json.outputs[0].data.slice(0, 200)).toEqual(inline.json.outputs[0].data);
    expect((await post(main, FEEDBACK, { id: 'csv:299', label: harLabels[299] })).status).toBe(200);

    const nd = await post(main, INFER, { parameters: { data_ref: `${refBase}/rows.ndjson` } });
    expect(nd.status).toBe(200);
    expect(nd.json.outputs[0].shape).toEqual([10]);

    const refused: [string, number, string][] = [
      ['ftp://127.0.0.1/rows.csv', 400, 'scheme "ftp" is not allowed'],
      [refBase.replace('127.0.0.1', 'localhost') + '/rows.ndjson', 400, 'host "localhost'],
      [pathToFileURL(join(dir, 'big.csv')).href, 413, 'larger than the limit'],
      ['file:///etc/passwd', 400, 'outside the directory'],
      [`${refBase}/missing.csv`, 400, 'HTTP 404'],
    ];
    for (const [uri, status, message] of refused) {
      const res = await post(main, INFER, { parameters: { data_ref: uri } });
      expect(res.status, uri).toBe(status);
      expect(res.json.error, uri).toContain(message);
    }
  });

  it('exposes Prometheus metrics', async () => {
    const res = await get(main, '/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(/maas_requests_total\{route="infer",status="200",model="har-classifier",version="1"\} \d+/);
    expect(res.text).toMatch(/maas_errors_total\{route="infer",status="413"/);
    expect(res.text).toMatch(/maas_inference_rows_total\{model="har-classifier",version="1"\} \d+/);
    expect(res.text).toMatch(/maas_request_duration_seconds_bucket\{le="0.005",route="infer"[^}]*\} \d+/);
    expect(res.text).toMatch(/maas_request_duration_seconds_count\{route="infer"[^}]*\} \d+/);
    expect(res.text).toContain('maas_requests_in_flight');
    expect(res.text).toContain('process_cpu_seconds_total');
  });

  it('holds up under 64 concurrent clients, and every logged id takes feedback', async () => {
    const total = 3000;
    let next = 0;
    const errors: string[] = [];
    const ids: { id: string; rows: number; first: number }[] = [];
    const client = async (): Promise<void> => {
      for (let i = next++; i < total; i = next++) {
        const rows = i % 10 === 0 ? 8 : 1;
        const first = (i * 7) % (harRows.length - rows);
        const res = await post(main, INFER, tensor(harRows.slice(first, first + rows), `load-${i}`));
        if (res.status !== 200) errors.push(`${i}: ${res.status} ${res.text}`);
        else ids.push({ id: res.json.id, rows, first });
      }
    };
    await Promise.all(Array.from({ length: 64 }, client));
    expect(errors).toEqual([]);
    expect(ids).toHaveLength(total);
    const feedback = ids.flatMap(({ id, rows, first }) =>
      rows === 1 ? [{ id, label: harLabels[first]! }] : Array.from({ length: rows }, (_, r) => ({ id: `${id}:${r}`, label: harLabels[first + r]! })),
    );
    for (let i = 0; i < feedback.length; i += 1000) {
      const res = await post(main, FEEDBACK, { feedback: feedback.slice(i, i + 1000) });
      expect(res.status, res.text).toBe(200);
      expect(res.json.accepted).toBe(Math.min(1000, feedback.length - i));
    }
    const stats = await get(main, '/v2/models/har-classifier/stats');
    expect(stats.json.total.rows).toBeGreaterThanOrEqual(2700 + 300 * 8);
    expect(stats.json.feedback.labelled).toBeGreaterThanOrEqual(feedback.length);
    expect(stats.json.feedback.accuracy).toBeGreaterThan(0.7);
    expect(stats.json.reservoir.rows).toHaveLength(1000);
    expect(stats.json.features).toHaveLength(14);
    const hist = stats.json.features[0].histogram;
    expect(hist.counts.reduce((a: number, b: number) => a + b, hist.underflow + hist.overflow)).toBe(stats.json.features[0].count);
    expect(Object.keys(stats.json.predictions.counts)).toEqual(har.spec.outputs!.labels);
  });
});

describe('maas serve: shutdown', () => {
  it('finishes in-flight requests on SIGTERM, flushes the log and exits 0', async () => {
    const s = await serve('drain', har, join(dir, 'har.onnx'), ['--drain-timeout', '60s']);
    const body = JSON.stringify(tensor(harRows.slice(0, 50), 'in-flight'));
    const half = Math.floor(body.length / 2);
    // Requests whose bodies are half sent are in flight on the server.
    const pending = Array.from({ length: 4 }, (_, i) => {
      const b = body.replace('in-flight', `in-flight-${i}`);
      let finish!: () => void;
      const answer = new Promise<Answer>((resolve, reject) => {
        const req = http.request(
          `${s.url}${INFER}`,
          { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), text, headers: res.headers }));
          },
        );
        req.on('error', reject);
        req.write(b.slice(0, half));
        finish = () => req.end(b.slice(half));
      });
      return { answer, finish: () => finish() };
    });
    // Wait (bounded) until the server counts them in flight (plus the metrics request itself).
    let inFlight = 0;
    for (let i = 0; i < 400 && inFlight < 5; i++) {
      const m = await request(s.url, 'GET', '/metrics');
      inFlight = Number(/maas_requests_in_flight\{[^}]*\} (\d+)/.exec(m.text)?.[1] ?? 0);
      if (inFlight < 5) await sleepTick(25);
    }
    expect(inFlight).toBe(5);
    s.child.kill('SIGTERM');
    // Wait (bounded) until the server has stopped accepting.
    for (let i = 0; i < 400; i++) {
      const refused = await request(s.url, 'GET', '/v2/health/live').then(
        () => false,
        () => true,
      );
      if (refused) break;
      await sleepTick(25);
    }
    for (const p of pending) p.finish();
    const answers = await Promise.all(pending.map((p) => p.answer));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await s.exited).toBe(0);
    const db = new Database(join(dir, 'drain.db'), { readonly: true });
    const logged = (db.prepare("SELECT count(*) AS n FROM predictions WHERE id LIKE 'in-flight-%'").get() as { n: number }).n;
    db.close();
    expect(logged).toBe(200);
    const events = s
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['listening', 'ready', 'shutdown', 'stopped']));
  });
});

// Labelled rows out of the request log: `GET .../labelled` on an in-process model server over
// loopback HTTP, the client and the export use case through the app harness, and `maas feedback
// export` in-process against the same server (a fake target whose endpoint is that server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { Prediction, Runtime } from '../../src/serving/runtime.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import { InferenceClient } from '../../src/client/inference-client.js';
import { STRICT_LABELLED_REFUSAL, type LabelledWire } from '../../src/protocol/labelled.js';
import { exportFeedback, resolveSince } from '../../src/app/feedback-export.js';
import { deploy } from '../../src/app/deploy.js';
import { ManualClock } from '../../src/core/clock.js';
import { appHarness } from '../support/app.js';
import { rejection } from '../support/assert.js';
import { FakeTarget, fakePlugin } from '../support/fake-target.js';
import { memoryStores } from '../support/memory-stores.js';
import { runCli, tempDir } from '../support/cli.js';

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
      { name: 'on', type: 'boolean', optional: true },
    ],
    outputs: { labels: ['low', 'high'] },
    training: { data: { uri: 'file://./train.csv', target: 'level' } },
  },
};

/** Predicts "high" when x > 5. */
const runtime: Runtime = {
  info: { name: 'test-threshold', inputs: [], outputs: [] },
  async predict(matrix: Float32Array, rows: number): Promise<Prediction> {
    const probabilities: number[][] = [];
    for (let r = 0; r < rows; r++) {
      const p = Math.min(1, matrix[r * 3]! / 10);
      probabilities.push([1 - p, p]);
    }
    return { probabilities };
  },
  async close() {},
};

const dir = tempDir('maas-labelled-');
let open: ModelServer;
let strict: ModelServer;
let clock: ManualClock;
const T0 = Date.UTC(2026, 0, 1, 12);

async function start(o: { strict?: boolean } = {}): Promise<ModelServer> {
  const server = await startModelServer({
    description,
    artifactPath: '/nowhere.onnx',
    host: '127.0.0.1',
    port: 0,
    loadRuntime: async () => runtime,
    clock,
    ...o,
  });
  await server.ready;
  return server;
}

async function post(server: ModelServer, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
async function get(server: ModelServer, path: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: await res.json() };
}

const rows = (id: string, data: (number | string | boolean | null)[][]) => ({
  id,
  inputs: [{ name: 'input', shape: [data.length, 3], datatype: 'BYTES', data }],
});

/** Three predictions at T0, T0+1h and T0+2h; feedback for four rows of them. */
async function feed(server: ModelServer): Promise<void> {
  clock.set(T0);
  expect(
    await post(
      server,
      '/v2/models/toy/infer',
      rows('b', [
        [1.1, 'red', true],
        [7, 'green', null],
        [3, 'red', false],
      ]),
    ),
  ).toBe(200);
  clock.set(T0 + 3_600_000);
  expect(await post(server, '/v2/models/toy/infer', rows('solo', [[9.5, 'green', true]]))).toBe(200);
  clock.set(T0 + 7_200_000);
  expect(await post(server, '/v2/models/toy/infer', rows('late', [[0.25, 'red', false]]))).toBe(200);
  const feedback = [
    { id: 'late', label: 'low' },
    { id: 'b:0', label: 'low' },
    { id: 'b:2', label: 'high' },
    { id: 'solo', label: 'high' },
  ];
  expect(await post(server, '/v2/models/toy/feedback', { feedback })).toBe(200);
}

beforeAll(async () => {
  clock = new ManualClock(T0);
  open = await start();
  strict = await start({ strict: true });
  await feed(open);
  await feed(strict);
});

afterAll(async () => {
  await open?.close();
  await strict?.close();
  dir.cleanup();
});

describe('GET /v2/models/{name}/labelled', () => {
  it('answers the labelled rows, oldest first, decoded as clients sent them, then the truth', async () => {
    const { status, json } = await get(open, '/v2/models/toy/labelled');
    expect(status).toBe(200);
    expect(json).toEqual<LabelledWire>({
      model_name: 'toy',
      model_version: '2',
      features: ['x', 'color', 'on'],
      target: 'level',
      rows: [
        [1.1, 'red', true, 'low'],
        [3, 'red', false, 'high'],
        [9.5, 'green', true, 'high'],
        [0.25, 'red', false, 'low'],
      ],
      ids: ['b:0', 'b:2', 'solo', 'late'],
      times: [T0, T0, T0 + 3_600_000, T0 + 7_200_000].map((t) => new Date(t).toISOString()),
      versions: ['2', '2', '2', '2'],
    });
    // The version path answers the same.
    expect((await get(open, '/v2/models/toy/versions/2/labelled')).json.ids).toEqual(['b:0', 'b:2', 'solo', 'late']);
  });

  it('filters by prediction time and keeps the most recent N', async () => {
    const since = encodeURIComponent(new Date(T0 + 1000).toISOString());
    expect((await get(open, `/v2/models/toy/labelled?since=${since}`)).json.ids).toEqual(['solo', 'late']);
    expect((await get(open, '/v2/models/toy/labelled?limit=3')).json.ids).toEqual(['b:2', 'solo', 'late']);
    expect((await get(open, `/v2/models/toy/labelled?since=${since}&limit=1`)).json.ids).toEqual(['late']);
    expect((await get(open, '/v2/models/toy/labelled?since=2030-01-01T00:00:00Z')).json).toMatchObject({ rows: [], ids: [], times: [] });
  });

  it('refuses bad queries with 400 and unknown models with 404', async () => {
    for (const q of ['since=nonsense', 'limit=0', 'limit=2.5', 'limit=1&limit=2', 'order=asc']) {
      const r = await get(open, `/v2/models/toy/labelled?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error).toBeTruthy();
    }
    expect((await get(open, '/v2/models/nope/labelled')).status).toBe(404);
    expect((await get(open, '/v2/models/toy/versions/9/labelled')).status).toBe(404);
  });

  it('a strict server refuses with 403: raw rows stay on the node, retraining runs in the cluster', async () => {
    const r = await get(strict, '/v2/models/toy/labelled');
    expect(r.status).toBe(403);
    expect(r.json.error).toBe(STRICT_LABELLED_REFUSAL);
    expect(r.json.error).toContain('strict placement keeps raw rows on the node');
    expect(r.json.error).toContain('maas retrain DEPLOYMENT --feedback --target kubernetes');
    expect(JSON.stringify(r.json)).not.toContain('9.5');
  });
});

describe('client and use case', () => {
  it('exports through the client, with since as a duration back from the clock', async () => {
    const client = await InferenceClient.create({ baseUrl: open.url }, 'toy', 5000);
    const asked: unknown[] = [];
    const h = await appHarness({ inference: { labelled: async (q) => (asked.push(q), client.labelled(q)) } });
    try {
      await h.register(description);
      const { deployment } = await deploy(h.services, { model: 'toy', target: 'local', mode: 'open', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
      h.clock.set(T0 + 7_200_000);
      const all = await exportFeedback(h.services, { deployment: deployment.id, timeoutMs: 5000 });
      expect(all).toMatchObject({ deployment: deployment.id, model_name: 'toy', target: 'level', ids: ['b:0', 'b:2', 'solo', 'late'] });
      const recent = await exportFeedback(h.services, { deployment: deployment.id, since: '90m', limit: 5, timeoutMs: 5000 });
      expect(recent.ids).toEqual(['solo', 'late']);
      expect(asked[1]).toEqual({ since: new Date(T0 + 1_800_000).toISOString(), limit: 5 });
      expect(await rejection(exportFeedback(h.services, { deployment: deployment.id, since: 'yesterday', timeoutMs: 5000 }))).toMatchObject({ code: 'USAGE' });
      expect(await rejection(exportFeedback(h.services, { deployment: deployment.id, limit: 0, timeoutMs: 5000 }))).toMatchObject({ code: 'USAGE' });
      expect(asked).toHaveLength(2);
    } finally {
      await h.services.close();
    }
  });

  it('a strict server refusal reaches the caller as FORBIDDEN with the server message', async () => {
    const client = await InferenceClient.create({ baseUrl: strict.url }, 'toy', 5000);
    const e = await rejection(client.labelled());
    expect(e).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('--feedback --target kubernetes') });
    expect((e as { hint?: string }).hint).toBeUndefined();
  });

  it('resolves --since: ISO times as given, durations back from now, nonsense refused', () => {
    const now = Date.UTC(2026, 1, 1);
    expect(resolveSince('2026-01-31T12:00:00Z', now)).toBe('2026-01-31T12:00:00.000Z');
    expect(resolveSince('24h', now)).toBe('2026-01-31T00:00:00.000Z');
    expect(() => resolveSince('nonsense', now)).toThrow(/ISO 8601 time .* or a duration/);
  });
});

describe('maas feedback export', () => {
  const cliClock = new ManualClock(T0 + 7_200_000);
  const stores = memoryStores(() => cliClock.now());
  const local = new FakeTarget('local', cliClock);
  const home = join(dir.path, 'home');
  const cli = (argv: string[]) =>
    runCli(argv, { home, cwd: dir.path, env: { USER: 'tester' }, deps: { clock: cliClock, services: { stores, plugins: [fakePlugin(local)] } } });
  let id = '';

  beforeAll(async () => {
    await stores.models.registerModel(description, { digest: `sha256:${'a'.repeat(64)}`, size: 1, uri: 'file://./m.onnx' });
    const d = await cli(['deploy', 'toy@2', '-o', 'json']);
    expect(d.code, d.stderr).toBe(0);
    id = (JSON.parse(d.stdout) as { id: string }).id;
    local.running.set(id, { state: 'ready', endpoint: open.url });
  });

  it('prints CSV: the features in description order and the target, oldest first', async () => {
    const r = await cli(['feedback', 'export', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('x,color,on,level\n1.1,red,true,low\n3,red,false,high\n9.5,green,true,high\n0.25,red,false,low\n');
  });

  it('takes --since (a duration or an ISO time) and --limit', async () => {
    expect((await cli(['feedback', 'export', id, '--since', '90m'])).stdout).toBe('x,color,on,level\n9.5,green,true,high\n0.25,red,false,low\n');
    expect((await cli(['feedback', 'export', id, '--since', new Date(T0 + 1).toISOString(), '--limit', '1'])).stdout).toBe(
      'x,color,on,level\n0.25,red,false,low\n',
    );
  });

  it('prints the export as data with -o json', async () => {
    const r = await cli(['feedback', 'export', id, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as LabelledWire & { deployment: string };
    expect(data).toMatchObject({ deployment: id, features: ['x', 'color', 'on'], target: 'level', ids: ['b:0', 'b:2', 'solo', 'late'] });
    expect(data.rows[0]).toEqual([1.1, 'red', true, 'low']);
  });

  it('writes --out atomically and says so', async () => {
    const r = await cli(['feedback', 'export', id, '--out', 'labelled.csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('wrote 4 labelled rows of toy@2 to labelled.csv\n');
    expect(readFileSync(join(dir.path, 'labelled.csv'), 'utf8')).toBe(
      'x,color,on,level\n1.1,red,true,low\n3,red,false,high\n9.5,green,true,high\n0.25,red,false,low\n',
    );
    expect(readdirSync(dir.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses bad input with exit 2 before asking the server', async () => {
    for (const args of [
      ['--since', 'nonsense'],
      ['--limit', '0'],
      ['--limit', 'many'],
    ]) {
      const r = await cli(['feedback', 'export', id, ...args, '--out', 'never.csv']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--since|--limit/);
    }
    expect(existsSync(join(dir.path, 'never.csv'))).toBe(false);
  });

  it('a strict deployment refuses (exit 8) naming in-cluster retraining', async () => {
    local.running.set(id, { state: 'ready', endpoint: strict.url });
    try {
      const r = await cli(['feedback', 'export', id]);
      expect(r.code).toBe(8);
      expect(r.stderr).toContain('strict placement keeps raw rows on the node');
    } finally {
      local.running.set(id, { state: 'ready', endpoint: open.url });
    }
  });

  it('keeps `maas feedback ID --id ... --label ...` working beside the subcommand, and both helps right', async () => {
    const sent = await cli(['feedback', id, '--id', 'b:1', '--label', 'high']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe('feedback: 1 applied, 0 already recorded, 0 rejected\n');
    const missing = await cli(['feedback', id, '--label', 'high']);
    expect(missing.code).toBe(2);
    expect((await cli(['feedback', 'export', '--help'])).stdout).toMatch(
      /Usage: maas feedback export \[options\] <id>[\s\S]*--since <time>[\s\S]*--out <file>/,
    );
    const help = (await cli(['feedback', '--help'])).stdout;
    expect(help).toContain('--label <label>');
    expect(help).toMatch(/export \[options\] <id>/);
    // The new row shows in the export.
    expect((await cli(['feedback', 'export', id, '--limit', '5'])).stdout.split('\n')).toContain('7,green,,high');
  });
});

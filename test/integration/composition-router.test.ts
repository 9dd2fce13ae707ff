// The composition router (`maas serve --composition`) over real member model servers: ensemble
// answers equal the vote and the mean computed from the members' own answers, split follows the
// weights, shadows never touch the answer, dead and slow members are counted and left out, feedback
// reaches the members, a reload swaps members under load, and /metrics carries the member series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheus } from '../support/prometheus.js';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { mlpClassifierOnnx } from '../../examples/lib/onnx-writer.js';
import { seededRandom } from '../../src/core/clock.js';
import type { CompositionDescription, RouterConfig, RouterMember } from '../../src/domain/composition.js';
import type { CompositionStatsWire } from '../../src/protocol/composition-stats.js';
import type { CompositionRecordsWire } from '../../src/protocol/composition-records.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import type { DriftReport } from '../../src/drift/report.js';
import { sampleDriftReport } from '../support/drift-report-fixture.js';
import { startCompositionServer, type CompositionServer } from '../../src/serving/composition/start.js';
import { BIN, runCli, tempDir } from '../support/cli.js';

const FEATURES = ['x0', 'x1', 'x2'];
const LABELS = ['a', 'b', 'c'];
const dir = tempDir('maas-composition-');

/**
 * A member: logits per label = the feature of the same index (after ReLU) plus a bias per label,
 * written for the member's own feature and label order, so that each member leans to one label
 * and they disagree on rows whose features are close.
 */
interface MemberModel {
  name: string;
  features: string[];
  labels: string[];
  /** Bias per composition label (a, b, c). */
  bias: [number, number, number];
}

const MODELS: Record<string, MemberModel> = {
  a: { name: 'm-a', features: FEATURES, labels: LABELS, bias: [0, 0, 0] },
  b: { name: 'm-b', features: FEATURES, labels: LABELS, bias: [0, 0.4, 0] },
  // Another feature order and another label order: the router names features and maps labels.
  c: { name: 'm-c', features: ['x2', 'x0', 'x1'], labels: ['c', 'a', 'b'], bias: [0, 0, 0.4] },
  d: { name: 'm-d', features: FEATURES, labels: LABELS, bias: [0.3, 0, 0] },
};

function onnxOf(m: MemberModel): Uint8Array {
  const F = 3;
  // Hidden unit j = relu(feature FEATURES[j]); input i of this member is feature m.features[i].
  const w1 = new Array<number>(F * F).fill(0);
  m.features.forEach((f, i) => (w1[i * F + FEATURES.indexOf(f)] = 1));
  // Class k of this member (label m.labels[k]) takes hidden unit of the same composition index.
  const w2 = new Array<number>(F * F).fill(0);
  m.labels.forEach((l, k) => (w2[LABELS.indexOf(l) * F + k] = 1));
  const b2 = m.labels.map((l) => m.bias[LABELS.indexOf(l)]!);
  return mlpClassifierOnnx({ features: F, hidden: F, classes: F, mean: [0, 0, 0], std: [1, 1, 1], w1, b1: [0, 0, 0], w2, b2 });
}

function describeMember(m: MemberModel): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: m.name, version: '1' },
    spec: {
      task: 'classification',
      algorithm: 'MLP',
      artifact: { uri: `file://./${m.name}.onnx`, format: 'onnx' },
      features: m.features.map((name) => ({ name, type: 'number' as const })),
      outputs: { labels: m.labels },
    },
  };
}

const members: Record<string, ModelServer> = {};
const descriptionFiles: Record<string, string> = {};

function routerMember(id: string, extra: Partial<RouterMember> = {}): RouterMember {
  const m = MODELS[id]!;
  return {
    key: `${m.name}@1`,
    deployment: `d-${id}000`,
    model: m.name,
    version: '1',
    endpoint: members[id]!.url,
    weight: 1,
    role: 'member',
    timeoutMs: 2000,
    ...(m.labels !== LABELS ? { labels: m.labels } : {}),
    ...extra,
  };
}

function routerConfig(mode: CompositionDescription['spec']['mode'], list: RouterMember[], more: Partial<CompositionDescription['spec']> = {}): RouterConfig {
  const composition: CompositionDescription = {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name: 'trio', version: '1' },
    spec: {
      task: 'classification',
      features: FEATURES,
      outputs: { labels: LABELS },
      mode,
      members: list.map((m) => ({ model: m.key, weight: m.weight, role: m.role })),
      ...more,
    },
  };
  return { composition, features: FEATURES.map((name) => ({ name, type: 'number' })), labels: LABELS, members: list, timeoutMs: 2000 };
}

let configCount = 0;
function writeConfig(config: RouterConfig, file = join(dir.path, `router-${configCount++}.json`)): string {
  // Atomically, as `maas compose apply` does: a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(config));
  renameSync(`${file}.tmp`, file);
  return file;
}

const routers: CompositionServer[] = [];
async function startRouter(config: RouterConfig, opts: { random?: () => number; file?: string } = {}): Promise<CompositionServer> {
  const router = await startCompositionServer({
    configFile: opts.file ?? writeConfig(config),
    host: '127.0.0.1',
    port: 0,
    drainTimeoutMs: 2000,
    ...(opts.random ? { random: opts.random } : {}),
    forward: { attempts: 2, backoffMs: 50 },
  });
  routers.push(router);
  await router.ready;
  return router;
}

/** Rows whose features are close, so the members disagree on some of them. */
function rows(n: number, seed: number): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => [0, 0, 0].map(() => Math.round((0.5 + r.next()) * 100) / 100));
}

const columns = (data: number[][], id?: string): object => ({
  ...(id ? { id } : {}),
  inputs: FEATURES.map((name, j) => ({ name, shape: [data.length], datatype: 'FP32', data: data.map((row) => row[j]) })),
});
const matrix = (data: number[][]): object => ({ inputs: [{ name: 'input', shape: [data.length, 3], datatype: 'FP32', data }] });

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

interface Answer {
  id: string;
  labels: string[];
  probabilities: number[][];
}

function answerOf(json: Record<string, unknown>): Answer {
  const outputs = json.outputs as { name: string; shape: number[]; data: unknown[] }[];
  const label = outputs.find((o) => o.name === 'label')!;
  const probs = outputs.find((o) => o.name === 'probabilities')!;
  const width = probs.shape[1]!;
  const flat = probs.data as number[];
  return {
    id: json.id as string,
    labels: label.data as string[],
    probabilities: Array.from({ length: label.data.length }, (_, r) => flat.slice(r * width, (r + 1) * width)),
  };
}

/** A member's own answer for `data`, its probabilities put in the composition's label order by name. */
async function memberAnswer(id: string, data: number[][]): Promise<Answer> {
  const m = MODELS[id]!;
  const byName = Object.fromEntries(m.features.map((f) => [f, FEATURES.indexOf(f)]));
  const body = { inputs: m.features.map((f) => ({ name: f, shape: [data.length], datatype: 'FP32', data: data.map((row) => row[byName[f]!]) })) };
  const res = await post(`${members[id]!.url}/v2/models/${m.name}/infer`, body);
  expect(res.status).toBe(200);
  const own = answerOf(res.json);
  return { ...own, probabilities: own.probabilities.map((p) => LABELS.map((l) => p[m.labels.indexOf(l)]!)) };
}

const INFER = '/v2/models/trio/infer';

/** Clients posting one request after another until stopped; every answer's status is kept. */
function load(url: string, body: unknown, clients = 3): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const loop = async (): Promise<void> => {
    for (let n = 0; running && n < 20_000; n++) {
      try {
        const res = await post(`${url}${INFER}`, body);
        if (res.status === 200) ok++;
        else failed.push(`${res.status} ${String(res.json.error)}`);
      } catch (e) {
        failed.push((e as Error).message);
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A stand-in member: answers every infer request after `delayMs`, or with `status`, and counts them. */
async function fakeMember(opts: { delayMs?: number; status?: number }): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    let n = 0;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits++;
      n = (JSON.parse(body) as { inputs: { shape: number[] }[] }).inputs[0]!.shape[0]!;
      const answer =
        opts.status !== undefined
          ? { error: 'broken on purpose' }
          : {
              model_name: 'fake',
              id: `fake-${hits}`,
              outputs: [
                { name: 'label', datatype: 'BYTES', shape: [n], data: new Array(n).fill('c') },
                { name: 'probabilities', datatype: 'FP32', shape: [n, 3], data: new Array(n).fill([0, 0, 1]).flat() },
              ],
            };
      setTimeout(() => {
        res.writeHead(opts.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      }, opts.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function fakeRouterMember(key: string, url: string, extra: Partial<RouterMember> = {}): RouterMember {
  return { key, deployment: 'd-fake0000', model: key.split('@')[0]!, version: '1', endpoint: url, weight: 1, role: 'member', timeoutMs: 2000, ...extra };
}

const memberStats = (stats: CompositionStatsWire, key: string) => stats.members.find((m) => m.key === key)!;

beforeAll(async () => {
  for (const [id, m] of Object.entries(MODELS)) {
    const description = describeMember(m);
    const artifactPath = join(dir.path, `${m.name}.onnx`);
    writeFileSync(artifactPath, onnxOf(m));
    descriptionFiles[id] = join(dir.path, `${m.name}.json`);
    writeFileSync(descriptionFiles[id], JSON.stringify(description));
    members[id] = await startModelServer({ description, artifactPath, host: '127.0.0.1', port: 0, drainTimeoutMs: 1000 });
    await members[id].ready;
  }
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  await Promise.all(Object.values(members).map((m) => m.close()));
  dir.cleanup();
});

/** The expected vote: most votes, then the highest summed probability, then label order. */
function expectedMajority(answers: Answer[], r: number): string {
  const votes = LABELS.map((l) => answers.filter((a) => a.labels[r] === l).length);
  const top = Math.max(...votes);
  let tied = LABELS.map((_, j) => j).filter((j) => votes[j] === top);
  if (tied.length > 1) {
    const mass = tied.map((j) => answers.reduce((s, a) => s + a.probabilities[r]![j]!, 0));
    const most = Math.max(...mass);
    tied = tied.filter((_, k) => Math.abs(mass[k]! - most) <= 1e-9);
  }
  return LABELS[tied[0]!]!;
}

describe('drift', () => {
  it("answers the drift report of the first member that has one, as the composition's (every member gets the same inputs)", async () => {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(sampleDriftReport()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Member a has no reference profile (404); the second one answers.
      const router = await startRouter(routerConfig('ensemble', [routerMember('a'), fakeRouterMember('profiled@1', url)]));
      const res = await fetch(`${router.url}/v2/models/trio/drift?test=psi&threshold=0.2`);
      expect(res.status).toBe(200);
      const report = (await res.json()) as DriftReport;
      expect(report.subject).toMatchObject({ model: 'trio', version: '1' });
      expect(report.notes[0]).toMatch(/member profiled@1/);
      expect(report.dataset).toEqual(sampleDriftReport().dataset);
      expect(asked).toEqual(['/v2/models/profiled/versions/1/drift?test=psi&threshold=0.2']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('ensemble', () => {
  it('answers the majority vote of the members, in both input forms, with row ids like a model server', async () => {
    const router = await startRouter(routerConfig('ensemble', [routerMember('a'), routerMember('b'), routerMember('c')]));
    const data = rows(60, 7);
    const own = await Promise.all(['a', 'b', 'c'].map((id) => memberAnswer(id, data)));
    // The rows make the members disagree, so the vote is not any one member's answer.
    expect(own[0]!.labels).not.toEqual(own[1]!.labels);
    expect(own[0]!.labels).not.toEqual(own[2]!.labels);
    const expected = data.map((_, r) => expectedMajority(own, r));

    const res = await post(`${router.url}${INFER}`, columns(data));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ model_name: 'trio', model_version: '1' });
    const answer = answerOf(res.json);
    expect(answer.labels).toEqual(expected);
    // Probabilities of a vote: each label's share of the votes.
    answer.probabilities.forEach((p, r) => {
      LABELS.forEach((l, j) => expect(p[j]).toBeCloseTo(own.filter((a) => a.labels[r] === l).length / 3, 5));
    });
    const tensor = await post(`${router.url}${INFER}`, matrix(data));
    expect(answerOf(tensor.json).labels).toEqual(expected);

    // Every row recorded with each member's own answer and prediction id.
    const recorded = await get<CompositionRecordsWire>(`${router.url}/v2/models/trio/records?limit=60`);
    expect(recorded.records).toHaveLength(60);
    expect(recorded.records.map((r) => r.id)).toEqual(data.map((_, r) => `${tensor.json.id as string}:${r}`));
    const row5 = recorded.records[5]!;
    expect(row5.answer).toEqual({ label: expected[5] });
    expect(row5.members['m-c@1']).toMatchObject({ outcome: 'answered', counted: true, label: own[2]!.labels[5], memberId: expect.stringMatching(/:5$/) });
    expect(row5.truth).toBeNull();

    const meta = await get<{ inputs: { name: string }[]; outputs: { name: string; parameters?: { labels?: string[] } }[] }>(`${router.url}/v2/models/trio`);
    expect(meta.inputs.map((i) => i.name)).toEqual(FEATURES);
    expect(meta.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(meta.outputs[1]!.parameters?.labels).toEqual(LABELS);

    const stats = await get<{ window: { rows: number }; log: { rows: number } }>(`${router.url}/v2/models/trio/stats`);
    expect(stats.window.rows).toBe(120);
    expect(stats.log.rows).toBe(120);
    expect((await fetch(`${router.url}/v2/models/trio/drift`)).status).toBe(404);
  });

  it('answers the mean probabilities (mapped by label name) and their most probable class with mean-proba', async () => {
    const router = await startRouter(routerConfig('ensemble', [routerMember('a'), routerMember('b'), routerMember('c')], { aggregation: 'mean-proba' }));
    const data = rows(40, 11);
    const own = await Promise.all(['a', 'b', 'c'].map((id) => memberAnswer(id, data)));
    const answer = answerOf((await post(`${router.url}${INFER}`, columns(data))).json);
    data.forEach((_, r) => {
      const mean = LABELS.map((_, j) => own.reduce((s, a) => s + a.probabilities[r]![j]!, 0) / 3);
      answer.probabilities[r]!.forEach((p, j) => expect(p).toBeCloseTo(mean[j]!, 5));
      expect(answer.labels[r]).toBe(LABELS[mean.indexOf(Math.max(...mean))]);
    });
  });

  it('leaves out a member past its deadline (counted as a timeout) and answers 503 naming each failure when none answers', async () => {
    const slow = await fakeMember({ delayMs: 2000 });
    try {
      const router = await startRouter(
        routerConfig('ensemble', [routerMember('a'), routerMember('b'), fakeRouterMember('slow@1', slow.url, { timeoutMs: 100 })]),
      );
      const data = rows(5, 3);
      const own = await Promise.all(['a', 'b'].map((id) => memberAnswer(id, data)));
      const started = performance.now();
      const res = await post(`${router.url}${INFER}`, columns(data));
      expect(performance.now() - started).toBeLessThan(1500);
      expect(res.status).toBe(200);
      expect(answerOf(res.json).labels).toEqual(data.map((_, r) => expectedMajority(own, r)));
      const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
      expect(memberStats(stats, 'slow@1')).toMatchObject({ requests: 1, answered: 0, timeouts: 1, errors: 0, reliability: 0 });
      expect(memberStats(stats, 'm-a@1')).toMatchObject({ requests: 1, answered: 1, reliability: 1 });

      const broken = await fakeMember({ status: 500 });
      try {
        const none = await startRouter(
          routerConfig('ensemble', [fakeRouterMember('slow@1', slow.url, { timeoutMs: 50 }), fakeRouterMember('broken@1', broken.url)]),
        );
        const failed = await post(`${none.url}${INFER}`, columns(data));
        expect(failed.status).toBe(503);
        expect(failed.json.error).toContain('slow@1: timeout');
        expect(failed.json.error).toContain('broken@1: error (HTTP 500: broken on purpose)');
        const after = await get<CompositionStatsWire>(`${none.url}/v2/models/trio/members`);
        expect(after).toMatchObject({ requests: 1, errors: 1 });
      } finally {
        await broken.close();
      }
    } finally {
      await slow.close();
    }
  });

  it('keeps answering with no failed request while a member process is killed with SIGKILL', async () => {
    const endpointFile = join(dir.path, 'killed-endpoint.json');
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'serve', '--description', descriptionFiles.b!, '--port', '0', '--host', '127.0.0.1', '--endpoint-file', endpointFile],
      {
        cwd: dir.path,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, MAAS_HOME: join(dir.path, 'home'), CI: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      await until('the member process to be ready', () => stderr.includes('"event":"ready"') && existsSync(endpointFile), 30_000);
      const { endpoint: _e, ...b } = routerMember('b', { key: 'm-b@1' });
      const router = await startRouter(routerConfig('ensemble', [routerMember('a'), { ...b, endpointFile }, routerMember('c')]));
      const client = load(router.url, columns(rows(3, 5)));
      await until('requests to the member', async () => memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1').answered >= 20);
      child.kill('SIGKILL');
      await exited;
      await until('errors of the killed member', async () => memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1').errors >= 5);
      const { ok, failed } = await client.stop();
      expect(failed).toEqual([]);
      expect(ok).toBeGreaterThan(25);
      const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
      expect(stats.errors).toBe(0);
      expect(memberStats(stats, 'm-b@1').reliability).toBeLessThan(1);
      expect(memberStats(stats, 'm-a@1')).toMatchObject({ errors: 0, timeouts: 0 });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});

describe('member endpoint files', () => {
  it("follows a member's rollout (its endpoint file names a new server, the old one drains) without a failed request", async () => {
    const endpointFile = join(dir.path, 'rolled-endpoint.json');
    const announce = (server: ModelServer): void => {
      writeFileSync(
        `${endpointFile}.tmp`,
        JSON.stringify({ url: server.url, port: server.port, pid: process.pid, host: server.host, model: 'm-b', version: '1' }),
      );
      renameSync(`${endpointFile}.tmp`, endpointFile);
    };
    const start = async (): Promise<ModelServer> => {
      const description = describeMember(MODELS.b!);
      const server = await startModelServer({ description, artifactPath: join(dir.path, 'm-b.onnx'), host: '127.0.0.1', port: 0, drainTimeoutMs: 2000 });
      await server.ready;
      return server;
    };
    const old = await start();
    announce(old);
    let next: ModelServer | undefined;
    try {
      const { endpoint: _e, ...b } = routerMember('b');
      const router = await startRouter(routerConfig('ensemble', [routerMember('a'), { ...b, endpointFile }]));
      const client = load(router.url, columns(rows(2, 8)));
      await until('traffic', async () => memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1').answered >= 20);
      next = await start();
      announce(next);
      await new Promise((r) => setTimeout(r, 300));
      await old.close();
      const seen = memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1').answered;
      await until('answers from the new server', async () => memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1').answered >= seen + 20);
      const { ok, failed } = await client.stop();
      expect(failed).toEqual([]);
      expect(ok).toBeGreaterThan(40);
      expect(memberStats(await get(`${router.url}/v2/models/trio/members`), 'm-b@1')).toMatchObject({ errors: 0, timeouts: 0 });
    } finally {
      await old.close();
      await next?.close();
    }
  });
});

describe('split', () => {
  it('routes about 90 % of 500 requests to the member weighing 9 of 10', async () => {
    let draws = 0;
    const random = seededRandom(2024);
    const router = await startRouter(routerConfig('split', [routerMember('a', { weight: 9 }), routerMember('b', { weight: 1 })]), {
      random: () => (draws++, random.next()),
    });
    const data = rows(1, 1);
    for (let i = 0; i < 500; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => post(`${router.url}${INFER}`, columns(data))));
      for (const res of batch) expect(res.status).toBe(200);
    }
    const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
    const a = memberStats(stats, 'm-a@1').requests;
    const b = memberStats(stats, 'm-b@1').requests;
    expect(draws).toBe(500);
    expect(a + b).toBe(500);
    expect(a / 500).toBeGreaterThan(0.86);
    expect(a / 500).toBeLessThan(0.94);
    expect(stats).toMatchObject({ mode: 'split', requests: 500, errors: 0 });
  });
});

describe('shadow', () => {
  it("answers the primary's answer; slow and failing shadows are measured and never delay or fail it", async () => {
    const slow = await fakeMember({ delayMs: 1500 });
    const broken = await fakeMember({ status: 500 });
    try {
      const router = await startRouter(
        routerConfig('shadow', [
          routerMember('a', { role: 'primary' }),
          routerMember('b', { role: 'shadow' }),
          fakeRouterMember('slow@1', slow.url, { role: 'shadow' }),
          fakeRouterMember('broken@1', broken.url, { role: 'shadow' }),
        ]),
      );
      const data = rows(20, 9);
      const primary = await memberAnswer('a', data);
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const res = await post(`${router.url}${INFER}`, columns(data));
        expect(performance.now() - started).toBeLessThan(1000);
        expect(res.status).toBe(200);
        const answer = answerOf(res.json);
        expect(answer.labels).toEqual(primary.labels);
        answer.probabilities.forEach((p, r) => p.forEach((x, j) => expect(x).toBeCloseTo(primary.probabilities[r]![j]!, 6)));
      }
      await router.backend.settled();
      const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
      expect(stats).toMatchObject({ mode: 'shadow', requests: 5, errors: 0 });
      expect(memberStats(stats, 'slow@1')).toMatchObject({ role: 'shadow', requests: 5, answered: 5 });
      expect(memberStats(stats, 'broken@1')).toMatchObject({ role: 'shadow', requests: 5, errors: 5, reliability: 0 });
      expect(memberStats(stats, 'm-b@1').agreement.compared).toBe(100);
      expect(slow.hits()).toBe(5);
      // The shadows' answers are recorded next to the primary's.
      const recorded = await get<CompositionRecordsWire>(`${router.url}/v2/models/trio/records?limit=1`);
      expect(recorded.records[0]!.members).toMatchObject({
        'm-a@1': { role: 'primary', counted: true, outcome: 'answered' },
        'slow@1': { role: 'shadow', counted: false, outcome: 'answered', label: 'c' },
        'broken@1': { role: 'shadow', counted: false, outcome: 'error' },
      });
    } finally {
      await slow.close();
      await broken.close();
    }
  });
});

describe('feedback', () => {
  it('records the truth, scores every member, and forwards it to each member under its own prediction id', async () => {
    const router = await startRouter(routerConfig('ensemble', [routerMember('a'), routerMember('b'), routerMember('c')]));
    const data = rows(30, 21);
    const own = await Promise.all(['a', 'b', 'c'].map((id) => memberAnswer(id, data)));
    const res = await post(`${router.url}${INFER}`, columns(data, 'fb-request'));
    const answer = answerOf(res.json);
    expect(answer.id).toBe('fb-request');
    // The truth: member a's answer, so a is right on every row.
    const truth = own[0]!.labels;
    const items = truth.map((label, r) => ({ id: `fb-request:${r}`, label }));
    const fb = await post(`${router.url}/v2/models/trio/feedback`, { feedback: [...items, { id: 'nope', label: 'a' }] });
    expect(fb.status).toBe(200);
    expect(fb.json).toMatchObject({ accepted: 30, applied: 30, unchanged: 0, rejected: [{ id: 'nope', reason: 'unknown' }] });
    const again = await post(`${router.url}/v2/models/trio/feedback`, items[0]);
    expect(again.json).toMatchObject({ accepted: 1, applied: 0, unchanged: 1 });
    const other = LABELS.find((l) => l !== truth[0]);
    expect((await post(`${router.url}/v2/models/trio/feedback`, { id: 'fb-request:0', label: other })).status).toBe(409);
    await router.backend.settled();

    // Each member got the truth for its own rows.
    for (const id of ['a', 'b', 'c']) {
      const m = MODELS[id]!;
      const labelled = await get<{ rows: unknown[][]; ids: string[] }>(`${members[id]!.url}/v2/models/${m.name}/labelled`);
      const recorded = await get<CompositionRecordsWire>(`${router.url}/v2/models/trio/records?labelled=true&limit=30`);
      const memberIds = recorded.records.map((r) => r.members[`${m.name}@1`]!.memberId!);
      for (const [r, mid] of memberIds.entries()) {
        const at = labelled.ids.indexOf(mid);
        expect(at, `${m.name} has ${mid}`).toBeGreaterThanOrEqual(0);
        expect(labelled.rows[at]!.at(-1)).toBe(truth[r]);
      }
    }

    const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
    const accuracy = (labels: string[]) => labels.filter((l, r) => l === truth[r]).length / 30;
    expect(memberStats(stats, 'm-a@1').quality).toEqual({ labelled: 30, correct: 30, accuracy: 1 });
    expect(memberStats(stats, 'm-b@1').quality.accuracy).toBeCloseTo(accuracy(own[1]!.labels), 10);
    expect(memberStats(stats, 'm-c@1').quality.accuracy).toBeCloseTo(accuracy(own[2]!.labels), 10);
    expect(stats.quality.accuracy).toBeCloseTo(accuracy(answer.labels), 10);
    for (const id of ['a', 'b', 'c']) {
      const m = memberStats(stats, `${MODELS[id]!.name}@1`);
      const agree = own[['a', 'b', 'c'].indexOf(id)]!.labels.filter((l, r) => l === answer.labels[r]).length / 30;
      expect(m.agreement).toEqual({ compared: 30, rate: agree });
      expect(m.latencyMs.p50).toBeGreaterThan(0);
      expect(m.latencyMs.p95).toBeGreaterThanOrEqual(m.latencyMs.p50!);
      expect(m.reliability).toBe(1);
      expect(m.history.points).toHaveLength(1);
      expect(m.history.points[0]).toMatchObject({ labelled: 30 });
    }
    expect(stats.latencyMs.p50).toBeGreaterThan(0);
    const composed = await get<{ feedback: { labelled: number; accuracy: number } }>(`${router.url}/v2/models/trio/stats`);
    expect(composed.feedback.labelled).toBe(30);
  });
});

describe('reload', () => {
  it('swaps a member while clients send requests: no request fails and the new member takes traffic', async () => {
    const file = join(dir.path, 'reloaded.json');
    const before = routerConfig('ensemble', [routerMember('a'), routerMember('b'), routerMember('c')]);
    writeConfig(before, file);
    const router = await startRouter(before, { file });
    const client = load(router.url, columns(rows(2, 4)));
    await until('traffic', async () => (await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`)).requests >= 20);
    // An invalid file is refused; the members serving keep serving.
    writeFileSync(file, '{"composition": ');
    await new Promise((r) => setTimeout(r, 700));
    expect((await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`)).members.map((m) => m.key)).toEqual(['m-a@1', 'm-b@1', 'm-c@1']);
    writeConfig(
      {
        ...routerConfig('ensemble', [routerMember('a'), routerMember('b'), routerMember('d')]),
        composition: { ...before.composition, metadata: { name: 'trio', version: '2' } },
      },
      file,
    );
    await until('the new member to answer', async () => {
      const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
      return stats.members.some((m) => m.key === 'm-d@1' && m.answered >= 10);
    });
    const { ok, failed } = await client.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(30);
    const stats = await get<CompositionStatsWire>(`${router.url}/v2/models/trio/members`);
    expect(stats.composition).toBe('trio@2');
    expect(stats.members.map((m) => m.key)).toEqual(['m-a@1', 'm-b@1', 'm-d@1']);
    const res = await post(`${router.url}${INFER}`, columns(rows(1, 1)));
    expect(res.json).toMatchObject({ model_name: 'trio', model_version: '2' });
  });
});

describe('metrics', () => {
  it('exposes the member series in valid Prometheus text format', async () => {
    const router = await startRouter(routerConfig('ensemble', [routerMember('a'), routerMember('b')]));
    const res = await post(`${router.url}${INFER}`, columns(rows(4, 2), 'metrics-request'));
    await post(`${router.url}/v2/models/trio/feedback`, { id: 'metrics-request:0', label: 'a' });
    await router.backend.settled();
    const scraped = await fetch(`${router.url}/metrics`);
    expect(scraped.headers.get('content-type')).toContain('text/plain');
    const { types, samples } = parsePrometheus(await scraped.text());
    expect(res.status).toBe(200);
    expect(types.get('maas_member_request_duration_seconds')).toBe('histogram');
    expect(types.get('maas_member_requests_total')).toBe('counter');
    expect(types.get('maas_member_agreement_ratio')).toBe('gauge');
    expect(types.get('maas_member_accuracy_ratio')).toBe('gauge');
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('maas_member_requests_total', { member: 'm-a@1', outcome: 'answered', model: 'trio' })).toBe(1);
    expect(value('maas_member_requests_total', { member: 'm-b@1', outcome: 'timeout' })).toBe(0);
    expect(value('maas_member_request_duration_seconds_count', { member: 'm-b@1' })).toBe(1);
    expect(value('maas_member_request_duration_seconds_bucket', { member: 'm-b@1', le: '+Inf' })).toBe(1);
    expect(value('maas_member_agreement_ratio', { member: 'm-a@1' })).toBeGreaterThanOrEqual(0);
    expect(value('maas_member_accuracy_ratio', { member: 'm-a@1' })).toBeDefined();
    expect(value('maas_member_feedback_forwarded_total', { member: 'm-a@1', result: 'ok' })).toBe(1);
  });
});

describe('maas serve --composition', () => {
  it('is a usage error together with a model', async () => {
    const file = writeConfig(routerConfig('ensemble', [routerMember('a')]));
    const both = await runCli(['serve', '--composition', file, '--description', descriptionFiles.a!], { home: join(dir.path, 'home') });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--composition');
  });
});

// Serving: requests/s and latency of `maas serve` (a real process: validation, request log,
// stats, metrics) against a floor (a bare node:http process running the same onnxruntime session
// on the same JSON). 1, 8 and 64 concurrent keep-alive clients; 1-row and 64-row requests.
// Goals: maas >= 0.9x the floor's requests/s and p99 <= 1.3x the floor's, in every cell.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateHar, harToCsv } from '../examples/har/generate.js';
import { harDescription, trainHar } from '../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../examples/lib/mlp.js';
import type { ModelDescription } from '../src/spec/schema.js';
import type { Benchmark, Goal, Table } from './report.js';

export const GOAL_THROUGHPUT = 0.9;
export const GOAL_P99 = 1.3;
const ROUNDS = Number(process.env.BENCH_SERVING_ROUNDS ?? 7);

interface Cell {
  clients: number;
  rows: number;
  requests: number;
}

export interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface Target {
  label: string;
  url: string;
  child: ChildProcess;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Median of each figure over the rounds. */
export function median(rs: Result[]): Result {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { rps: mid(rs.map((r) => r.rps)), p50: mid(rs.map((r) => r.p50)), p99: mid(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A `maas serve` process; `extra` adds flags, `label` names it (and its files in `dir`). */
export async function startMaas(repoRoot: string, dir: string, descFile: string, model: string, extra: string[] = [], label = 'maas serve'): Promise<Target> {
  const slug = label.replace(/[^a-z0-9]+/gi, '-');
  const endpoint = join(dir, `endpoint-${slug}.json`);
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'maas.js'),
      'serve',
      '--description',
      descFile,
      '--artifact',
      model,
      '--port',
      '0',
      '--endpoint-file',
      endpoint,
      '--log-db',
      join(dir, `log-${slug}.db`),
      '--threads',
      '1',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MAAS_HOME: join(dir, `home-${slug}`), CI: '1' } },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 400 && !existsSync(endpoint); i++) await wait(25);
  if (!existsSync(endpoint)) throw new Error(`maas serve did not start: ${err}`);
  const { url } = JSON.parse(readFileSync(endpoint, 'utf8')) as { url: string };
  for (let i = 0; i < 400; i++) {
    const status = await new Promise<number>((resolve) =>
      http.get(`${url}/v2/health/ready`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', () => resolve(0)),
    );
    if (status === 200) return { label, url, child };
    await wait(25);
  }
  throw new Error(`maas serve never became ready: ${err}`);
}

async function startFloor(repoRoot: string, descJson: string, model: string): Promise<Target> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', 'serving-floor.js'), descJson, model, '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { label: 'floor', url: `http://127.0.0.1:${port}`, child };
}

/** `clients` keep-alive loops sharing a fixed number of requests; latency per request. */
export async function load(
  url: string,
  body: Buffer | undefined,
  clients: number,
  requests: number,
  o: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const method = o.method ?? 'POST';
  const headers = { ...o.headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) };
  const latencies = new Float64Array(requests);
  let next = 0;
  let errors = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request(url, { method, agent, headers }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.on('data', () => {});
        res.on('end', resolve);
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const client = async (): Promise<void> => {
    for (let i = next++; i < requests; i = next++) {
      const t0 = performance.now();
      await one();
      latencies[i] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort();
  return { rps: requests / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors };
}

/**
 * Warms every target, then measures them in alternating rounds (the order flips each round) so
 * that load from other processes on the machine hits all alike. Results per target label.
 */
export async function alternatingRounds(
  targets: readonly Target[],
  body: Buffer,
  clients: number,
  requests: number,
  rounds: number,
): Promise<Map<string, Result[]>> {
  const url = (t: Target) => `${t.url}/v2/models/har-classifier/infer`;
  for (const t of targets) await load(url(t), body, clients, Math.min(500, requests));
  const runs = new Map<string, Result[]>(targets.map((t) => [t.label, []]));
  for (let round = 0; round < rounds; round++)
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) runs.get(t.label)!.push(await load(url(t), body, clients, requests));
  return runs;
}

/** The median of per-round ratios a/b of one figure (both sides measured back to back). */
export function medianRatio(a: readonly Result[], b: readonly Result[], figure: 'rps' | 'p99'): number {
  const ratios = a.map((r, i) => r[figure] / b[i]![figure]).sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)]!;
}

export function requestBody(rows: number[][]): Buffer {
  return Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows.flat() }] }));
}

export const serving: Benchmark = {
  name: 'serving',
  description: '`maas serve` vs a bare node:http + onnxruntime floor: requests/s, p50, p99',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'maas-bench-serving-'));
    const targets: Target[] = [];
    try {
      ctx.log('serving: training the HAR example model');
      const options = { ...DEFAULT_MLP_OPTIONS, epochs: 10, seed: 3, testFraction: 0.2 };
      const trained = trainHar(harToCsv(generateHar({ rows: 1500, seed: 11 })), options);
      const description: ModelDescription = harDescription(trained, { name: 'har-classifier', version: '1', options });
      const model = join(dir, 'model.onnx');
      writeFileSync(model, trained.onnx);
      const descFile = join(dir, 'model.json');
      writeFileSync(descFile, JSON.stringify(description));
      const rows = generateHar({ rows: 64, seed: 12 }).rows.map((r) =>
        r.map((v, j) => Math.min(description.spec.features[j]!.range!.max!, Math.max(description.spec.features[j]!.range!.min!, v))),
      );

      const maas = await startMaas(ctx.repoRoot, dir, descFile, model);
      targets.push(maas);
      const floor = await startFloor(ctx.repoRoot, descFile, model);
      targets.push(floor);

      const scale = Number(process.env.BENCH_SERVING_SCALE ?? 1);
      const cells: Cell[] = [];
      for (const rowsPer of [1, 64])
        for (const clients of [1, 8, 64])
          cells.push({ clients, rows: rowsPer, requests: Math.round((rowsPer === 1 ? 6000 : 2000) * (clients === 1 ? 0.5 : 1) * scale) });

      const table: Table = {
        title: `Serving (requests/s; latency in ms; medians of ${ROUNDS} alternating rounds; ratios are medians of per-round ratios)`,
        headers: ['rows/req', 'clients', 'requests', 'maas rps', 'floor rps', 'rps ratio', 'maas p50', 'floor p50', 'maas p99', 'floor p99', 'p99 ratio'],
        rows: [],
      };
      const goals: Goal[] = [];
      let errors = 0;
      for (const cell of cells) {
        const body = requestBody(rows.slice(0, cell.rows));
        const runs = await alternatingRounds(targets, body, cell.clients, cell.requests, ROUNDS);
        for (const rs of runs.values()) for (const r of rs) errors += r.errors;
        const results = new Map([...runs].map(([label, rs]) => [label, median(rs)]));
        const m = results.get('maas serve')!;
        const f = results.get('floor')!;
        // Ratios are taken per round (both sides measured back to back), then the median.
        const mRuns = runs.get('maas serve')!;
        const fRuns = runs.get('floor')!;
        const rpsRatio = medianRatio(mRuns, fRuns, 'rps');
        const p99Ratio = medianRatio(mRuns, fRuns, 'p99');
        ctx.log(`serving: ${cell.rows} row(s) x ${cell.clients} clients: maas ${m.rps.toFixed(0)} rps, floor ${f.rps.toFixed(0)} rps`);
        table.rows.push([
          String(cell.rows),
          String(cell.clients),
          String(cell.requests),
          m.rps.toFixed(0),
          f.rps.toFixed(0),
          rpsRatio.toFixed(2),
          m.p50.toFixed(2),
          f.p50.toFixed(2),
          m.p99.toFixed(2),
          f.p99.toFixed(2),
          p99Ratio.toFixed(2),
        ]);
        const name = `${cell.rows} row(s), ${cell.clients} clients`;
        goals.push({ what: `floor rps / maas rps (${name})`, value: 1 / rpsRatio, limit: Number((1 / GOAL_THROUGHPUT).toFixed(3)) });
        goals.push({ what: `maas p99 / floor p99 (${name})`, value: p99Ratio, limit: GOAL_P99 });
      }
      return {
        tables: [table],
        goals,
        notes: [
          `goal: maas requests/s >= ${GOAL_THROUGHPUT}x the floor's and p99 <= ${GOAL_P99}x, per cell (a rps goal is shown as floor/maas <= ${(1 / GOAL_THROUGHPUT).toFixed(3)})`,
          `errors: ${errors}`,
        ],
      };
    } finally {
      for (const t of targets) t.child.kill('SIGTERM');
      await Promise.all(targets.map((t) => (t.child.exitCode === null ? new Promise((r) => t.child.once('exit', r)) : Promise.resolve())));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

// `maas serve --profile` as a real process (the built bin, a real ONNX regression model): drift
// found by the scheduled check and by GET .../drift, the drift thread giving the same reports as
// the serving thread, --strict, and a profile that does not fit refused at startup. Needs
// `npm run build` first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { linearRegressionOnnx } from '../../examples/lib/onnx-writer.js';
import { seededRandom } from '../../src/core/clock.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import type { DriftReport } from '../../src/drift/report.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import type * as CheckModule from '../../src/serving/drift-check.js';
import type * as StatsModule from '../../src/serving/stats.js';
import type * as ModelModule from '../../src/serving/dataplane/model.js';
import { BIN, REPO_ROOT, runCli, tempDir } from '../support/cli.js';

const dist = (p: string) => join(REPO_ROOT, 'dist', 'src', 'serving', p);
const load = async <T>(p: string): Promise<T> => (await import(dist(p))) as T;

const dir = tempDir('maas-serve-drift-');
const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'energy', version: '2' },
  spec: {
    task: 'regression',
    algorithm: 'LinearRegression',
    artifact: { uri: 'file://./energy.onnx', format: 'onnx' },
    features: [
      { name: 'temp', type: 'number', range: { min: -30, max: 50 } },
      { name: 'load', type: 'number' },
      { name: 'wind', type: 'number' },
    ],
    outputs: { name: 'kwh' },
  },
};

function rows(n: number, seed: number, shift = 0): number[][] {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  return Array.from({ length: n }, () => [15 + 5 * normal() + 10 * shift, 3 + normal() + 2 * shift, 5 + 2 * normal()]);
}

function profileOf(data: number[][]): ReferenceProfile {
  const b = new ProfileBuilder(description.spec.features, { random: seededRandom(5) });
  for (const r of data) b.add({ temp: r[0], load: r[1], wind: r[2] });
  return b.finish({ source: { uri: 'file://train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
}

const profile = profileOf(rows(3000, 1));
const descFile = join(dir.path, 'energy.yaml');
const profileFile = join(dir.path, 'profile.json');
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(dist('drift-worker.js'))) throw new Error('run `npm run build` before the integration tests');
  writeFileSync(join(dir.path, 'energy.onnx'), linearRegressionOnnx({ mean: [0, 0, 0], std: [1, 1, 1], weights: [0.5, 2, -1], bias: 3 }));
  writeFileSync(descFile, stringify(description));
  writeFileSync(profileFile, JSON.stringify(profile));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  dir.cleanup();
});

/** Spawns `maas serve` and waits (bounded) for its endpoint file and readiness. */
async function serve(name: string, extra: string[]): Promise<{ url: string; stderr: () => string }> {
  const endpointFile = join(dir.path, `${name}.endpoint.json`);
  const child = spawn(process.execPath, [BIN, 'serve', '--description', descFile, '--port', '0', '--endpoint-file', endpointFile, ...extra], {
    cwd: dir.path,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MAAS_HOME: join(dir.path, 'home'), CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  for (let i = 0; i < 400 && !existsSync(endpointFile) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(endpointFile)) throw new Error(`maas serve did not start: ${err}`);
  const { url } = JSON.parse(readFileSync(endpointFile, 'utf8')) as { url: string };
  for (let i = 0; i < 400; i++) {
    if ((await fetch(`${url}/v2/health/ready`)).status === 200) return { url, stderr: () => err };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`maas serve never became ready: ${err}`);
}

async function infer(url: string, data: number[][], id: string): Promise<void> {
  const res = await fetch(`${url}/v2/models/energy/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, inputs: [{ name: 'input', shape: [data.length, 3], datatype: 'FP64', data: data.flat() }] }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.text();
}

describe('maas serve --profile', () => {
  it('finds drift on its schedule (gauges, event) and on demand', async () => {
    const s = await serve('open', ['--profile', profileFile, '--drift-interval', '150ms']);
    for (let i = 0; i < 4; i++) await infer(s.url, rows(500, 10 + i, 1), `r${i}`);
    let metrics = '';
    for (let i = 0; i < 200 && !/^maas_dataset_drift\{[^}]*\} 1$/m.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`${s.url}/metrics`)).text();
    }
    expect(metrics).toMatch(/^maas_dataset_drift\{model="energy",version="2"\} 1$/m);
    expect(metrics).toMatch(/^maas_drift_detected\{feature="temp",model="energy",version="2"\} 1$/m);
    expect(metrics).toMatch(/^maas_drift_detected\{feature="wind",model="energy",version="2"\} 0$/m);
    expect(s.stderr()).toContain('"event":"drift_detected"');
    const report = (await (await fetch(`${s.url}/v2/models/energy/drift?test=ks&threshold=0.001`)).json()) as DriftReport;
    expect(report.features.map((f) => [f.name, f.test, f.drifted, f.basis])).toEqual([
      ['temp', 'ks', true, 'values'],
      ['load', 'ks', true, 'values'],
      ['wind', 'ks', false, 'values'],
    ]);
  });

  it('--strict keeps no raw rows and tests on histograms', async () => {
    const s = await serve('strict', ['--profile', profileFile, '--strict', '--drift-interval', '0']);
    await infer(s.url, rows(800, 20, 1), 'x');
    const stats = (await (await fetch(`${s.url}/v2/models/energy/stats`)).json()) as { reservoir: { rows: unknown[]; withheld?: string } };
    expect(stats.reservoir.rows).toEqual([]);
    expect(stats.reservoir.withheld).toContain('strict placement');
    const report = (await (await fetch(`${s.url}/v2/models/energy/drift`)).json()) as DriftReport;
    expect(report.features.map((f) => f.basis)).toEqual(['histogram', 'histogram', 'histogram']);
    expect(report.dataset.drifted).toBe(true);
    // No scheduled check with --drift-interval 0: no gauge samples.
    expect(await (await fetch(`${s.url}/metrics`)).text()).not.toMatch(/^maas_dataset_drift\{/m);
  });

  it('refuses a profile that does not fit the model, or is not a profile, at startup', async () => {
    const other = { ...profile, features: profile.features.filter((f) => f.name !== 'wind') };
    writeFileSync(join(dir.path, 'other.json'), JSON.stringify(other));
    const r = await runCli(['serve', '--description', descFile, '--port', '0', '--profile', join(dir.path, 'other.json')], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not fit energy@2: the profile has no feature wind');
    writeFileSync(join(dir.path, 'junk.json'), '{"rows": 3}');
    const junk = await runCli(['serve', '--description', descFile, '--port', '0', '--profile', join(dir.path, 'junk.json')], { cwd: dir.path });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('is not a reference profile');
  });
});

describe('the drift thread', () => {
  it('gives the same reports as the serving thread', async () => {
    const { DriftChecker } = await load<typeof CheckModule>('drift-check.js');
    const { ServingStats } = await load<typeof StatsModule>('stats.js');
    const { compileModel } = await load<typeof ModelModule>('dataplane/model.js');
    const model = compileModel(description);
    const clock = { now: () => Date.UTC(2026, 1, 1) };
    const make = (strict: boolean) => {
      const edges = new Map(profile.features.flatMap((f) => ('histogram' in f ? [[f.name, f.histogram.edges] as const] : [])));
      const stats = new ServingStats(model, { random: seededRandom(3), clock, driftSample: strict ? 0 : 10_000, edges, strict });
      const data = rows(1500, 30, 0.3);
      stats.observe({ rows: data.length, values: Float32Array.from(data.flat()), predictions: data.map((r) => r[0]!) });
      stats.observeFeedback(data.slice(0, 300).map((r, i) => ({ value: r[0]! + (i > 150 ? 5 : 0.1), predictedLabel: null, predictedValue: r[0]! })));
      return stats;
    };
    for (const strict of [false, true]) {
      const stats = make(strict);
      const worker = new DriftChecker({ model, stats, profile, clock, thread: 'worker' });
      const main = new DriftChecker({ model, stats, profile, clock, thread: 'main' });
      try {
        const [a, b] = [await worker.report({ test: 'wasserstein' }), await main.report({ test: 'wasserstein' })];
        expect(a).toEqual(b);
        expect(a.concept?.labelled).toBe(300);
        expect(a.features.every((f) => f.basis === (strict ? 'histogram' : 'values'))).toBe(true);
      } finally {
        await worker.close();
        await main.close();
      }
    }
  });
});

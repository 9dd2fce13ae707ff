// The model server's cost of watching drift: requests/s of `maas serve` with a reference profile
// (the window keeps up to 10,000 rows, histograms on the profile's edges, out-of-range counts,
// and recomputes drift every minute on its worker thread) against the same server without one
// (the live statistics only). Goal: throughput drops by at most 3 %.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHar, harToCsv, harToRequests } from '../examples/har/generate.js';
import { harDescription, trainHar } from '../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../examples/lib/mlp.js';
import { seededRandom } from '../src/core/clock.js';
import { ProfileBuilder } from '../src/drift/profile.js';
import type { ModelDescription } from '../src/spec/schema.js';
import type { Benchmark, Goal, Table } from './report.js';
import { alternatingRounds, median, medianRatio, requestBody, startMaas, type Target } from './serving.js';

export const GOAL_DROP = 0.03;
const ROUNDS = Number(process.env.BENCH_SERVING_ROUNDS ?? 7);

export const driftWindow: Benchmark = {
  name: 'drift-window',
  description: '`maas serve` with drift monitoring (profile, window kept, checks on the default 1-minute schedule) vs without: requests/s',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'maas-bench-drift-window-'));
    const targets: Target[] = [];
    try {
      const options = { ...DEFAULT_MLP_OPTIONS, epochs: 10, seed: 3, testFraction: 0.2 };
      const train = generateHar({ rows: 1500, seed: 11 });
      const trained = trainHar(harToCsv(train), options);
      const description: ModelDescription = harDescription(trained, { name: 'har-classifier', version: '1', options });
      const model = join(dir, 'model.onnx');
      writeFileSync(model, trained.onnx);
      const descFile = join(dir, 'model.json');
      writeFileSync(descFile, JSON.stringify(description));
      const builder = new ProfileBuilder(
        description.spec.features.map((f) => ({ name: f.name, type: f.type })),
        { random: seededRandom(1) },
      );
      for (const r of harToRequests(train)) builder.add(r);
      const profileFile = join(dir, 'profile.json');
      writeFileSync(profileFile, JSON.stringify(builder.finish({ source: { uri: 'file:///train.csv' }, createdAt: new Date(0).toISOString() })));
      const rows = generateHar({ rows: 64, seed: 12 }).rows;

      const plain = await startMaas(ctx.repoRoot, dir, descFile, model, [], 'without drift');
      targets.push(plain);
      const watched = await startMaas(ctx.repoRoot, dir, descFile, model, ['--profile', profileFile], 'with drift');
      targets.push(watched);

      const table: Table = {
        title: `Serving with and without drift monitoring (requests/s, p99 ms; medians of ${ROUNDS} alternating rounds)`,
        headers: ['rows/req', 'clients', 'requests', 'without rps', 'with rps', 'with / without', 'without p99', 'with p99'],
        rows: [],
      };
      const goals: Goal[] = [];
      for (const cell of [
        { rows: 1, clients: 8, requests: 6000 },
        { rows: 64, clients: 8, requests: 2000 },
      ]) {
        const body = requestBody(rows.slice(0, cell.rows));
        const runs = await alternatingRounds(targets, body, cell.clients, cell.requests, ROUNDS);
        const w = runs.get('with drift')!;
        const o = runs.get('without drift')!;
        const ratio = medianRatio(w, o, 'rps');
        const mw = median(w);
        const mo = median(o);
        table.rows.push([
          String(cell.rows),
          String(cell.clients),
          String(cell.requests),
          mo.rps.toFixed(0),
          mw.rps.toFixed(0),
          ratio.toFixed(3),
          mo.p99.toFixed(2),
          mw.p99.toFixed(2),
        ]);
        goals.push({
          what: `throughput drop with drift monitoring (${cell.rows} row(s), ${cell.clients} clients)`,
          value: Math.max(0, 1 - ratio),
          limit: GOAL_DROP,
        });
      }
      return { tables: [table], goals, notes: ['ratios are medians of per-round ratios (both servers measured back to back)'] };
    } finally {
      for (const t of targets) t.child.kill('SIGTERM');
      await Promise.all(targets.map((t) => (t.child.exitCode === null ? new Promise((r) => t.child.once('exit', r)) : Promise.resolve())));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

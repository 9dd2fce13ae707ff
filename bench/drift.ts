// Drift: an offline check of 1,000,000 current rows x 20 numeric features against a
// 100,000-row reference (two-sample KS and Wasserstein per feature), in maas and in scipy on
// the very same numbers (written once as raw float64 files that numpy maps). Goal: maas within
// 2x of scipy. The time of each side covers the tests only, with the data already in memory.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../src/core/clock.js';
import { runTest } from '../src/drift/stats/index.js';
import type { Benchmark } from './report.js';

const FEATURES = Number(process.env.BENCH_DRIFT_FEATURES ?? 20);
const CURRENT_ROWS = Number(process.env.BENCH_DRIFT_ROWS ?? 1_000_000);
const REFERENCE_ROWS = Math.round(CURRENT_ROWS / 10);
const ROUNDS = 3;
export const GOAL_VS_SCIPY = 2;

function normals(seed: number, n: number, shift: number): Float64Array {
  const rng = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t) + shift;
    if (i + 1 < n) out[i + 1] = r * Math.sin(t) + shift;
  }
  return out;
}

const SCIPY = `
import sys, time, json
import numpy as np
from scipy import stats
d, f, n, m, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ref = np.fromfile(d + '/ref.f64', dtype='<f8').reshape(f, m)
cur = np.fromfile(d + '/cur.f64', dtype='<f8').reshape(f, n)
times, out = [], []
for _ in range(rounds):
    t = time.perf_counter(); out = []
    for j in range(f):
        ks = stats.ks_2samp(ref[j], cur[j])
        wd = stats.wasserstein_distance(ref[j], cur[j]) / max(np.std(ref[j]), 0.001)
        out.append([float(ks.statistic), float(ks.pvalue), float(wd)])
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds": sorted(times)[len(times)//2], "results": out}))
`;

export const drift: Benchmark = {
  name: 'drift',
  description: `offline drift check, ${CURRENT_ROWS.toLocaleString('en')} x ${FEATURES} numeric vs ${REFERENCE_ROWS.toLocaleString('en')} reference rows (KS + Wasserstein), maas vs scipy`,
  async run(ctx) {
    ctx.log('generating data');
    const ref: Float64Array[] = [];
    const cur: Float64Array[] = [];
    for (let j = 0; j < FEATURES; j++) {
      ref.push(normals(2 * j + 1, REFERENCE_ROWS, 0));
      // A quarter of the features shifted, so both drifted and stable columns are timed.
      cur.push(normals(2 * j + 2, CURRENT_ROWS, j % 4 === 0 ? 0.2 : 0));
    }
    const concat = (cols: Float64Array[], n: number): Buffer => {
      const all = new Float64Array(cols.length * n);
      cols.forEach((c, j) => all.set(c, j * n));
      return Buffer.from(all.buffer);
    };
    writeFileSync(join(ctx.outDir, 'ref.f64'), concat(ref, REFERENCE_ROWS));
    writeFileSync(join(ctx.outDir, 'cur.f64'), concat(cur, CURRENT_ROWS));

    ctx.log('maas');
    const times: number[] = [];
    let results: number[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t = performance.now();
      results = [];
      for (let j = 0; j < FEATURES; j++) {
        const r = { kind: 'numeric' as const, values: ref[j]! };
        const c = { kind: 'numeric' as const, values: cur[j]! };
        const ks = runTest('ks', r, c);
        const wd = runTest('wasserstein', r, c);
        results.push([ks.statistic, ks.pValue ?? Number.NaN, wd.statistic]);
      }
      times.push((performance.now() - t) / 1000);
    }
    const maasSeconds = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

    ctx.log('scipy');
    const py = spawnSync('python3', ['-c', SCIPY, ctx.outDir, String(FEATURES), String(CURRENT_ROWS), String(REFERENCE_ROWS), String(ROUNDS)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const rows = [['maas (TypeScript)', maasSeconds.toFixed(2), '1.00x']];
    const notes: string[] = [];
    const goals = [];
    if (py.status === 0) {
      const scipy = JSON.parse(py.stdout) as { seconds: number; results: number[][] };
      rows.push(['scipy (ks_2samp + wasserstein_distance)', scipy.seconds.toFixed(2), (scipy.seconds / maasSeconds).toFixed(2) + 'x']);
      let maxDiff = 0;
      scipy.results.forEach((s, j) => s.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - results[j]![k]!)))));
      notes.push(`largest difference from scipy over statistics, p-values and distances: ${maxDiff.toExponential(2)}`);
      goals.push({ what: 'maas seconds / scipy seconds', value: maasSeconds / scipy.seconds, limit: GOAL_VS_SCIPY });
    } else {
      notes.push(`scipy not available (${(py.stderr || py.error?.message || '').trim().split('\n').pop()}); maas figure only`);
    }
    notes.push(`median of ${ROUNDS} rounds; ${FEATURES} features, each KS (asymptotic p-value at these sizes) and normed Wasserstein`);
    return {
      tables: [{ title: 'offline drift check, seconds (tests only, data in memory)', headers: ['implementation', 'seconds', 'relative to maas'], rows }],
      goals,
      notes,
    };
  },
};

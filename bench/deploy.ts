// Deploy latency of the local target, whole processes as a user runs them: `maas deploy` until
// ready for a new deployment, and again for a cached (scaled-to-zero) one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHarModel } from '../examples/har/quick-model.js';
import { ms, summarise } from './measure.js';
import type { Benchmark } from './report.js';

export const deploy: Benchmark = {
  name: 'deploy',
  description: 'time from `maas deploy` to ready (local target), new and from cache',
  async run(ctx) {
    const dir = join(ctx.outDir, 'deploy');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const model = writeHarModel(dir);
    const bin = join(ctx.repoRoot, 'bin', 'maas.js');
    const env = { ...process.env, MAAS_HOME: join(dir, 'home'), CI: '1' };
    const maas = (args: string[]): { ms: number; out: string } => {
      const start = performance.now();
      const r = spawnSync(process.execPath, [bin, ...args], { env, cwd: dir, encoding: 'utf8' });
      const took = performance.now() - start;
      if (r.status !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return { ms: took, out: r.stdout };
    };
    maas(['register', model.descriptionFile]);
    const rounds = Math.max(5, Math.min(ctx.runs, 15));
    const fresh: number[] = [];
    const cached: number[] = [];
    const decommission: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const created = maas(['deploy', 'har-classifier@1', '-o', 'json']);
      fresh.push(created.ms);
      const id = (JSON.parse(created.out) as { id: string }).id;
      decommission.push(maas(['decommission', id]).ms);
      cached.push(maas(['deploy', 'har-classifier@1']).ms);
      maas(['decommission', id, '--purge']);
    }
    const rows = [
      summarise('deploy (new) -> ready', fresh),
      summarise('deploy (cached) -> ready', cached),
      summarise('decommission (scale to zero)', decommission),
    ].map((t) => [t.label, ms(t.median), ms(t.p90), ms(t.min)]);
    return {
      tables: [{ title: `Local deploy (${rounds} rounds, whole CLI processes)`, headers: ['step', 'median', 'p90', 'min'], rows }],
      goals: [],
    };
  },
};

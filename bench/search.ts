// Search at scale: a registry of 100,000 model versions (bulk-loaded once and kept in bench/out),
// then whole-process `maas search` runs against it. Goal: each query <= 4x `node -e 0`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveHome } from '../src/core/home.js';
import { SqliteRegistry } from '../src/registry/sqlite/sqlite-registry.js';
import { MIGRATIONS } from '../src/registry/sqlite/migrations.js';
import { generateModels } from './model-fixtures.js';
import { ms, timeAll, type Command } from './measure.js';
import type { BenchContext, Benchmark } from './report.js';

export const GOAL_RATIO = 4;
const VERSIONS = 100_000;
/** Bump when the fixture generator changes, so a stale cached registry is rebuilt. */
const FIXTURE_REVISION = 1;

const QUERIES: { label: string; args: string[] }[] = [
  { label: 'task only (broad)', args: ['--task', 'classification'] },
  { label: 'task+feature+metric+cpu', args: ['--kind', 'classification', '--feature', 'acc_x_mean:number', '--min', 'accuracy=0.9', '--max-cpu', '1'] },
  { label: 'free text + task', args: ['walking', '--task', 'classification'] },
  { label: 'label+metric+memory', args: ['--label', 'team=risk', '--min', 'f1=0.8', '--max-memory', '1Gi'] },
  { label: 'error metric+latency, json', args: ['--task', 'regression', '--min', 'rmse=0.5', '--max-latency', '50', '-o', 'json'] },
  { label: 'all versions, feature+metric', args: ['--all-versions', '--feature', 'acc_x_mean', '--min', 'accuracy=0.95'] },
  { label: 'no requirements', args: [] },
  {
    label: 'explain (near misses)',
    args: ['--kind', 'classification', '--feature', 'acc_x_mean:number', '--min', 'accuracy=0.9', '--max-cpu', '1', '--explain'],
  },
];

/** Builds the registry unless an identical one is already there; returns build seconds or undefined when reused. */
function ensureRegistry(ctx: BenchContext, dir: string): number | undefined {
  const marker = join(dir, 'fixture.json');
  const want = JSON.stringify({ versions: VERSIONS, revision: FIXTURE_REVISION, schema: MIGRATIONS.length });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return undefined;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  ctx.log(`building a registry of ${VERSIONS.toLocaleString('en')} versions in ${dir} ...`);
  const start = performance.now();
  const home = resolveHome({}, dir, dir);
  const registry = SqliteRegistry.open({ file: home.registryDb });
  try {
    registry.importModels(generateModels(VERSIONS));
    registry.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    registry.close();
  }
  writeFileSync(marker, want);
  return (performance.now() - start) / 1000;
}

export const search: Benchmark = {
  name: 'search',
  description: `\`maas search\` over ${VERSIONS.toLocaleString('en')} model versions vs \`node -e 0\``,
  async run(ctx) {
    const dir = join(ctx.outDir, 'search-registry');
    const built = ensureRegistry(ctx, dir);
    const bin = join(ctx.repoRoot, 'bin', 'maas.js');
    const env = { MAAS_HOME: dir, NO_COLOR: '1', CI: '1' };
    const commands: Command[] = [{ label: 'node -e 0', args: ['-e', '0'] }, ...QUERIES.map((q) => ({ label: q.label, args: [bin, 'search', ...q.args], env }))];
    const [base, ...timings] = timeAll(commands, ctx.runs);
    if (!base) throw new Error('missing baseline');
    const rows = [[base.label, '', ms(base.median), ms(base.p90), '1.00']];
    timings.forEach((t, i) =>
      rows.push([t.label, `maas search ${QUERIES[i]?.args.join(' ') ?? ''}`.trim(), ms(t.median), ms(t.p90), (t.median / base.median).toFixed(2)]),
    );
    const worst = timings.reduce((w, t) => (t.median > w.median ? t : w));
    return {
      tables: [
        {
          title: `Search over ${VERSIONS.toLocaleString('en')} versions (${ctx.runs} runs each)`,
          headers: ['query', 'command', 'median', 'p90', 'ratio'],
          rows,
        },
      ],
      goals: [{ what: `slowest search (${worst.label}) / node -e 0 (median)`, value: worst.median / base.median, limit: GOAL_RATIO }],
      notes: [built === undefined ? `registry reused from ${dir}` : `registry built in ${built.toFixed(1)} s (${dir})`],
    };
  },
};

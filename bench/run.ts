// Runs every benchmark (or those named on the command line) and prints their figures.
// Add a benchmark by writing a module that exports a Benchmark and listing it here.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatTable, type BenchContext, type Benchmark } from './report.js';
import { startup } from './startup.js';
import { search } from './search.js';
import { serving } from './serving.js';
import { deploy } from './deploy.js';
import { output } from './output.js';
import { drift } from './drift.js';
import { driftWindow } from './drift-window.js';
import { compose } from './compose.js';
import { controlPlane } from './control-plane.js';

const BENCHMARKS: Benchmark[] = [startup, search, serving, deploy, output, drift, driftWindow, compose, controlPlane];

async function main(argv: string[]): Promise<number> {
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  // dist/bench/run.js -> repository root
  const repoRoot = resolve(import.meta.dirname, '..', '..');
  const ctx: BenchContext = {
    repoRoot,
    outDir: resolve(repoRoot, 'bench', 'out'),
    runs: Number(process.env.BENCH_RUNS ?? 30),
    log: (m) => void process.stderr.write(`${m}\n`),
  };
  mkdirSync(ctx.outDir, { recursive: true });
  let missed = 0;
  for (const b of BENCHMARKS.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
    process.stdout.write(`\n== ${b.name}: ${b.description}\n`);
    const report = await b.run(ctx);
    for (const t of report.tables) process.stdout.write(`\n${formatTable(t)}\n`);
    for (const n of report.notes ?? []) process.stdout.write(`${n}\n`);
    for (const g of report.goals) {
      const ok = g.value <= g.limit;
      if (!ok) missed++;
      process.stdout.write(`goal: ${g.what} = ${g.value.toFixed(2)} (limit ${g.limit}) ${ok ? 'met' : 'MISSED'}\n`);
    }
  }
  return missed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));

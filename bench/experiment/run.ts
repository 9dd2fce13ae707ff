// npm run experiment: the adaptive recomposition experiment, an offline seeded simulation of the
// published adaptive MLaaS composition method's evaluation (README "Adaptive recomposition
// experiment"). Prints Table 1, Figure 2 and Figure 3 as tables and writes SVG plots and a JSON
// of every figure to bench/out/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatTable, type Table } from '../report.js';
import { adaptCell, type CellResult } from './adapt.js';
import { assessmentFigure, METHODS } from './assessment-time.js';
import { digitsTask, harTask } from './data.js';
import { buildMarketplace, HIDDEN_SIZES, type Marketplace } from './marketplace.js';
import { CANDIDATE_COUNTS, REPEATS, scaleFigure, SCALE_STRATEGIES } from './scale.js';
import { linePlot } from './svg.js';

const SEED = Number(process.env.EXPERIMENT_SEED ?? 7);

/** Table 1 of the paper (accuracy %, adaptive / QoS-based / rule-based); digits is compared with its MNIST columns. */
const PUBLISHED: Record<string, { adaptive: number; qos: number; rule: number }> = {
  'har-16': { adaptive: 95.4, qos: 53.28, rule: 62.9 },
  'har-32': { adaptive: 95.36, qos: 69.87, rule: 66.1 },
  'har-64': { adaptive: 95.41, qos: 55.93, rule: 61.21 },
  'digits-16': { adaptive: 96.75, qos: 88.82, rule: 44.47 },
  'digits-32': { adaptive: 96.29, qos: 90.77, rule: 56.86 },
  'digits-64': { adaptive: 93.59, qos: 73.96, rule: 58.99 },
};

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
/** A share as a percentage with two significant digits, without exponent notation. */
const share = (f: number): string => (f >= 1 ? '100 %' : `${Number((100 * f).toPrecision(2))} %`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

function accuracyOf(c: CellResult, strategy: string): number {
  return c.outcomes.find((o) => o.strategy === strategy)!.accuracy;
}

function table1(cells: CellResult[]): { table: Table; notes: string[] } {
  const rows = cells.map((c) => {
    const o = (s: string): CellResult['outcomes'][number] => c.outcomes.find((x) => x.strategy === s)!;
    const pub = PUBLISHED[`${c.task}-${c.hidden}`]!;
    const lin = o('linucb');
    const brute = o('brute-force');
    return [
      `${c.task}-${c.hidden}`,
      pct(c.beforeDrift),
      pct(c.driftedTest),
      `${c.underperforming.length}${c.kept.length ? ` (${c.kept.length} kept)` : ''}`,
      pct(o('qos-only').accuracy),
      pct(o('rule-based').accuracy),
      pct(lin.accuracy),
      pct(brute.accuracy),
      `${lin.evaluations}/${brute.evaluations}`,
      `${pub.adaptive} / ${pub.qos} / ${pub.rule}`,
    ];
  });
  const beatsStrict = cells.filter((c) => accuracyOf(c, 'linucb') > Math.max(accuracyOf(c, 'qos-only'), accuracyOf(c, 'rule-based')));
  const beatsOrTies = cells.filter((c) => accuracyOf(c, 'linucb') >= Math.max(accuracyOf(c, 'qos-only'), accuracyOf(c, 'rule-based')));
  const nearBrute = cells.filter((c) => accuracyOf(c, 'linucb') >= accuracyOf(c, 'brute-force') - 0.01);
  const mean = (s: string): number => cells.reduce((a, c) => a + accuracyOf(c, s), 0) / cells.length;
  const notes = [
    `mean over cells: adaptive (linucb) ${pct(mean('linucb'))} %, qos-only ${pct(mean('qos-only'))} %, rule-based ${pct(mean('rule-based'))} %, brute force ${pct(mean('brute-force'))} %`,
    `published means: adaptive ${avg((p) => p.adaptive)} %, QoS-based ${avg((p) => p.qos)} %, rule-based ${avg((p) => p.rule)} % (same six columns)`,
    `adaptive beats both baselines in ${beatsStrict.length}/${cells.length} cells (strictly), at least ties them in ${beatsOrTies.length}/${cells.length}: ${
      beatsStrict.length === cells.length
        ? 'yes'
        : `no (${cells
            .filter((c) => !beatsStrict.includes(c))
            .map((c) => `${c.task}-${c.hidden}`)
            .join(', ')})`
    }`,
    `adaptive within 1 point of brute force in ${nearBrute.length}/${cells.length} cells: ${
      nearBrute.length === cells.length
        ? 'yes'
        : `no (${cells
            .filter((c) => !nearBrute.includes(c))
            .map((c) => `${c.task}-${c.hidden}: ${pct(accuracyOf(c, 'linucb'))} vs ${pct(accuracyOf(c, 'brute-force'))}`)
            .join(', ')})`
    }`,
  ];
  return {
    table: {
      title: 'Table 1: composition accuracy (%) on the drifted test window after adaptation (digits ~ the paper MNIST columns)',
      headers: ['cell', 'before drift', 'drifted', 'weak', 'qos-only', 'rule-based', 'adaptive', 'brute force', 'evals ad/bf', 'published ad / QoS / rule'],
      rows,
    },
    notes,
  };
}

function avg(f: (p: { adaptive: number; qos: number; rule: number }) => number): string {
  const v = Object.values(PUBLISHED);
  return (v.reduce((a, p) => a + f(p), 0) / v.length).toFixed(1);
}

async function main(): Promise<void> {
  const started = performance.now();
  const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
  const outDir = resolve(repoRoot, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });

  log(`adaptive recomposition experiment, seed ${SEED}`);
  const markets: Marketplace[] = [];
  for (const task of [harTask(SEED), digitsTask(repoRoot, SEED)]) {
    const t0 = performance.now();
    markets.push(buildMarketplace(task, SEED));
    log(`${task.name}: trained ${markets.at(-1)!.services.length} services in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const services = markets.reduce((a, m) => a + m.services.length, 0);

  // Table 1
  const cells = markets.flatMap((m) => HIDDEN_SIZES.map((h) => adaptCell(m, h, SEED)));
  const t1 = table1(cells);
  process.stdout.write(`\n${formatTable(t1.table)}\n`);
  for (const n of t1.notes) process.stdout.write(`${n}\n`);

  // Figure 2
  log('figure 2: decision time vs candidate services');
  const digits = markets.find((m) => m.task.name === 'digits')!;
  const scale = scaleFigure(digits, SEED, log);
  const f2: Table = {
    title: `Figure 2: decision time (ms, median of ${REPEATS}; brute force once) and share of combinations evaluated, vs candidate services (2 weak members)`,
    headers: ['candidates', 'combinations', ...SCALE_STRATEGIES.map((s) => `${s} ms`), ...SCALE_STRATEGIES.map((s) => `${s} evaluated`)],
    rows: CANDIDATE_COUNTS.map((n) => {
      const at = scale.filter((p) => p.candidates === n);
      const get = (s: string): (typeof scale)[number] => at.find((p) => p.strategy === s)!;
      return [
        String(n),
        String(at[0]!.combinations),
        ...SCALE_STRATEGIES.map((s) => (get(s).estimated ? `~${get(s).ms.toFixed(0)} (est.)` : get(s).ms.toFixed(1))),
        ...SCALE_STRATEGIES.map((s) => share(get(s).fraction)),
      ];
    }),
  };
  process.stdout.write(`\n${formatTable(f2)}\n`);

  // Figure 3
  log('figure 3: assessment time per round');
  const assessment = assessmentFigure(digits, 32, SEED, log);
  const counts = [...new Set(assessment.map((p) => p.members))];
  const f3: Table = {
    title:
      'Figure 3: assessment time per round (ms, median of 7 after a warm-up) on the labelled window, digits hidden 32; Shapley exact up to 10 members, sampled above',
    headers: ['members', ...METHODS],
    rows: counts.map((n) => [
      String(n),
      ...METHODS.map((mt) => {
        const p = assessment.find((x) => x.members === n && x.method === mt)!;
        return mt === 'shapley' && p.exact === false ? `${p.ms.toFixed(2)} (${p.permutations} perm.)` : p.ms.toFixed(2);
      }),
    ]),
  };
  process.stdout.write(`\n${formatTable(f3)}\n`);

  // Files
  writeFileSync(
    resolve(outDir, 'experiment-figure2.svg'),
    linePlot(
      SCALE_STRATEGIES.map((s) => ({
        name: s,
        points: scale.filter((p) => p.strategy === s).map((p) => ({ x: p.candidates, y: p.ms, estimated: p.estimated })),
      })),
      { title: 'Decision time vs candidate services', xLabel: 'candidate services', yLabel: 'decision time (ms)', logY: true },
    ),
  );
  writeFileSync(
    resolve(outDir, 'experiment-figure2-evaluated.svg'),
    linePlot(
      SCALE_STRATEGIES.map((s) => ({
        name: s,
        points: scale.filter((p) => p.strategy === s).map((p) => ({ x: p.candidates, y: 100 * p.fraction, estimated: p.estimated })),
      })),
      { title: 'Share of combinations evaluated', xLabel: 'candidate services', yLabel: 'evaluated (%)', logY: true },
    ),
  );
  writeFileSync(
    resolve(outDir, 'experiment-figure3.svg'),
    linePlot(
      METHODS.map((mt) => ({
        name: mt,
        points: assessment.filter((p) => p.method === mt).map((p) => ({ x: p.members, y: p.ms, estimated: p.exact === false })),
      })),
      { title: 'Assessment time per round', xLabel: 'members', yLabel: 'time per round (ms)', logY: true, markedAs: 'sampled' },
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(
    resolve(outDir, 'experiment.json'),
    `${JSON.stringify({ seed: SEED, services, seconds, table1: cells, published: PUBLISHED, figure2: scale, figure3: assessment }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  process.stdout.write(
    `\n${services} services, ${cells.length} cells; ${seconds.toFixed(1)} s. Wrote bench/out/experiment.json and experiment-figure{2,2-evaluated,3}.svg\n`,
  );
}

await main();

// Output: rendering 150,000 predictions in each format, the streaming renderer against the naive
// one-string baseline (JSON.stringify, yaml.stringify, joined lines), each in its own process so
// that peak RSS is that of one render. Run as a child:
//   node dist/bench/output.js --child streaming|naive FORMAT ROWS
// writes to stdout (/dev/null here) and prints {"ms", "rss", "peak"} on stderr.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Chalk } from 'chalk';
import { predictionRows } from '../src/app/predict.js';
import { predictionColumns } from '../src/cli/commands/predict.js';
import { renderResult, type CommandResult, type OutputFormat, type Style } from '../src/cli/output.js';
import type { InferResponse } from '../src/protocol/oip.js';
import type { Benchmark } from './report.js';

const ROWS = 150_000;
/** Extra RSS any format may take to render: one-string rendering of the JSON alone takes more. */
export const GOAL_RENDER_MB = 32;
const FORMATS: OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];
const MODES = ['streaming', 'naive'] as const;
type Mode = (typeof MODES)[number];

interface Figures {
  ms: number;
  /** RSS with the result built, before rendering. */
  rss: number;
  /** Peak RSS of the process. */
  peak: number;
}

/** A classifier's answer for `n` rows, as the model server sends it. */
function response(n: number): InferResponse {
  const labels = ['walking', 'sitting', 'standing', 'climbing_stairs'];
  const label = new Array<string>(n);
  const probs = new Array<number>(n * 4);
  for (let i = 0; i < n; i++) {
    label[i] = labels[i % 4] ?? '';
    for (let j = 0; j < 4; j++) probs[i * 4 + j] = Math.fround(j === i % 4 ? 0.7 + (i % 10) / 40 : (0.3 - (i % 10) / 40) / 3);
  }
  // Each array parsed from text, as the client receives it: V8 lays out arrays built in place
  // differently, and walking those grows the heap. One array at a time keeps the setup's peak low.
  const parsed = <T>(xs: T[]): T[] => JSON.parse(JSON.stringify(xs)) as T[];
  return {
    id: '3f9c2a',
    model_name: 'har',
    model_version: '1',
    outputs: [
      { name: 'label', shape: [n], datatype: 'BYTES', data: parsed(label) },
      { name: 'probabilities', shape: [n, 4], datatype: 'FP32', data: parsed(probs) },
    ],
  };
}

/** What the renderer replaced: every format built as one string, then written at once. */
async function naive(result: CommandResult, format: OutputFormat, style: Style): Promise<string> {
  if (format === 'json') return `${JSON.stringify(result.data, null, 2)}\n`;
  if (format === 'yaml') return (await import('yaml')).stringify(result.data, { lineWidth: 0 });
  if (format === 'name') return `${(result.names ?? []).join('\n')}\n`;
  const { columns, rows } = result.table as { columns: ReturnType<typeof predictionColumns>; rows: ReturnType<typeof predictionRows> };
  const cells = rows.map((r) => columns.map((c) => c.value(r, style)));
  const widths = columns.map((c) => c.header.length);
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (cs: string[]): string =>
    cs
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd();
  return `${[line(columns.map((c) => style.bold(c.header.toUpperCase()))), ...cells.map(line)].join('\n')}\n`;
}

async function child(mode: Mode, format: OutputFormat, n: number): Promise<void> {
  const data = response(n);
  const rows = predictionRows(data);
  const result: CommandResult = { data, table: { columns: predictionColumns(rows), rows }, names: rows.map((r) => r.id) };
  const style = new Chalk({ level: 0 });
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const start = performance.now();
  if (mode === 'streaming') await renderResult(result, format, process.stdout, { write: () => true }, style);
  else process.stdout.write(await naive(result, format, style));
  const ms = performance.now() - start;
  const figures: Figures = { ms, rss, peak: process.resourceUsage().maxRSS * 1024 };
  process.stderr.write(`${JSON.stringify(figures)}\n`);
}

function measure(mode: Mode, format: OutputFormat, n: number): Figures {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', mode, format, String(n)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${mode} ${format} exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as Figures;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export const output: Benchmark = {
  name: 'output',
  description: `rendering ${ROWS.toLocaleString('en')} predictions per format: streaming vs one string`,
  async run(ctx) {
    const runs = Math.max(1, Math.min(ctx.runs, 3));
    const rows: string[][] = [];
    let worst = 0;
    for (const format of FORMATS) {
      const got = MODES.map((mode) => {
        ctx.log(`output: ${format} ${mode} x${runs}`);
        const all = Array.from({ length: runs }, () => measure(mode, format, ROWS));
        return { ms: median(all.map((f) => f.ms)), rss: median(all.map((f) => f.rss)), peak: median(all.map((f) => f.peak)) };
      });
      const [s, b] = got as [Figures, Figures];
      worst = Math.max(worst, (s.peak - s.rss) / 2 ** 20);
      rows.push([format, `${s.ms.toFixed(0)} ms`, `${b.ms.toFixed(0)} ms`, mb(s.peak), mb(b.peak), mb(s.peak - s.rss), mb(b.peak - b.rss)]);
    }
    return {
      tables: [
        {
          title: `Output of ${ROWS.toLocaleString('en')} predictions to /dev/null (median of ${runs} processes each)`,
          headers: ['format', 'streaming', 'naive', 'peak RSS streaming', 'peak RSS naive', 'render RSS streaming', 'render RSS naive'],
          rows,
        },
      ],
      goals: [{ what: 'most extra RSS of a streaming render (MB)', value: worst, limit: GOAL_RENDER_MB }],
      notes: [
        'render RSS: peak RSS minus RSS with the result built; naive builds the whole text first.',
        'The previous table renderer (cli-table3) overflows the stack at this size, so the naive table baseline is a plain join.',
      ],
    };
  },
};

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [, , , mode, format, n] = process.argv;
  await child(mode as Mode, format as OutputFormat, Number(n));
}

// What a benchmark hands back to the runner: titled tables of figures and goal verdicts.

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
}

export interface Goal {
  what: string;
  value: number;
  limit: number;
}

export interface Report {
  tables: Table[];
  goals: Goal[];
  notes?: string[];
}

export interface BenchContext {
  repoRoot: string;
  /** Scratch space kept between runs (bench/out, git-ignored). */
  outDir: string;
  /** Timed runs per command. */
  runs: number;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Report>;
}

const NUMERIC = /^-?[0-9.,]+( ?[a-z%]+)?$/;

/** Plain-text table: figures right-aligned, text left-aligned. */
export function formatTable(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const numeric = t.headers.map((_h, i) => t.rows.every((r) => (r[i] ?? '') === '' || NUMERIC.test(r[i] ?? '')));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [t.title, line(t.headers), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}

// One renderer for every command: a command returns data plus an optional table or text view,
// and this module prints it as table, wide, json, yaml or name.
import type { ChalkInstance } from 'chalk';
import type { OutStream } from './io.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Style = ChalkInstance;

export interface Column<T> {
  header: string;
  value: (row: T, style: Style) => string;
  /** Only shown with `-o wide`. */
  wide?: boolean;
}

export interface TableView<T> {
  columns: Column<T>[];
  rows: T[];
  /** Printed on stderr when there are no rows (human formats only). */
  empty?: string;
}

export interface CommandResult {
  /** What json and yaml print; the canonical result. */
  data: unknown;
  /** Human view as a table (table/wide). */
  table?: TableView<never> | TableView<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Human view as free text (used when there is no table). */
  text?: (style: Style) => string;
  /** What `-o name` prints, one per line. */
  names?: string[];
  /** Diagnostics for humans, always on stderr. */
  notes?: string[];
  /** Non-zero exit without an error (e.g. validation problems, drift found). */
  exitCode?: number;
}

export function isMachineFormat(format: OutputFormat): boolean {
  return format === 'json' || format === 'yaml';
}

/** Converts values that JSON/YAML cannot show as-is (bigint, Map, Set, Date stays ISO). */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Map) return Object.fromEntries(v) as unknown;
      if (v instanceof Set) return [...(v as Set<unknown>)];
      return v;
    }) ?? 'null',
  );
}

export async function renderResult(result: CommandResult, format: OutputFormat, out: OutStream, err: OutStream, style: Style): Promise<void> {
  switch (format) {
    case 'json':
      out.write(`${JSON.stringify(plain(result.data), null, 2)}\n`);
      return;
    case 'yaml': {
      const { stringify } = await import('yaml');
      out.write(stringify(plain(result.data), { lineWidth: 0 }));
      return;
    }
    case 'name': {
      for (const n of result.names ?? []) out.write(`${n}\n`);
      return;
    }
    default:
      break;
  }
  for (const note of result.notes ?? []) err.write(`${note}\n`);
  if (result.table) {
    const { rows, columns, empty } = result.table as TableView<unknown>;
    if (rows.length === 0) {
      if (empty) err.write(`${empty}\n`);
    } else {
      const cols = columns.filter((c) => format === 'wide' || !c.wide);
      out.write(
        `${await formatTable(
          cols.map((c) => c.header),
          rows.map((r) => cols.map((c) => c.value(r, style))),
          style,
        )}\n`,
      );
    }
  }
  if (result.text) {
    const text = result.text(style);
    if (text) out.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  if (!result.table && !result.text && result.data !== undefined) {
    const { stringify } = await import('yaml');
    out.write(stringify(plain(result.data), { lineWidth: 0 }));
  }
}

/** kubectl-like borderless table. */
export async function formatTable(headers: string[], rows: string[][], style: Style): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: headers.map((h) => style.bold(h.toUpperCase())),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of rows) table.push(r);
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

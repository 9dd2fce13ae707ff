// One renderer for every command: a command returns data plus an optional table or text view,
// and this module prints it as table, wide, json, yaml or name. Everything is written in chunks
// as it is produced, so a result of any size prints without one string holding all of it.
import type { ChalkInstance } from 'chalk';
import type { OutStream } from './io.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Style = ChalkInstance;

export interface Column<T> {
  header: string;
  /** Called once to measure and once to print each row, so it must be pure. */
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

/** `quiet` (-q) leaves out the notes and the "nothing found" lines on stderr; results stay. */
export async function renderResult(
  result: CommandResult,
  format: OutputFormat,
  out: OutStream,
  err: OutStream,
  style: Style,
  opts: { quiet?: boolean } = {},
): Promise<void> {
  switch (format) {
    case 'json':
      await writeChunks(out, jsonChunks(result.data));
      return;
    case 'yaml':
      await writeYaml(out, result.data);
      return;
    case 'name':
      await writeChunks(out, lines(result.names ?? []));
      return;
    default:
      break;
  }
  const say = opts.quiet ? (): void => {} : (line: string): void => void err.write(`${line}\n`);
  for (const note of result.notes ?? []) say(note);
  if (result.table) {
    const { rows, columns, empty } = result.table as TableView<unknown>;
    if (rows.length === 0) {
      if (empty) say(empty);
    } else {
      const cols = columns.filter((c) => format === 'wide' || !c.wide);
      const cells = (r: unknown): string[] => cols.map((c) => c.value(r, style));
      await writeChunks(out, tableLines(headerCells(cols, style), rows, cells));
    }
  }
  if (result.text) {
    const text = result.text(style);
    if (text) out.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  if (!result.table && !result.text && result.data !== undefined) await writeYaml(out, result.data);
}

// ---- writing -------------------------------------------------------------------------------

/** Pieces are joined into chunks of about this many characters per write. */
const CHUNK = 64 * 1024;
/** Generators join runs of small pieces up to this many characters before yielding them. */
const RUN = 16 * 1024;

/** Writes pieces in chunks, waiting for 'drain' when the stream asks for it. */
export async function writeChunks(out: OutStream, pieces: Iterable<string>): Promise<void> {
  let buf = '';
  const once = out.once?.bind(out);
  const write = async (chunk: string): Promise<void> => {
    if (out.write(chunk) === false && once) await new Promise<void>((resolve) => once('drain', () => resolve()));
  };
  const flush = async (): Promise<void> => {
    // A single huge piece (one long string) still goes out in chunks, never splitting a
    // surrogate pair, which each write would encode on its own.
    let at = 0;
    while (buf.length - at > 2 * CHUNK) {
      let end = at + CHUNK;
      const c = buf.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) end--;
      await write(buf.slice(at, end));
      at = end;
    }
    const rest = at === 0 ? buf : buf.slice(at);
    buf = '';
    await write(rest);
  };
  for (const piece of pieces) {
    buf += piece;
    if (buf.length >= CHUNK) await flush();
  }
  if (buf) await flush();
}

function* lines(items: Iterable<string>): Generator<string> {
  for (const item of items) yield `${item}\n`;
}

// ---- tables --------------------------------------------------------------------------------

function headerCells(cols: Column<unknown>[], style: Style): string[] {
  return cols.map((c) => style.bold(c.header.toUpperCase()));
}

/** kubectl-like borderless table: three spaces between columns, trailing spaces trimmed. */
export async function formatTable(headers: string[], rows: string[][], style: Style): Promise<string> {
  const header = headers.map((h) => style.bold(h.toUpperCase()));
  return Promise.resolve(
    Array.from(tableLines(header, rows, (r) => r))
      .join('')
      .slice(0, -1),
  );
}

/**
 * The table's lines (each ending in a newline): one pass over the rows to measure the columns,
 * one to print them. Multi-line cells take several lines, top-aligned.
 */
export function* tableLines<T>(header: string[], rows: Iterable<T>, cells: (row: T) => string[]): Generator<string> {
  const widths = header.map(cellWidth);
  for (const row of rows) {
    const cs = cells(row);
    for (let i = 0; i < cs.length; i++) widths[i] = Math.max(widths[i] ?? 0, cellWidth(cs[i] ?? ''));
  }
  let run = rowText(header, widths);
  for (const row of rows) {
    run += rowText(cells(row), widths);
    if (run.length >= RUN) {
      yield run;
      run = '';
    }
  }
  if (run) yield run;
}

function rowText(cs: string[], widths: number[]): string {
  if (!cs.some((c) => c.includes('\n')))
    return joinLine(
      cs.map((c) => (c.includes('\u001b') ? (closeCodes([c])[0] ?? c) : c)),
      widths,
    );
  const split = cs.map((c) => closeCodes(c.split('\n')));
  let height = 0;
  for (const s of split) height = Math.max(height, s.length);
  let text = '';
  for (let k = 0; k < height; k++)
    text += joinLine(
      split.map((s) => s[k] ?? ''),
      widths,
    );
  return text;
}

function joinLine(cs: string[], widths: number[]): string {
  let line = '';
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] ?? '';
    if (i > 0) line += '   ';
    line += c;
    if (i < cs.length - 1) line += ' '.repeat(Math.max(0, (widths[i] ?? 0) - textWidth(c)));
  }
  return `${line.trimEnd()}\n`;
}

// Terminal escape sequences (CSI, e.g. colours, and OSC, e.g. hyperlinks) take no columns.
// eslint-disable-next-line no-control-regex -- escape sequences are what it matches
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;
const EMOJI =
  /\p{Regional_Indicator}{2}|(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)(?:\p{Emoji_Modifier}|\uFE0F|\u200D(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F?))*/gu;

function cellWidth(cell: string): number {
  if (!cell.includes('\n')) return textWidth(cell);
  let w = 0;
  for (const l of cell.split('\n')) w = Math.max(w, textWidth(l));
  return w;
}

/** Columns a line takes on a terminal: escapes and controls none, East Asian wide and emoji two. */
export function textWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  const s = text.replace(ESCAPES, '').replace(EMOJI, '  ');
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x300 && cp <= 0x36f)) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

function isWide(cp: number): boolean {
  return (
    cp >= 0x1100 &&
    (cp <= 0x115f ||
      cp === 0x2329 ||
      cp === 0x232a ||
      (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) ||
      (cp >= 0x3250 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0xa4c6) ||
      (cp >= 0xa960 && cp <= 0xa97c) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe10 && cp <= 0xfe19) ||
      (cp >= 0xfe30 && cp <= 0xfe6b) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1b000 && cp <= 0x1b001) ||
      (cp >= 0x1f200 && cp <= 0x1f251) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
  );
}

// Styles a cell leaves open are closed at the end of each of its lines and reopened on the next,
// so that padding and the next column print unstyled.
// eslint-disable-next-line no-control-regex -- as ESCAPES
const SGR = /\u001b\[((?:\d*;){0,5}\d*)m/g;
const ATTRIBUTES: Record<string, { on: string; off: string }> = {
  1: { on: '\u001b[1m', off: '\u001b[22m' },
  3: { on: '\u001b[3m', off: '\u001b[23m' },
  4: { on: '\u001b[4m', off: '\u001b[24m' },
  7: { on: '\u001b[7m', off: '\u001b[27m' },
  9: { on: '\u001b[9m', off: '\u001b[29m' },
};
const ATTRIBUTE_OFF: Record<string, string> = { 22: '1', 23: '3', 24: '4', 27: '7', 29: '9' };

interface SgrState {
  on: Set<string>;
  fg?: string;
  bg?: string;
}

function closeCodes(cellLines: string[]): string[] {
  let state: SgrState = { on: new Set() };
  return cellLines.map((raw) => {
    let line = raw;
    for (const a of state.on) line = `${ATTRIBUTES[a]?.on ?? ''}${line}`;
    if (state.bg && state.bg !== '\u001b[49m') line = state.bg + line;
    if (state.fg && state.fg !== '\u001b[39m') line = state.fg + line;
    state = readSgr(line);
    for (const a of state.on) line += ATTRIBUTES[a]?.off ?? '';
    if (state.bg && state.bg !== '\u001b[49m') line += '\u001b[49m';
    if (state.fg && state.fg !== '\u001b[39m') line += '\u001b[39m';
    return line;
  });
}

function readSgr(line: string): SgrState {
  const state: SgrState = { on: new Set() };
  for (const m of line.matchAll(SGR)) {
    const code = m[1] ? parseInt(m[1].split(';')[0] ?? '', 10) : 0;
    if ((code >= 30 && code <= 39) || (code >= 90 && code <= 97)) state.fg = m[0];
    else if ((code >= 40 && code <= 49) || (code >= 100 && code <= 107)) state.bg = m[0];
    else if (code === 0) {
      state.on.clear();
      delete state.fg;
      delete state.bg;
    } else if (m[0] === ATTRIBUTES[code]?.on) state.on.add(String(code));
    else if (ATTRIBUTE_OFF[code] && m[0] === `\u001b[${code}m`) state.on.delete(ATTRIBUTE_OFF[code]);
  }
  return state;
}

// ---- json and yaml -------------------------------------------------------------------------

/**
 * A value as JSON.stringify sees it (toJSON applied), with what JSON cannot show converted:
 * bigint to a string, Map to an object, Set to an array. undefined means "leave out".
 */
function jsonValue(key: string, value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  let v = value;
  if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
  }
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries(v) as unknown;
  if (v instanceof Set) return Array.from(v as Set<unknown>);
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return v.valueOf();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  return v;
}

type Plain = null | boolean | number | string | unknown[] | Record<string, unknown>;

/** An object's members that JSON keeps, converted. */
function members(obj: Record<string, unknown>): [string, Plain][] {
  const out: [string, Plain][] = [];
  for (const k of Object.keys(obj)) {
    const v = jsonValue(k, obj[k]);
    if (v !== undefined) out.push([k, v as Plain]);
  }
  return out;
}

function element(arr: unknown[], i: number): Plain {
  return (jsonValue(String(i), arr[i]) ?? null) as Plain;
}

function circular(): TypeError {
  return new TypeError('Converting circular structure to JSON');
}

/** The same text as `JSON.stringify(value, replacer, 2)` plus a newline, in pieces. */
export function* jsonChunks(data: unknown): Generator<string> {
  const seen = new Set<object>();
  // Runs of scalars are joined before they are yielded: a yield per array element costs more
  // than its text.
  function* walk(v: unknown[] | Record<string, unknown>, indent: string): Generator<string> {
    if (seen.has(v)) throw circular();
    seen.add(v);
    const inner = `${indent}  `;
    const ms = Array.isArray(v) ? undefined : members(v);
    const n = ms ? ms.length : (v as unknown[]).length;
    if (n === 0) yield ms ? '{}' : '[]';
    else {
      let run = ms ? '{' : '[';
      for (let i = 0; i < n; i++) {
        run += i === 0 ? `\n${inner}` : `,\n${inner}`;
        let x: Plain;
        if (ms) {
          const [k, mv] = ms[i] as [string, Plain];
          run += `${JSON.stringify(k)}: `;
          x = mv;
        } else x = element(v as unknown[], i);
        if (x === null || typeof x !== 'object') {
          run += typeof x === 'number' ? String(x) : JSON.stringify(x);
          if (run.length >= RUN) {
            yield run;
            run = '';
          }
        } else {
          yield run;
          run = '';
          yield* walk(x, inner);
        }
      }
      yield `${run}\n${indent}${ms ? '}' : ']'}`;
    }
    seen.delete(v);
  }
  const top = (jsonValue('', data) ?? null) as Plain;
  if (top === null || typeof top !== 'object') yield JSON.stringify(top);
  else yield* walk(top, '');
  yield '\n';
}

/** Values up to this many nodes go through the yaml package; larger ones are streamed. */
const YAML_NODES = 20_000;

function nodeCount(value: unknown, budget: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && n <= budget) {
    const v = stack.pop();
    n++;
    if (v instanceof Map || v instanceof Set) n += v.size;
    else if (Array.isArray(v)) {
      if (v.length > budget) return budget + 1;
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) stack.push(x);
  }
  return n;
}

async function writeYaml(out: OutStream, data: unknown): Promise<void> {
  if (nodeCount(data, YAML_NODES) <= YAML_NODES) {
    const { stringify } = await import('yaml');
    out.write(stringify(JSON.parse(JSON.stringify(data, (k, v: unknown) => jsonValue(k, v)) ?? 'null'), { lineWidth: 0 }));
    return;
  }
  await writeChunks(out, yamlChunks(data));
}

const PLAIN_SCALAR = /^[A-Za-z_][\w./:-]*$/;
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n)$/i;

function yamlString(s: string): string {
  return PLAIN_SCALAR.test(s) && !s.endsWith(':') && !RESERVED.test(s) ? s : JSON.stringify(s);
}

function yamlScalar(v: null | boolean | number | string): string {
  return typeof v === 'string' ? yamlString(v) : String(v);
}

type Shape = { scalar: string } | { seq: unknown[] } | { map: [string, Plain][] };

function shape(v: Plain): Shape {
  if (v === null || typeof v !== 'object') return { scalar: yamlScalar(v) };
  if (Array.isArray(v)) return v.length === 0 ? { scalar: '[]' } : { seq: v };
  const ms = members(v);
  return ms.length === 0 ? { scalar: '{}' } : { map: ms };
}

/**
 * A block-style YAML document of the value as JSON sees it, in pieces; `yaml.parse` reads it
 * back to the same value. Strings that could be read as something else are double-quoted.
 */
export function* yamlChunks(data: unknown): Generator<string> {
  const seen = new Set<object>();
  // Lines start with `indent`, except the first, which starts with `first` (as wide: "- " in a
  // sequence of sequences or maps). Runs of scalar lines are joined as in jsonChunks.
  function* collection(v: unknown[] | Record<string, unknown>, s: Shape, indent: string, first: string): Generator<string> {
    if (seen.has(v)) throw circular();
    seen.add(v);
    const inner = `${indent}  `;
    let run = '';
    const n = 'seq' in s ? s.seq.length : 'map' in s ? s.map.length : 0;
    for (let i = 0; i < n; i++) {
      let head: string;
      let x: Plain;
      let xs: Shape;
      if ('seq' in s) {
        head = `${i === 0 ? first : indent}- `;
        x = element(s.seq, i);
        xs = shape(x);
      } else {
        const [k, mv] = (s as { map: [string, Plain][] }).map[i] as [string, Plain];
        x = mv;
        xs = shape(x);
        // Sequences and maps in a map start on the next line, indented (as the yaml package does).
        head = `${i === 0 ? first : indent}${yamlString(k)}:${'scalar' in xs ? ' ' : `\n${inner}`}`;
      }
      if ('scalar' in xs) {
        run += `${head}${xs.scalar}\n`;
        if (run.length >= RUN) {
          yield run;
          run = '';
        }
      } else {
        if (run) yield run;
        run = '';
        yield* collection(x as object as Record<string, unknown>, xs, inner, head);
      }
    }
    if (run) yield run;
    seen.delete(v);
  }
  const top = (jsonValue('', data) ?? null) as Plain;
  const s = shape(top);
  if ('scalar' in s) yield `${s.scalar}\n`;
  else yield* collection(top as object as Record<string, unknown>, s, '', '');
}

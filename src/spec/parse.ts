// YAML text -> documents that remember where every node came from, so that problems found later
// (schema, semantics) point at file:line:column. Hostile input becomes problems, never crashes.
import { Lexer, LineCounter, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseAllDocuments, visit, type Document } from 'yaml';
import type { Problem } from '../domain/problem.js';

/** Largest description file accepted (a real one is a few KiB; 10,000 features fit easily). */
export const MAX_SPEC_BYTES = 2 * 1024 * 1024;
/** Deepest bracket/brace nesting accepted (a description needs three or four levels). */
export const MAX_FLOW_DEPTH = 64;
/** Documents per file. */
export const MAX_DOCUMENTS = 1000;
/** YAML errors reported per document; after the first few the rest are usually consequences. */
export const MAX_SYNTAX_PROBLEMS = 20;
/** Aliases expanded per document; YAML "billion laughs" bombs hit this instead of memory. */
export const MAX_ALIAS_COUNT = 200;

export type FieldPath = readonly (string | number)[];

export interface SourcePosition {
  line: number;
  column: number;
}

export interface ParsedDocument {
  /** 0-based index of the document in its file. */
  index: number;
  /** Plain JavaScript value of the document (undefined when it could not be converted). */
  data: unknown;
  /** Where the document starts. */
  start: SourcePosition;
  /**
   * Position of a field; for a missing field the nearest existing ancestor. With `key: true`
   * the key of the last segment (used for unknown properties) instead of its value.
   */
  locate(path: FieldPath, opts?: { key?: boolean }): SourcePosition;
  /** The source text of a scalar (`1.0` for a value that YAML read as the number 1). */
  source(path: FieldPath): string | undefined;
}

export interface ParsedFile {
  file: string;
  documents: ParsedDocument[];
  /** Syntax errors and warnings, located. Documents with errors are left out of `documents`. */
  problems: Problem[];
}

const YAML_HINTS: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'YAML indentation must use spaces, not tabs',
  BAD_INDENT: 'check the indentation: keys of one mapping must line up, and nested values need more spaces than their parent',
  DUPLICATE_KEY: 'each key may appear once per mapping; remove or rename the repeated one',
  MISSING_CHAR: 'a bracket, brace or quote is not closed',
  UNEXPECTED_TOKEN: 'check brackets, quotes and the `key: value` syntax on this line',
  BAD_DQ_ESCAPE: 'inside double quotes a backslash starts an escape; use single quotes for literal backslashes',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; is a colon or quote missing on the line before?',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; is a colon or quote missing on the line before?',
  BAD_ALIAS: 'an alias (*name) must refer to an anchor (&name) defined earlier in the same document',
  KEY_OVER_1024_CHARS: 'keys are limited to 1024 characters',
  RESOURCE_EXHAUSTION: 'the document expands too many aliases; write the values out instead',
};

/** `spec.features[2].type` from `['spec', 'features', 2, 'type']`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${quote(seg)}]`;
  }
  return out;
}

/**
 * A user-supplied value made safe and short for a message: quoted, control and invisible
 * characters escaped (so a file cannot inject terminal escapes), truncated.
 */
export function quote(value: unknown, max = 60): string {
  const s = typeof value === 'string' ? value : String(value);
  const short = s.length > max ? `${s.slice(0, max)}…` : s;
  return `"${escapeInvisible(short).replace(/"/g, '\\"')}"`;
}

// Control, bidirectional and zero-width characters, and lone surrogates (emoji pairs stay).
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Escapes characters that could hide text or drive the terminal, e.g. `\u202e` or ESC. */
export function escapeInvisible(s: string): string {
  return s.replace(INVISIBLE, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return '';
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/** Walks the node tree along `path`; returns the offset of the deepest node found. */
function locateOffset(doc: Document, path: FieldPath, wantKey: boolean, fallback: number): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? fallback;
  // Aliases resolve to their anchor; a bounded walk cannot loop since path is finite.
  const deref = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const current = deref(node);
    const last = i === path.length - 1;
    if (isMap(current)) {
      // toJS lets the last duplicate win, so locate the last one too.
      let pair: unknown;
      for (const item of current.items) if (isPair(item) && keyText(item.key) === String(seg)) pair = item;
      if (!isPair(pair)) return offset;
      const keyOffset = rangeStart(pair.key);
      if (last && wantKey && keyOffset !== undefined) return keyOffset;
      const valueOffset = rangeStart(pair.value);
      node = pair.value;
      offset = valueOffset ?? keyOffset ?? offset;
      if (valueOffset === undefined) return offset;
    } else if (isSeq(current) && typeof seg === 'number') {
      const item = current.items[seg];
      const itemOffset = rangeStart(item);
      if (itemOffset === undefined) return offset;
      node = item;
      offset = itemOffset;
    } else {
      return offset;
    }
  }
  return offset;
}

function problemFromYamlError(file: string, lc: LineCounter, err: { code: string; message: string; pos: [number, number] }, warning: boolean): Problem {
  const { line, col } = lc.linePos(err.pos[0]);
  // The library's messages may end with a code frame; keep the first line only.
  let message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  if (/call stack/i.test(message)) message = 'the document is nested too deeply';
  const hint = YAML_HINTS[err.code];
  return {
    file,
    line,
    column: col,
    path: '',
    message: `${warning ? 'YAML warning' : 'YAML syntax error'}: ${escapeInvisible(message.slice(0, 200))}`,
    ...(hint ? { hint } : {}),
  };
}

/** Why a syntactically fine document could not become a value: alias bomb, dangling alias, depth. */
function conversionProblem(file: string, doc: Document.Parsed, lc: LineCounter, start: SourcePosition, e: unknown): Problem {
  const message = e instanceof Error ? e.message : String(e);
  if (/excessive alias count/i.test(message)) {
    return {
      file,
      ...start,
      path: '',
      message: `YAML document expands more than ${MAX_ALIAS_COUNT} aliases`,
      hint: 'write repeated values out instead of nesting anchors and aliases',
    };
  }
  if (/unresolved alias/i.test(message)) {
    let offset: number | undefined;
    try {
      visit(doc, {
        Alias(_key, node) {
          if (node.resolve(doc) !== undefined) return undefined;
          offset = node.range?.[0];
          return visit.BREAK;
        },
      });
    } catch {
      // Too deep to walk: report at the document start.
    }
    const pos = offset === undefined ? start : { line: lc.linePos(offset).line, column: lc.linePos(offset).col };
    return {
      file,
      ...pos,
      path: '',
      message: 'YAML error: alias refers to an anchor that is not defined before it',
      ...(YAML_HINTS.BAD_ALIAS ? { hint: YAML_HINTS.BAD_ALIAS } : {}),
    };
  }
  const deep = e instanceof RangeError;
  return {
    file,
    ...start,
    path: '',
    message: `cannot read YAML document: ${deep ? 'nesting is too deep' : (message.split('\n')[0] ?? message)}`,
    hint: 'simplify the document',
  };
}

/** Problem at the top of a file that could not be read or parsed as a whole. */
export function fileProblem(file: string, message: string, hint?: string): Problem {
  return { file, line: 1, column: 1, path: '', message, ...(hint ? { hint } : {}) };
}

/** Lexer control tokens that stand for no source text. */
const CONTROL_TOKENS = new Set(['\x02', '\x18', '\x1f']);

/**
 * Offset where flow (bracket/brace) nesting first exceeds `max`, or undefined. The parser needs
 * about 1 KB per open level, so a file of `[[[[...` would exhaust memory before it could fail;
 * the lexer is streaming and cheap, and knows quotes and comments.
 */
export function flowNestingOverflow(text: string, max = MAX_FLOW_DEPTH): number | undefined {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > max) return offset;
    } else if ((token === ']' || token === '}') && depth > 0) {
      depth--;
    }
    if (!CONTROL_TOKENS.has(token)) offset += token.length;
  }
  return undefined;
}

/** Duplicate keys, found in linear time (the library's own check is quadratic per mapping). */
function duplicateKeyOffsets(doc: Document.Parsed, limit: number): number[] {
  const out: number[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0 && out.length < limit) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Map<unknown, true>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key) && pair.key !== null) {
          const offset = rangeStart(pair.key);
          if (offset !== undefined) out.push(offset);
        }
        seen.set(key, true);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}

/**
 * Parses every document of a YAML text. `file` is only used to label problems. Empty documents
 * (e.g. after a trailing `---`) are skipped; a text with no document at all is a problem.
 */
export function parseYaml(text: string, file: string): ParsedFile {
  const problems: Problem[] = [];
  if (text.length > MAX_SPEC_BYTES) {
    return {
      file,
      documents: [],
      problems: [
        fileProblem(
          file,
          `file is too large (${text.length} characters, at most ${MAX_SPEC_BYTES})`,
          'a model description is a small YAML file; keep data and artifacts in separate files',
        ),
      ],
    };
  }
  const lc = new LineCounter();
  // Below 32 KiB even total nesting costs the parser only tens of MB: skip the extra pass.
  const tooDeep = text.length > 32 * 1024 ? flowNestingOverflow(text) : undefined;
  if (tooDeep !== undefined) {
    // Only lines up to the offending offset are needed for its position.
    lc.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0 && i < tooDeep; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
    const { line, col } = lc.linePos(tooDeep);
    return {
      file,
      documents: [],
      problems: [
        {
          file,
          line,
          column: col,
          path: '',
          message: `YAML is nested more than ${MAX_FLOW_DEPTH} levels deep`,
          hint: 'a model description needs only a few levels; check for unbalanced [ or {',
        },
      ],
    };
  }
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, logLevel: 'error', strict: true }) as Document.Parsed[];
  } catch (e) {
    // The composer recurses per nesting level; absurd nesting exhausts the stack.
    return {
      file,
      documents: [],
      problems: [fileProblem(file, `cannot parse YAML: ${e instanceof RangeError ? 'nesting is too deep' : e instanceof Error ? e.message : String(e)}`)],
    };
  }
  if (docs.length > MAX_DOCUMENTS) {
    return {
      file,
      documents: [],
      problems: [fileProblem(file, `file has ${docs.length} YAML documents, at most ${MAX_DOCUMENTS}`, 'split the descriptions over several files')],
    };
  }
  const documents: ParsedDocument[] = [];
  docs.forEach((doc, index) => {
    const errors = [
      ...doc.errors,
      ...duplicateKeyOffsets(doc, MAX_SYNTAX_PROBLEMS).map((offset) => ({
        code: 'DUPLICATE_KEY',
        message: 'Map keys must be unique',
        pos: [offset, offset + 1] as [number, number],
      })),
    ];
    for (const err of errors.slice(0, MAX_SYNTAX_PROBLEMS)) problems.push(problemFromYamlError(file, lc, err, false));
    for (const w of doc.warnings.slice(0, MAX_SYNTAX_PROBLEMS)) problems.push(problemFromYamlError(file, lc, w, true));
    if (errors.length > 0 || doc.warnings.length > 0) return;
    const startOffset = doc.range[0];
    const startPos = lc.linePos(startOffset);
    const start = { line: startPos.line, column: startPos.col };
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '')) return;
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      problems.push(conversionProblem(file, doc, lc, start, e));
      return;
    }
    documents.push({
      index,
      data,
      start,
      locate(path, opts = {}) {
        const { line, col } = lc.linePos(locateOffset(doc, path, opts.key === true, startOffset));
        return { line, column: col };
      },
      source(path) {
        const node = doc.getIn(path, true);
        return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
      },
    });
  });
  if (documents.length === 0 && problems.length === 0) {
    problems.push(fileProblem(file, 'no model description found (the file is empty)', 'run `maas init` to create one, or see `maas explain model`'));
  }
  return { file, documents, problems };
}

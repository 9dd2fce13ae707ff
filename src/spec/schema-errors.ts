// ajv errors -> one readable problem per field. ajv reports every branch of a union
// (`anyOf`) separately; users want "task must be one of ...", not six "must be equal to constant".
import type { ErrorObject } from 'ajv';
import { API_VERSION, DURATION_PATTERN } from './schema.js';
import { DEPLOYMENT_ID_PATTERN, MODEL_REF_PATTERN } from './composition-schema.js';
import { quote, type FieldPath } from './parse.js';
import { didYouMean } from './suggest.js';
import { MODEL_NAME_HINT, MODEL_NAME_PATTERN } from '../domain/names.js';

/** Where a problem points: at the value, at the key (unknown fields), or at the parent (missing fields). */
export type Anchor = 'value' | 'key' | 'missing';

export type Report = (path: FieldPath, message: string, hint?: string, anchor?: Anchor) => void;

interface SchemaNode {
  type?: string | string[];
  const?: unknown;
  anyOf?: SchemaNode[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  pattern?: string;
  items?: SchemaNode;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'an empty value',
};

const PATTERN_HINTS: Record<string, string> = {
  [MODEL_NAME_PATTERN]: MODEL_NAME_HINT,
  '^[A-Za-z_][A-Za-z0-9_.-]*$': 'start with a letter or underscore, then letters, digits, `_`, `.` or `-`',
  '^sha256:[a-f0-9]{64}$': 'write `sha256:` followed by 64 lowercase hex digits (as printed by `sha256sum`)',
  [DURATION_PATTERN]: 'write a number and a unit (ms, s, m, h or d), e.g. 500ms, 2s, 1h',
  [MODEL_REF_PATTERN]: 'write NAME@VERSION of a registered model version, e.g. har-classifier@1 (`maas list` shows them)',
  [DEPLOYMENT_ID_PATTERN]: 'write a deployment ID as `maas ps` shows it, e.g. d-5f3a9c1e2b',
};

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${quote(v, 40)}`;
  if (typeof v === 'number') return Number.isNaN(v) ? '.nan' : !Number.isFinite(v) ? (v > 0 ? '.inf' : '-.inf') : `the number ${v}`;
  return typeof v === 'boolean' ? String(v) : typeof v;
}

function typeWord(t: unknown): string {
  if (Array.isArray(t)) return joinOr(t.map(typeWord));
  return TYPE_WORDS[String(t)] ?? String(t);
}

/** `a, b or c`. */
function joinOr(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]!}`;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function branchAccepts(branch: SchemaNode, v: unknown): boolean {
  const types = Array.isArray(branch.type) ? branch.type : branch.type ? [branch.type] : [];
  const t = jsonType(v);
  return types.some((x) => x === t || (x === 'integer' && t === 'number') || (x === 'number' && t === 'number'));
}

/** First sentence of a field description, for hints. */
export function firstSentence(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const m = /^(.*?[.;:])(\s|$)/.exec(description);
  return (m?.[1] ?? description).replace(/[.;:]$/, '');
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `/spec/features/2/type` -> `['spec', 'features', 2, 'type']`, with indices only where data is a list. */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (!pointer) return [];
  const out: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = unescapePointer(raw);
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      node = node[Number(seg)] as unknown;
    } else {
      out.push(seg);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

const constText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function allowedValues(schema: SchemaNode | undefined): string[] | undefined {
  if (!schema) return undefined;
  if (schema.const !== undefined) return [constText(schema.const)];
  if (schema.anyOf && schema.anyOf.length > 0 && schema.anyOf.every((b) => b.const !== undefined)) return schema.anyOf.map((b) => constText(b.const));
  return undefined;
}

/** What to say about a field in a hint: its allowed values or the gist of its description. */
function fieldHint(schema: SchemaNode | undefined): string | undefined {
  const values = allowedValues(schema);
  if (values) return `one of: ${values.join(', ')}`;
  if (schema?.description && /quantity/i.test(schema.description)) return `${firstSentence(schema.description)}; e.g. 500m, 1, 256Mi`;
  return firstSentence(schema?.description);
}

function convertOne(e: ErrorObject, data: unknown, report: Report): void {
  const path = pointerToPath(e.instancePath, data);
  const parent = e.parentSchema as SchemaNode | undefined;
  const value: unknown = e.data;
  const limit = (e.params as { limit?: number }).limit;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      report([...path, missing], `missing required field "${missing}"`, fieldHint(parent?.properties?.[missing]), 'missing');
      return;
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent?.properties ?? {});
      report([...path, extra], `unknown field ${quote(extra)}`, `${didYouMean(extra, known)}known fields here: ${known.join(', ')}`, 'key');
      return;
    }
    case 'type': {
      const expected = (e.params as { type: string | string[] }).type;
      const nonFinite = typeof value === 'number' && !Number.isFinite(value);
      const message = nonFinite ? `expected a finite number, got ${describeValue(value)}` : `expected ${typeWord(expected)}, got ${describeValue(value)}`;
      let hint = fieldHint(parent);
      if (path.join('.') === 'metadata.version' && typeof value === 'number')
        hint = `quote the version so YAML keeps it as text, e.g. version: "${String(value)}"`;
      else if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean'))
        hint = `quote the value to keep it as text, e.g. "${String(value)}"`;
      report(path, message, hint);
      return;
    }
    case 'const': {
      const want = (e.params as { allowedValue: unknown }).allowedValue;
      if (path.length === 1 && path[0] === 'apiVersion') {
        report(
          path,
          `unsupported apiVersion ${typeof value === 'string' ? quote(value) : describeValue(value)}`,
          `this version of maas reads apiVersion: ${API_VERSION}`,
        );
        return;
      }
      report(
        path,
        `${typeof value === 'string' ? quote(value) : describeValue(value)} is not supported`,
        `${didYouMean(String(value), [String(want)])}allowed: ${String(want)}`,
      );
      return;
    }
    case 'pattern': {
      const pattern = (e.params as { pattern: string }).pattern;
      report(path, `${quote(value)} is not a valid ${String(path[path.length - 1] ?? 'value')}`, PATTERN_HINTS[pattern] ?? `must match ${pattern}`);
      return;
    }
    case 'minLength':
      report(path, limit === 1 ? 'must not be empty' : `is too short (at least ${limit} characters)`, fieldHint(parent));
      return;
    case 'maxLength':
      report(path, `is too long (${typeof value === 'string' ? value.length : '?'} characters, at most ${limit})`);
      return;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const comparison = (e.params as { comparison: string }).comparison;
      report(path, `must be ${comparison} ${limit}, got ${describeValue(value)}`, fieldHint(parent));
      return;
    }
    case 'minItems':
      report(path, `needs at least ${limit} item${limit === 1 ? '' : 's'}, got ${Array.isArray(value) ? value.length : 0}`, fieldHint(parent));
      return;
    case 'maxItems':
      report(path, `has too many items (${Array.isArray(value) ? value.length : '?'}, at most ${limit})`);
      return;
    case 'uniqueItems': {
      const { i, j } = e.params as { i: number; j: number };
      report([...path, i], `duplicate item (same as item ${j})`, 'each value may appear once');
      return;
    }
    default:
      report(path, e.message ?? `failed ${e.keyword}`);
  }
}

function convertUnion(e: ErrorObject, children: ErrorObject[], data: unknown, report: Report): void {
  const path = pointerToPath(e.instancePath, data);
  const schema = e.parentSchema as SchemaNode;
  const branches = schema.anyOf ?? [];
  const value: unknown = e.data;
  const values = allowedValues(schema);
  if (values) {
    const message =
      typeof value === 'string' ? `${quote(value)} is not one of the allowed values` : `expected one of ${values.join(', ')}, got ${describeValue(value)}`;
    report(path, message, `${typeof value === 'string' ? didYouMean(value, values) : ''}allowed: ${values.join(', ')}`);
    return;
  }
  // The value has the right type for one branch: that branch's own complaint is the useful one.
  const index = branches.findIndex((b) => branchAccepts(b, value) && b.const === undefined);
  if (index >= 0) {
    const prefix = `${e.schemaPath}/${index}/`;
    const mine = children.filter((c) => c.schemaPath.startsWith(prefix));
    if (mine.length > 0) {
      convertErrors(mine, data, report);
      return;
    }
  }
  const types = [...new Set(branches.map((b) => typeWord(b.type)))];
  const nonFinite = typeof value === 'number' && !Number.isFinite(value);
  report(
    path,
    nonFinite ? `expected a finite number, got ${describeValue(value)}` : `expected ${joinOr(types)}, got ${describeValue(value)}`,
    fieldHint(schema),
  );
}

/**
 * Converts ajv errors (allErrors, verbose) to problems through `report`, collapsing unions.
 * ajv emits a union's branch errors right before the union's own error, so the children are
 * found by walking back from it: linear even for thousands of failing list items.
 */
export function convertErrors(errors: readonly ErrorObject[], data: unknown, report: Report): void {
  const owner = new Array<number>(errors.length).fill(-1);
  for (let k = errors.length - 1; k >= 0; k--) {
    const u = errors[k]!;
    if (u.keyword !== 'anyOf' || owner[k] !== -1) continue;
    const prefix = `${u.schemaPath}/`;
    for (let j = k - 1; j >= 0; j--) {
      const c = errors[j]!;
      const within = c.instancePath === u.instancePath || c.instancePath.startsWith(`${u.instancePath}/`);
      if (!within || !c.schemaPath.startsWith(prefix)) break;
      owner[j] = k;
    }
  }
  for (let k = 0; k < errors.length; k++) {
    const e = errors[k]!;
    if (owner[k] !== -1) continue;
    if (e.keyword !== 'anyOf') {
      convertOne(e, data, report);
      continue;
    }
    let first = k;
    while (first > 0 && owner[first - 1] === k) first--;
    // Nested unions among the children are converted when their branch is chosen.
    convertUnion(e, errors.slice(first, k), data, report);
  }
}

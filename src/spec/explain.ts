// Field documentation from the schema, like `kubectl explain`: the schema's descriptions are the
// documentation, so it can never drift from what validation enforces. Paths address the model
// description (`spec.features.type`, optionally `model.spec.features.type`) or, with the
// `composition` prefix, the composition description (`composition.spec.members.weight`).
import { MaasError } from '../core/errors.js';
import { API_VERSION } from './schema.js';
import { compositionJsonSchema, modelJsonSchema } from './json-schema.js';
import { COMPOSITION_KIND, MODEL_KIND, type DocumentKindName } from './kinds.js';
import { closest } from './suggest.js';
import { escapeInvisible } from './parse.js';

interface SchemaNode {
  type?: string;
  const?: unknown;
  anyOf?: SchemaNode[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

export interface FieldDoc {
  /** Dotted path from the document root, e.g. `spec.features.type` (empty for the root). */
  path: string;
  name: string;
  /** kubectl-like type: `string`, `integer`, `Object`, `[]Object`, `map[string]string`, `string|number`. */
  type: string;
  required: boolean;
  description?: string;
  allowedValues?: string[];
  constraints?: string[];
  /** Child fields (with their own children only when explained recursively). */
  fields?: FieldDoc[];
  /** The document kind the field belongs to (set on the explained field, not on its children). */
  kind?: DocumentKindName;
}

/** The first path segment that selects a kind; the model is the default. */
const KIND_PREFIXES: Record<string, DocumentKindName> = { model: MODEL_KIND, composition: COMPOSITION_KIND };

const constText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function typeName(node: SchemaNode): string {
  if (node.anyOf) {
    if (node.anyOf.every((b) => b.const !== undefined)) return typeof node.anyOf[0]?.const === 'number' ? 'number' : 'string';
    const names = [...new Set(node.anyOf.map(typeName))];
    return names.length > 3 ? 'any' : names.join('|');
  }
  if (node.type === 'array') return `[]${node.items ? typeName(node.items) : 'any'}`;
  if (node.type === 'object') {
    if (node.properties) return 'Object';
    const value = Object.values(node.patternProperties ?? {})[0];
    return `map[string]${value ? typeName(value) : 'any'}`;
  }
  return node.type ?? 'any';
}

function allowedValues(node: SchemaNode): string[] | undefined {
  if (node.const !== undefined) return [constText(node.const)];
  if (node.anyOf?.every((b) => b.const !== undefined)) return node.anyOf.map((b) => constText(b.const));
  if (node.items) return allowedValues(node.items);
  return undefined;
}

function range(what: string, min: number | undefined, max: number | undefined): string | undefined {
  if (min === undefined && max === undefined) return undefined;
  if (min !== undefined && max !== undefined) return `${what} ${min}..${max}`;
  return min !== undefined ? `${what} >= ${min}` : `${what} <= ${String(max)}`;
}

function constraints(node: SchemaNode): string[] | undefined {
  const out = [
    node.pattern ? `pattern ${node.pattern}` : undefined,
    range('length', node.minLength, node.maxLength),
    range('value', node.minimum, node.maximum),
    range('items', node.minItems, node.maxItems),
    node.uniqueItems ? 'unique items' : undefined,
  ].filter((c): c is string => c !== undefined);
  for (const b of node.anyOf ?? []) if (b.const === undefined) out.push(...(constraints(b) ?? []).map((c) => `${b.type ?? ''} ${c}`.trim()));
  return out.length > 0 ? out : undefined;
}

/** The object schema whose properties are this field's children (through lists). */
function objectOf(node: SchemaNode): SchemaNode | undefined {
  if (node.properties) return node;
  if (node.type === 'array' && node.items) return objectOf(node.items);
  return undefined;
}

/** Map value schema for `map[string]X` fields (through lists). */
function mapValueOf(node: SchemaNode): SchemaNode | undefined {
  if (node.type === 'array' && node.items) return mapValueOf(node.items);
  return node.patternProperties ? Object.values(node.patternProperties)[0] : undefined;
}

function describe(node: SchemaNode, name: string, path: string, required: boolean, depth: number): FieldDoc {
  const doc: FieldDoc = { path, name, type: typeName(node), required };
  if (node.description) doc.description = node.description;
  const allowed = allowedValues(node);
  if (allowed) doc.allowedValues = allowed;
  const c = constraints(node);
  if (c) doc.constraints = c;
  const obj = objectOf(node);
  if (obj && depth > 0) {
    const req = new Set(obj.required ?? []);
    doc.fields = Object.entries(obj.properties ?? {}).map(([k, child]) => describe(child, k, path ? `${path}.${k}` : k, req.has(k), depth - 1));
  }
  return doc;
}

/** `model.spec.features[].type` -> the model and `['spec', 'features', 'type']`; `composition.spec` -> the composition and `['spec']`. */
export function parseExplainPath(input: string): { kind: DocumentKindName; segments: string[] } {
  const parts = input
    .trim()
    .replace(/\[[^\]]*\]/g, '')
    .split('.')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const kind = parts[0] === undefined ? undefined : KIND_PREFIXES[parts[0].toLowerCase()];
  if (kind !== undefined) parts.shift();
  return { kind: kind ?? MODEL_KIND, segments: parts };
}

/** `model.spec.features[].type` -> `['spec', 'features', 'type']` (the kind prefix dropped). */
export function parseFieldPath(input: string): string[] {
  return parseExplainPath(input).segments;
}

/**
 * Documentation of one field (and its children; the whole subtree with `recursive`). Paths start
 * at the model description, or at the composition description after a `composition.` prefix.
 */
export function explainField(input: string, opts: { recursive?: boolean } = {}): FieldDoc {
  const { kind, segments } = parseExplainPath(input);
  const isComposition = kind === COMPOSITION_KIND;
  const prefix = isComposition ? 'composition' : '';
  /** How a path is typed on the command line for this kind. */
  const typed = (path: readonly string[]): string => [prefix, ...path].filter((p) => p !== '').join('.') || 'model';
  let node = (isComposition ? compositionJsonSchema() : modelJsonSchema()) as SchemaNode;
  let required = true;
  const walked: string[] = [];
  for (const seg of segments) {
    const obj = objectOf(node);
    const mapValue = mapValueOf(node);
    const here = walked.length ? walked.join('.') : isComposition ? 'the composition' : 'the model';
    if (obj?.properties && Object.hasOwn(obj.properties, seg)) {
      node = obj.properties[seg]!;
      required = (obj.required ?? []).includes(seg);
    } else if (mapValue) {
      // Map keys are the user's own (label names, metric names): any key explains the value type.
      node = mapValue;
      required = false;
    } else {
      const known = Object.keys(obj?.properties ?? {});
      // At the top of the model, a misspelt kind prefix is as likely as a misspelt field.
      const candidates = walked.length === 0 && !isComposition ? [...known, 'composition'] : known;
      const guess = closest(seg, candidates);
      const shown = escapeInvisible(seg.length > 40 ? `${seg.slice(0, 40)}…` : seg);
      throw new MaasError('USAGE', obj ? `field "${shown}" does not exist in ${here}` : `${here} is a ${typeName(node)} and has no fields`, {
        hint: obj
          ? `${guess ? `did you mean "${typed([...walked, guess])}"? ` : ''}fields of ${here}: ${known.join(', ')}`
          : `try \`maas explain ${typed(walked)}\``,
      });
    }
    walked.push(seg);
  }
  const name = walked[walked.length - 1] ?? kind;
  return { ...describe(node, name, walked.join('.'), required, opts.recursive ? Infinity : 1), kind };
}

export interface ExplainStyle {
  bold(s: string): string;
  dim(s: string): string;
}

function wrap(text: string, indent: string, width = 80): string {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    out.push(indent + line);
  }
  return out.join('\n');
}

function fieldLine(f: FieldDoc, indent: string, style: ExplainStyle): string {
  return `${indent}${style.bold(f.name)}\t<${f.type}>${f.required ? ' -required-' : ''}`;
}

function tree(fields: readonly FieldDoc[], indent: string, style: ExplainStyle, out: string[]): void {
  for (const f of fields) {
    out.push(fieldLine(f, indent, style));
    if (f.fields) tree(f.fields, `${indent}  `, style, out);
  }
}

/** kubectl-explain-like text. */
export function renderExplain(doc: FieldDoc, recursive: boolean, style: ExplainStyle): string {
  const kind = doc.kind ?? MODEL_KIND;
  const out = [`${style.bold('KIND:')}     ${kind}`, `${style.bold('VERSION:')}  ${API_VERSION}`, ''];
  out.push(`${style.bold('FIELD:')}    ${doc.path || kind} <${doc.type}>${doc.required && doc.path ? ' -required-' : ''}`, '');
  if (doc.allowedValues) {
    out.push(style.bold('ALLOWED VALUES:'), ...doc.allowedValues.map((v) => `    ${v}`), '');
  }
  if (doc.constraints) out.push(style.bold('CONSTRAINTS:'), ...doc.constraints.map((c) => `    ${c}`), '');
  out.push(style.bold('DESCRIPTION:'), wrap(doc.description ?? '(no description)', '    '), '');
  if (doc.fields && doc.fields.length > 0) {
    out.push(style.bold('FIELDS:'));
    if (recursive) {
      tree(doc.fields, '  ', style, out);
    } else {
      for (const f of doc.fields) {
        out.push(fieldLine(f, '  ', style));
        const values = f.allowedValues && f.allowedValues.length > 1 ? ` One of: ${f.allowedValues.join(', ')}.` : '';
        out.push(style.dim(wrap(`${f.description ?? ''}${values}`, '    ')), '');
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

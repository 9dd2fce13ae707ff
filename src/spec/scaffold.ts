// Answers -> model description YAML, filled into a template with the YAML document API so that
// the template's comments survive and user text is always quoted correctly. Pure: no I/O.
import { YAMLSeq, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { MaasError } from '../core/errors.js';
import { escapeInvisible } from './parse.js';
import { FEATURE_TYPES, MODEL_SCHEMA_ID, TASK_KINDS, type FeatureSpec, type FeatureType, type TaskKind } from './schema.js';

export interface ScaffoldAnswers {
  name: string;
  version: string;
  task: TaskKind;
  algorithm: string;
  description?: string;
  features: FeatureSpec[];
  labels?: Record<string, string>;
  artifactUri: string;
  /** Class labels (classification). */
  outputLabels?: string[];
}

/** Which template a task starts from. */
export function templateFor(task: TaskKind): 'classification' | 'regression' {
  return task === 'classification' ? 'classification' : 'regression';
}

export const FEATURE_SYNTAX = 'name:type, e.g. age:integer, temp:number[0..50], color:category=red,green,blue, active:boolean';

const NUMBER = '-?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
const FEATURE_RE = new RegExp(`^([^:\\s]+):(\\w+)(?:=(.*))?(?:\\[(${NUMBER})?\\.\\.(${NUMBER})?\\])?$`);

/** Parses a `--feature` value: `name:type`, `name:category=a|b|c`, `name:number[0..10]`. */
export function parseFeatureFlag(input: string): FeatureSpec {
  const m = FEATURE_RE.exec(input.trim());
  const bad = (why: string): MaasError =>
    new MaasError('USAGE', `invalid --feature "${escapeInvisible(input.slice(0, 80))}": ${why}`, { hint: `write ${FEATURE_SYNTAX}` });
  if (!m) throw bad('expected name:type');
  const [, name, type, values, min, max] = m;
  if (!(FEATURE_TYPES as readonly string[]).includes(type!)) throw bad(`unknown type "${type}" (use ${FEATURE_TYPES.join(', ')})`);
  const feature: FeatureSpec = { name: name!, type: type as FeatureType };
  if (values !== undefined) {
    if (type !== 'category') throw bad('only category features take =values');
    // `|` or `,`: `basic,pro` is what people type, and `|` needs quoting in a shell.
    const list = values
      .split(/[|,]/)
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (list.length === 0) throw bad('category values are empty');
    feature.values = list;
  } else if (type === 'category') {
    throw bad('a category feature needs its values, e.g. color:category=red,green,blue');
  }
  if (min !== undefined || max !== undefined) {
    if (type !== 'number' && type !== 'integer') throw bad('only number and integer features take a [min..max] range');
    feature.range = {};
    if (min !== undefined) feature.range.min = Number(min);
    if (max !== undefined) feature.range.max = Number(max);
  }
  return feature;
}

/** Parses `--label k=v`. */
export function parseLabelFlag(input: string): [string, string] {
  const i = input.indexOf('=');
  if (i <= 0) throw new MaasError('USAGE', `invalid --label "${escapeInvisible(input.slice(0, 80))}"`, { hint: 'write key=value, e.g. --label team=vision' });
  return [input.slice(0, i).trim(), input.slice(i + 1).trim()];
}

/** Parses `--labels-out a,b,c` (class labels). */
export function parseListFlag(input: string): string[] {
  return input
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function isTaskKind(s: string): s is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(s);
}

function flowMap(doc: Document, value: unknown): ReturnType<Document['createNode']> {
  const node = doc.createNode(value);
  if (isMap(node) || isSeq(node)) node.flow = true;
  return node;
}

/**
 * The description text: a schema modeline for editors, then the template filled with answers.
 * `schemaRef` is what the modeline points at (see schemaReference).
 */
export function scaffoldModel(template: string, answers: ScaffoldAnswers, schemaRef: string): string {
  const doc = parseDocument(template);
  if (doc.errors.length > 0) throw new MaasError('INTERNAL', `model template is not valid YAML: ${doc.errors[0]!.message}`);
  doc.setIn(['metadata', 'name'], answers.name);
  doc.setIn(['metadata', 'version'], answers.version);
  doc.setIn(['metadata', 'description'], answers.description ?? `${answers.algorithm} ${answers.task} model.`);
  if (answers.labels && Object.keys(answers.labels).length > 0) doc.setIn(['metadata', 'labels'], doc.createNode(answers.labels));
  else doc.deleteIn(['metadata', 'labels']);
  doc.setIn(['spec', 'task'], answers.task);
  doc.setIn(['spec', 'algorithm'], answers.algorithm);
  doc.setIn(['spec', 'artifact', 'uri'], answers.artifactUri);
  const features = new YAMLSeq();
  for (const f of answers.features) features.items.push(flowMap(doc, f));
  doc.setIn(['spec', 'features'], features);
  if (answers.task === 'classification') doc.setIn(['spec', 'outputs', 'labels'], flowMap(doc, answers.outputLabels ?? []));
  // Pin the version as a string: `version: 1` would be read back as a number.
  const version = doc.getIn(['metadata', 'version'], true);
  if (isScalar(version)) version.type = 'QUOTE_DOUBLE';
  const body = doc.toString({ lineWidth: 0 });
  return `# yaml-language-server: $schema=${schemaRef}\n${body}`;
}

export const SCHEMA_URL = MODEL_SCHEMA_ID;

/**
 * The `$schema` a description written to `file` should name. A file meant to be committed must
 * not carry one machine's absolute path: when maas is installed in the project (the schema sits
 * in a node_modules above the file) the path is relative; otherwise the published URL.
 */
export function schemaReference(schemaFile: string, file: string): string {
  const sep = schemaFile.includes('\\') ? '\\' : '/';
  const at = schemaFile.lastIndexOf(`${sep}node_modules${sep}`);
  if (at >= 0) {
    const project = schemaFile.slice(0, at);
    const dir = file.slice(0, file.lastIndexOf(sep));
    if (dir === project || dir.startsWith(`${project}${sep}`)) {
      const up = dir === project ? 0 : dir.slice(project.length + 1).split(sep).length;
      return `${up === 0 ? '.' : Array.from({ length: up }, () => '..').join('/')}/${schemaFile
        .slice(at + 1)
        .split(sep)
        .join('/')}`;
    }
  }
  return SCHEMA_URL;
}

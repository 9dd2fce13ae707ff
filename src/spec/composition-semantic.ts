// Checks of a composition description that its JSON Schema cannot express: one model or one
// deployment per member, members listed once, aggregation that fits the task and the mode, the
// roles each mode needs, unique features and labels, weights that sum to 1. Every check tolerates
// data that failed the schema, so all problems are reported in one run. Whether the members fit
// each other (task, features, labels) needs their descriptions: see composition-compat.ts.
import { CLASSIFICATION_AGGREGATIONS, REGRESSION_AGGREGATIONS, type Aggregation, type CompositionMode } from '../domain/composition.js';
import { MODEL_NAME_MAX } from '../domain/names.js';
import { isValidVersion, suggestVersion } from '../domain/version.js';
import { MODEL_REF_PATTERN } from './composition-schema.js';
import { DURATION_PATTERN } from './schema.js';
import { checkMapKeys, checkVersion } from './semantic.js';
import { formatPath, quote, type FieldPath } from './parse.js';
import type { Report } from './schema-errors.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, key: string): unknown => (isObj(v) ? v[key] : undefined);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** How far a sum of weights may be from 1 (floating-point sums of decimals are rarely exact). */
export const WEIGHT_SUM_TOLERANCE = 1e-6;

/** Aggregations allowed per task. */
export const AGGREGATIONS_BY_TASK: Readonly<Record<'classification' | 'regression', readonly Aggregation[]>> = {
  classification: CLASSIFICATION_AGGREGATIONS,
  regression: REGRESSION_AGGREGATIONS,
};

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration written as the schemas allow (`500ms`, `1.5s`, `2m`), or undefined. */
export function parseDurationText(text: string): number | undefined {
  const m = new RegExp(DURATION_PATTERN).exec(text);
  if (!m) return undefined;
  const value = /\d+(\.\d+)?/.exec(text)![0];
  return Number(value) * DURATION_UNIT_MS[m[2]!]!;
}

/** The role a member plays: `member` when none is written. */
export function memberRole(member: unknown): string {
  const role = get(member, 'role');
  return typeof role === 'string' ? role : 'member';
}

const round = (n: number): number => Number(n.toFixed(6));

function checkUnique(list: unknown, path: FieldPath, what: string, hint: string, report: Report): void {
  if (!Array.isArray(list)) return;
  const first = new Map<unknown, number>();
  list.forEach((v: unknown, i) => {
    if (typeof v !== 'string') return;
    const prev = first.get(v);
    if (prev === undefined) first.set(v, i);
    else report([...path, i], `duplicate ${what} ${quote(v)} (also ${formatPath([...path, prev])})`, hint);
  });
}

function checkDuration(value: unknown, path: FieldPath, report: Report): void {
  if (typeof value !== 'string') return;
  if (parseDurationText(value) === 0) report(path, `must be longer than 0, got ${quote(value)}`, 'write a number and a unit, e.g. 500ms, 2s');
}

function checkMemberTarget(member: Obj, at: FieldPath, report: Report): void {
  const model = member.model;
  const deployment = member.deployment;
  if (model === undefined && deployment === undefined) {
    report(
      at,
      'member names neither a model nor a deployment',
      'write model: NAME@VERSION (a registered model version) or deployment: ID (an existing deployment, see `maas ps`)',
    );
  } else if (model !== undefined && deployment !== undefined) {
    report(
      at,
      'member names both a model and a deployment',
      'keep one: model: NAME@VERSION deploys (or reuses) a registered version, deployment: ID joins an existing deployment',
    );
  }
  if (typeof model !== 'string' || !new RegExp(MODEL_REF_PATTERN).test(model)) return;
  const atSign = model.lastIndexOf('@');
  const name = model.slice(0, atSign);
  const version = model.slice(atSign + 1);
  if (name.length > MODEL_NAME_MAX) {
    report([...at, 'model'], `model name is too long (${name.length} characters, at most ${MODEL_NAME_MAX})`, 'name a registered model version');
  }
  if (!isValidVersion(version)) {
    const guess = suggestVersion(version);
    report(
      [...at, 'model'],
      `${quote(model)} names the invalid version ${quote(version)}`,
      `${guess ? `did you mean "${name}@${guess}"? ` : ''}versions are integers (3) or semantic versions (1.2.0); \`maas versions ${name}\` lists them`,
    );
  }
}

function checkMembers(spec: unknown, report: Report): void {
  const members = get(spec, 'members');
  if (!Array.isArray(members)) return;
  const seen = new Map<string, number>();
  members.forEach((m: unknown, i) => {
    if (!isObj(m)) return;
    const at: FieldPath = ['spec', 'members', i];
    checkMemberTarget(m, at, report);
    checkDuration(m.timeout, [...at, 'timeout'], report);
    const field = typeof m.model === 'string' ? 'model' : typeof m.deployment === 'string' ? 'deployment' : undefined;
    if (field === undefined) return;
    const key = `${field}:${String(m[field])}`;
    const prev = seen.get(key);
    if (prev === undefined) seen.set(key, i);
    else
      report(
        [...at, field],
        `${field} ${quote(m[field])} is listed twice (also ${formatPath(['spec', 'members', prev])})`,
        'list each member once; give it a larger weight to give it more say',
      );
  });
}

function checkAggregation(spec: unknown, report: Report): void {
  const aggregation = get(spec, 'aggregation');
  if (typeof aggregation !== 'string') return;
  const mode = get(spec, 'mode');
  if (typeof mode === 'string' && mode !== 'ensemble') {
    report(['spec', 'aggregation'], `aggregation applies to ensemble mode only (mode is ${quote(mode)})`, 'remove aggregation, or set mode: ensemble', 'key');
    return;
  }
  const task = get(spec, 'task');
  if (task !== 'classification' && task !== 'regression') return;
  const allowed = AGGREGATIONS_BY_TASK[task];
  const known = [...CLASSIFICATION_AGGREGATIONS, ...REGRESSION_AGGREGATIONS] as readonly string[];
  if (known.includes(aggregation) && !(allowed as readonly string[]).includes(aggregation)) {
    report(['spec', 'aggregation'], `aggregation ${quote(aggregation)} does not apply to ${task}`, `for ${task} use one of: ${allowed.join(', ')}`);
  }
}

function checkRoles(spec: unknown, report: Report): void {
  const mode = get(spec, 'mode') as CompositionMode | undefined;
  const members = get(spec, 'members');
  if (!Array.isArray(members) || members.length === 0) return;
  const indexed = members.map((m: unknown, i) => ({ m, i })).filter(({ m }) => isObj(m));
  if (indexed.length === 0) return;
  if (mode === 'shadow') {
    const primaries = indexed.filter(({ m }) => memberRole(m) === 'primary');
    if (primaries.length === 0) {
      report(
        ['spec', 'members'],
        'shadow mode needs exactly one member with role: primary, and none has it',
        'give the member that answers role: primary; the others are called as shadows and only measured',
      );
    }
    for (const { i } of primaries.slice(1)) {
      report(
        ['spec', 'members', i, 'role'],
        `shadow mode allows one primary member, and ${formatPath(['spec', 'members', primaries[0]!.i])} already is`,
        'make the others role: shadow',
      );
    }
  } else if (mode === 'ensemble' || mode === 'split') {
    if (indexed.every(({ m }) => memberRole(m) === 'shadow')) {
      report(
        ['spec', 'members'],
        `${mode} mode needs at least one member that answers, and every member is a shadow`,
        'remove role: shadow from at least one member (role: member is the default)',
      );
    }
  }
}

function checkSum(obj: unknown, keys: readonly string[], path: FieldPath, report: Report, hint: string): void {
  if (!isObj(obj)) return;
  const values = keys.map((k) => obj[k]);
  if (!values.every(isNum)) return;
  const sum = values.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
    report(path, `${keys.join(' + ')} = ${round(sum)}, must be 1`, hint);
  }
}

function checkPolicy(policy: unknown, report: Report): void {
  if (!isObj(policy)) return;
  const at: FieldPath = ['spec', 'policy'];
  checkSum(
    policy.qosWeights,
    ['effectiveness', 'quality', 'latency', 'reliability'],
    [...at, 'qosWeights'],
    report,
    'the QoS weights are shares of one score: make them sum to 1, e.g. 0.4, 0.2, 0.2, 0.2',
  );
  checkSum(
    policy.rules,
    ['dataUtility', 'modelUtility', 'scalability', 'history', 'reliability'],
    [...at, 'rules'],
    report,
    'the rule weights are shares of one preference: make them sum to 1, e.g. 0.3, 0.2, 0.2, 0.15, 0.15',
  );
  checkSum(
    policy.contribution,
    ['qos', 'functional'],
    [...at, 'contribution'],
    report,
    'a member score is a * QoS + b * functional with a + b = 1, e.g. qos: 0.5, functional: 0.5',
  );
}

function checkOutputs(spec: unknown, report: Report): void {
  const labels = get(get(spec, 'outputs'), 'labels');
  if (labels === undefined) return;
  if (get(spec, 'task') === 'regression') {
    report(['spec', 'outputs', 'labels'], 'outputs.labels applies to classification only', 'remove labels; a regression composition predicts a value', 'key');
    return;
  }
  checkUnique(labels, ['spec', 'outputs', 'labels'], 'class label', 'each class label may appear once', report);
}

/** All semantic checks of a composition description; problems go to `report`. */
export function compositionSemanticChecks(data: unknown, report: Report): void {
  const metadata = get(data, 'metadata');
  const spec = get(data, 'spec');
  checkVersion(metadata, report);
  checkMapKeys(get(metadata, 'labels'), ['metadata', 'labels'], (k) => k.length >= 1 && k.length <= 63, 'label keys have 1 to 63 characters', report);
  checkUnique(get(spec, 'features'), ['spec', 'features'], 'feature', 'each feature may appear once', report);
  checkOutputs(spec, report);
  checkAggregation(spec, report);
  checkMembers(spec, report);
  checkRoles(spec, report);
  checkDuration(get(spec, 'timeout'), ['spec', 'timeout'], report);
  checkDuration(get(get(spec, 'qos'), 'latencyBudget'), ['spec', 'qos', 'latencyBudget'], report);
  checkPolicy(get(spec, 'policy'), report);
}

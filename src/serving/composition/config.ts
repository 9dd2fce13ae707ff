// The router configuration (`RouterConfig`, written by `maas compose apply`) as the router reads
// it: JSON from a file, checked for what the router relies on, with member endpoint files resolved
// against the config file's directory. The description itself was validated when it was applied;
// this check keeps a hand-edited or half-written file from replacing a working member set.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MaasError } from '../../core/errors.js';
import {
  CLASSIFICATION_AGGREGATIONS,
  COMPOSITION_MODES,
  REGRESSION_AGGREGATIONS,
  type Aggregation,
  type RouterConfig,
  type RouterMember,
} from '../../domain/composition.js';
import { FEATURE_TYPES, type FeatureSpec } from '../../spec/schema.js';

/** Default deadline per member when the config gives none (ms). */
export const DEFAULT_MEMBER_TIMEOUT_MS = 1000;

const invalid = (where: string, message: string): MaasError => new MaasError('VALIDATION', `${where}: ${message}`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function checkFeature(raw: unknown, i: number, where: string): FeatureSpec {
  if (!isObject(raw) || !text(raw.name)) throw invalid(where, `features[${i}] needs a name`);
  if (!(FEATURE_TYPES as readonly unknown[]).includes(raw.type))
    throw invalid(where, `feature "${raw.name}" has type ${JSON.stringify(raw.type)}; use ${FEATURE_TYPES.join(', ')}`);
  if (raw.type === 'category' && (!Array.isArray(raw.values) || raw.values.length === 0))
    throw invalid(where, `category feature "${raw.name}" needs its values`);
  return raw as unknown as FeatureSpec;
}

function checkMember(raw: unknown, i: number, where: string, defaultTimeoutMs: number, base: string): RouterMember {
  const at = `members[${i}]`;
  if (!isObject(raw)) throw invalid(where, `${at} must be an object`);
  const { key, model, version, endpoint, endpointFile, weight, role, timeoutMs, labels, deployment } = raw;
  if (!text(key)) throw invalid(where, `${at}.key is required (NAME@VERSION of the member)`);
  if (!text(model) || !text(version)) throw invalid(where, `member ${key}: model and version (its OIP path) are required`);
  if ((endpoint === undefined) === (endpointFile === undefined)) throw invalid(where, `member ${key}: give exactly one of endpoint and endpointFile`);
  if (endpoint !== undefined) {
    if (!text(endpoint)) throw invalid(where, `member ${key}: endpoint must be a URL`);
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid(where, `member ${key}: endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
    if (url.protocol !== 'http:') throw invalid(where, `member ${key}: endpoint ${endpoint} is not an http:// URL`);
  }
  if (endpointFile !== undefined && !text(endpointFile)) throw invalid(where, `member ${key}: endpointFile must be a path`);
  const w = weight === undefined ? 1 : weight;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw invalid(where, `member ${key}: weight must be a number >= 0`);
  const r = role ?? 'member';
  if (r !== 'member' && r !== 'primary' && r !== 'shadow') throw invalid(where, `member ${key}: role must be member, primary or shadow`);
  const t = timeoutMs ?? defaultTimeoutMs;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) throw invalid(where, `member ${key}: timeoutMs must be a positive number`);
  if (labels !== undefined && (!Array.isArray(labels) || !labels.every(text))) throw invalid(where, `member ${key}: labels must be a list of label names`);
  return {
    key,
    deployment: typeof deployment === 'string' ? deployment : '',
    model,
    version,
    ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
    ...(endpointFile !== undefined ? { endpointFile: isAbsolute(endpointFile) ? endpointFile : resolve(base, endpointFile) } : {}),
    weight: w,
    role: r,
    timeoutMs: t,
    ...(labels !== undefined ? { labels: labels } : {}),
  };
}

/** The aggregation an ensemble uses: the description's, else majority (classification) or mean (regression). */
export function aggregationOf(config: RouterConfig): Aggregation {
  const spec = config.composition.spec;
  return spec.aggregation ?? (spec.task === 'regression' ? 'mean' : 'majority');
}

/** The composition's labels in its order (classification), or an empty list. */
export function labelsOf(config: RouterConfig): readonly string[] {
  return config.labels ?? config.composition.spec.outputs?.labels ?? [];
}

/**
 * Checks a parsed config; `where` names it in messages, `base` is where relative endpoint files
 * resolve from. Returns a copy with defaults filled in (member weight 1, role member, deadline).
 */
export function checkRouterConfig(value: unknown, where: string, base: string): RouterConfig {
  if (!isObject(value)) throw invalid(where, 'the router configuration must be a JSON object');
  const { composition, features, labels, members, timeoutMs } = value;
  if (!isObject(composition) || !isObject(composition.metadata) || !isObject(composition.spec))
    throw invalid(where, 'composition (the description with metadata and spec) is required');
  const { name, version } = composition.metadata;
  if (!text(name) || !text(version)) throw invalid(where, 'composition.metadata needs name and version');
  const spec = composition.spec;
  if (spec.task !== 'classification' && spec.task !== 'regression') throw invalid(where, 'composition.spec.task must be classification or regression');
  if (!(COMPOSITION_MODES as readonly unknown[]).includes(spec.mode)) throw invalid(where, `composition.spec.mode must be ${COMPOSITION_MODES.join(', ')}`);
  if (spec.aggregation !== undefined) {
    const allowed = spec.task === 'classification' ? CLASSIFICATION_AGGREGATIONS : REGRESSION_AGGREGATIONS;
    if (!(allowed as readonly unknown[]).includes(spec.aggregation))
      throw invalid(where, `aggregation ${JSON.stringify(spec.aggregation)} does not fit ${spec.task}; use ${allowed.join(', ')}`);
  }
  if (!Array.isArray(features) || features.length === 0) throw invalid(where, 'features (the full feature definitions) must be a non-empty list');
  const checkedFeatures = features.map((f, i) => checkFeature(f, i, where));
  const names = new Set<string>();
  for (const f of checkedFeatures) {
    if (names.has(f.name)) throw invalid(where, `feature "${f.name}" is listed twice`);
    names.add(f.name);
  }
  if (labels !== undefined && (!Array.isArray(labels) || !labels.every(text))) throw invalid(where, 'labels must be a list of label names');
  const defaultTimeout = timeoutMs ?? DEFAULT_MEMBER_TIMEOUT_MS;
  if (typeof defaultTimeout !== 'number' || !Number.isFinite(defaultTimeout) || defaultTimeout <= 0)
    throw invalid(where, 'timeoutMs must be a positive number of milliseconds');
  if (!Array.isArray(members) || members.length === 0) throw invalid(where, 'members must be a non-empty list');
  const checked = members.map((m, i) => checkMember(m, i, where, defaultTimeout, base));
  const keys = new Set<string>();
  for (const m of checked) {
    if (keys.has(m.key)) throw invalid(where, `member ${m.key} is listed twice`);
    keys.add(m.key);
  }
  const config: RouterConfig = {
    composition: composition as unknown as RouterConfig['composition'],
    features: checkedFeatures,
    ...(labels !== undefined ? { labels: labels } : {}),
    members: checked,
    timeoutMs: defaultTimeout,
  };
  const compositionLabels = labelsOf(config);
  const aggregation = aggregationOf(config);
  if (spec.task === 'classification') {
    if (spec.mode === 'ensemble' && aggregation === 'mean-proba' && compositionLabels.length === 0)
      throw invalid(where, 'mean-proba needs the composition labels (labels or composition.spec.outputs.labels)');
    for (const m of checked) {
      const unknown = (m.labels ?? []).filter((l) => compositionLabels.length > 0 && !compositionLabels.includes(l));
      if (unknown.length > 0) throw invalid(where, `member ${m.key} predicts labels the composition does not list: ${unknown.join(', ')}`);
    }
  }
  const answering = checked.filter((m) => m.role !== 'shadow');
  if (answering.length === 0) throw invalid(where, 'every member is a shadow; at least one must answer');
  if (spec.mode === 'split' && !answering.some((m) => m.weight > 0)) throw invalid(where, 'split mode needs a non-shadow member with a weight above 0');
  if (answering.filter((m) => m.role === 'primary').length > 1) throw invalid(where, 'at most one member can be the primary');
  return config;
}

/** Reads and checks the router configuration file. */
export async function readRouterConfig(path: string): Promise<RouterConfig> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    throw new MaasError('USAGE', `cannot read the composition file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new MaasError('VALIDATION', `the composition file ${path} is not JSON: ${(e as Error).message}`, {
      hint: 'give the router configuration `maas compose apply` writes (JSON)',
    });
  }
  return checkRouterConfig(value, path, dirname(path));
}

/** The member that answers in shadow mode: the one marked primary, else the first non-shadow member. */
export function primaryOf(members: readonly RouterMember[]): RouterMember {
  return members.find((m) => m.role === 'primary') ?? members.find((m) => m.role !== 'shadow')!;
}

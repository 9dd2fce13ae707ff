// Checks a JSON Schema cannot express: unique names, consistent feature definitions, parseable
// quantities and versions, usable URIs, an artifact that exists. Every check tolerates data
// that failed the schema, so all problems are reported in one run.
import { parseQuantity } from '../domain/quantity.js';
import { FEATURE_TYPES } from './schema.js';
import { isValidVersion, suggestVersion } from '../domain/version.js';
import { ARTIFACT_SCHEMES, DATA_SCHEMES, REPOSITORY_SCHEMES, isScpLikeRemote, resolveFileUri, uriScheme } from './artifact-uri.js';
import { quote, formatPath, type FieldPath } from './parse.js';
import { didYouMean } from './suggest.js';
import type { Report } from './schema-errors.js';
import { NUMERIC_ONLY_TESTS, type DriftTestName } from '../drift/test-names.js';

export interface SemanticOptions {
  /** Directory that relative `file:` URIs resolve from. */
  baseDir: string;
  /** Whether a `file:` artifact must exist (off for scaffolding and offline checks). */
  checkArtifact: boolean;
  /** Whether an absolute path is an existing regular file. */
  isFile: (absPath: string) => boolean;
}

export interface SemanticResult {
  /** Absolute path of a `file:` artifact. */
  artifactPath?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, key: string): unknown => (isObj(v) ? v[key] : undefined);
const isFeatureType = (t: unknown): t is string => (FEATURE_TYPES as readonly unknown[]).includes(t);

/** metadata.version is an integer or a semantic version (shared by every document kind). */
export function checkVersion(meta: unknown, report: Report): void {
  const version = get(meta, 'version');
  if (typeof version !== 'string' || version === '' || isValidVersion(version)) return;
  const guess = suggestVersion(version);
  report(
    ['metadata', 'version'],
    `${quote(version)} is not a valid version`,
    `${guess ? `did you mean "${guess}"? ` : ''}use an integer (3) or a semantic version (1.2.0, 1.2.0-rc.1)`,
  );
}

/** Every key of a map passes `valid`; the others are reported at their key. */
export function checkMapKeys(map: unknown, path: FieldPath, valid: (k: string) => boolean, hint: string, report: Report): void {
  if (!isObj(map)) return;
  for (const key of Object.keys(map)) if (!valid(key)) report([...path, key], `${quote(key)} is not a valid key`, hint, 'key');
}

function checkFeatures(features: unknown, report: Report): void {
  if (!Array.isArray(features)) return;
  const firstIndex = new Map<string, number>();
  features.forEach((f: unknown, i) => {
    if (!isObj(f)) return;
    const at = ['spec', 'features', i];
    const name = f.name;
    const type = f.type;
    if (typeof name === 'string') {
      const prev = firstIndex.get(name);
      if (prev === undefined) firstIndex.set(name, i);
      else
        report(
          [...at, 'name'],
          `duplicate feature name ${quote(name)}`,
          `feature names must be unique; it is already used by ${formatPath(['spec', 'features', prev])}`,
        );
    }
    const label = typeof name === 'string' ? ` ${quote(name)}` : '';
    if (type === 'category') {
      if (f.values === undefined) {
        report(at, `category feature${label} needs "values"`, 'list the allowed values in the order the model encodes them, e.g. values: [low, medium, high]');
      } else if (Array.isArray(f.values)) {
        const seen = new Set<string>();
        f.values.forEach((v: unknown, k) => {
          const text = `${typeof v}:${String(v)}`;
          if (seen.has(text))
            report([...at, 'values', k], `duplicate category value ${quote(String(v))}`, 'each value may appear once; its position is its code');
          seen.add(text);
        });
      }
    } else if (isFeatureType(type) && f.values !== undefined) {
      report([...at, 'values'], `only category features have "values" (this one is ${type})`, 'remove values, or set type: category', 'key');
    }
    if (f.range !== undefined && isFeatureType(type) && type !== 'number' && type !== 'integer') {
      report(
        [...at, 'range'],
        `"range" applies only to number and integer features (this one is ${type})`,
        type === 'category' ? 'a category feature is limited by its values; remove range' : 'remove range',
        'key',
      );
    }
    const min = get(f.range, 'min');
    const max = get(f.range, 'max');
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      report([...at, 'range', 'min'], `range.min (${min}) is greater than range.max (${max})`, 'swap the bounds');
    }
  });
}

function checkOutputs(spec: unknown, report: Report): void {
  if (get(spec, 'task') !== 'classification') return;
  const outputs = get(spec, 'outputs');
  const labels = get(outputs, 'labels');
  if (labels === undefined) {
    report(
      ['spec', 'outputs', 'labels'],
      'a classification model needs outputs.labels',
      "list the class labels in the order of the model's probability columns, e.g. labels: [walking, sitting]",
      'missing',
    );
    return;
  }
  if (!Array.isArray(labels)) return;
  const seen = new Set<unknown>();
  labels.forEach((l: unknown, i) => {
    if (seen.has(l)) report(['spec', 'outputs', 'labels', i], `duplicate class label ${quote(String(l))}`, 'each class label may appear once');
    seen.add(l);
  });
}

function checkQuantity(value: unknown, path: FieldPath, kind: 'cpu' | 'memory', report: Report): void {
  if (typeof value !== 'string') return;
  if (parseQuantity(value) === undefined) {
    const example = kind === 'cpu' ? 'cores or millicores, e.g. 500m, 1, 2.5' : 'bytes with a suffix, e.g. 256Mi, 1Gi, 512M';
    report(path, `${quote(value)} is not a valid ${kind} quantity`, `write ${example}`);
  } else if (kind === 'memory' && /^[0-9.]+m$/.test(value.trim())) {
    // Kubernetes would accept it, but it means millibytes: always a typo for Mi.
    report(path, `${quote(value)} means ${value.trim().slice(0, -1)} millibytes`, `did you mean "${value.trim().slice(0, -1)}Mi"?`);
  }
}

/** A plain number of bytes below 1Mi cannot hold a model server: a missing suffix. */
function checkMemorySize(value: unknown, path: FieldPath, report: Report): void {
  const bytes = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9.]+$/.test(value.trim()) ? Number(value) : undefined;
  if (bytes !== undefined && bytes > 0 && bytes < 2 ** 20) {
    report(path, `${String(value)} means ${String(value)} bytes, too little to run a model`, `add the unit: did you mean "${String(value)}Mi"?`);
  }
}

/** Metrics that are fractions by definition; 1.5 is a typo or a percentage. */
const FRACTION_METRICS = new Set(['accuracy', 'f1', 'precision', 'recall', 'auc', 'roc_auc', 'balanced_accuracy']);

function checkMetrics(performance: unknown, report: Report): void {
  if (typeof performance !== 'object' || performance === null || Array.isArray(performance)) return;
  for (const [name, value] of Object.entries(performance)) {
    if (!FRACTION_METRICS.has(name.toLowerCase()) || typeof value !== 'number') continue;
    if (value < 0 || value > 1) {
      report(
        ['spec', 'performance', name],
        `${name} ${value} is outside 0..1`,
        value >= 2 && value <= 100 ? `a percentage? write it as a fraction: ${value / 100}` : `${name} is a fraction between 0 and 1`,
      );
    }
  }
}

function checkResources(resources: unknown, report: Report): void {
  for (const part of ['serving', 'training'] as const) {
    const r = get(resources, part);
    checkQuantity(get(r, 'cpu'), ['spec', 'resources', part, 'cpu'], 'cpu', report);
    checkQuantity(get(r, 'memory'), ['spec', 'resources', part, 'memory'], 'memory', report);
    checkMemorySize(get(r, 'memory'), ['spec', 'resources', part, 'memory'], report);
  }
  const replicas = get(get(resources, 'serving'), 'replicas');
  const min = get(replicas, 'min');
  const max = get(replicas, 'max');
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    report(['spec', 'resources', 'serving', 'replicas', 'min'], `replicas.min (${min}) is greater than replicas.max (${max})`, 'min must not exceed max');
  }
}

/** Checks scheme and shape of a URI; returns its scheme when usable. */
function checkUri(uri: unknown, path: FieldPath, schemes: readonly string[], report: Report, example: string): string | undefined {
  if (typeof uri !== 'string' || uri === '') return undefined;
  const scheme = uriScheme(uri);
  if (scheme === undefined) {
    report(path, `${quote(uri)} has no URI scheme`, `write a URI such as ${example}`);
    return undefined;
  }
  if (!schemes.includes(scheme)) {
    report(path, `unsupported URI scheme "${scheme}"`, `${didYouMean(scheme, schemes)}supported: ${schemes.join(', ')}`);
    return undefined;
  }
  if (scheme !== 'file') {
    let ok = false;
    try {
      const url = new URL(uri);
      ok = url.host !== '' || scheme === 'oci';
    } catch {
      ok = false;
    }
    if (!ok || /\s/.test(uri)) {
      report(
        path,
        `${quote(uri)} is not a valid ${scheme} URI`,
        scheme === 's3' || scheme === 'gs' ? `write ${scheme}://bucket/path/to/object` : `write ${scheme}://host/path`,
      );
      return undefined;
    }
  }
  return scheme;
}

function checkArtifact(spec: unknown, opts: SemanticOptions, report: Report): string | undefined {
  const path = ['spec', 'artifact', 'uri'];
  const uri = get(get(spec, 'artifact'), 'uri');
  const scheme = checkUri(uri, path, ARTIFACT_SCHEMES, report, `file://./model.onnx (next to this file) or https://host/model.onnx`);
  if (scheme !== 'file' || typeof uri !== 'string') return undefined;
  const abs = resolveFileUri(uri, opts.baseDir);
  if (abs === undefined) {
    report(path, `${quote(uri)} does not name a file`, 'write file://./model.onnx (relative to this file) or file:///absolute/path/model.onnx');
    return undefined;
  }
  if (opts.checkArtifact && !opts.isFile(abs)) {
    report(
      path,
      `artifact not found: ${quote(abs, 200)}`,
      'relative file URIs resolve from the directory of the description; fix the path, or skip this check with --no-artifact-check',
    );
  }
  return abs;
}

function checkTraining(training: unknown, report: Report): void {
  checkUri(get(get(training, 'data'), 'uri'), ['spec', 'training', 'data', 'uri'], DATA_SCHEMES, report, 'file://./data/train.csv or s3://bucket/train.csv');
  const repo = get(get(training, 'code'), 'repository');
  if (typeof repo === 'string' && !isScpLikeRemote(repo)) {
    checkUri(repo, ['spec', 'training', 'code', 'repository'], REPOSITORY_SCHEMES, report, 'https://github.com/org/repo.git or git@github.com:org/repo.git');
  }
  const image = get(get(training, 'code'), 'image');
  if (typeof image === 'string' && (/\s/.test(image) || image === '')) {
    report(
      ['spec', 'training', 'code', 'image'],
      `${quote(image)} is not a container image reference`,
      'write registry/name:tag, e.g. ghcr.io/org/trainer:1.0',
    );
  }
}

/** spec.monitoring: per-feature entries name real features, and each test fits its feature's type. */
function checkMonitoring(spec: unknown, report: Report): void {
  const monitoring = get(spec, 'monitoring');
  if (!isObj(monitoring)) return;
  const features = get(spec, 'features');
  const types = new Map<string, string>();
  if (Array.isArray(features)) for (const f of features) if (isObj(f) && typeof f.name === 'string' && typeof f.type === 'string') types.set(f.name, f.type);
  const fits = (test: unknown, type: string | undefined, at: FieldPath): void => {
    if (typeof test !== 'string' || type === undefined) return;
    if (NUMERIC_ONLY_TESTS.includes(test as DriftTestName) && type !== 'number' && type !== 'integer')
      report(
        at,
        `${test} needs a number or integer feature, and this one is ${type}`,
        'use chisquare, jensenshannon, psi, kl or hellinger for categories, z for booleans',
      );
  };
  const perFeature = get(monitoring, 'features');
  if (isObj(perFeature)) {
    for (const [name, entry] of Object.entries(perFeature)) {
      const at: FieldPath = ['spec', 'monitoring', 'features', name];
      if (!types.has(name)) {
        report(at, `${quote(name)} is not a feature of this model`, `${didYouMean(name, [...types.keys()])}use one of the names in spec.features`, 'key');
        continue;
      }
      fits(get(entry, 'test'), types.get(name), [...at, 'test']);
    }
  }
  const test = get(monitoring, 'test');
  if (typeof test === 'string' && NUMERIC_ONLY_TESTS.includes(test as DriftTestName)) {
    const other = [...types].find(
      ([name, t]) => t !== 'number' && t !== 'integer' && !(isObj(perFeature) && isObj(perFeature[name]) && 'test' in perFeature[name]),
    );
    if (other)
      report(
        ['spec', 'monitoring', 'test'],
        `${test} applies to every feature, but ${quote(other[0])} is ${other[1]}`,
        `set a test for ${other[0]} under spec.monitoring.features, or leave test unset to choose per feature`,
      );
  }
}

export function semanticChecks(data: unknown, opts: SemanticOptions, report: Report): SemanticResult {
  const spec = get(data, 'spec');
  const metadata = get(data, 'metadata');
  checkVersion(metadata, report);
  checkMapKeys(get(metadata, 'labels'), ['metadata', 'labels'], (k) => k.length >= 1 && k.length <= 63, 'label keys have 1 to 63 characters', report);
  checkMapKeys(
    get(spec, 'performance'),
    ['spec', 'performance'],
    (k) => /^[A-Za-z][A-Za-z0-9_.-]*$/.test(k) && k.length <= 64,
    'metric names start with a letter, then letters, digits, `_`, `.` or `-` (e.g. accuracy, f1)',
    report,
  );
  checkMetrics(get(spec, 'performance'), report);
  checkFeatures(get(spec, 'features'), report);
  checkOutputs(spec, report);
  checkResources(get(spec, 'resources'), report);
  checkTraining(get(spec, 'training'), report);
  checkMonitoring(spec, report);
  const artifactPath = checkArtifact(spec, opts, report);
  return artifactPath === undefined ? {} : { artifactPath };
}

// A search request as a list of checked requirements, and the pure judgement of one candidate
// against one requirement with the human reason either way ("accuracy 0.94 >= 0.90",
// "cpu 2 > 1"). The planner turns the same list into SQL; hits and near misses use these reasons.
// Semantics: a metric floor needs the metric declared (for lower-is-better metrics such as rmse
// the floor is a ceiling, see metric-direction.ts); a cpu, memory or latency ceiling is met only
// by a declared value within it; an undeclared gpu count is 0.
import { MaasError } from '../../core/errors.js';
import type { FeatureType } from '../../spec/schema.js';
import { formatBytes, formatMillis } from '../../domain/quantity.js';
import type { SearchRequest } from '../../domain/model.js';
import { isLowerBetter } from './metric-direction.js';
import { SEARCH_FEATURE_TYPES, SEARCH_TASKS } from './tasks.js';

export type Requirement =
  | { kind: 'task'; task: string }
  | { kind: 'algorithm'; algorithm: string }
  | { kind: 'feature'; name: string; type?: FeatureType }
  | { kind: 'metric'; name: string; bound: number; lowerIsBetter: boolean }
  | { kind: 'cpu' | 'memory' | 'gpu' | 'latency'; max: number }
  | { kind: 'label'; key: string; value: string }
  | { kind: 'text'; text: string; match: string };

/** What is known about one candidate, as far as the requirements ask. */
export interface Facts {
  task: string;
  algorithm: string;
  cpuMillis: number | null;
  memoryBytes: number | null;
  gpu: number;
  latencyMs: number | null;
  /** Declared value per requested metric (lower-cased name); missing when not declared. */
  metrics: Map<string, number>;
  /** Type per requested feature name; missing when the model has no such feature. */
  features: Map<string, string>;
  /** Value per requested label key; missing when unlabelled. */
  labels: Map<string, string>;
  textMatch: boolean;
}

export interface Verdict {
  ok: boolean;
  reason: string;
}

function usage(message: string, hint: string): MaasError {
  return new MaasError('USAGE', message, { hint });
}

function ceiling(value: number | undefined, what: string, hint: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value)))
    throw usage(`${what} must be a non-negative ${integer ? 'integer' : 'number'}, got ${value}`, hint);
  return value;
}

/** FTS5 query for free text: every word must occur, as a word or word prefix. */
export function ftsQuery(text: string): string | undefined {
  const words = text.normalize('NFKC').match(/[\p{L}\p{N}]+/gu);
  return words ? words.map((w) => `"${w}"*`).join(' ') : undefined;
}

/** Checks a request and lists its requirements in a fixed order (the planner's indices). */
export function requirementsOf(request: SearchRequest): Requirement[] {
  const out: Requirement[] = [];
  if (request.task !== undefined) {
    if (!(SEARCH_TASKS as readonly string[]).includes(request.task)) throw usage(`unknown task "${request.task}"`, `use one of: ${SEARCH_TASKS.join(', ')}`);
    out.push({ kind: 'task', task: request.task });
  }
  if (request.algorithm !== undefined && request.algorithm.trim() !== '') out.push({ kind: 'algorithm', algorithm: request.algorithm.trim() });
  for (const f of request.features ?? []) {
    if (!f.name) throw usage('a feature requirement needs a name', 'write --feature NAME or --feature NAME:TYPE');
    if (f.type !== undefined && !(SEARCH_FEATURE_TYPES as readonly string[]).includes(f.type)) {
      throw usage(`unknown feature type "${String(f.type)}" for ${f.name}`, `use one of: ${SEARCH_FEATURE_TYPES.join(', ')}`);
    }
    out.push(f.type === undefined ? { kind: 'feature', name: f.name } : { kind: 'feature', name: f.name, type: f.type });
  }
  for (const [name, bound] of Object.entries(request.minMetrics ?? {})) {
    if (!Number.isFinite(bound)) throw usage(`metric floor for ${name} must be a number, got ${bound}`, 'write --min accuracy=0.9');
    out.push({ kind: 'metric', name, bound, lowerIsBetter: isLowerBetter(name) });
  }
  const quantityHint = 'write a Kubernetes quantity, e.g. 500m or 2 for CPU, 512Mi or 1Gi for memory';
  const cpu = ceiling(request.maxCpuMillis, 'cpu ceiling', quantityHint);
  if (cpu !== undefined) out.push({ kind: 'cpu', max: cpu });
  const memory = ceiling(request.maxMemoryBytes, 'memory ceiling', quantityHint);
  if (memory !== undefined) out.push({ kind: 'memory', max: memory });
  const gpu = ceiling(request.maxGpu, 'gpu ceiling', 'write --max-gpu 0 or a whole number of GPUs', true);
  if (gpu !== undefined) out.push({ kind: 'gpu', max: gpu });
  const latency = ceiling(request.maxLatencyMs, 'latency ceiling', 'write --max-latency 50 (milliseconds)');
  if (latency !== undefined) out.push({ kind: 'latency', max: latency });
  for (const [key, value] of Object.entries(request.labels ?? {})) out.push({ kind: 'label', key, value });
  if (request.text !== undefined && request.text.trim() !== '') {
    const match = ftsQuery(request.text);
    if (!match)
      throw usage(`"${request.text}" has no words to search for`, 'free text matches words in names, descriptions, algorithms, labels and feature names');
    out.push({ kind: 'text', text: request.text.trim(), match });
  }
  return out;
}

function decimals(n: number): number {
  const s = String(n);
  const dot = s.indexOf('.');
  return dot === -1 || s.includes('e') ? 0 : s.length - dot - 1;
}

/** Formats a value and its bound alike: `0.94` and `0.90`, not `0.94` and `0.9`. */
function pair(value: number, bound: number): [string, string] {
  const d = Math.min(4, Math.max(decimals(value), decimals(bound)));
  return [value.toFixed(d), bound.toFixed(d)];
}

const ms = (n: number): string => `${Number(n.toFixed(3))}ms`;

function limit(what: string, value: number | null, max: number, format: (n: number) => string): Verdict {
  if (value === null) return { ok: false, reason: `${what} not declared` };
  return value <= max ? { ok: true, reason: `${what} ${format(value)} <= ${format(max)}` } : { ok: false, reason: `${what} ${format(value)} > ${format(max)}` };
}

/** Judges one candidate on one requirement; the reason reads well whether it passed or not. */
export function judge(r: Requirement, facts: Facts): Verdict {
  switch (r.kind) {
    case 'task':
      return facts.task === r.task ? { ok: true, reason: `task ${r.task}` } : { ok: false, reason: `task ${facts.task}, not ${r.task}` };
    case 'algorithm':
      return facts.algorithm.toLowerCase() === r.algorithm.toLowerCase()
        ? { ok: true, reason: `algorithm ${facts.algorithm}` }
        : { ok: false, reason: `algorithm ${facts.algorithm}, not ${r.algorithm}` };
    case 'feature': {
      const type = facts.features.get(r.name);
      if (type === undefined) return { ok: false, reason: `no feature ${r.name}` };
      if (r.type !== undefined && type !== r.type) return { ok: false, reason: `feature ${r.name} is ${type}, not ${r.type}` };
      return { ok: true, reason: `feature ${r.name}:${type}` };
    }
    case 'metric': {
      const value = facts.metrics.get(r.name.toLowerCase());
      if (value === undefined) return { ok: false, reason: `${r.name} not declared` };
      const [v, b] = pair(value, r.bound);
      const ok = r.lowerIsBetter ? value <= r.bound : value >= r.bound;
      const op = r.lowerIsBetter ? (ok ? '<=' : '>') : ok ? '>=' : '<';
      return { ok, reason: `${r.name} ${v} ${op} ${b}` };
    }
    case 'cpu':
      return limit('cpu', facts.cpuMillis, r.max, formatMillis);
    case 'memory':
      return limit('memory', facts.memoryBytes, r.max, formatBytes);
    case 'gpu':
      return limit('gpu', facts.gpu, r.max, String);
    case 'latency':
      return limit('latency', facts.latencyMs, r.max, ms);
    case 'label': {
      const value = facts.labels.get(r.key);
      if (value === r.value) return { ok: true, reason: `label ${r.key}=${r.value}` };
      return { ok: false, reason: value === undefined ? `no label ${r.key}` : `label ${r.key}=${value}, not ${r.value}` };
    }
    case 'text':
      return facts.textMatch ? { ok: true, reason: `text matches '${r.text}'` } : { ok: false, reason: `text does not match '${r.text}'` };
  }
}

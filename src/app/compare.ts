// `maas compare A B`: a champion (A) and a challenger (B), two registered versions, run in-process
// on the same labelled rows (a data file, or a deployment's labelled feedback); their metrics, the
// primary metric's difference, a paired test, and whether B is better.
import { seededRandom } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { formatModelRef, parseModelRef } from '../domain/model-ref.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { labelledTarget, type LabelledCell } from '../protocol/labelled.js';
import { comparePredictions, type ComparisonOutcome, type PairedPredictions } from '../retrain/comparison.js';
import { primaryMetric, type EvaluationMetrics, type EvaluationTask } from '../retrain/metrics.js';
import type { ModelSpec } from '../spec/schema.js';
import { closest } from '../spec/suggest.js';
import { requireModel } from './lookup.js';
import type { ModelPredictions, Services } from './services.js';

/** Labelled rows as `maas feedback export` gives them: feature values in `features` order, then the truth. */
export interface LabelledRows {
  features: readonly string[];
  target: string;
  rows: readonly (readonly LabelledCell[])[];
}

/** Where the labelled rows come from. */
export type CompareSource =
  /** A data file (CSV with a header) holding the features and the target column. */
  | { kind: 'file'; data: string; baseDir: string }
  /** The labelled feedback of a deployment (its request log joined with ground truth). */
  | { kind: 'deployment'; deployment: string; since?: string; timeoutMs: number }
  /** Rows already at hand; `what` names them in messages. */
  | ({ kind: 'rows'; what: string } & LabelledRows);

export interface CompareRequest {
  /** The champion, `NAME@VERSION`. */
  a: string;
  /** The challenger, `NAME@VERSION`. */
  b: string;
  rows: CompareSource;
  /** The target column of a data file (default: `spec.training.data.target` of A, else of B). */
  target?: string;
  /** Least improvement of the primary metric that counts; default 0. */
  margin?: number;
  /** Significance level; default 0.05. */
  alpha?: number;
  /** Seed of the regression bootstrap; default 0 (the same data gives the same answer). */
  seed?: number;
  /** Bootstrap resamples; default 2,000. */
  resamples?: number;
}

export interface Comparison {
  a: { ref: string; metrics: EvaluationMetrics };
  b: { ref: string; metrics: EvaluationMetrics };
  primary: ComparisonOutcome['primary'];
  test: ComparisonOutcome['test'];
  verdict: ComparisonOutcome['verdict'];
  /** Labelled rows both versions were evaluated on. */
  rows: number;
  reason: string;
  /** What the rows came from, and their truth column. */
  source: string;
  target: string;
  /** Rows left out because their truth was empty. */
  unlabelled: number;
  margin: number;
  alpha: number;
}

const listed = (names: readonly string[], max = 12): string =>
  names.length === 0 ? '(none)' : `${names.slice(0, max).join(', ')}${names.length > max ? `, ... (${names.length} in all)` : ''}`;

function evaluationTask(m: ModelVersionRecord): EvaluationTask {
  const task = m.description.spec.task;
  if (task === 'classification') return 'classification';
  if (task === 'regression' || task === 'forecasting') return 'regression';
  throw new MaasError('USAGE', `${formatModelRef(m.name, m.version)} is a ${task} model; compare evaluates classification and regression models`);
}

/** What keeps two versions from being compared on the same rows, as sentences; empty when nothing. */
export function incompatibilities(a: ModelVersionRecord, b: ModelVersionRecord): string[] {
  const problems: string[] = [];
  const sa = a.description.spec;
  const sb = b.description.spec;
  if (sa.task !== sb.task) problems.push(`task: A is ${sa.task}, B is ${sb.task}`);
  const fa = new Map(sa.features.map((f) => [f.name, f]));
  const fb = new Map(sb.features.map((f) => [f.name, f]));
  const onlyA = [...fa.keys()].filter((n) => !fb.has(n));
  const onlyB = [...fb.keys()].filter((n) => !fa.has(n));
  if (onlyA.length > 0) problems.push(`features only A has: ${listed(onlyA)}`);
  if (onlyB.length > 0) problems.push(`features only B has: ${listed(onlyB)}`);
  const retyped = [...fa.values()]
    .filter((f) => fb.has(f.name) && fb.get(f.name)!.type !== f.type)
    .map((f) => `${f.name} (A ${f.type}, B ${fb.get(f.name)!.type})`);
  if (retyped.length > 0) problems.push(`feature types differ: ${listed(retyped)}`);
  if (sa.task === 'classification' && sb.task === 'classification') {
    const la = sa.outputs?.labels ?? [];
    const lb = sb.outputs?.labels ?? [];
    const labelsOnlyA = la.filter((l) => !lb.includes(l));
    const labelsOnlyB = lb.filter((l) => !la.includes(l));
    if (labelsOnlyA.length > 0 || labelsOnlyB.length > 0) {
      problems.push(`labels differ: only A has ${listed(labelsOnlyA)}; only B has ${listed(labelsOnlyB)}`);
    }
  }
  return problems;
}

async function requireVersion(s: Pick<Services, 'models'>, text: string, role: string): Promise<ModelVersionRecord> {
  const ref = parseModelRef(text, { requireVersion: true });
  try {
    return await requireModel(s, ref.name, ref.version);
  } catch (e) {
    if (e instanceof MaasError && e.code === 'NOT_FOUND')
      throw new MaasError('NOT_FOUND', `${role}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
    throw e;
  }
}

interface Gathered {
  source: string;
  target: string;
  /** Feature values keyed by name, one per labelled row. */
  records: Record<string, unknown>[];
  /** Truth per row, as read (text or JSON value). */
  truth: unknown[];
  unlabelled: number;
}

const isEmpty = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

function fromRows(what: string, rows: LabelledRows, spec: ModelSpec): Gathered {
  const missing = spec.features.filter((f) => f.optional !== true && !rows.features.includes(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw new MaasError('VALIDATION', `${what} has no values for feature${missing.length === 1 ? '' : 's'} ${listed(missing)}`, {
      hint: `it has: ${listed(rows.features)}`,
    });
  }
  const out: Gathered = { source: what, target: rows.target, records: [], truth: [], unlabelled: 0 };
  for (const row of rows.rows) {
    const truth = row[rows.features.length];
    if (isEmpty(truth)) {
      out.unlabelled++;
      continue;
    }
    out.records.push(Object.fromEntries(rows.features.map((f, i) => [f, row[i] ?? null])));
    out.truth.push(truth);
  }
  return out;
}

async function fromFile(s: Pick<Services, 'datasets'>, source: { data: string; baseDir: string }, target: string, spec: ModelSpec): Promise<Gathered> {
  const dataset = await s.datasets.open(source.data, { baseDir: source.baseDir });
  const what = `data file ${dataset.path}`;
  const columns = dataset.columns;
  if (!columns.includes(target)) {
    const near = closest(target, columns);
    throw new MaasError('VALIDATION', `${what} has no target column "${target}"${near !== undefined ? ` (did you mean "${near}"?)` : ''}`, {
      hint: `the truth column is spec.training.data.target of the description (or --target COLUMN); the file's columns: ${listed(columns)}`,
      details: { target, columns },
    });
  }
  const missing = spec.features.filter((f) => f.optional !== true && !columns.includes(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    const named = missing.map((m) => {
      const near = closest(m, columns);
      return `"${m}"${near !== undefined ? ` (did you mean "${near}"?)` : ''}`;
    });
    throw new MaasError('VALIDATION', `${what} has no column for feature${missing.length === 1 ? '' : 's'} ${named.join(', ')}`, {
      hint: `the header row must name every feature of the models (optional ones may be left out); it has: ${listed(columns)}`,
      details: { missing, columns },
    });
  }
  const out: Gathered = { source: what, target, records: [], truth: [], unlabelled: 0 };
  for await (const record of dataset.records()) {
    const truth = record[target];
    if (isEmpty(truth)) {
      out.unlabelled++;
      continue;
    }
    out.records.push(record);
    out.truth.push(truth);
  }
  return out;
}

/** The truth of a regression as numbers; VALIDATION naming the first one that is not. */
function numericTruth(g: Gathered): number[] {
  return g.truth.map((v, i) => {
    const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(x)) {
      throw new MaasError('VALIDATION', `${g.source}: the target "${g.target}" of labelled row ${i + 1} is ${JSON.stringify(v)}, not a number`, {
        hint: 'a regression is compared on numeric true values',
      });
    }
    return x;
  });
}

const textOf = (v: unknown): string => (typeof v === 'string' ? v.trim() : String(v));

function predictionsOf(p: ModelPredictions, task: EvaluationTask, rows: number, ref: string): string[] | number[] {
  const out = task === 'classification' ? p.labels : p.values;
  if (!out || out.length !== rows) {
    throw new MaasError('FAILURE', `${ref} gave ${out?.length ?? 'no'} ${task === 'classification' ? 'labels' : 'values'} for ${rows} rows`);
  }
  return out;
}

/** Runs one version on rows keyed by feature name: labels (classification) or values (regression), in row order. */
export type PredictVersion = (model: ModelVersionRecord, records: readonly Readonly<Record<string, unknown>>[]) => Promise<ModelPredictions>;

/** How the comparison is judged (see CompareRequest). */
export type CompareOptions = Pick<CompareRequest, 'margin' | 'alpha' | 'seed' | 'resamples'>;

/** The refs of A and B and the task they are evaluated as; USAGE when they cannot be compared. */
function comparable(a: ModelVersionRecord, b: ModelVersionRecord): { refA: string; refB: string; task: EvaluationTask } {
  const refA = formatModelRef(a.name, a.version);
  const refB = formatModelRef(b.name, b.version);
  if (refA === refB) throw new MaasError('USAGE', `A and B are the same version, ${refA}`, { hint: 'compare two different versions' });
  const problems = incompatibilities(a, b);
  if (problems.length > 0) {
    throw new MaasError('USAGE', `${refA} and ${refB} cannot be compared on the same rows: ${problems.join('; ')}`, {
      hint: 'both versions must solve the same task with the same features (and, for classification, the same labels)',
      details: { problems },
    });
  }
  return { refA, refB, task: evaluationTask(a) };
}

/** Both versions on the gathered rows: metrics, the paired test and the verdict. */
async function judge(
  a: ModelVersionRecord,
  b: ModelVersionRecord,
  checked: { refA: string; refB: string; task: EvaluationTask },
  gathered: Gathered,
  predict: PredictVersion,
  opts: CompareOptions,
): Promise<Comparison> {
  const { refA, refB, task } = checked;
  const n = gathered.records.length;
  const [pa, pb] = [await predict(a, gathered.records), await predict(b, gathered.records)];
  let data: PairedPredictions;
  if (task === 'classification') {
    const labels = a.description.spec.outputs?.labels ?? [];
    data = {
      task,
      truth: gathered.truth.map(textOf),
      a: predictionsOf(pa, task, n, refA) as string[],
      b: predictionsOf(pb, task, n, refB) as string[],
      labels,
    };
  } else {
    data = { task, truth: numericTruth(gathered), a: predictionsOf(pa, task, n, refA) as number[], b: predictionsOf(pb, task, n, refB) as number[] };
  }
  const outcome = comparePredictions(data, {
    metric: primaryMetric(task, a.description.spec.performance ?? b.description.spec.performance),
    random: seededRandom(opts.seed ?? 0),
    ...(opts.margin !== undefined ? { margin: opts.margin } : {}),
    ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
    ...(opts.resamples !== undefined ? { resamples: opts.resamples } : {}),
  });
  return {
    a: { ref: refA, metrics: outcome.a },
    b: { ref: refB, metrics: outcome.b },
    primary: outcome.primary,
    test: outcome.test,
    verdict: outcome.verdict,
    rows: n,
    reason: outcome.reason,
    source: gathered.source,
    target: gathered.target,
    unlabelled: gathered.unlabelled,
    margin: opts.margin ?? 0,
    alpha: opts.alpha ?? 0.05,
  };
}

/**
 * Compares two versions already at hand (registered or not) on labelled rows, running them with
 * `predict`: what `compareVersions` does once it has loaded the records, and what the in-cluster
 * retraining step runs on its held-out rows. `rows.what` names the rows in messages.
 */
export async function compareRecords(
  a: ModelVersionRecord,
  b: ModelVersionRecord,
  rows: LabelledRows & { what: string },
  predict: PredictVersion,
  opts: CompareOptions = {},
): Promise<Comparison> {
  const checked = comparable(a, b);
  return judge(a, b, checked, fromRows(rows.what, rows, a.description.spec), predict, opts);
}

export async function compareVersions(s: Services, req: CompareRequest): Promise<Comparison> {
  const a = await requireVersion(s, req.a, 'A (champion)');
  const b = await requireVersion(s, req.b, 'B (challenger)');
  const checked = comparable(a, b);
  const task = checked.task;
  const spec = a.description.spec;

  let gathered: Gathered;
  const source = req.rows;
  if (source.kind === 'file') {
    const target = req.target ?? spec.training?.data?.target ?? b.description.spec.training?.data?.target ?? labelledTarget(spec, task === 'classification');
    gathered = await fromFile(s, source, target, spec);
  } else if (source.kind === 'deployment') {
    const { exportFeedback } = await import('./feedback-export.js');
    const exported = await exportFeedback(s, {
      deployment: source.deployment,
      timeoutMs: source.timeoutMs,
      ...(source.since !== undefined ? { since: source.since } : {}),
    });
    gathered = fromRows(`the labelled feedback of deployment ${exported.deployment}`, exported, spec);
  } else {
    gathered = fromRows(source.what, source, spec);
  }
  return judge(a, b, checked, gathered, (m, records) => s.evaluator.predict(m, records), req);
}

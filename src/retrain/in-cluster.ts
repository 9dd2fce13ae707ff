// Retraining a strictly placed deployment inside its cluster. Raw rows of a strict deployment never
// leave its node, so the whole data path runs in one pod pinned to that node: `maas retrain-step
// assemble` reads the labelled rows from the model server's Service with a token that only the Job
// and the server hold, and assembles the training set; the description's own training program
// trains on it; `maas retrain-step evaluate` compares the champion with the challenger on the
// held-out rows and prints the produced files. What comes back through the pod log is the trained
// model and aggregates (counts, class balance, metrics, the test): never a row.
//
// This module is the contract between the CLI that plans the run, the Job that carries it out and
// the steps inside it: the plan (env MAAS_RETRAIN_PLAN, JSON), the in-pod paths, and the result
// lines the steps print (`--- maas-result {json}`). Pure.
import { MaasError } from '../core/errors.js';
import type { WeightingMode } from './training-set.js';

/** The environment variable holding the plan (JSON) in every step's container. */
export const PLAN_ENV = 'MAAS_RETRAIN_PLAN';

/** In-pod paths of a strict retraining Job. */
export const IN_POD = {
  /** The base training data (description data and --data files), delivered in a ConfigMap; may hold the header only. */
  base: '/maas/data/train.csv',
  /** Where `assemble` writes the training set (`$DATA` of the training program) and the held-out rows. */
  workDir: '/maas/work',
  train: '/maas/work/train.csv',
  holdout: '/maas/work/holdout.csv',
  /** `$OUT` of the training program. */
  out: '/maas/out',
  /** The labelled-rows token, a Secret shared with the model server only. */
  tokenDir: '/var/run/maas/labelled',
  tokenFile: '/var/run/maas/labelled/token',
} as const;

/**
 * The file `evaluate` returns beside the produced files: the reference profile of the training set
 * (as `maas register` computes it from training data) without its sample rows: aggregates only.
 * The training set stays on the node, so this is the challenger's profile for drift monitoring. A
 * file of this name the training program writes into $OUT is never returned.
 */
export const IN_CLUSTER_PROFILE_FILE = 'maas-profile.json';

/** Everything the in-pod steps need to know. Settings and names only: no data. */
export interface InClusterPlan {
  /** Base URL of the deployment's model server inside the cluster (its Service), e.g. `http://NAME.NS.svc`. */
  server: string;
  /** The model name in the OIP path. */
  model: string;
  /** The champion and the challenger, `NAME@VERSION`. */
  champion: string;
  challenger: string;
  /** Features in description order, then the target column's name. */
  features: string[];
  target: string;
  task: 'classification' | 'regression';
  /** Labelled rows logged at or after this time only (`--since`). */
  since?: string;
  /** Only the newest N labelled rows (the concept change point, as a count of rows after it). */
  last?: number;
  /** Share of the newest labelled rows held out to compare on (0..1). */
  holdout: number;
  weighting: { mode: WeightingMode; feedbackWeight?: number; since?: string };
  conceptDrift: boolean;
  /** Fewer held-out rows than this and no comparison is made. */
  minHoldoutRows: number;
  margin?: number;
  /**
   * The champion's description and artifact inside the pod: the Job mounts the deployment's own
   * model volumes at the paths its server reads them from (and downloads a URL artifact the same way).
   */
  championDescription: string;
  championArtifact: string;
  /** Seconds `assemble` keeps asking while the server does not yet see the token (Secret propagation). */
  waitSeconds: number;
}

/** What `assemble` reports: aggregates of the training set it wrote. */
export interface AssembleResult {
  step: 'assemble';
  /** Labelled rows the server gave (after `since` / `last`). */
  labelled: number;
  counts: { base: number; feedback: number; duplicates: number; contradictions: number; total: number };
  weighting: { mode: Exclude<WeightingMode, 'auto'>; feedbackWeight: number; reason: string };
  classBalance?: Record<string, number>;
  /** Held-out rows written to compare on. */
  holdout: number;
  /** Digest (`sha256:<hex>`) and count of the feedback rows trained on, for the lineage. */
  feedback: { digest: string; rows: number };
  /** The time span of the labelled rows used (ISO 8601). */
  window?: { since: string; until: string };
}

/**
 * What `evaluate` reports: the comparison (the same JSON shape as `maas compare -o json`), or why
 * there is none. Typed loosely here; the app layer reads it into its Comparison type.
 */
export interface EvaluateResult {
  step: 'evaluate';
  comparison?: Record<string, unknown>;
  /** Why no comparison was made (too few held-out rows). */
  skipped?: string;
}

export type StepResult = AssembleResult | EvaluateResult;

/** The prefix of a result line in a step's output. */
export const RESULT_MARKER = '--- maas-result ';

export function formatStepResult(r: StepResult): string {
  return `${RESULT_MARKER}${JSON.stringify(r)}`;
}

/** The result lines of a log, in order; other lines are ignored, a malformed result line is a FAILURE. */
export function parseStepResults(log: string): StepResult[] {
  const out: StepResult[] = [];
  for (const raw of log.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith(RESULT_MARKER)) continue;
    let v: unknown;
    try {
      v = JSON.parse(line.slice(RESULT_MARKER.length));
    } catch (e) {
      throw new MaasError('FAILURE', 'a retraining step printed a result line that is not JSON', { cause: e });
    }
    const step = (v as { step?: unknown } | null)?.step;
    if (step !== 'assemble' && step !== 'evaluate')
      throw new MaasError('FAILURE', `a retraining step printed a result of unknown step ${JSON.stringify(step)}`);
    out.push(v as StepResult);
  }
  return out;
}

/** Reads and checks the plan from the environment value. */
export function parsePlan(text: string | undefined): InClusterPlan {
  if (!text) throw new MaasError('USAGE', `${PLAN_ENV} is not set: retrain-step runs inside a retraining Job that maas creates`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new MaasError('USAGE', `${PLAN_ENV} is not JSON`, { cause: e });
  }
  const p = v as Partial<InClusterPlan> | null;
  const bad = (what: string) => new MaasError('USAGE', `${PLAN_ENV}: ${what}`);
  if (!p || typeof p !== 'object') throw bad('not an object');
  for (const k of ['server', 'model', 'champion', 'challenger', 'target', 'championDescription', 'championArtifact'] as const)
    if (typeof p[k] !== 'string' || p[k] === '') throw bad(`"${k}" must be a non-empty string`);
  if (!Array.isArray(p.features) || p.features.length === 0 || !p.features.every((f) => typeof f === 'string')) throw bad('"features" must list names');
  if (p.task !== 'classification' && p.task !== 'regression') throw bad('"task" must be classification or regression');
  if (typeof p.holdout !== 'number' || !(p.holdout >= 0 && p.holdout < 1)) throw bad('"holdout" must be a share in [0, 1)');
  if (p.last !== undefined && !(Number.isSafeInteger(p.last) && p.last >= 1)) throw bad('"last" must be a whole number >= 1');
  if (typeof p.minHoldoutRows !== 'number' || typeof p.waitSeconds !== 'number') throw bad('"minHoldoutRows" and "waitSeconds" must be numbers');
  if (!p.weighting || typeof p.weighting !== 'object') throw bad('"weighting" is missing');
  if (typeof p.conceptDrift !== 'boolean') throw bad('"conceptDrift" must be true or false');
  return p as InClusterPlan;
}

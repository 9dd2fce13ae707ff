// What use cases are given: ports only. The composition root builds them from config and
// environment; tests build them from in-memory stores, a scriptable target and a manual clock.
import type { AuditLog, TokenStore } from '../auth/ports.js';
import type { Clock } from '../core/clock.js';
import type { IdempotencyStore } from '../domain/idempotency.js';
import type { CompositionStore } from '../domain/composition.js';
import type { TrainingRunner, TrainingTarget } from '../domain/training.js';
import type { Workspace } from '../core/workspace.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { InferenceConnector } from '../protocol/inference-api.js';
import type { DeploymentStore, ModelStore, ArtifactStore, DatasetReader } from '../registry/ports.js';
import type { JobQueue } from '../queue/port.js';
import type { ArtifactCheck } from '../spec/load.js';
import type { Target, TargetOptions, TargetPlugin } from '../targets/target.js';

export interface Targets {
  /** The plugins known to this invocation (names, flags, modes). */
  readonly plugins: readonly TargetPlugin[];
  /** The target called `name`, built once per distinct set of options. */
  get(name: string, options?: TargetOptions): Promise<Target>;
}

/** One model's predictions for rows, in row order: labels (classification) or values (regression). */
export interface ModelPredictions {
  labels?: string[];
  values?: number[];
}

/** Runs a registered version's artifact in this process (no deployment) on rows. */
export interface ModelEvaluator {
  /**
   * `rows` are keyed by feature name (other keys are ignored); values as JSON values or CSV text.
   * VALIDATION for a value the description does not admit (naming the 1-based row and feature).
   */
  predict(model: ModelVersionRecord, rows: readonly Readonly<Record<string, unknown>>[]): Promise<ModelPredictions>;
  /**
   * The version's float parameters as one vector, with the architecture `signature` (tensor
   * names and shapes): equal signatures mean vectors of the same length and layout. Undefined
   * when the artifact is not ONNX or not stored locally; VALIDATION for an unreadable model.
   * Absent, parameters are not available.
   */
  parameters?(model: ModelVersionRecord): Promise<{ signature: string; parameters: Float64Array } | undefined>;
}

/** Training backends: a child process (`local`) or a Kubernetes Job (`kubernetes`). See domain/training.ts. */
export interface TrainingRunners {
  get(target: TrainingTarget): Promise<TrainingRunner>;
}

export interface Settings {
  /** How long a scaled-to-zero deployment is kept before `maas gc` may purge it. */
  cacheTtlMs: number;
}

export interface Services {
  clock: Clock;
  models: ModelStore;
  artifacts: ArtifactStore;
  deployments: DeploymentStore;
  compositions: CompositionStore;
  /** Reads data sets (training data for reference profiles). */
  datasets: DatasetReader;
  /** Scratch directories (a retraining run's data and output). */
  workspace: Workspace;
  targets: Targets;
  queue: JobQueue;
  inference: InferenceConnector;
  settings: Settings;
  newId(prefix: string): string;
  /** Opens a local artifact in its runtime and checks it against its description; absent, no check. */
  inspectArtifact?: ArtifactCheck;
  /** Runs registered versions in-process (champion/challenger comparisons). */
  evaluator: ModelEvaluator;
  /** Runs training programs (`maas retrain`); absent, training is not available. */
  training?: TrainingRunners;
  /** API tokens of the control plane; absent, the registry keeps none. */
  tokens?: TokenStore;
  /** The control plane's audit log; absent, nothing is audited. */
  audit?: AuditLog;
  /** The control plane's idempotency keys; absent, Idempotency-Key is not honoured. */
  idempotency?: IdempotencyStore;
}

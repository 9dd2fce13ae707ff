// What use cases are given: ports only. The composition root builds them from config and
// environment; tests build them from in-memory stores, a scriptable target and a manual clock.
import type { Clock } from '../core/clock.js';
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

export interface Settings {
  /** How long a scaled-to-zero deployment is kept before `maas gc` may purge it. */
  cacheTtlMs: number;
}

export interface Services {
  clock: Clock;
  models: ModelStore;
  artifacts: ArtifactStore;
  deployments: DeploymentStore;
  /** Reads data sets (training data for reference profiles). */
  datasets: DatasetReader;
  targets: Targets;
  queue: JobQueue;
  inference: InferenceConnector;
  settings: Settings;
  newId(prefix: string): string;
  /** Opens a local artifact in its runtime and checks it against its description; absent, no check. */
  inspectArtifact?: ArtifactCheck;
}

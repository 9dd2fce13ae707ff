// Training runs and the lineage of a retrained version: the port a training backend implements
// (a child process here, a Kubernetes Job in a cluster) and what the registry records about where
// a version came from. Types only; the backends live in targets/, the use case in app/.
import type { InClusterPlan, StepResult } from '../retrain/in-cluster.js';
import type { ModelDescription } from '../spec/schema.js';
import type { DeploymentRecord } from './deployment.js';

/** Where a training run executes. */
export type TrainingTarget = 'local' | 'kubernetes';

/** Kubernetes options of a training run (all optional: the kubeconfig and config file decide the rest). */
export interface KubeTrainingOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** Seconds the finished Job is kept by the cluster if maas cannot delete it (default 600). */
  ttlSecondsAfterFinished?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/**
 * One training run: the parent version's description says how to train (`spec.training.code`:
 * command with `$DATA`, `$OUT` and `$VERSION`, image for Kubernetes; `spec.resources.training`).
 */
export interface TrainingJob {
  /** The parent version's description (its training code is what runs). */
  description: ModelDescription;
  /** Absolute path of the assembled training data (CSV); `$DATA` in the command. */
  dataFile: string;
  /** The version to produce; `$VERSION` in the command. */
  version: string;
  /** Absolute path of an empty directory where the produced files end up; `$OUT` locally. */
  outDir: string;
  /** Directory the local command runs in (relative paths of the command resolve from it). */
  workDir: string;
  /** Wall-clock limit of the run in ms; past it the run is killed and fails with TIMEOUT. */
  timeoutMs: number;
  target: TrainingTarget;
  kube?: KubeTrainingOptions;
  /**
   * Kubernetes only: train on a strict deployment's feedback in the cluster, on its node. `dataFile`
   * then holds the base data only (possibly just the header); the labelled rows never leave the node.
   */
  inCluster?: InClusterTraining;
}

export type OutputStream = 'stdout' | 'stderr';

export interface TrainingIo {
  /** Each line the program prints, as it prints it (without the line break). */
  onOutput(line: string, stream: OutputStream): void;
  /** Aborting (Ctrl-C) stops the run: the process group or the Job is killed, INTERRUPTED. */
  signal?: AbortSignal;
}

/** A finished, successful run (failures are MaasErrors: FAILURE, TIMEOUT, INTERRUPTED, USAGE). */
export interface TrainingOutcome {
  /** Always 0 here (a non-zero exit is a FAILURE error). */
  exitCode: number;
  /** Wall-clock seconds of the run. */
  seconds: number;
  /** The last lines of output (at most TRAINING_LOG_TAIL). */
  logTail: string[];
  /** Where the produced files are (the job's outDir). */
  outDir: string;
  /** In-cluster runs: what the steps reported (training-set aggregates, the comparison), in order. */
  results?: StepResult[];
}

/** Lines of output a failure reports. */
export const TRAINING_LOG_TAIL = 20;

export interface TrainingRunner {
  train(job: TrainingJob, io: TrainingIo): Promise<TrainingOutcome>;
}

/** What triggered a retraining. */
export type RetrainTrigger = 'manual' | 'drift';

/** One input data set of a training run. */
export interface LineageInput {
  /** Where it came from (a file URI, `feedback:NAME@VERSION`, ...). */
  source: string;
  /** `sha256:<hex>` of its bytes. */
  digest: string;
  rows: number;
}

/** Where a registered version came from, stored beside it in the registry. */
export interface ModelLineage {
  /** The version whose training code and description produced this one. */
  parentVersion: string;
  trigger: RetrainTrigger;
  inputs: LineageInput[];
  /** The feedback window the data covers (ISO timestamps), when feedback was used. */
  feedbackWindow?: { since?: string; until?: string };
  /** Wall-clock seconds of the training run. */
  trainingSeconds: number;
  /** Where it trained. */
  target: TrainingTarget;
  /** When the training finished (ISO timestamp). */
  trainedAt: string;
}

/**
 * A strict deployment's retraining: the whole data path runs in one pod on the deployment's node
 * (see retrain/in-cluster.ts). The runner completes the plan from the deployment's own objects
 * (its Service, image and model volumes).
 */
export interface InClusterTraining {
  /** The strict deployment whose labelled feedback trains the challenger. */
  deployment: DeploymentRecord;
  plan: Omit<InClusterPlan, 'server' | 'championDescription' | 'championArtifact'>;
}

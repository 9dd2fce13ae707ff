// A deployment target runs model servers somewhere (this machine, a Kubernetes cluster) and
// answers what is really running. The deploy/decommission logic is the same for every target;
// a target is a plugin (see plugins.ts) that declares its name, flags and placement modes.
import type { Clock } from '../core/clock.js';
import { MaasError, toMaasError } from '../core/errors.js';
import type { MaasConfig } from '../core/config.js';
import type { MaasHome } from '../core/home.js';
import type { RouterConfig, RouterMember } from '../domain/composition.js';
import type { DeploymentRecord, DeploymentState, PlacementMode } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { ReferenceProfile } from '../drift/profile.js';
import type { ArtifactStore } from '../registry/ports.js';
import type { HttpEndpoint } from '../protocol/endpoint.js';

export interface Progress {
  (message: string): void;
}

export type { HttpEndpoint };

/** What a model server gets besides the description and the artifact, read by the use case. */
export interface ServingExtras {
  /** The version's reference profile (for drift monitoring), when it has one. */
  profile?: ReferenceProfile;
}

export interface StartResult {
  endpoint?: string;
  runtime: Record<string, unknown>;
}

/** What a rollout replaces the served version with (see Target.rollout). */
export interface RolloutRequest {
  /** The version served now (the record still names it). */
  from: ModelVersionRecord;
  to: ModelVersionRecord;
  /** What the new version's server gets besides description and artifact (its profile). */
  extras?: ServingExtras;
  /** The same for the old version: what a target that must undo a failed rollout re-applies. */
  fromExtras?: ServingExtras;
  /** Epoch ms (on the injected clock) by which the new version must serve. */
  deadline: number;
  progress: Progress;
}

export interface RolloutResult extends StartResult {
  /**
   * Called once the record names the new version: retires what still serves the old one (local:
   * the old server drains its in-flight requests and stops). Absent when nothing is left to do.
   */
  retire?: () => Promise<void>;
}

export interface Observed {
  state: DeploymentState;
  reason?: string;
  endpoint?: string;
  /** Extra facts for `maas status` (pid, port, replicas, pods...). */
  details?: Record<string, unknown>;
}

/** Where a new deployment goes, as far as it is part of its identity. */
export interface Placement {
  namespace?: string;
  /** Which cluster (kubernetes: the API server URL); the same model on two clusters is two deployments. */
  cluster?: string;
}

/** A deployment before (or without) a record: what dry runs render. */
export interface PlannedDeployment {
  mode: PlacementMode;
  node?: string;
  namespace?: string;
}

export type DryRunMode = 'client' | 'server';

export interface DryRunResult {
  namespace?: string;
  /** Who validated the objects (server dry runs). */
  server?: string;
  objects: unknown[];
}

export interface Target {
  readonly name: string;
  /** Where a deployment made now would go (flags, config, environment). */
  placement(): Promise<Placement>;
  /** Refuses, before anything is recorded, a model this target can never start (e.g. no local artifact). */
  preflight?(model: ModelVersionRecord): Promise<void>;
  /** The objects a deployment consists of, without recording or (client) contacting anything. */
  dryRun?(plan: PlannedDeployment, model: ModelVersionRecord, how: DryRunMode, progress: Progress, extras?: ServingExtras): Promise<DryRunResult>;
  /**
   * Starts (or restarts) the model server of a deployment; returns once it is launched. A start
   * that fails after creating something throws with `startedRuntime` (see withStartedRuntime), so
   * the record keeps what a purge must remove. `extras` carries the profile the server is started
   * with; a target that cannot ship it whole says so in the runtime (`profile`), never fails.
   */
  start(deployment: DeploymentRecord, model: ModelVersionRecord, progress: Progress, extras?: ServingExtras): Promise<StartResult>;
  /**
   * Replaces the served version of a ready deployment without dropping requests: the deployment
   * keeps its ID, endpoint for consumers and request log. Returns once the new version serves
   * (consumers already reach it); throws, leaving the old version serving, when it cannot.
   */
  rollout?(deployment: DeploymentRecord, request: RolloutRequest): Promise<RolloutResult>;
  /** Waits until ready or failed, up to the deadline (epoch ms on the injected clock). */
  waitReady(deployment: DeploymentRecord, deadline: number, progress: Progress): Promise<Observed>;
  /** What is really running now; never writes. */
  observe(deployment: DeploymentRecord): Promise<Observed>;
  logs(deployment: DeploymentRecord, options: { tail?: number }): Promise<string>;
  /** `logs -f`: writes what the server logs from `from` (a byte offset) on, until it stops running. */
  followLogs?(deployment: DeploymentRecord, from: number, write: (chunk: string) => void): Promise<void>;
  /** Step 1 of decommission: stop serving, keep artifact and logs. */
  scaleToZero(deployment: DeploymentRecord): Promise<void>;
  /** Copies what a purge would delete (the request log with its feedback, the server log) into `dir`. */
  exportData?(deployment: DeploymentRecord, dir: string): Promise<string[]>;
  /** Step 2: remove everything of the deployment. */
  destroy(deployment: DeploymentRecord): Promise<void>;
  /** How to reach a deployment; `deployment` carries the observed state. */
  endpoint(deployment: DeploymentRecord): Promise<HttpEndpoint>;
  /**
   * Starts (or restarts) a composition's router (a deployment of kind `composition`) from its
   * configuration; returns once it is launched, like `start`. Targets without it cannot run compositions.
   */
  startRouter?(deployment: DeploymentRecord, config: RouterConfig, progress: Progress): Promise<StartResult>;
  /** Hands a running router a new configuration; it switches members without dropping requests. */
  updateRouter?(deployment: DeploymentRecord, config: RouterConfig): Promise<void>;
  /**
   * How a router on this target reaches a member deployment: a stable base URL (a Service), or the
   * endpoint file its local server writes (followed across rollouts).
   */
  memberAddress?(member: DeploymentRecord): Promise<Pick<RouterMember, 'endpoint' | 'endpointFile'>>;
}

/** A start failure that carries the runtime of what was created before it failed. */
export function withStartedRuntime(e: unknown, runtime: Record<string, unknown>): MaasError {
  const err = e instanceof MaasError ? e : toMaasError(e);
  const details = typeof err.details === 'object' && err.details !== null ? err.details : {};
  return new MaasError(err.code, err.message, {
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
    cause: err.cause ?? e,
    details: { ...details, startedRuntime: runtime },
  });
}

/** The runtime a failed start left behind, if it says so. */
export function startedRuntimeOf(e: unknown): Record<string, unknown> | undefined {
  const details = e instanceof MaasError ? (e.details as { startedRuntime?: unknown } | undefined) : undefined;
  const r = details?.startedRuntime;
  return typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : undefined;
}

/** What every target is built from: this invocation's home, environment, clock and stores. */
export interface TargetEnv {
  home: MaasHome;
  env: Record<string, string | undefined>;
  cwd: string;
  clock: Clock;
  config: MaasConfig;
  artifacts: ArtifactStore;
  /** Global cluster options (`--kubeconfig`, `--context`, `-n`), already merged with the config file. */
  cluster: { kubeconfig?: string; context?: string; namespace?: string };
  /** maas's own version (the default model server image tag). */
  version: string;
}

/** A flag of `maas deploy` that one target understands. */
export interface TargetFlag {
  /** commander syntax, e.g. `--image <ref>` or `--no-create-namespace`. */
  flags: string;
  description: string;
  /** The option's attribute name as commander sets it, e.g. `image`, `createNamespace`. */
  key: string;
}

/** Flag values given for a target, by key; only flags given on the command line are present. */
export type TargetOptions = Record<string, string | boolean | undefined>;

export interface TargetPlugin {
  readonly name: string;
  readonly summary: string;
  readonly modes: readonly PlacementMode[];
  readonly flags: readonly TargetFlag[];
  /** Whether `maas deploy --dry-run` works with this target. */
  readonly dryRun: boolean;
  /** Builds the target (imports its implementation lazily). */
  create(env: TargetEnv, options: TargetOptions): Promise<Target>;
}

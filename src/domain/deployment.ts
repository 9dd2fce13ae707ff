// Deployment records: what the registry keeps about a deployed model version.

export const DEPLOYMENT_STATES = ['queued', 'deploying', 'ready', 'failed', 'cached'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** A target plugin's name (see targets/plugins.ts). */
export type TargetName = string;
export type PlacementMode = 'open' | 'strict';

export interface DeploymentEvent {
  at: string;
  state: DeploymentState;
  reason?: string;
}

/** Why a deployment's served version changed (`maas rollout`, `maas rollback`, retraining, drift). */
export const VERSION_CHANGE_REASONS = ['manual', 'retrain', 'drift', 'rollback'] as const;
export type VersionChangeReason = (typeof VERSION_CHANGE_REASONS)[number];

/** One switch of the served version, in place: same deployment ID, consumers and request log. */
export interface VersionChange {
  at: string;
  from: string;
  to: string;
  reason: VersionChangeReason;
  /** What justified it (e.g. the comparison of the two versions that promoted a retrained one). */
  comparison?: unknown;
}

export interface DeploymentRecord {
  id: string;
  /** What runs: a model server (absent or `model`), or a composition's router (model/version = the composition's name and version). */
  kind?: DeploymentKind;
  model: string;
  version: string;
  target: TargetName;
  mode: PlacementMode;
  node?: string;
  /** Kubernetes namespace (kubernetes target only). */
  namespace?: string;
  /** Which cluster (kubernetes: the API server URL); the same model on two clusters is two deployments. */
  cluster?: string;
  state: DeploymentState;
  reason?: string;
  /** Base URL of the model server as the target exposes it (local: http://127.0.0.1:port). */
  endpoint?: string;
  /** Target-specific data (local: pid, dir; kubernetes: object names, context). */
  runtime: Record<string, unknown>;
  consumers: string[];
  createdAt: string;
  updatedAt: string;
  /** When a cached deployment may be purged by `maas gc`. */
  expiresAt?: string;
  history: DeploymentEvent[];
  /** Changes of the served version, oldest first; absent while it serves the version it was created with. */
  rollouts?: VersionChange[];
}

export type DeploymentKind = 'model' | 'composition';

/** What a new deployment is created from: its identity and slot, and its first consumer. */
export type NewDeployment = Pick<DeploymentRecord, 'id' | 'kind' | 'model' | 'version' | 'target' | 'mode' | 'node' | 'namespace' | 'cluster'> & {
  consumer: string;
};

/** What a state transition may change besides the state; `null` clears a field. */
export interface DeploymentPatch {
  reason?: string | null;
  endpoint?: string | null;
  runtime?: Record<string, unknown>;
  expiresAt?: string | null;
}

/** Storage of deployment records; implemented by the embedded registry. */
export interface DeploymentStore {
  createDeployment(d: NewDeployment, at: string): Promise<DeploymentRecord>;
  getDeployment(id: string): Promise<DeploymentRecord | undefined>;
  listDeployments(filter?: { model?: string; version?: string; target?: TargetName }): Promise<DeploymentRecord[]>;
  /** Records a state transition (appends to the history). */
  setDeploymentState(id: string, state: DeploymentState, at: string, patch?: DeploymentPatch): Promise<DeploymentRecord>;
  addConsumer(id: string, consumer: string, at: string): Promise<DeploymentRecord>;
  removeConsumer(id: string, consumer: string): Promise<DeploymentRecord>;
  deleteDeployment(id: string): Promise<void>;
  /**
   * Records that the deployment now serves `change.to` (it served `change.from`): sets the
   * version, applies the patch (new runtime, endpoint) and appends to `rollouts`, in one
   * transaction. CONFLICT when the version is not `change.from` any more (a concurrent rollout)
   * or another deployment already serves `change.to` in the same slot.
   */
  changeVersion(id: string, change: VersionChange, patch?: DeploymentPatch): Promise<DeploymentRecord>;
  /**
   * Claims the deployment for one version change: true when claimed, false when another claim
   * younger than `staleBefore` (ISO time) holds it. Released by `releaseRollout` with the same token.
   */
  claimRollout(id: string, token: string, at: string, staleBefore: string): Promise<boolean>;
  releaseRollout(id: string, token: string): Promise<void>;
  /**
   * A number that grows once a write (by this store or, for a shared database, by another
   * process) may have changed what getDeployment and listDeployments return; equal answers mean
   * unchanged records, so a read may be reused. Absent, reads cannot be reused.
   */
  dataVersion?(): number;
}

// A deployment target runs model servers somewhere (this machine, a Kubernetes cluster) and
// answers what is really running. The deploy/decommission logic is the same for every target.
import type { DeploymentRecord, DeploymentState } from '../deployments/types.js';
import type { ModelVersionRecord } from '../registry/registry.js';

export interface Progress {
  (message: string): void;
}

/** How to reach a deployment's model server over HTTP. */
export interface HttpEndpoint {
  baseUrl: string;
  headers?: Record<string, string>;
  /** Extra axios options (TLS agent for a cluster's API server proxy). */
  httpsAgent?: unknown;
}

export interface StartResult {
  endpoint?: string;
  runtime: Record<string, unknown>;
}

export interface Observed {
  state: DeploymentState;
  reason?: string;
  endpoint?: string;
  /** Extra facts for `maas status` (pid, port, replicas, pods...). */
  details?: Record<string, unknown>;
}

export interface Target {
  readonly name: 'local' | 'kubernetes';
  /** Starts (or restarts) the model server of a deployment; returns once it is launched. */
  start(deployment: DeploymentRecord, model: ModelVersionRecord, progress: Progress): Promise<StartResult>;
  /** Waits until ready or failed, up to the deadline (epoch ms). */
  waitReady(deployment: DeploymentRecord, deadline: number, progress: Progress): Promise<Observed>;
  /** What is really running now. */
  observe(deployment: DeploymentRecord): Promise<Observed>;
  logs(deployment: DeploymentRecord, options: { tail?: number }): Promise<string>;
  /** Step 1 of decommission: stop serving, keep artifact and logs. */
  scaleToZero(deployment: DeploymentRecord): Promise<void>;
  /** Step 2: remove everything of the deployment. */
  destroy(deployment: DeploymentRecord): Promise<void>;
  endpoint(deployment: DeploymentRecord): Promise<HttpEndpoint>;
}

// The control plane as the CLI sees it when it works against a `maas server` instead of its local
// home: the same use cases' results over HTTP. The axios client in client/ implements it; the
// use cases that need more than one call (register: upload, then describe) use this port.
import type { Readable } from 'node:stream';
import type { DecommissionResult } from './decommission.js';
import type { DeployResult } from './deploy.js';
import type { PredictResult } from './predict.js';
import type { FeedbackReport } from './feedback.js';
import type { RegisteredVersion } from './register.js';
import type { CreatedToken, RevokeOutcome, TokenInfo } from './tokens.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelSummary, ModelVersionRecord, SearchRequest, SearchResult } from '../domain/model.js';
import type { DriftReport } from '../drift/report.js';
import type { FeedbackItem } from '../protocol/feedback.js';
import type { DataFormat } from '../protocol/formats.js';
import type { JobRecord, JobState } from '../queue/port.js';

export interface RemoteDeployRequest {
  model: string;
  version?: string;
  target?: string;
  mode?: 'open' | 'strict';
  node?: string;
  consumer?: string;
  targetOptions?: Record<string, string | boolean | undefined>;
}

export interface ControlPlaneApi {
  /** The server's base URL (for messages). */
  readonly url: string;
  whoami(): Promise<{ name: string; id: string; scopes: string[] }>;
  uploadArtifact(bytes: () => Readable, digest: string, size: number): Promise<{ digest: string; size: number }>;
  registerModel(body: { description: string; artifact?: string; profile?: unknown }): Promise<RegisteredVersion[]>;
  searchModels(req: SearchRequest): Promise<SearchResult>;
  listModels(): Promise<ModelSummary[]>;
  listVersions(name: string): Promise<ModelVersionRecord[]>;
  getModel(name: string, version?: string): Promise<ModelVersionRecord>;
  deploy(req: RemoteDeployRequest, idempotencyKey: string): Promise<DeployResult>;
  listDeployments(filter: { model?: string }): Promise<DeploymentRecord[]>;
  deploymentStatus(id: string): Promise<DeploymentRecord>;
  predict(id: string, input: { text: string; format?: DataFormat }, timeoutMs: number): Promise<PredictResult>;
  feedback(id: string, items: FeedbackItem[]): Promise<FeedbackReport>;
  driftCheck(id: string, flags: { test?: string; threshold?: number; datasetShare?: number }): Promise<DriftReport>;
  decommission(id: string, o: { consumer?: string; purge: boolean; force: boolean; ignoreNotFound: boolean }): Promise<DecommissionResult>;
  getJob(id: string): Promise<JobRecord>;
  listJobs(filter: { state?: JobState; limit?: number }): Promise<JobRecord[]>;
  createToken(req: { name: string; scopes: string[]; expires?: string }): Promise<CreatedToken>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(idOrName: string): Promise<RevokeOutcome>;
}

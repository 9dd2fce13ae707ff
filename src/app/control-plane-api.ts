// The control plane as the CLI sees it when it works against a `maas server` instead of its local
// home: the same use cases' results over HTTP. The axios client in client/ implements it; the
// use cases that need more than one call (register: upload, then describe) use this port.
import type { Readable } from 'node:stream';
import type { AuditRecord } from '../auth/ports.js';
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
import type { Comparison } from './compare.js';
import type { QueuedLifecycleJob, RetrainJob } from './lifecycle-jobs.js';
import type { DeploymentHistory } from './rollout.js';
import type { LabelledCell } from '../protocol/labelled.js';
import type { VersionChangeReason } from '../domain/deployment.js';
import type { AssessReport, HistoryEntry } from './compose-adapt.js';
import type { ComposeDeleteResult, CompositionStatus, CompositionSummary } from './compose-status.js';
import type { ComposeAdaptAccepted, ComposeApplyAccepted, RemoteAdaptRequest, RemoteAssessRequest, RemoteComposeApplyRequest } from './composition-jobs.js';

export interface RemoteDeployRequest {
  model: string;
  version?: string;
  target?: string;
  mode?: 'open' | 'strict';
  node?: string;
  consumer?: string;
  targetOptions?: Record<string, string | boolean | undefined>;
}

/** A retrain on the server: the deployment's labelled feedback is its data (`since` as given: an ISO time or a duration back). */
export type RemoteRetrainRequest = Partial<Omit<RetrainJob, 'deploymentId' | 'weighting'>> & { weighting?: Partial<RetrainJob['weighting']> };

/** Two versions compared on a deployment's labelled feedback, or on labelled rows sent along. */
export interface RemoteCompareRequest {
  a: string;
  b: string;
  deployment?: string;
  since?: string;
  rows?: { features: string[]; target: string; rows: LabelledCell[][] };
  margin?: number;
  alpha?: number;
  seed?: number;
  timeoutMs?: number;
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
  rollout(id: string, req: { to: string; reason?: VersionChangeReason; timeoutMs?: number }, idempotencyKey: string): Promise<QueuedLifecycleJob>;
  rollback(id: string, req: { timeoutMs?: number }, idempotencyKey: string): Promise<QueuedLifecycleJob>;
  deploymentHistory(id: string): Promise<DeploymentHistory>;
  retrain(id: string, req: RemoteRetrainRequest, idempotencyKey: string): Promise<QueuedLifecycleJob>;
  compare(req: RemoteCompareRequest): Promise<Comparison>;
  /** Compositions: apply and adapt answer with the queued job (its result: ComposeApplyResult, AdaptResult). */
  applyComposition(req: RemoteComposeApplyRequest, idempotencyKey: string): Promise<ComposeApplyAccepted>;
  listCompositions(): Promise<CompositionSummary[]>;
  compositionStatus(name: string, o: { timeoutMs?: number; measure?: boolean }): Promise<CompositionStatus>;
  compositionHistory(name: string, o: { timeoutMs?: number }): Promise<{ composition: string; events: HistoryEntry[] }>;
  assessComposition(name: string, req: RemoteAssessRequest): Promise<AssessReport>;
  adaptComposition(name: string, req: RemoteAdaptRequest, idempotencyKey: string): Promise<ComposeAdaptAccepted>;
  deleteComposition(name: string, o: { purge: boolean }): Promise<ComposeDeleteResult>;
  getJob(id: string): Promise<JobRecord>;
  listJobs(filter: { state?: JobState; limit?: number }): Promise<JobRecord[]>;
  createToken(req: { name: string; scopes: string[]; expires?: string }): Promise<CreatedToken>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(idOrName: string): Promise<RevokeOutcome>;
  listAudit(query: { since?: string; token?: string; limit?: number }): Promise<AuditRecord[]>;
}

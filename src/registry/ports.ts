// Storage ports, one per concern. Use cases depend on these; the embedded backend (SQLite plus a
// content-addressed blob directory) implements them today, a remote registry can later.
import type { Readable } from 'node:stream';
import type { DeploymentStore } from '../domain/deployment.js';
import type { ArtifactRef, ArtifactSource, ModelSummary, ModelVersionRecord, RegisterOutcome, SearchRequest, SearchResult } from '../domain/model.js';
import type { ModelDescription } from '../spec/schema.js';

export type { DeploymentStore };

/** Registered model versions and capability search. */
export interface ModelStore {
  /**
   * Stores an immutable version. Identical content again is a no-op (`created: false`); different
   * content under an existing name@version throws CONFLICT.
   */
  registerModel(description: ModelDescription, artifact: ArtifactRef): Promise<RegisterOutcome>;
  /** Several versions at once, all or nothing: a conflict in one registers none. */
  registerModels(items: readonly { description: ModelDescription; artifact: ArtifactRef }[]): Promise<RegisterOutcome[]>;
  getModel(name: string, version?: string): Promise<ModelVersionRecord | undefined>;
  listModels(): Promise<ModelSummary[]>;
  /** All versions of a model, highest first. */
  listVersions(name: string): Promise<ModelVersionRecord[]>;
  /** Digests of every artifact a registered version uses (what the artifact store must keep). */
  artifactDigests(): Promise<Set<string>>;
  /** What depends on a version (deployments, compositions), as human-readable references. */
  dependents(name: string, version: string): Promise<string[]>;
  /** Throws NOT_FOUND when missing and IN_USE when something depends on the version. */
  deleteModel(name: string, version: string): Promise<void>;
  searchModels(request: SearchRequest): Promise<SearchResult>;
  /** Every metric name some registered version reports (spec.performance keys). */
  metricNames(): Promise<string[]>;
}

/** Artifact bytes by digest. */
export interface ArtifactStore {
  /** Stores a stream of bytes; a declared digest that does not match fails and stores nothing. */
  put(bytes: Readable, expected?: { digest?: string; uri?: string }): Promise<{ digest: string; size: number }>;
  /** Puts a description's local artifact into the store, or records a remote one by URI. */
  store(source: ArtifactSource): Promise<ArtifactRef>;
  has(digest: string): Promise<boolean>;
  /** Size in bytes, or undefined when the store does not hold it. */
  size(digest: string): Promise<number | undefined>;
  open(digest: string): Promise<Readable>;
  /** A local file holding the bytes (materialised on demand by remote stores). */
  localPath(digest: string): Promise<string>;
  /** Removes what no registered version uses, sparing anything younger than the grace period. */
  prune(referenced: ReadonlySet<string>, opts: { now: number; graceMs?: number; dryRun?: boolean }): Promise<string[]>;
}

/** Everything a registry holds, opened together and closed once. */
export interface Stores {
  models: ModelStore;
  artifacts: ArtifactStore;
  deployments: DeploymentStore;
  close(): void;
}

// Storage ports, one per concern. Use cases depend on these; the embedded backend (SQLite plus a
// content-addressed blob directory) implements them today, a remote registry can later.
import type { Readable } from 'node:stream';
import type { CompositionStore } from '../domain/composition.js';
import type { DeploymentStore } from '../domain/deployment.js';
import type { ReferenceProfile } from '../drift/profile.js';
import type { ModelLineage } from '../domain/training.js';
import type { ArtifactRef, ArtifactSource, ModelSummary, ModelVersionRecord, RegisterOutcome, SearchRequest, SearchResult } from '../domain/model.js';
import type { ModelDescription } from '../spec/schema.js';

export type { CompositionStore, DeploymentStore };

/** One version to register, with the reference profile of its training data when there is one. */
export interface RegisterItem {
  description: ModelDescription;
  artifact: ArtifactRef;
  /** Stored with the version (replacing a stored one when the version exists unchanged). */
  profile?: ReferenceProfile;
  /** Where the version came from (a training run), stored in the same all-or-nothing step. */
  lineage?: ModelLineage;
}

/** What a stored profile is, without reading it (a cheap check). */
export interface ProfileSummary {
  rows: number;
  features: number;
  /** Rows in its sample. */
  sampleRows: number;
  source: ReferenceProfile['source'];
  createdAt: string;
}

/** Registered model versions and capability search. */
export interface ModelStore {
  /**
   * Stores an immutable version. Identical content again is a no-op (`created: false`); different
   * content under an existing name@version throws CONFLICT.
   */
  registerModel(description: ModelDescription, artifact: ArtifactRef): Promise<RegisterOutcome>;
  /** Several versions at once (and their profiles), all or nothing: a conflict in one registers none. */
  registerModels(items: readonly RegisterItem[]): Promise<RegisterOutcome[]>;
  /**
   * Stores (or replaces) the reference profile of a version. Allowed on an immutable version: a
   * profile is derived data. NOT_FOUND when the version is not registered.
   */
  setProfile(name: string, version: string, profile: ReferenceProfile): Promise<void>;
  /** The stored profile, undefined when the version has none; NOT_FOUND when it is not registered. */
  getProfile(name: string, version: string): Promise<ReferenceProfile | undefined>;
  /** Like getProfile, but only the summary (no JSON parsed); undefined when there is none. */
  profileSummary(name: string, version: string): Promise<ProfileSummary | undefined>;
  /** Stores (or replaces) the lineage of a version. NOT_FOUND when the version is not registered. */
  setLineage(name: string, version: string, lineage: ModelLineage): Promise<void>;
  /** The stored lineage, undefined when the version has none; NOT_FOUND when it is not registered. */
  getLineage(name: string, version: string): Promise<ModelLineage | undefined>;
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
  /**
   * A number that grows once a write (by this store or, for a shared database, by another
   * process) may have changed what the reads above return; equal answers mean unchanged data, so
   * a read may be reused. It may grow without a change. Absent, reads cannot be reused.
   */
  dataVersion?(): number;
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

/**
 * Data sets maas reads itself (training data for reference profiles): local files, CSV for now.
 * Relative paths and `file:` URIs resolve from `baseDir`.
 */
export interface DatasetReader {
  /**
   * Opens a data set, reading it once for its digest and header. USAGE (with `details.unsupported`
   * 'scheme' or 'format') for what cannot be read here, NOT_FOUND when the file does not exist.
   */
  open(uri: string, options: { baseDir: string; format?: string }): Promise<Dataset>;
}

export interface Dataset {
  /** `file://` URI of what is read (absolute). */
  readonly uri: string;
  readonly path: string;
  readonly format: 'csv';
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: string;
  readonly bytes: number;
  /** Column names from the header row. */
  readonly columns: readonly string[];
  /** Streams the data rows keyed by column, cells as strings; each call reads the file afresh. */
  records(): AsyncIterable<Readonly<Record<string, string>>>;
  /** Data rows seen by the last complete pass of records(); undefined before one. */
  readonly rows: number | undefined;
}

/** Everything a registry holds, opened together and closed once. */
export interface Stores {
  models: ModelStore;
  artifacts: ArtifactStore;
  deployments: DeploymentStore;
  compositions: CompositionStore;
  /**
   * The embedded registry's SQLite handle (better-sqlite3 `Database`), when the registry is one:
   * the control plane keeps its tokens, audit log, idempotency keys and job queue in it.
   */
  database?: unknown;
  close(): void;
}

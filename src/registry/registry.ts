// The Registry interface: what maas stores about models (and, later, deployments and
// compositions). The embedded SQLite backend implements it; a remote backend can later.
import type { ModelDescription, TaskKind, FeatureType } from '../spec/schema.js';

export interface ArtifactRef {
  /** `sha256:<hex>` of the artifact bytes. */
  digest: string;
  size: number;
  /** Absolute path of the blob in the content-addressed store (local artifacts only). */
  path?: string;
  /** The URI the description named (kept for remote artifacts and provenance). */
  uri: string;
}

export interface ModelVersionRecord {
  name: string;
  version: string;
  /** `sha256:<hex>` of the canonical description (what makes re-registration idempotent). */
  specDigest: string;
  artifact: ArtifactRef;
  registeredAt: string;
  description: ModelDescription;
}

export interface ModelSummary {
  name: string;
  latest: string;
  versions: number;
  task: TaskKind;
  algorithm: string;
  registeredAt: string;
}

export interface RegisterOutcome {
  record: ModelVersionRecord;
  /** False when the identical description was already registered (a no-op success). */
  created: boolean;
}

export interface SearchRequest {
  task?: TaskKind;
  /** Required features; a type of undefined accepts any type. */
  features?: { name: string; type?: FeatureType }[];
  /** Metric floors, e.g. accuracy >= 0.9. For error metrics (rmse, mae, ...) the floor is a ceiling. */
  minMetrics?: Record<string, number>;
  /** Serving resource ceilings in canonical units. */
  maxCpuMillis?: number;
  maxMemoryBytes?: number;
  maxGpu?: number;
  maxLatencyMs?: number;
  labels?: Record<string, string>;
  text?: string;
  algorithm?: string;
  /** Only the latest version of each model (default true). */
  latestOnly?: boolean;
  limit?: number;
  /** Also report near misses: candidates that failed exactly one requirement. */
  explain?: boolean;
}

export interface SearchHit {
  name: string;
  version: string;
  task: TaskKind;
  algorithm: string;
  score: number;
  /** Human reasons, e.g. `accuracy 0.94 >= 0.9`. */
  reasons: string[];
}

export interface NearMiss {
  name: string;
  version: string;
  /** The requirements that excluded it. */
  failed: string[];
}

export interface SearchResult {
  hits: SearchHit[];
  nearMisses?: NearMiss[];
  /** How many versions were considered. */
  scanned: number;
}

export interface Registry {
  registerModel(description: ModelDescription, artifact: ArtifactRef): Promise<RegisterOutcome>;
  getModel(name: string, version?: string): Promise<ModelVersionRecord | undefined>;
  listModels(): Promise<ModelSummary[]>;
  listVersions(name: string): Promise<ModelVersionRecord[]>;
  /** Throws IN_USE when something depends on the version. */
  deleteModel(name: string, version: string): Promise<void>;
  searchModels(request: SearchRequest): Promise<SearchResult>;
  close(): void;
}

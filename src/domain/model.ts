// Model version records and search messages: what every registry backend stores and returns.
// No backend owns these; SQL and HTTP stay inside the backends.
import type { ModelDescription, TaskKind, FeatureType } from '../spec/schema.js';

export interface ArtifactRef {
  /** `sha256:<hex>` of the artifact bytes; empty for a remote artifact whose description gave none. */
  digest: string;
  /** Size in bytes; 0 when unknown (remote artifacts are not fetched at registration). */
  size: number;
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
  /** In [0, 1]: metric margins, advertised QoS, resource headroom and text relevance. */
  score: number;
  registeredAt: string;
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
  /** The best `limit` matches, best first. */
  hits: SearchHit[];
  /** How many versions matched in total (hits may be cut by `limit`). */
  total: number;
  nearMisses?: NearMiss[];
  /** How many versions were considered. */
  scanned: number;
  /** Requested metrics no registered version reports, with the closest known name. */
  unknownMetrics?: { name: string; suggestion?: string }[];
}

/** Where an artifact comes from, as registration knows it. */
export interface ArtifactSource {
  /** The URI the description names. */
  uri: string;
  /** Absolute local path for `file:` URIs (relative URIs resolved from the description file). */
  path?: string;
  /** Expected `sha256:<hex>` from the description; a mismatch fails registration. */
  digest?: string;
}

// Builds the single-model backend from a model description: compiled model, request log, stats,
// reference fetcher and metrics around a ModelService that loads its runtime on start().
import type { ModelDescription } from '../spec/schema.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import type { ReferenceProfile } from '../drift/profile.js';
import { checkReferenceProfile } from '../drift/profile-check.js';
import type { Runtime } from './runtime.js';
import { compileModel } from './dataplane/model.js';
import { RequestLog, DEFAULT_RETENTION_ROWS, type RetentionOptions } from './request-log.js';
import { DEFAULT_WINDOW_ROWS, ServingStats } from './stats.js';
import { DEFAULT_DRIFT_INTERVAL_MS, DriftChecker } from './drift-check.js';
import { ServingMetrics } from './metrics.js';
import { createIdSource, type IdSource } from './ids.js';
import { ModelService } from './service.js';
import { referencePolicy, type ReferencePolicy } from './reference/policy.js';
import { createReferenceFetcher } from './reference/fetch-ref.js';
import { errorMessage, noEvents, type EventSink } from './event-log.js';

export type RuntimeLoader = (description: ModelDescription, artifactPath: string, opts?: { threads?: number }) => Promise<Runtime>;

export interface ModelBackendOptions {
  description: ModelDescription;
  artifactPath: string;
  /** SQLite request log; `:memory:` (the default) keeps it only while the process runs. */
  logDb?: string;
  retention?: RetentionOptions;
  threads?: number;
  reference?: Partial<ReferencePolicy>;
  /**
   * The live window: `windowRows` (default `spec.monitoring.window.rows`, else 10,000) and
   * `maxAgeMs` (default `spec.monitoring.window.age`, else none).
   */
  stats?: { windowRows?: number; maxAgeMs?: number; reservoirSize?: number; bins?: number };
  /** The reference profile drift is checked against (checked to fit the description's features). */
  profile?: ReferenceProfile;
  /** Strict placement: the window keeps no raw rows; drift runs on histograms. */
  strict?: boolean;
  /**
   * Under strict placement: the file holding the labelled-rows token, read again on every
   * `/labelled` request; a request bearing that token gets the rows. Ignored without `strict`.
   */
  labelledTokenFile?: string;
  /** Milliseconds between background drift checks (default `spec.monitoring.schedule`, else 1m); 0: none. */
  driftIntervalMs?: number;
  /** When the first scheduled check runs after the start (default 5 s, or the interval if shorter). */
  driftFirstCheckMs?: number;
  /** Reported by GET /v2. */
  serverVersion?: string;
  /** Defaults to the runtimes module (ONNX). */
  loadRuntime?: RuntimeLoader;
  events?: EventSink;
  clock?: Pick<Clock, 'now'>;
  random?: Random;
}

export interface ModelBackend {
  service: ModelService;
  /** Labelled with the model; the service counts rows and feedback in it. */
  metrics: ServingMetrics;
  ids: IdSource;
}

/** Rows of the window the drift check reads as values (without strict placement). */
export const DRIFT_SAMPLE_ROWS = 10_000;

/** A duration of the description; its schema allows spaces around the unit (`1.5 h`). */
const describedDuration = (text: string, what: string): number => parseDuration(text.replace(/\s+/g, ''), what);

const defaultLoader: RuntimeLoader = async (description, artifactPath, opts) => {
  const { loadRuntime } = await import('./runtimes/index.js');
  return loadRuntime(description, artifactPath, opts);
};

/** Nothing is loaded or opened for writing until the service starts, except the request log. */
export function createModelBackend(opts: ModelBackendOptions): ModelBackend {
  const events = opts.events ?? noEvents;
  const clock = opts.clock ?? systemClock;
  const model = compileModel(opts.description);
  const monitoring = opts.description.spec.monitoring;
  // Fails before anything opens: a profile of another model is a startup error, not a bad report.
  const profile = opts.profile && checkReferenceProfile(opts.profile, opts.description.spec.features, 'given to the server', `${model.name}@${model.version}`);
  const ids = createIdSource();
  const metrics = new ServingMetrics({ model: model.name, version: model.version });
  const log = new RequestLog({
    path: opts.logDb ?? ':memory:',
    features: model.features,
    modelVersion: model.version,
    retention: opts.retention ?? { maxRows: DEFAULT_RETENTION_ROWS },
    clock,
    onError: (e) => events({ level: 'error', event: 'log_write_failed', error: errorMessage(e) }),
  });
  const windowRows = opts.stats?.windowRows ?? monitoring?.window?.rows ?? DEFAULT_WINDOW_ROWS;
  const maxAgeMs =
    opts.stats?.maxAgeMs ?? (monitoring?.window?.age !== undefined ? describedDuration(monitoring.window.age, 'spec.monitoring.window.age') : undefined);
  const edges = new Map<string, readonly number[]>();
  for (const f of profile?.features ?? []) if ('histogram' in f) edges.set(f.name, f.histogram.edges);
  const stats = new ServingStats(model, {
    ...opts.stats,
    windowRows,
    ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
    strict: opts.strict === true,
    driftSample: profile && !opts.strict ? Math.min(windowRows, DRIFT_SAMPLE_ROWS) : 0,
    edges,
    random: opts.random ?? systemRandom,
    clock,
  });
  metrics.setFeatureTotals(() => stats.featureTotals());
  const drift = new DriftChecker({
    model,
    stats,
    profile,
    clock,
    metrics,
    intervalMs:
      opts.driftIntervalMs ??
      (monitoring?.schedule !== undefined ? describedDuration(monitoring.schedule, 'spec.monitoring.schedule') : DEFAULT_DRIFT_INTERVAL_MS),
    ...(opts.driftFirstCheckMs !== undefined ? { firstCheckMs: opts.driftFirstCheckMs } : {}),
    onError: (e) => events({ level: 'error', event: 'drift_check_failed', error: errorMessage(e) }),
    onChange: (r) =>
      events({
        level: r.drift_detected ? 'warn' : 'info',
        event: r.drift_detected ? 'drift_detected' : 'drift_cleared',
        share: r.dataset.share,
        drifted: r.features.filter((f) => f.drifted).map((f) => f.name),
        concept: r.concept?.drifted ?? false,
      }),
  });
  const load = opts.loadRuntime ?? defaultLoader;
  const service = new ModelService({
    model,
    log,
    stats,
    fetchReference: createReferenceFetcher(referencePolicy(opts.reference)),
    ids,
    clock,
    serverVersion: opts.serverVersion ?? '0.0.0',
    metrics,
    loadRuntime: () => load(opts.description, opts.artifactPath, opts.threads === undefined ? {} : { threads: opts.threads }),
    drift,
    ...(opts.strict && opts.labelledTokenFile !== undefined ? { labelledTokenFile: opts.labelledTokenFile } : {}),
  });
  return { service, metrics, ids };
}

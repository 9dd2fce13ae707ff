// Builds the single-model backend from a model description: compiled model, request log, stats,
// reference fetcher and metrics around a ModelService that loads its runtime on start().
import type { ModelDescription } from '../spec/schema.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import type { Runtime } from './runtime.js';
import { compileModel } from './dataplane/model.js';
import { RequestLog, DEFAULT_RETENTION_ROWS, type RetentionOptions } from './request-log.js';
import { ServingStats } from './stats.js';
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
  stats?: { windowRows?: number; reservoirSize?: number; bins?: number };
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

const defaultLoader: RuntimeLoader = async (description, artifactPath, opts) => {
  const { loadRuntime } = await import('./runtimes/index.js');
  return loadRuntime(description, artifactPath, opts);
};

/** Nothing is loaded or opened for writing until the service starts, except the request log. */
export function createModelBackend(opts: ModelBackendOptions): ModelBackend {
  const events = opts.events ?? noEvents;
  const clock = opts.clock ?? systemClock;
  const model = compileModel(opts.description);
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
  const stats = new ServingStats(model, { ...opts.stats, random: opts.random ?? systemRandom, clock });
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
  });
  return { service, metrics, ids };
}

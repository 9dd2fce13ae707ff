// The one place that turns configuration and environment into services: stores, targets, the
// job queue and its workers, the inference client. Faces (CLI, server) call this, never the
// backends directly; tests pass overrides instead of mocking modules.
import type { AuditLog, TokenStore } from '../auth/ports.js';
import { newId as randomId, type Clock } from '../core/clock.js';
import type { MaasConfig } from '../core/config.js';
import { MaasError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { MaasHome } from '../core/home.js';
import type { Workspace } from '../core/workspace.js';
import { join } from 'node:path';
import type { InferenceConnector } from '../protocol/inference-api.js';
import type { DatasetReader, Stores } from '../registry/ports.js';
import type { IdempotencyStore } from '../domain/idempotency.js';
import type { LocalFiles } from './register-remote.js';
import { InProcessQueue } from '../queue/in-process.js';
import type { JobQueue, JobRunner } from '../queue/port.js';
import type { Db } from '../registry/sqlite/database.js';
import type { Target, TargetEnv, TargetOptions, TargetPlugin } from '../targets/target.js';
import { DEPLOY_JOB, requirePlugin, runDeployJob } from './deploy.js';
import { lifecycleJobRunners } from './lifecycle-jobs.js';
import { compositionJobRunners } from './composition-jobs.js';
import type { ModelEvaluator, Services, Targets } from './services.js';

export const DEFAULT_CACHE_TTL = '24h';

export interface ServiceOverrides {
  stores?: Stores;
  datasets?: DatasetReader;
  workspace?: Workspace;
  plugins?: readonly TargetPlugin[];
  inference?: InferenceConnector;
  /** The job queue, given the services its workers use and the stores (the embedded database). */
  queue?: (services: Services, stores: Stores) => JobQueue;
  newId?: (prefix: string) => string;
  evaluator?: ModelEvaluator;
  tokens?: TokenStore;
  audit?: AuditLog;
  idempotency?: IdempotencyStore;
}

export interface RootOptions {
  home: MaasHome;
  config: MaasConfig;
  env: Record<string, string | undefined>;
  cwd: string;
  clock: Clock;
  /** Global cluster options, merged with the config file. */
  cluster: TargetEnv['cluster'];
  /** maas's own version. */
  version: string;
  overrides?: ServiceOverrides;
  /** Failures of jobs nobody waited for (e.g. `deploy --async`). */
  onJobFailure?: (kind: string, error: unknown) => void;
}

export interface OpenedServices extends Services {
  /** Waits for queued in-process work, then closes the stores. */
  close(): Promise<void>;
}

function targetsOf(plugins: readonly TargetPlugin[], env: TargetEnv): Targets {
  const built = new Map<string, Promise<Target>>();
  return {
    plugins,
    get(name: string, options: TargetOptions = {}): Promise<Target> {
      const key = JSON.stringify([name, Object.entries(options).sort()]);
      let t = built.get(key);
      if (!t) {
        t = Promise.resolve().then(() => requirePlugin(plugins, name).create(env, options));
        built.set(key, t);
        t.catch(() => built.delete(key));
      }
      return t;
    },
  };
}

/** Runs a version's stored artifact in-process with its serving runtime (loaded on first use). */
function localEvaluator(artifacts: Stores['artifacts']): ModelEvaluator {
  return {
    async predict(model, rows) {
      if (!model.artifact.digest) {
        throw new MaasError('USAGE', `${model.name}@${model.version} has a remote artifact (${model.artifact.uri}) that maas did not store`, {
          hint: 'register the version with a local artifact (file://) to evaluate it here',
        });
      }
      const path = await artifacts.localPath(model.artifact.digest);
      return (await import('../serving/evaluate.js')).evaluateRows(model.description, path, rows);
    },
    async parameters(model) {
      const format: string = model.description.spec.artifact.format;
      if (format !== 'onnx' || !model.artifact.digest) return undefined;
      const path = await artifacts.localPath(model.artifact.digest);
      const { signature, parameters } = await (await import('../serving/runtimes/onnx-parameters.js')).readOnnxParameters(path);
      return { signature, parameters };
    },
  };
}

/** Tokens and the audit log live in the registry's own SQLite database, when it is one. */
async function controlPlaneStores(stores: Stores): Promise<{ tokens?: TokenStore; audit?: AuditLog; idempotency?: IdempotencyStore }> {
  if (stores.database === undefined) return {};
  const db = stores.database as Db;
  const [{ SqliteTokenStore }, { SqliteAuditLog }, { SqliteIdempotencyStore }] = await Promise.all([
    import('../registry/sqlite/tokens-table.js'),
    import('../registry/sqlite/audit-table.js'),
    import('../registry/sqlite/idempotency-table.js'),
  ]);
  return { tokens: new SqliteTokenStore(db), audit: new SqliteAuditLog(db), idempotency: new SqliteIdempotencyStore(db) };
}

/** Deploy launches run right here, inside the job that waits for them (composition jobs). */
const inlineLaunches = (s: Services): JobQueue => new InProcessQueue({ [DEPLOY_JOB]: (payload, progress) => runDeployJob(s, payload, progress) });

/** What the queue's workers can do: one runner per kind of job. */
export function jobRunners(services: Services): Record<string, JobRunner> {
  return {
    [DEPLOY_JOB]: (payload, progress) => runDeployJob(services, payload, progress),
    ...lifecycleJobRunners(services),
    ...compositionJobRunners(services, inlineLaunches),
  };
}

export async function buildServices(o: RootOptions): Promise<OpenedServices> {
  const cacheTtlMs = parseDuration(o.config.local?.cacheTtl ?? DEFAULT_CACHE_TTL, 'local.cacheTtl');
  const stores = o.overrides?.stores ?? (await (await import('../registry/open.js')).openStores(o.home));
  const controlPlane = await controlPlaneStores(stores);
  const tokens = o.overrides?.tokens ?? controlPlane.tokens;
  const audit = o.overrides?.audit ?? controlPlane.audit;
  const idempotency = o.overrides?.idempotency ?? controlPlane.idempotency;
  const plugins = o.overrides?.plugins ?? (await import('../targets/plugins.js')).TARGET_PLUGINS;
  const inference =
    o.overrides?.inference ?? (async (...args: Parameters<InferenceConnector>) => (await import('../client/inference-client.js')).connectInference(...args));
  const env: TargetEnv = {
    home: o.home,
    env: o.env,
    cwd: o.cwd,
    clock: o.clock,
    config: o.config,
    artifacts: stores.artifacts,
    cluster: o.cluster,
    version: o.version,
  };
  const services: OpenedServices = {
    clock: o.clock,
    models: stores.models,
    artifacts: stores.artifacts,
    deployments: stores.deployments,
    compositions: stores.compositions,
    // The reader loads only when a command reads data.
    datasets: o.overrides?.datasets ?? {
      open: async (...args: Parameters<DatasetReader['open']>) => new (await import('../registry/fs-dataset-reader.js')).FsDatasetReader().open(...args),
    },
    workspace: o.overrides?.workspace ?? {
      create: async (prefix: string) => new (await import('../registry/fs-workspace.js')).FsWorkspace(join(o.home.tmp, 'work')).create(prefix),
    },
    targets: targetsOf(plugins, env),
    // Set right below: the queue's workers need the services they belong to.
    queue: undefined as unknown as JobQueue,
    inference,
    settings: { cacheTtlMs },
    newId: o.overrides?.newId ?? ((prefix) => randomId(prefix)),
    // The runtimes load only when a description has a local artifact to open.
    inspectArtifact: async (description, artifactPath) => (await import('../serving/runtimes/index.js')).inspectArtifact(description, artifactPath),
    // Training backends load only when something trains.
    training: {
      get: async (target) => {
        if (target === 'local') return new (await import('../targets/local/training-process.js')).LocalTrainingRunner();
        const [{ KubeTrainingRunner, ClientNodeTrainingApi }, { loadKubeConfig }] = await Promise.all([
          import('../targets/kubernetes/training-job.js'),
          import('../targets/kubernetes/kube-config.js'),
        ]);
        return new KubeTrainingRunner({
          clock: o.clock,
          connect: async (k) => {
            const loaded = loadKubeConfig({
              env: o.env,
              cwd: o.cwd,
              ...((k.kubeconfig ?? o.cluster.kubeconfig) !== undefined ? { kubeconfig: (k.kubeconfig ?? o.cluster.kubeconfig)! } : {}),
              ...((k.context ?? o.cluster.context) !== undefined ? { context: (k.context ?? o.cluster.context)! } : {}),
              ...((k.namespace ?? o.cluster.namespace) !== undefined ? { namespace: (k.namespace ?? o.cluster.namespace)! } : {}),
            });
            return { api: new ClientNodeTrainingApi(loaded.kc, loaded.contextName), namespace: loaded.namespace };
          },
        });
      },
    },
    evaluator: o.overrides?.evaluator ?? localEvaluator(stores.artifacts),
    ...(tokens ? { tokens } : {}),
    ...(audit ? { audit } : {}),
    ...(idempotency ? { idempotency } : {}),
    async close() {
      try {
        await services.queue.idle();
      } finally {
        stores.close();
      }
    },
  };
  services.queue = o.overrides?.queue?.(services, stores) ?? new InProcessQueue(jobRunners(services), o.onJobFailure);
  return services;
}

/** Where the control plane's jobs wait: the embedded SQLite database, or Redis (BullMQ). */
export type QueueLocation = { kind: 'sqlite' } | { kind: 'redis'; url: string };

/** `--queue`: absent or `sqlite` -> the embedded queue; `redis://` or `rediss://` -> Redis. */
export function queueLocation(text: string | undefined): QueueLocation {
  if (text === undefined || text === '' || text === 'sqlite' || text === 'embedded') return { kind: 'sqlite' };
  if (/^rediss?:\/\//.test(text)) return { kind: 'redis', url: text };
  throw new MaasError('USAGE', `unknown queue "${text}"`, { hint: 'use sqlite (the default, in MAAS_HOME) or redis://HOST:PORT' });
}

/** A queue whose workers run in this process (start) and stop gracefully (requeueing what runs). */
export interface RunnableQueue extends JobQueue {
  /** Starts this process's workers (none for a Redis queue unless `work` was asked). */
  start(): Promise<void>;
  /** Stops taking jobs; running ones get `timeoutMs`, then go back to the queue. */
  stop(timeoutMs: number): Promise<void>;
}

function runnable(q: JobQueue, life: Pick<RunnableQueue, 'start' | 'stop'>): RunnableQueue {
  return {
    enqueue: (...args) => q.enqueue(...args),
    idle: () => q.idle(),
    get: (id) => q.get(id),
    list: (filter) => q.list(filter),
    counts: () => q.counts(),
    close: () => q.close(),
    start: life.start,
    stop: life.stop,
  };
}

/**
 * The durable queue of `maas server` and `maas worker`. Its backend module is loaded before the
 * services are built (the composition root's queue factory is synchronous); the returned
 * factory plugs into `ServiceOverrides.queue`.
 */
export async function durableQueueFactory(
  location: QueueLocation,
  o: { clock: Clock; work: boolean; concurrency?: number; leaseMs?: number },
): Promise<{ factory: (services: Services, stores: Stores) => RunnableQueue; queue: () => RunnableQueue }> {
  let built: RunnableQueue | undefined;
  const queue = (): RunnableQueue => {
    if (!built) throw new MaasError('INTERNAL', 'the queue is used before the services are built');
    return built;
  };
  if (location.kind === 'sqlite') {
    const { SqliteJobQueue } = await import('../queue/sqlite-queue.js');
    const factory = (services: Services, stores: Stores): RunnableQueue => {
      if (stores.database === undefined)
        throw new MaasError('USAGE', 'the embedded queue needs the embedded registry', { hint: 'use --queue redis://HOST:PORT' });
      const q = new SqliteJobQueue(stores.database as Db, jobRunners(services), {
        clock: o.clock,
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
        ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
      });
      built = runnable(q, {
        start: () => {
          if (o.work) q.start();
          return Promise.resolve();
        },
        stop: (timeoutMs) => q.stop({ timeoutMs }),
      });
      return built;
    };
    return { factory, queue };
  }
  const { RedisJobQueue } = await import('../queue/redis-queue.js');
  const factory = (services: Services): RunnableQueue => {
    const q = new RedisJobQueue(location.url, { ...(o.leaseMs !== undefined ? { lockMs: o.leaseMs } : {}) });
    let worker: { ready(): Promise<void>; close(timeoutMs?: number): Promise<void> } | undefined;
    built = runnable(q, {
      start: async () => {
        if (!o.work) return;
        worker = q.startWorker(jobRunners(services), { ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}) });
        await worker.ready();
      },
      stop: async (timeoutMs) => {
        await worker?.close(timeoutMs);
      },
    });
    return built;
  };
  return { factory, queue };
}

/** What the CLI needs of this machine when it works against a server: data sets, files, the artifact check. */
export async function clientTools(): Promise<{ datasets: DatasetReader; files: LocalFiles; inspectArtifact: NonNullable<Services['inspectArtifact']> }> {
  const [{ FsDatasetReader }, { createHash }, { createReadStream }] = await Promise.all([
    import('../registry/fs-dataset-reader.js'),
    import('node:crypto'),
    import('node:fs'),
  ]);
  return {
    datasets: new FsDatasetReader(),
    files: {
      digest: (path) =>
        new Promise((resolvePromise, reject) => {
          const hash = createHash('sha256');
          let size = 0;
          createReadStream(path)
            .on('data', (chunk: Buffer | string) => {
              hash.update(chunk);
              size += chunk.length;
            })
            .on('error', reject)
            .on('end', () => resolvePromise({ digest: `sha256:${hash.digest('hex')}`, size }));
        }),
      open: (path) => createReadStream(path),
    },
    inspectArtifact: async (description, artifactPath) => (await import('../serving/runtimes/index.js')).inspectArtifact(description, artifactPath),
  };
}

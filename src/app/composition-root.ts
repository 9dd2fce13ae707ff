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
import { InProcessQueue } from '../queue/in-process.js';
import type { JobQueue } from '../queue/port.js';
import type { Target, TargetEnv, TargetOptions, TargetPlugin } from '../targets/target.js';
import { DEPLOY_JOB, requirePlugin, runDeployJob } from './deploy.js';
import type { ModelEvaluator, Services, Targets } from './services.js';

export const DEFAULT_CACHE_TTL = '24h';

export interface ServiceOverrides {
  stores?: Stores;
  datasets?: DatasetReader;
  workspace?: Workspace;
  plugins?: readonly TargetPlugin[];
  inference?: InferenceConnector;
  queue?: (services: Services) => JobQueue;
  newId?: (prefix: string) => string;
  evaluator?: ModelEvaluator;
  tokens?: TokenStore;
  audit?: AuditLog;
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
async function controlPlaneStores(stores: Stores): Promise<{ tokens?: TokenStore; audit?: AuditLog }> {
  // In-memory stores have no database: skip loading SQLite for them.
  if (!('db' in stores.models)) return {};
  const { SqliteRegistry } = await import('../registry/sqlite/sqlite-registry.js');
  if (!(stores.models instanceof SqliteRegistry)) return {};
  const [{ SqliteTokenStore }, { SqliteAuditLog }] = await Promise.all([
    import('../registry/sqlite/tokens-table.js'),
    import('../registry/sqlite/audit-table.js'),
  ]);
  return { tokens: new SqliteTokenStore(stores.models.db), audit: new SqliteAuditLog(stores.models.db) };
}

export async function buildServices(o: RootOptions): Promise<OpenedServices> {
  const cacheTtlMs = parseDuration(o.config.local?.cacheTtl ?? DEFAULT_CACHE_TTL, 'local.cacheTtl');
  const stores = o.overrides?.stores ?? (await (await import('../registry/open.js')).openStores(o.home));
  const controlPlane = o.overrides?.tokens && o.overrides.audit ? {} : await controlPlaneStores(stores);
  const tokens = o.overrides?.tokens ?? controlPlane.tokens;
  const audit = o.overrides?.audit ?? controlPlane.audit;
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
    async close() {
      try {
        await services.queue.idle();
      } finally {
        stores.close();
      }
    },
  };
  services.queue =
    o.overrides?.queue?.(services) ?? new InProcessQueue({ [DEPLOY_JOB]: (payload, progress) => runDeployJob(services, payload, progress) }, o.onJobFailure);
  return services;
}

// The one place that turns configuration and environment into services: stores, targets, the
// job queue and its workers, the inference client. Faces (CLI, server) call this, never the
// backends directly; tests pass overrides instead of mocking modules.
import { newId as randomId, type Clock } from '../core/clock.js';
import type { MaasConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { MaasHome } from '../core/home.js';
import type { InferenceConnector } from '../protocol/inference-api.js';
import type { DatasetReader, Stores } from '../registry/ports.js';
import { InProcessQueue } from '../queue/in-process.js';
import type { JobQueue } from '../queue/port.js';
import type { Target, TargetEnv, TargetOptions, TargetPlugin } from '../targets/target.js';
import { DEPLOY_JOB, requirePlugin, runDeployJob } from './deploy.js';
import type { Services, Targets } from './services.js';

export const DEFAULT_CACHE_TTL = '24h';

export interface ServiceOverrides {
  stores?: Stores;
  datasets?: DatasetReader;
  plugins?: readonly TargetPlugin[];
  inference?: InferenceConnector;
  queue?: (services: Services) => JobQueue;
  newId?: (prefix: string) => string;
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

export async function buildServices(o: RootOptions): Promise<OpenedServices> {
  const cacheTtlMs = parseDuration(o.config.local?.cacheTtl ?? DEFAULT_CACHE_TTL, 'local.cacheTtl');
  const stores = o.overrides?.stores ?? (await (await import('../registry/open.js')).openStores(o.home));
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
    // The reader loads only when a command reads data.
    datasets: o.overrides?.datasets ?? {
      open: async (...args: Parameters<DatasetReader['open']>) => new (await import('../registry/fs-dataset-reader.js')).FsDatasetReader().open(...args),
    },
    targets: targetsOf(plugins, env),
    // Set right below: the queue's workers need the services they belong to.
    queue: undefined as unknown as JobQueue,
    inference,
    settings: { cacheTtlMs },
    newId: o.overrides?.newId ?? ((prefix) => randomId(prefix)),
    // The runtimes load only when a description has a local artifact to open.
    inspectArtifact: async (description, artifactPath) => (await import('../serving/runtimes/index.js')).inspectArtifact(description, artifactPath),
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

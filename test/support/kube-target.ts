// Harness for the kubernetes target tests: the API server substitute (it records every request,
// bodies included), a kubeconfig file pointing at it, a fresh MAAS_HOME with the example HAR model
// registered through the stores, a clock that moves the substitute along instead of waiting, and
// official-schema validation of what maas sent.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { stringify } from 'yaml';
import { writeHarModel } from '../../examples/har/quick-model.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import type { ModelVersionRecord } from '../../src/domain/model.js';
import { FsArtifactStore } from '../../src/registry/fs-artifact-store.js';
import { openStores } from '../../src/registry/open.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { KubernetesTarget, type KubernetesTargetOptions } from '../../src/targets/kubernetes/kubernetes-target.js';
import { LABEL } from '../../src/targets/kubernetes/names.js';
import { runCli, tempDir, type CliResult } from './cli.js';
import { DEFAULT_TOKEN, startFakeKube, type FakeKube, type FakeKubeOptions, type RequestRecord } from './fake-kube/index.js';
import type { Obj } from './fake-kube/types.js';

export interface TrainedModel {
  dir: string;
  file: string;
  onnx: Buffer;
  description: ModelDescription;
}

/** The example HAR classifier, trained once and written as model.yaml, model.onnx and train.csv. */
export function trainExampleModel(dir: string): TrainedModel {
  mkdirSync(dir, { recursive: true });
  const written = writeHarModel(dir);
  return { dir, file: written.descriptionFile, onnx: readFileSync(join(dir, 'model.onnx')), description: written.description };
}

export interface KubeconfigSpec {
  server: string;
  token?: string;
  namespace?: string;
  context?: string;
}

export function kubeconfigYaml(k: KubeconfigSpec): string {
  const context = k.context ?? 'fake';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake-cluster', cluster: { server: k.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake-user', user: { token: k.token ?? DEFAULT_TOKEN } }],
    contexts: [{ name: context, context: { cluster: 'fake-cluster', user: 'fake-user', ...(k.namespace ? { namespace: k.namespace } : {}) } }],
    'current-context': context,
  });
}

/**
 * Manual time that moves the cluster along: every sleep runs one round of the substitute's
 * controllers and lets pending I/O run, so a wait ends as soon as the cluster got there, and a
 * deadline passes without real waiting.
 */
export function clusterClock(fake: Pick<FakeKube, 'tick'>, time: ManualClock): Clock {
  return {
    now: () => time.now(),
    sleep: async (ms) => {
      fake.tick();
      await new Promise((r) => setImmediate(r));
      await time.sleep(ms);
    },
  };
}

export interface KubeEnv {
  fake: FakeKube;
  /** What maas waits with (see clusterClock); `time` is the manual time underneath. */
  clock: Clock;
  time: ManualClock;
  dir: string;
  home: string;
  /** The kubeconfig every command uses (through KUBECONFIG). */
  kubeconfig: string;
  /** Runs maas in-process with this home, kubeconfig and clock. */
  maas(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** Runs maas and parses its `-o json` output; fails the test with the stderr otherwise. */
  json<T = Obj>(args: string[], env?: Record<string, string | undefined>): Promise<T>;
  /** Writes another kubeconfig into the temp dir. */
  writeKubeconfig(name: string, k: Partial<KubeconfigSpec>): string;
  /** Registers a version in this home: the artifact is the file, or the description's remote URI. */
  register(description: ModelDescription, artifactFile?: string): Promise<ModelVersionRecord>;
  model(name: string, version: string): Promise<ModelVersionRecord>;
  /** The kubernetes target on this home's artifacts, this kubeconfig and this clock. */
  target(o?: Partial<KubernetesTargetOptions>): KubernetesTarget;
  /** `kind/namespace/name` of everything carrying the instance label `instance`, pods included. */
  labelled(instance: string): string[];
  /** Requests that changed or tried to change something (all but GET). */
  writes(): RequestRecord[];
  close(): Promise<void>;
}

export const TEST_IMAGE = 'ghcr.io/maas-dev/maas:0.1.0';

export async function startKubeEnv(model: TrainedModel, o: FakeKubeOptions & { contextNamespace?: string } = {}): Promise<KubeEnv> {
  const tmp = tempDir('maas-kube-target-');
  const time = new ManualClock();
  const { contextNamespace, ...fakeOptions } = o;
  const fake = await startFakeKube({ autoTick: false, clock: time, ...fakeOptions });
  const clock = clusterClock(fake, time);
  const home = join(tmp.path, 'home');
  const maasHome = resolveHome({}, tmp.path, home);
  const writeKubeconfig = (name: string, k: Partial<KubeconfigSpec>) => {
    const file = join(tmp.path, name);
    writeFileSync(file, kubeconfigYaml({ server: fake.url, ...(contextNamespace ? { namespace: contextNamespace } : {}), ...k }));
    return file;
  };
  const kubeconfig = writeKubeconfig('kubeconfig.yaml', {});
  const maas = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { home, cwd: tmp.path, env: { KUBECONFIG: kubeconfig, ...env }, deps: { clock } });
  const register = async (description: ModelDescription, artifactFile?: string) => {
    const stores = await openStores(maasHome);
    try {
      const { uri, digest } = description.spec.artifact;
      const artifact = await stores.artifacts.store({ uri, ...(artifactFile ? { path: artifactFile } : {}), ...(digest ? { digest } : {}) });
      return (await stores.models.registerModel(description, artifact)).record;
    } finally {
      stores.close();
    }
  };
  await register(model.description, join(model.dir, 'model.onnx'));
  return {
    fake,
    clock,
    time,
    dir: tmp.path,
    home,
    kubeconfig,
    maas,
    json: async <T>(args: string[], env?: Record<string, string | undefined>) => {
      const r = await maas([...args, '-o', 'json'], env);
      if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    writeKubeconfig,
    register,
    model: async (name, version) => {
      const stores = await openStores(maasHome);
      try {
        const found = await stores.models.getModel(name, version);
        if (!found) throw new Error(`${name}@${version} is not registered`);
        return found;
      } finally {
        stores.close();
      }
    },
    target: (over = {}) =>
      new KubernetesTarget({
        selection: { env: { KUBECONFIG: kubeconfig }, cwd: tmp.path },
        images: { fallback: TEST_IMAGE },
        clock,
        artifacts: new FsArtifactStore(maasHome.blobs),
        ...over,
      }),
    labelled: (instance) =>
      ['deployments', 'services', 'configmaps', 'horizontalpodautoscalers', 'pods'].flatMap((plural) =>
        fake.state
          .list(plural)
          .filter((x) => x.metadata?.labels?.[LABEL.instance] === instance)
          .map((x) => `${plural}/${String(x.metadata.namespace)}/${String(x.metadata.name)}`),
      ),
    writes: () => fake.requests.filter((r) => r.method !== 'GET'),
    close: async () => {
      await fake.close();
      tmp.cleanup();
    },
  };
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Deployment,
  Service,
  HorizontalPodAutoscaler,
  Namespace,
};

/**
 * Validates every object maas sent (apply bodies and creations) against the official schemas.
 * The scale-to-zero and release bodies are partial apply configurations of a Deployment: they are
 * checked as the object they produce, merged onto the full Deployment maas applied before.
 * Returns the kinds checked, in order.
 */
export function validateSent(requests: readonly RequestRecord[]): string[] {
  const checked: string[] = [];
  const full = new Map<string, Obj>();
  for (const s of requests) {
    if (!(s.method === 'PATCH' || s.method === 'POST') || !s.body || s.path.includes('/proxy/')) continue;
    const obj = JSON.parse(s.body) as Obj;
    const kind = String(obj.kind);
    const Model = MODELS[kind];
    if (!Model) throw new Error(`maas sent an unexpected kind ${kind} to ${s.path}`);
    let subject = obj;
    if (kind === 'Deployment') {
      const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
      if (obj.spec?.template) full.set(key, obj);
      else {
        const base = full.get(key);
        if (!base) throw new Error(`partial Deployment body for ${key} before any full one`);
        subject = { ...base, spec: { ...base.spec, ...obj.spec } };
      }
    }
    new Model(subject as never).validate();
    checked.push(kind);
  }
  return checked;
}

// The kubernetes target itself over the API server substitute, without the CLI: stable object
// names, the whole lifecycle, reproducible dry runs, records of the previous naming, throttling
// and rollout failures. Waits run on manual time that moves the substitute (clusterClock).
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { ModelVersionRecord } from '../../src/domain/model.js';
import { buildModelObjects } from '../../src/targets/kubernetes/objects.js';
import { startedRuntimeOf } from '../../src/targets/target.js';
import { FIELD_MANAGER } from '../../src/targets/kubernetes/names.js';
import { tempDir } from '../support/cli.js';
import { CRASH, NOT_READY, type FakeKubeOptions } from '../support/fake-kube/index.js';
import { TEST_IMAGE, startKubeEnv, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const work = tempDir('maas-kube-lifecycle-');
let trained: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  trained = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});

async function env(o: FakeKubeOptions = {}): Promise<{ e: KubeEnv; model: ModelVersionRecord }> {
  const e = await startKubeEnv(trained, { nodes: [{ name: 'n1', cpu: '4', memory: '8Gi' }], ...o });
  envs.push(e);
  return { e, model: await e.model('har-classifier', '1') };
}

const record = (over: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  id: 'd-0a1b2c3d4e',
  model: 'har-classifier',
  version: '1',
  target: 'kubernetes',
  mode: 'open',
  namespace: NS,
  state: 'deploying',
  runtime: {},
  consumers: ['ci'],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  history: [],
  ...over,
});

const quiet = () => {};
const names = (e: KubeEnv, ns = NS) =>
  ['configmaps', 'deployments', 'services', 'horizontalpodautoscalers']
    .flatMap((p) => e.fake.state.list(p, ns).map((o) => `${p}/${String(o.metadata.name)}`))
    .sort();

describe('a deployment through the target', () => {
  it('is named after the model version, becomes ready, scales to zero, serves again and is destroyed', async () => {
    const { e, model } = await env();
    const target = e.target();
    const started = await target.start(record(), model, quiet);
    const d = record({ runtime: started.runtime });
    expect(started.runtime).toMatchObject({
      namespace: NS,
      name: 'har-classifier-v1',
      objects: ['ConfigMap/har-classifier-v1', 'Deployment/har-classifier-v1', 'Service/har-classifier-v1', 'HorizontalPodAutoscaler/har-classifier-v1'],
    });
    expect(names(e)).toEqual([
      'configmaps/har-classifier-v1',
      'deployments/har-classifier-v1',
      'horizontalpodautoscalers/har-classifier-v1',
      'services/har-classifier-v1',
    ]);
    // The ID is an annotation of the objects, never a label or part of the pods.
    const live = e.fake.state.get('deployments', NS, 'har-classifier-v1')!;
    expect(live.metadata.annotations['maas.dev/deployment-id']).toBe(d.id);
    expect(JSON.stringify(live.metadata.labels)).not.toContain(d.id);
    expect(JSON.stringify(live.spec)).not.toContain(d.id);
    expect(validateSent(e.fake.requests)).toEqual(['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'Deployment']);

    const before = e.time.now();
    expect(await target.waitReady(d, e.clock.now() + 120_000, quiet)).toMatchObject({
      state: 'ready',
      endpoint: `${e.fake.url}/api/v1/namespaces/${NS}/services/har-classifier-v1:http/proxy`,
    });
    // Polling advanced manual time only.
    expect(e.time.now() - before).toBeLessThan(120_000);
    expect(await target.observe(d)).toMatchObject({ state: 'ready' });
    expect(await target.logs(d, { tail: 1 })).toMatch(/listening on http:\/\/0\.0\.0\.0:8080\n$/);

    await target.scaleToZero(d);
    e.fake.settle();
    expect(e.fake.state.list('pods', NS)).toEqual([]);
    expect(await target.observe({ ...d, state: 'cached', reason: 'no consumer left' })).toMatchObject({ state: 'cached', reason: 'no consumer left' });

    await target.start(d, model, quiet);
    expect(await target.waitReady(d, e.clock.now() + 120_000, quiet)).toMatchObject({ state: 'ready' });

    await target.destroy(d);
    expect(e.labelled('har-classifier-v1')).toEqual([]);
  });

  it('two slots of one model version share a namespace: open and strict on a node get different names', async () => {
    const { e, model } = await env({ nodes: [{ name: 'n1' }, { name: 'n2' }] });
    const target = e.target();
    const open = record();
    const strict = record({ id: 'd-9f8e7d6c5b', mode: 'strict', node: 'n2' });
    const a = { ...open, runtime: (await target.start(open, model, quiet)).runtime };
    const b = { ...strict, runtime: (await target.start(strict, model, quiet)).runtime };
    expect([a.runtime.name, b.runtime.name]).toEqual(['har-classifier-v1', 'har-classifier-v1-n2']);
    expect((await target.waitReady(b, e.clock.now() + 120_000, quiet)).state).toBe('ready');
    expect(
      e.fake.state
        .list('pods', NS)
        .filter((p) => p.metadata.name.startsWith('har-classifier-v1-n2-'))
        .map((p): unknown => p.spec.nodeName),
    ).toEqual(['n2']);
    await target.destroy(a);
    expect(e.labelled('har-classifier-v1')).toEqual([]);
    expect(names(e)).toEqual([
      'configmaps/har-classifier-v1-n2',
      'deployments/har-classifier-v1-n2',
      'horizontalpodautoscalers/har-classifier-v1-n2',
      'services/har-classifier-v1-n2',
    ]);
  });

  it('a rollout that cannot finish fails with its cause at the deadline, on manual time', async () => {
    const cases: Array<[FakeKubeOptions, string, RegExp]> = [
      [
        {},
        'ghcr.io/acme/maas-server:crashes',
        new RegExp(`container "server" in pod har-classifier-v1-\\S+ keeps failing \\(CrashLoopBackOff, \\d+ restarts?\\); last exit code ${CRASH.exitCode}`),
      ],
      [{}, 'ghcr.io/acme/does-not-exist:1', /cannot pull image "ghcr\.io\/acme\/does-not-exist:1" for container "server"/],
      [{}, 'ghcr.io/acme/maas-server:never-ready', new RegExp(`runs but is not ready: Readiness probe failed: ${NOT_READY}`)],
      [{ nodes: [{ name: 'tiny', cpu: '200m' }] }, TEST_IMAGE, /cannot be scheduled: 0\/1 nodes are available: 1 Insufficient cpu/],
    ];
    for (const [fakeOptions, image, why] of cases) {
      const { e, model } = await env(fakeOptions);
      const target = e.target({ images: { flag: image, fallback: TEST_IMAGE } });
      const d = record({ runtime: (await target.start(record(), model, quiet)).runtime });
      const observed = await target.waitReady(d, e.clock.now() + 30_000, quiet);
      expect(observed, image).toMatchObject({ state: 'failed', reason: expect.stringMatching(why) });
    }
  });
});

describe('dry runs', () => {
  it('render the same objects every time, without an ID, and contact no cluster (client)', async () => {
    const { e, model } = await env();
    const first = await e.target().dryRun({ mode: 'strict', node: 'n1', namespace: NS }, model, 'client', quiet);
    const second = await e.target().dryRun({ mode: 'strict', node: 'n1', namespace: NS }, model, 'client', quiet);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(first.objects.map((o) => (o as { metadata: { name: string } }).metadata.name)).toEqual(Array(4).fill('har-classifier-v1-n1'));
    expect(JSON.stringify(first)).not.toContain('deployment-id');
    expect(e.fake.requests).toEqual([]);
    // What a real deploy applies is the same, plus the deployment ID annotation.
    await e.target().start(record({ mode: 'strict', node: 'n1' }), model, quiet);
    const applied = e.fake.requests
      .filter((r) => r.method === 'PATCH' && r.query.includes(`fieldManager=${FIELD_MANAGER}&`))
      .map((r) => JSON.parse(r.body!) as { metadata: { annotations: Record<string, string> } });
    for (const o of applied) delete o.metadata.annotations['maas.dev/deployment-id'];
    expect(applied).toEqual(first.objects);
  });

  it('server: validated by the API server, nothing stored', async () => {
    const { e, model } = await env({ namespaces: [NS] });
    const r = await e.target().dryRun({ mode: 'open', namespace: NS }, model, 'server', quiet);
    expect(r.objects.map((o) => (o as { kind: string }).kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);
    expect(e.writes().map((w) => w.query)).toEqual(Array(4).fill(expect.stringContaining('dryRun=All')));
    expect(names(e)).toEqual([]);
  });
});

describe('records of the previous naming (maas-<deployment id>)', () => {
  it('are observed, redeployed under the same name and selector, and destroyed', async () => {
    const { e, model } = await env({ namespaces: [NS] });
    const id = 'd-1a2b3c4d5e';
    const old = record({
      id,
      state: 'ready',
      runtime: { namespace: NS, name: `maas-${id}`, objects: [`ConfigMap/maas-${id}`, `Deployment/maas-${id}`, `Service/maas-${id}`] },
    });
    // What the previous version applied: named after the ID, the ID as instance label.
    const target = e.target();
    const legacy = buildModelObjects({
      name: `maas-${id}`,
      instance: id,
      namespace: NS,
      description: model.description,
      modelRef: { name: model.name, version: model.version, specDigest: model.specDigest, artifactDigest: model.artifact.digest },
      image: TEST_IMAGE,
      mode: 'open',
      artifact: { kind: 'url', uri: 'https://models.example.com/m.onnx', fileName: 'model.onnx' },
      descriptionJson: JSON.stringify(model.description),
    });
    const kc = new KubeConfig();
    kc.loadFromFile(e.kubeconfig);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const o of legacy) await objects.patch(structuredClone(o), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    e.fake.settle();

    expect(await target.observe(old)).toMatchObject({ state: 'ready', endpoint: `${e.fake.url}/api/v1/namespaces/${NS}/services/maas-${id}:http/proxy` });
    // A redeploy keeps name and selector (the API server refuses a changed selector).
    const again = await target.start(old, model, quiet);
    expect(again.runtime).toMatchObject({ name: `maas-${id}` });
    expect(await target.waitReady(old, e.clock.now() + 120_000, quiet)).toMatchObject({ state: 'ready' });
    await target.destroy(old);
    expect(e.labelled(id)).toEqual([]);
    expect(names(e)).toEqual([]);
  });
});

describe('the cluster misbehaving', () => {
  it('throttled calls are retried on the clock; a cluster that keeps throttling is unavailable', async () => {
    const { e, model } = await env();
    e.fake.answer({ method: 'PATCH', path: /\/configmaps\//, status: 429, times: 3 });
    const before = e.time.now();
    await e.target().start(record(), model, quiet);
    expect(e.time.now() - before).toBe(3_500);
    expect(e.fake.requests.filter((r) => r.answered)).toHaveLength(3);

    e.fake.answer({ method: 'GET', path: /\/deployments\//, status: 429, times: Infinity });
    await expect(e.target().scaleToZero(record({ runtime: { namespace: NS, objects: ['Deployment/har-classifier-v1'] } }))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('is throttling requests (429 TooManyRequests)'),
    });
  });

  it('a start that fails half way says what it created, so a purge removes it', async () => {
    const { e, model } = await env();
    e.fake.answer({ method: 'PATCH', path: /\/deployments\//, status: 403 });
    const failed = await e
      .target()
      .start(record(), model, quiet)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const runtime = startedRuntimeOf(failed);
    expect(runtime).toMatchObject({ name: 'har-classifier-v1', objects: ['ConfigMap/har-classifier-v1'] });
    expect(names(e)).toEqual(['configmaps/har-classifier-v1']);
    await e.target().destroy(record({ state: 'failed', runtime: runtime! }));
    expect(names(e)).toEqual([]);
  });

  it('observe reports a cluster that went away as the state, with why', async () => {
    const { e, model } = await env();
    const target = e.target();
    const d = record({ state: 'ready', runtime: (await target.start(record(), model, quiet)).runtime });
    await e.fake.close();
    expect(await target.observe(d)).toEqual({
      state: 'failed',
      reason: expect.stringMatching(/^cannot check the cluster: cannot reach the Kubernetes API server/),
    });
  });
});

// The pure and injectable parts of the kubernetes target: kubeconfig precedence and merging,
// error translation, artifact delivery, image choice, the runtime record, and the target's
// decisions over a recording in-memory KubeApi (ordering, refusals, observed states).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { ApiException, FetchError, type KubernetesObject, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { MaasError } from '../../src/core/errors.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { ModelVersionRecord } from '../../src/domain/model.js';
import { artifactFileName, planDelivery } from '../../src/targets/kubernetes/artifact-delivery.js';
import type { KubeConnection } from '../../src/targets/kubernetes/connection.js';
import { defaultImage, pickImage } from '../../src/targets/kubernetes/image.js';
import type { KubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { kubeconfigSource, loadKubeConfig } from '../../src/targets/kubernetes/kube-config.js';
import { canICommand, kubeError, parseForbidden } from '../../src/targets/kubernetes/kube-errors.js';
import { readRuntime } from '../../src/targets/kubernetes/kube-runtime.js';
import { KubernetesTarget, type KubernetesTargetOptions } from '../../src/targets/kubernetes/kubernetes-target.js';
import { FsArtifactStore } from '../../src/registry/fs-artifact-store.js';
import { kubeconfigYaml } from '../support/kube-target.js';
import { exampleDescription } from '../support/fake-kube/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'maas-kube-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scope = { server: 'https://k8s.example:6443', context: 'prod', action: 'apply Deployment ml/maas-d-1' };

describe('kubeconfig', () => {
  const env = { HOME: '/home/u' };
  it('follows kubectl precedence: flag, KUBECONFIG (existing entries), ~/.kube/config, in-cluster', () => {
    const exists = (p: string) => p !== '/missing';
    expect(kubeconfigSource({ kubeconfig: 'k.yaml', env: { ...env, KUBECONFIG: '/a' }, cwd: '/w' }, exists)).toEqual({ origin: 'given', files: ['/w/k.yaml'] });
    expect(kubeconfigSource({ kubeconfig: '~/k.yaml', env, cwd: '/w' }, exists)).toEqual({ origin: 'given', files: ['/home/u/k.yaml'] });
    expect(kubeconfigSource({ env: { ...env, KUBECONFIG: ['/missing', '/a', '/b'].join(delimiter) }, cwd: '/w' }, exists)).toEqual({
      origin: 'env',
      files: ['/a', '/b'],
    });
    expect(kubeconfigSource({ env, cwd: '/w' }, exists)).toEqual({ origin: 'home', files: ['/home/u/.kube/config'] });
    expect(kubeconfigSource({ env: { ...env, KUBECONFIG: '/missing' }, cwd: '/w' }, exists)).toEqual({
      origin: 'none',
      files: [],
      looked: ['/missing (from KUBECONFIG)'],
    });
    expect(kubeconfigSource({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, cwd: '/w' }, () => true).origin).toBe('in-cluster');
  });

  it('merges a KUBECONFIG list first-wins and resolves the namespace flag > context > default', () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, kubeconfigYaml({ server: 'https://a.example', context: 'shared', namespace: 'from-a' }));
    writeFileSync(
      b,
      kubeconfigYaml({ server: 'https://b.example', context: 'other' })
        .replace(/fake-cluster/g, 'b-cluster')
        .replace(/fake-user/g, 'b-user'),
    );
    const both = loadKubeConfig({ env: { KUBECONFIG: [a, b].join(delimiter) }, cwd: dir });
    expect(both).toMatchObject({ contextName: 'shared', namespace: 'from-a', server: 'https://a.example', kubeconfig: [a, b].join(delimiter) });
    const other = loadKubeConfig({ env: { KUBECONFIG: [a, b].join(delimiter) }, cwd: dir, context: 'other', namespace: 'ml' });
    expect(other).toMatchObject({ contextName: 'other', namespace: 'ml', server: 'https://b.example' });
    expect(loadKubeConfig({ kubeconfig: b, env: {}, cwd: dir }).namespace).toBe('default');
    // ~/.kube/config is found again by later commands without remembering its path.
    mkdirSync(join(dir, '.kube'), { recursive: true });
    writeFileSync(join(dir, '.kube', 'config'), kubeconfigYaml({ server: 'https://home.example' }));
    const home = loadKubeConfig({ env: { HOME: dir, KUBECONFIG: '' }, cwd: '/' });
    expect(home).toMatchObject({ server: 'https://home.example', namespace: 'default' });
    expect(home.kubeconfig).toBeUndefined();
  });

  it('says what is wrong with a kubeconfig', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clusters:\n- name: x\n  cluster: {}\ncontexts: []\nusers: []\n');
    expect(() => loadKubeConfig({ kubeconfig: broken, env: {}, cwd: dir })).toThrow(/is not valid: clusters\[0\]\.cluster\.server is missing/);
    const nocontext = join(dir, 'nocontext.yaml');
    writeFileSync(nocontext, kubeconfigYaml({ server: 'https://a.example' }).replace(/current-context: fake\n/, ''));
    expect(() => loadKubeConfig({ kubeconfig: nocontext, env: {}, cwd: dir })).toThrow(/sets no current context/);
  });
});

describe('error translation', () => {
  const api = (code: number, body: unknown) => new ApiException<unknown>(code, `HTTP-Code: ${code}`, body, {});

  it('401 without a body, 403 with the denied verb, 404 of a namespace, 409, 422 with fields, 429, 5xx', () => {
    expect(kubeError(api(401, undefined), scope)).toMatchObject({ code: 'UNAUTHORIZED', exitCode: 8 });
    const forbidden = 'deployments.apps "maas-d-1" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "ml"';
    const f = kubeError(api(403, JSON.stringify({ kind: 'Status', message: forbidden, reason: 'Forbidden', code: 403 })), scope);
    expect(f).toMatchObject({ code: 'FORBIDDEN', exitCode: 8 });
    expect(f.message).toBe(`forbidden: cannot apply Deployment ml/maas-d-1: ${forbidden}`);
    expect(f.hint).toContain('kubectl auth can-i patch deployments.apps -n ml --context prod');
    const ns = kubeError(api(404, { message: 'namespaces "ml" not found', reason: 'NotFound', details: { name: 'ml', kind: 'namespaces' } }), scope);
    expect(ns).toMatchObject({ code: 'NOT_FOUND', exitCode: 4 });
    expect(ns.hint).toContain('kubectl create namespace ml');
    expect(kubeError(api(409, '{"message":"x","reason":"Conflict"}'), scope).exitCode).toBe(5);
    const invalid = kubeError(api(422, { message: 'bad', details: { causes: [{ field: 'metadata.name' }, { field: 'spec.replicas' }] } }), scope);
    expect(invalid).toMatchObject({ code: 'REJECTED', exitCode: 8 });
    expect(invalid.hint).toMatch(/^fix metadata\.name, spec\.replicas/);
    expect(kubeError(api(429, ''), scope).exitCode).toBe(6);
    expect(kubeError(api(502, 'Bad Gateway'), scope)).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('(502): Bad Gateway') });
  });

  it('system errors of the connection: refused, reset, DNS, TLS', () => {
    const sys = (code: string) =>
      new FetchError(`request to https://k8s.example:6443/api failed, reason: ${code}`, 'system', { code } as NodeJS.ErrnoException);
    expect(kubeError(sys('ECONNREFUSED'), scope).message).toBe(
      'cannot reach the Kubernetes API server https://k8s.example:6443 (context "prod"): connection refused',
    );
    expect(kubeError(sys('ECONNRESET'), scope).exitCode).toBe(6);
    expect(kubeError(sys('ENOTFOUND'), scope).hint).toContain('DNS');
    const tls = kubeError(sys('DEPTH_ZERO_SELF_SIGNED_CERT'), scope);
    expect(tls.message).toMatch(/^TLS verification of the Kubernetes API server/);
    expect(tls.hint).toContain('certificate-authority-data');
    const passthrough = new MaasError('USAGE', 'x');
    expect(kubeError(passthrough, scope)).toBe(passthrough);
  });

  it('parses RBAC denials, subresources and cluster scope included', () => {
    const d = parseForbidden('pods "p" is forbidden: User "u" cannot get resource "pods/log" in API group "" in the namespace "ml"')!;
    expect(canICommand(d, 'c')).toBe('kubectl auth can-i get pods --subresource=log -n ml --context c');
    const n = parseForbidden('nodes "n1" is forbidden: User "u" cannot get resource "nodes" in API group "" at the cluster scope')!;
    expect(canICommand(n, 'c')).toBe('kubectl auth can-i get nodes --context c');
  });
});

const model = (over: Partial<ModelVersionRecord['artifact']> = {}): ModelVersionRecord => ({
  name: 'har-classifier',
  version: '3',
  specDigest: `sha256:${'5'.repeat(64)}`,
  artifact: { digest: `sha256:${'a'.repeat(64)}`, size: 100, uri: 'file://./model.onnx', ...over },
  registeredAt: '2026-01-01T00:00:00Z',
  description: exampleDescription({ replicas: { min: 1, max: 1 } }),
});

describe('artifact delivery and image', () => {
  it('ConfigMap when the blob fits, the URI when it is http(s), a clear refusal otherwise', () => {
    expect(planDelivery(model(), '/blobs/x', 100, 1000)).toEqual({ kind: 'configmap', fileName: 'model.onnx', path: '/blobs/x' });
    expect(planDelivery(model({ uri: 'https://m.example/a/m%20v1.onnx?sig=1' }), '/blobs/x', 2_000_000, 1000)).toEqual({
      kind: 'url',
      uri: 'https://m.example/a/m%20v1.onnx?sig=1',
      fileName: 'model.onnx',
    });
    // A remote artifact the store does not hold is downloaded, whatever its size.
    expect(planDelivery(model({ uri: 'https://m.example/m.onnx' }), undefined, undefined, 1000)).toMatchObject({ kind: 'url' });
    expect(() => planDelivery(model(), '/blobs/x', 2_000_000, 1000)).toThrow(/\(2000000 bytes\) is too large to ship in a ConfigMap/);
    expect(() => planDelivery(model({ uri: 's3://bucket/m.onnx' }), undefined, undefined, 10)).toThrow(
      /cannot download the artifact of har-classifier@3 from s3:\/\/bucket\/m\.onnx/,
    );
    expect(artifactFileName('https://x/model.json')).toBe('model.onnx');
    expect(artifactFileName('https://x/weights.onnx#frag')).toBe('weights.onnx');
  });

  it('image: flag, config, previous, default', () => {
    const fallback = defaultImage('0.1.0');
    expect(fallback).toBe('ghcr.io/maas-dev/maas:0.1.0');
    expect(pickImage({ flag: 'a:1', config: 'b:1', previous: 'c:1', fallback })).toBe('a:1');
    expect(pickImage({ config: 'b:1', previous: 'c:1', fallback })).toBe('b:1');
    expect(pickImage({ previous: 'c:1', fallback })).toBe('c:1');
    expect(pickImage({ fallback })).toBe(fallback);
    expect(() => pickImage({ flag: 'a b', fallback })).toThrow(MaasError);
  });

  it('reads a runtime record defensively', () => {
    expect(readRuntime({ context: 'c', namespace: '', objects: ['A/b', 3], artifact: 'tarball', pid: 12 })).toEqual({ context: 'c', objects: ['A/b'] });
  });
});

/** A scripted KubeApi: records calls; objects live in a map. */
function recordingApi(o: { namespace?: boolean; deployment?: V1Deployment; fail?: MaasError } = {}) {
  const calls: string[] = [];
  const guard = () => {
    if (o.fail) throw o.fail;
  };
  const api: KubeApi = {
    server: 'https://k8s.example',
    namespaceExists: async (n) => (guard(), calls.push(`ns? ${n}`), o.namespace ?? true),
    createNamespace: async (n) => void calls.push(`create ns ${n}`),
    readNode: async (n) => (calls.push(`node ${n}`), undefined),
    listPodsOnNode: async () => [],
    apply: async <T extends KubernetesObject>(obj: T) => (calls.push(`apply ${obj.kind} ${obj.metadata?.name ?? ''}`), obj),
    readDeployment: async (_ns, name) => (guard(), calls.push(`read ${name}`), o.deployment),
    exists: async () => o.deployment !== undefined,
    listPods: async (_ns, selector) => (calls.push(`pods ${selector}`), [] as V1Pod[]),
    listEvents: async () => [],
    podLog: async () => '',
    deleteObjects: async (_ns, selector, services) => void calls.push(`delete ${selector} ${services.join(',')}`),
    remaining: async () => [],
    serviceProxy: async (ns, svc, port) => ({ baseUrl: `${ns}/${svc}:${port}` }),
  };
  return { api, calls };
}

const blobs = new FsArtifactStore(join(dir, 'blobs'));
let stored: ModelVersionRecord;
beforeAll(async () => {
  const { digest, size } = await blobs.put(Readable.from([Buffer.from('onnx')]));
  stored = model({ digest, size });
});

function targetWith(api: KubeApi | (() => never), over: Partial<KubernetesTargetOptions> = {}): KubernetesTarget {
  const connect =
    typeof api === 'function'
      ? async () => api()
      : async (): Promise<KubeConnection> => ({ api, contextName: 'prod', namespace: 'default', server: api.server });
  return new KubernetesTarget({
    selection: { env: {}, cwd: '/' },
    images: { fallback: 'img:1' },
    connect,
    clock: new ManualClock(),
    artifacts: blobs,
    ...over,
  });
}

const record = (over: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  id: 'd-1',
  model: 'har-classifier',
  version: '3',
  target: 'kubernetes',
  mode: 'open',
  namespace: 'ml',
  state: 'deploying',
  runtime: {},
  consumers: ['a'],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  history: [],
  ...over,
});

/** What a start that applied everything leaves in the record. */
const started = (name = 'har-classifier-v3') => ({
  context: 'prod',
  namespace: 'ml',
  name,
  objects: [`ConfigMap/${name}`, `Deployment/${name}`, `Service/${name}`],
});

const ready: V1Deployment = {
  metadata: { name: 'har-classifier-v3', generation: 1 },
  spec: { replicas: 1, selector: {}, template: {} },
  status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
};

describe('KubernetesTarget over a recording in-memory API', () => {
  it('applies in order under the stable name, releases the decommission manager last, and remembers where', async () => {
    const { api, calls } = recordingApi({ namespace: false });
    const result = await targetWith(api).start(record(), stored, () => {});
    expect(calls).toEqual([
      'ns? ml',
      'create ns ml',
      'apply ConfigMap har-classifier-v3',
      'apply Deployment har-classifier-v3',
      'apply Service har-classifier-v3',
      'apply Deployment har-classifier-v3',
    ]);
    expect(result.runtime).toEqual({ ...started(), server: 'https://k8s.example', image: 'img:1', artifact: 'configmap' });
  });

  it('a strict slot is named after its node; the strict check and --no-create-namespace refuse before any write', async () => {
    const strict = recordingApi();
    await expect(targetWith(strict.api).start(record({ mode: 'strict', node: 'n9' }), stored, () => {})).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('node "n9" does not exist'),
    });
    expect(strict.calls).toEqual(['ns? ml', 'node n9']);
    const noNs = recordingApi({ namespace: false });
    await expect(targetWith(noNs.api, { createNamespace: false }).start(record(), stored, () => {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(noNs.calls).toEqual(['ns? ml']);
    const { objects } = await targetWith(recordingApi().api).dryRunClient({ mode: 'strict', node: 'n9', namespace: 'ml' }, stored);
    expect(objects.map((o) => o.metadata.name)).toEqual(['har-classifier-v3-n9', 'har-classifier-v3-n9', 'har-classifier-v3-n9']);
  });

  it('observes missing objects as failed, zero replicas as cached, ready with the proxy endpoint', async () => {
    expect(await targetWith(recordingApi().api).observe(record({ runtime: started() }))).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^objects missing in namespace ml: Deployment har-classifier-v3, Service har-classifier-v3, ConfigMap har-classifier-v3/),
    });
    const zero: V1Deployment = {
      metadata: { name: 'har-classifier-v3', generation: 2 },
      spec: { replicas: 0, selector: {}, template: {} },
      status: { observedGeneration: 2 },
    };
    expect(
      await targetWith(recordingApi({ deployment: zero }).api).observe(record({ runtime: started(), state: 'cached', reason: 'no consumer left' })),
    ).toMatchObject({
      state: 'cached',
      reason: 'no consumer left',
    });
    expect(await targetWith(recordingApi({ deployment: ready }).api).observe(record({ runtime: started() }))).toMatchObject({
      state: 'ready',
      endpoint: 'https://k8s.example/api/v1/namespaces/ml/services/har-classifier-v3:http/proxy',
    });
  });

  it('observe never throws for cluster or kubeconfig problems: they are the state, with why', async () => {
    const failures = [
      new MaasError('UNAVAILABLE', 'cannot reach the Kubernetes API server'),
      new MaasError('TIMEOUT', 'the Kubernetes API server did not answer within 30s'),
      new MaasError('UNAUTHORIZED', 'the API server rejected the credentials'),
      new MaasError('FORBIDDEN', 'forbidden: cannot read Deployment'),
      new MaasError('NOT_FOUND', 'no kubeconfig found'),
      new MaasError('USAGE', 'context "prod" is not in kubeconfig'),
    ];
    for (const fail of failures) {
      expect(await targetWith(recordingApi({ fail }).api).observe(record({ state: 'ready', runtime: started() })), fail.code).toEqual({
        state: 'failed',
        reason: `cannot check the cluster: ${fail.message}`,
      });
      const unconnectable = targetWith(() => {
        throw fail;
      });
      expect(await unconnectable.observe(record({ state: 'ready', runtime: started() })), fail.code).toEqual({
        state: 'failed',
        reason: `cannot check the cluster: ${fail.message}`,
      });
    }
    // A real kubeconfig that is gone, no test seam.
    const gone = new KubernetesTarget({
      selection: { kubeconfig: join(dir, 'gone.yaml'), env: {}, cwd: dir },
      images: { fallback: 'img:1' },
      clock: new ManualClock(),
      artifacts: blobs,
    });
    expect(await gone.observe(record({ state: 'ready', runtime: started() }))).toEqual({
      state: 'failed',
      reason: `cannot check the cluster: kubeconfig file ${join(dir, 'gone.yaml')} does not exist`,
    });
  });

  it('a deployment whose first start created nothing needs no cluster: observed as recorded, scale to zero and destroy do nothing', async () => {
    const failed = record({ state: 'failed', reason: 'strict placement refused: node "n9" does not exist; nothing was created', runtime: {} });
    const unconnectable = targetWith(() => {
      throw new Error('no cluster may be contacted');
    });
    expect(await unconnectable.observe(failed)).toEqual({ state: 'failed', reason: failed.reason });
    expect(await unconnectable.observe(record({ state: 'queued' }))).toEqual({ state: 'queued' });
    await unconnectable.scaleToZero(failed);
    await unconnectable.destroy(failed);
    // Even without any kubeconfig at all.
    const none = new KubernetesTarget({
      selection: { env: { KUBECONFIG: join(dir, 'gone.yaml') }, cwd: dir },
      images: { fallback: 'img:1' },
      clock: new ManualClock(),
      artifacts: blobs,
    });
    await none.destroy({ ...failed, runtime: { objects: [] } });
    await none.scaleToZero(failed);
    expect(await none.observe(failed)).toEqual({ state: 'failed', reason: failed.reason });
  });

  it('records of the previous naming keep their objects: name from the runtime, the ID as instance label', async () => {
    const { api, calls } = recordingApi({ deployment: { ...ready, metadata: { name: 'maas-d-1', generation: 1 } } });
    const old = record({ state: 'ready', runtime: started('maas-d-1') });
    const target = targetWith(api);
    expect(await target.observe(old)).toMatchObject({ state: 'ready', endpoint: 'https://k8s.example/api/v1/namespaces/ml/services/maas-d-1:http/proxy' });
    await target.logs(old, {});
    await target.scaleToZero(old);
    await target.destroy(old);
    expect(calls).toEqual([
      'read maas-d-1',
      'pods app.kubernetes.io/managed-by=maas,app.kubernetes.io/instance=d-1',
      'read maas-d-1',
      'apply Deployment maas-d-1',
      'delete app.kubernetes.io/managed-by=maas,app.kubernetes.io/instance=d-1 maas-d-1',
    ]);
    // A redeploy applies under the same name with the same selector (a Deployment's selector is immutable).
    const again = await target.start(old, stored, () => {});
    expect(again.runtime).toMatchObject({ name: 'maas-d-1', objects: ['ConfigMap/maas-d-1', 'Deployment/maas-d-1', 'Service/maas-d-1'] });
  });

  it('a dry run invents no ID: two runs render the same objects, byte for byte, without a cluster', async () => {
    const offline = new KubernetesTarget({
      selection: { env: { KUBECONFIG: join(dir, 'gone.yaml') }, cwd: dir },
      images: { fallback: 'img:1' },
      clock: new ManualClock(),
      artifacts: blobs,
    });
    const first = await offline.dryRun({ mode: 'open' }, stored, 'client', () => {});
    const second = await targetWith(recordingApi().api).dryRun({ mode: 'open', namespace: 'default' }, stored, 'client', () => {});
    expect(first.namespace).toBe('default');
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(JSON.stringify(first)).not.toMatch(/deployment-id|d-[0-9a-f]{10}/);
  });

  it('endpoint refuses a deployment that is not ready; scale to zero of a missing Deployment does nothing', async () => {
    const { api, calls } = recordingApi();
    await expect(targetWith(api).endpoint(record({ state: 'cached' }))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      hint: expect.stringContaining('--target kubernetes'),
    });
    expect(await targetWith(api).endpoint(record({ state: 'ready', runtime: started() }))).toEqual({ baseUrl: 'ml/har-classifier-v3:http' });
    await targetWith(api).scaleToZero(record({ runtime: started() }));
    expect(calls).toEqual(['read har-classifier-v3']);
  });
});

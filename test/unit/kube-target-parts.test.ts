// The pure and injectable parts of the kubernetes target: kubeconfig precedence and merging,
// error translation, artifact delivery, image choice, the runtime record, and the target's
// decisions over a recording in-memory KubeApi (ordering, refusals, observed states).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ApiException, FetchError, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
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
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
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
    expect(kubeconfigSource({ env: { ...env, KUBECONFIG: ['/missing', '/a', '/b'].join(delimiter) }, cwd: '/w' }, exists)).toEqual({ origin: 'env', files: ['/a', '/b'] });
    expect(kubeconfigSource({ env, cwd: '/w' }, exists)).toEqual({ origin: 'home', files: ['/home/u/.kube/config'] });
    expect(kubeconfigSource({ env: { ...env, KUBECONFIG: '/missing' }, cwd: '/w' }, exists)).toEqual({ origin: 'none', files: [], looked: ['/missing (from KUBECONFIG)'] });
    expect(kubeconfigSource({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, cwd: '/w' }, () => true).origin).toBe('in-cluster');
  });

  it('merges a KUBECONFIG list first-wins and resolves the namespace flag > context > default', () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, kubeconfigYaml({ server: 'https://a.example', context: 'shared', namespace: 'from-a' }));
    writeFileSync(b, kubeconfigYaml({ server: 'https://b.example', context: 'other' }).replace(/fake-cluster/g, 'b-cluster').replace(/fake-user/g, 'b-user'));
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
    expect(kubeError(api(401, undefined), scope)).toMatchObject({ code: 'KUBERNETES', exitCode: 8 });
    const forbidden = 'deployments.apps "maas-d-1" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "ml"';
    const f = kubeError(api(403, JSON.stringify({ kind: 'Status', message: forbidden, reason: 'Forbidden', code: 403 })), scope);
    expect(f.message).toBe(`forbidden: cannot apply Deployment ml/maas-d-1: ${forbidden}`);
    expect(f.hint).toContain('kubectl auth can-i patch deployments.apps -n ml --context prod');
    const ns = kubeError(api(404, { message: 'namespaces "ml" not found', reason: 'NotFound', details: { name: 'ml', kind: 'namespaces' } }), scope);
    expect(ns).toMatchObject({ code: 'NOT_FOUND', exitCode: 4 });
    expect(ns.hint).toContain('kubectl create namespace ml');
    expect(kubeError(api(409, '{"message":"x","reason":"Conflict"}'), scope).exitCode).toBe(5);
    const invalid = kubeError(api(422, { message: 'bad', details: { causes: [{ field: 'metadata.name' }, { field: 'spec.replicas' }] } }), scope);
    expect(invalid).toMatchObject({ code: 'KUBERNETES' });
    expect(invalid.hint).toMatch(/^fix metadata\.name, spec\.replicas/);
    expect(kubeError(api(429, ''), scope).exitCode).toBe(6);
    expect(kubeError(api(502, 'Bad Gateway'), scope)).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('(502): Bad Gateway') });
  });

  it('system errors of the connection: refused, reset, DNS, TLS', () => {
    const sys = (code: string) => new FetchError(`request to https://k8s.example:6443/api failed, reason: ${code}`, 'system', { code } as NodeJS.ErrnoException);
    expect(kubeError(sys('ECONNREFUSED'), scope).message).toBe('cannot reach the Kubernetes API server https://k8s.example:6443 (context "prod"): connection refused');
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
  artifact: { digest: `sha256:${'a'.repeat(64)}`, size: 100, path: '/blobs/x', uri: 'file://./model.onnx', ...over },
  registeredAt: '2026-01-01T00:00:00Z',
  description: exampleDescription({ replicas: { min: 1, max: 1 } }),
});

describe('artifact delivery and image', () => {
  it('ConfigMap when the blob fits, the URI when it is http(s), a clear refusal otherwise', () => {
    expect(planDelivery(model(), 100, 1000)).toEqual({ kind: 'configmap', fileName: 'model.onnx', path: '/blobs/x' });
    expect(planDelivery(model({ uri: 'https://m.example/a/m%20v1.onnx?sig=1' }), 2_000_000, 1000)).toEqual({ kind: 'url', uri: 'https://m.example/a/m%20v1.onnx?sig=1', fileName: 'model.onnx' });
    expect(() => planDelivery(model(), 2_000_000, 1000)).toThrow(/too large to ship in a ConfigMap/);
    expect(() => planDelivery(model({ uri: 's3://bucket/m.onnx', path: undefined }), undefined, 10)).toThrow(/cannot download the artifact of har-classifier@3 from s3:\/\/bucket\/m\.onnx/);
    expect(artifactFileName('https://x/model.json')).toBe('model.onnx');
    expect(artifactFileName('https://x/weights.onnx#frag')).toBe('weights.onnx');
  });

  it('image: flag, config, previous, default', () => {
    const fallback = defaultImage('0.1.0');
    expect(fallback).toBe('ghcr.io/maas-dev/maas-server:0.1.0');
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
    apply: async <T extends KubernetesObject>(obj: T) => (calls.push(`apply ${obj.kind}`), obj),
    readDeployment: async () => (guard(), o.deployment),
    exists: async () => o.deployment !== undefined,
    listPods: async () => [],
    listEvents: async () => [],
    podLog: async () => '',
    deleteObjects: async () => void calls.push('delete'),
    remaining: async () => [],
    serviceProxy: async (ns, svc, port) => ({ baseUrl: `${ns}/${svc}:${port}` }),
  };
  return { api, calls };
}

function targetWith(api: KubeApi, createNamespace = true): KubernetesTarget {
  const conn: KubeConnection = { api, contextName: 'prod', namespace: 'default', server: api.server };
  return new KubernetesTarget({ selection: { env: {}, cwd: '/' }, images: { fallback: 'img:1' }, createNamespace, connect: async () => conn });
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

describe('KubernetesTarget over a recording in-memory API', () => {
  const blob = join(dir, 'model.onnx');
  writeFileSync(blob, 'onnx');
  const m = model({ path: blob, size: 4 });

  it('applies in order, releases the decommission manager last, and remembers where', async () => {
    const { api, calls } = recordingApi({ namespace: false });
    const started = await targetWith(api).start(record(), m, () => {});
    expect(calls).toEqual(['ns? ml', 'create ns ml', 'apply ConfigMap', 'apply Deployment', 'apply Service', 'apply Deployment']);
    expect(started.runtime).toEqual({ context: 'prod', namespace: 'ml', server: 'https://k8s.example', name: 'maas-d-1', objects: ['ConfigMap/maas-d-1', 'Deployment/maas-d-1', 'Service/maas-d-1'], image: 'img:1', artifact: 'configmap' });
  });

  it('strict placement and --no-create-namespace refuse before any write', async () => {
    const strict = recordingApi();
    await expect(targetWith(strict.api).start(record({ mode: 'strict', node: 'n9' }), m, () => {})).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('node "n9" does not exist') });
    expect(strict.calls).toEqual(['ns? ml', 'node n9']);
    const noNs = recordingApi({ namespace: false });
    await expect(targetWith(noNs.api, false).start(record(), m, () => {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(noNs.calls).toEqual(['ns? ml']);
  });

  it('observes missing objects as failed, zero replicas as cached, an unreachable cluster as failed with why', async () => {
    expect(await targetWith(recordingApi().api).observe(record())).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^objects missing in namespace ml: Deployment maas-d-1, Service maas-d-1, ConfigMap maas-d-1/) });
    const zero: V1Deployment = { metadata: { name: 'maas-d-1', generation: 2 }, spec: { replicas: 0, selector: {}, template: {} }, status: { observedGeneration: 2 } };
    expect(await targetWith(recordingApi({ deployment: zero }).api).observe(record({ state: 'cached', reason: 'no consumer left' }))).toMatchObject({ state: 'cached', reason: 'no consumer left' });
    const down = new MaasError('UNAVAILABLE', 'cannot reach the Kubernetes API server');
    expect(await targetWith(recordingApi({ fail: down }).api).observe(record({ state: 'ready' }))).toEqual({ state: 'failed', reason: 'cannot check the cluster: cannot reach the Kubernetes API server' });
    const ready: V1Deployment = { metadata: { name: 'maas-d-1', generation: 1 }, spec: { replicas: 1, selector: {}, template: {} }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } };
    expect(await targetWith(recordingApi({ deployment: ready }).api).observe(record())).toMatchObject({ state: 'ready', endpoint: 'https://k8s.example/api/v1/namespaces/ml/services/maas-d-1:http/proxy' });
  });

  it('endpoint refuses a deployment that is not ready; scale to zero of a missing Deployment does nothing', async () => {
    const { api, calls } = recordingApi();
    await expect(targetWith(api).endpoint(record({ state: 'cached' }))).rejects.toMatchObject({ code: 'UNAVAILABLE', hint: expect.stringContaining('--target kubernetes') });
    expect(await targetWith(api).endpoint(record({ state: 'ready' }))).toEqual({ baseUrl: 'ml/maas-d-1:http' });
    await targetWith(api).scaleToZero(record());
    expect(calls).toEqual([]);
  });
});

// Every class of Kubernetes failure seen through `maas deploy --target kubernetes`: the message
// names the cluster and what was being done, the hint says what to do, the exit code is the
// documented one. Also kubeconfig problems, and the two dry-run modes.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import { tempDir } from '../support/cli.js';
import { startKubeEnv, trainExampleModel, type KubeEnv, type TrainedModel } from '../support/kube-target.js';
import type { Obj } from '../support/fake-kube/types.js';

const NS = 'ml';
const work = tempDir('maas-kube-errors-');
let model: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});

async function env(namespaces: string[] = [NS]): Promise<KubeEnv> {
  const e = await startKubeEnv(model, { nodes: [{ name: 'n1' }], namespaces });
  envs.push(e);
  return e;
}

const deploy = ['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS];

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('API errors become MaasErrors with hints and exit codes', () => {
  it('401: credentials rejected -> exit 8', async () => {
    const e = await env();
    const kubeconfig = e.writeKubeconfig('stale.yaml', { token: 'expired-token' });
    const r = await e.maas(deploy, { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`error: the API server ${e.fake.url} rejected the credentials of context "fake" (401 Unauthorized)`);
    expect(r.stderr).toMatch(/hint: refresh the token or client certificate in your kubeconfig/);
  });

  it('403: the missing verb and resource, and how to check and grant them -> exit 8', async () => {
    const e = await env();
    e.fake.answer({ method: 'PATCH', path: /\/deployments\//, status: 403 });
    const r = await e.maas(deploy);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(
      'error: forbidden: cannot apply Deployment ml/har-classifier-v1: deployments.apps "har-classifier-v1" is forbidden: User "system:serviceaccount:maas:maas" cannot patch resource "deployments" in API group "apps" in the namespace "ml"',
    );
    expect(r.stderr).toContain('needs "patch" on deployments.apps in namespace ml');
    expect(r.stderr).toContain('kubectl auth can-i patch deployments.apps -n ml --context fake');
    expect(r.stderr).toContain('manifests/rbac.yaml');
  });

  it('404: a namespace that cannot be read or created -> exit 4 with how to create it', async () => {
    const e = await env([]);
    // An account limited to one namespace cannot read Namespace objects: maas applies anyway.
    e.fake.answer({ method: 'GET', path: '/api/v1/namespaces/ml', status: 403 });
    const r = await e.maas(deploy);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error: not found while trying to apply ConfigMap ml/har-classifier-v1: namespaces "ml" not found');
    expect(r.stderr).toContain('kubectl create namespace ml');
  });

  it('409: a conflicting write -> exit 5, run it again', async () => {
    const e = await env();
    e.fake.answer({ method: 'PATCH', path: /\/configmaps\//, status: 409 });
    const r = await e.maas(deploy);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(
      'error: conflict while trying to apply ConfigMap ml/har-classifier-v1: Operation cannot be fulfilled on configmaps "har-classifier-v1"',
    );
    expect(r.stderr).toContain('hint: another client changed the same object at the same time; run the command again');
    // Running it again converges.
    const again = await e.json<DeploymentRecord>(deploy);
    expect(again.state).toBe('ready');
  });

  it('422: an invalid namespace name, with the field -> exit 8', async () => {
    const e = await env();
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'Team_A']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(
      'error: the API server rejected create namespace Team_A as invalid: Namespace "Team_A" is invalid: metadata.name: Invalid value: "Team_A"',
    );
    expect(r.stderr).toContain('hint: fix metadata.name;');
  });

  it('5xx: the API server failing -> exit 6, retry', async () => {
    const e = await env();
    e.fake.answer({ path: '/api/v1/namespaces/ml/services/har-classifier-v1', method: 'PATCH', status: 503 });
    const r = await e.maas(deploy);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(
      /error: the API server .* failed to apply Service ml\/har-classifier-v1 \(503 ServiceUnavailable\): the server is currently unable to handle the request/,
    );
  });

  it('a dropped connection -> exit 6', async () => {
    const e = await env();
    e.fake.answer({ path: '/apis/apps/v1/namespaces/ml/deployments/har-classifier-v1', method: 'PATCH', drop: true });
    const r = await e.maas(deploy);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/the connection to the Kubernetes API server .* dropped while trying to apply Deployment/);
  });

  it('connection refused -> exit 6, and ps reports deployments it cannot check instead of failing', async () => {
    const e = await env();
    const d = await e.json<DeploymentRecord>(deploy);
    const down = `http://127.0.0.1:${await closedPort()}`;
    const kubeconfig = e.writeKubeconfig('down.yaml', { server: down });
    const refused = await e.maas(deploy, { KUBECONFIG: kubeconfig });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`error: cannot reach the Kubernetes API server ${down} (context "fake"): connection refused`);
    expect(refused.stderr).toContain('kubectl --context fake cluster-info');

    // The cluster of an existing deployment goes away: ps still lists it, as failed with why, and
    // the deployment that never got to the cluster with its recorded failure.
    await e.fake.close();
    const ps = await e.json<DeploymentRecord[]>(['ps']);
    const byId = new Map(ps.map((x) => [x.id, x]));
    expect(byId.get(d.id)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^cannot check the cluster: cannot reach the Kubernetes API server/),
    });
    expect(ps.filter((x) => x.id !== d.id)).toEqual([expect.objectContaining({ state: 'failed', reason: expect.stringContaining('connection refused') })]);
  });
});

describe('kubeconfig problems', () => {
  it('no kubeconfig, a missing file, an unknown context, a plain-HTTP cluster', async () => {
    const e = await env();
    const none = await e.maas(deploy, { KUBECONFIG: join(e.dir, 'nope.yaml') });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain(`no kubeconfig found (looked for ${join(e.dir, 'nope.yaml')} (from KUBECONFIG))`);
    expect(none.stderr).toContain('kind get kubeconfig');

    const missing = await e.maas(['--kubeconfig', 'missing.yaml', ...deploy]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`kubeconfig file ${join(e.dir, 'missing.yaml')} does not exist`);

    const context = await e.maas(['--context', 'prod', ...deploy]);
    expect(context.code).toBe(2);
    expect(context.stderr).toContain(`context "prod" is not in kubeconfig ${e.kubeconfig}`);
    expect(context.stderr).toContain('known contexts: fake');

    const plain = join(e.dir, 'plain.yaml');
    writeFileSync(plain, readFileSync(e.kubeconfig, 'utf8').replace('insecure-skip-tls-verify: true', 'insecure-skip-tls-verify: false'));
    const http = await e.maas(['--kubeconfig', plain, ...deploy]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('has a plain http:// server');
    expect(e.fake.requests).toEqual([]);
    expect(await e.json<DeploymentRecord[]>(['ps'])).toEqual([]);
  });

  it('--kubeconfig and --context choose the cluster; later commands find it without flags', async () => {
    const e = await env();
    const other = e.writeKubeconfig('other.yaml', { context: 'staging' });
    const d = await e.json<DeploymentRecord>(['--kubeconfig', other, '--context', 'staging', ...deploy], { KUBECONFIG: undefined });
    expect(d.runtime).toMatchObject({ context: 'staging', kubeconfig: other });
    expect((await e.json<DeploymentRecord>(['status', d.id], { KUBECONFIG: undefined })).state).toBe('ready');
  });

  it('kubernetes.kubeconfig of the config file applies when KUBECONFIG is not set (flag, then environment, then config)', async () => {
    const e = await env(['a', 'b']);
    const other = e.writeKubeconfig('other.yaml', { context: 'staging' });
    expect((await e.maas(['config', 'set', 'kubernetes.kubeconfig', other])).code).toBe(0);
    const viaEnv = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'a']);
    expect(viaEnv.runtime).toMatchObject({ context: 'fake', kubeconfig: e.kubeconfig });
    const viaConfig = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'b'], { KUBECONFIG: undefined });
    expect(viaConfig.runtime).toMatchObject({ context: 'staging', kubeconfig: other });
  });
});

const OFFICIAL: Record<string, new (d: never) => { validate(): void }> = { ConfigMap, Deployment, Service, HorizontalPodAutoscaler };

describe('--dry-run', () => {
  it('client: prints the objects as YAML, contacts no cluster and records nothing', async () => {
    const e = await env();
    const r = await e.maas([...deploy, '--mode', 'strict', '--node', 'n1', '--dry-run']);
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((doc) => doc.toJS() as Obj);
    expect(objects.map((o): unknown => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);
    for (const o of objects) {
      new OFFICIAL[o.kind]!(o as never).validate();
      expect(o.metadata.namespace).toBe(NS);
      expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('maas');
    }
    expect(Buffer.from(objects[0]!.binaryData['model.onnx'], 'base64').equals(model.onnx)).toBe(true);
    expect(objects[1]!.spec.template.spec.affinity.nodeAffinity).toBeDefined();
    expect(objects.every((o) => o.metadata.name === 'har-classifier-v1-n1')).toBe(true);
    expect(r.stdout).not.toContain('deployment-id');
    expect(r.stderr).toMatch(/dry run \(client\): 4 objects/);
    expect(e.fake.requests).toEqual([]);
    expect(await e.json<DeploymentRecord[]>(['ps'])).toEqual([]);
    // Reproducible: the same command prints the same bytes, so the output can be committed and diffed.
    const again = await e.maas([...deploy, '--mode', 'strict', '--node', 'n1', '--dry-run']);
    expect(again.stdout).toBe(r.stdout);

    // -o json prints the objects as a List; no kubeconfig is needed at all.
    const json = await e.json<{ kind: string; items: Obj[] }>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '--dry-run=client'], {
      KUBECONFIG: join(e.dir, 'nope.yaml'),
    });
    expect(json.kind).toBe('List');
    expect(json.items.map((o): unknown[] => [o.kind, o.metadata.namespace])).toEqual([
      ['ConfigMap', 'default'],
      ['Deployment', 'default'],
      ['Service', 'default'],
      ['HorizontalPodAutoscaler', 'default'],
    ]);
    expect(e.fake.requests).toEqual([]);
  });

  it('client: an https artifact is downloaded by an init container; --image picks the server image', async () => {
    const e = await env();
    const { description } = model;
    await e.register({
      ...description,
      metadata: { ...description.metadata, version: '3' },
      spec: { ...description.spec, artifact: { ...description.spec.artifact, uri: 'https://models.example.com/har/3/model.onnx' } },
    });
    const { items: objects } = await e.json<{ items: Obj[] }>([
      'deploy',
      'har-classifier@3',
      '--target',
      'kubernetes',
      '-n',
      NS,
      '--image',
      'registry.example/maas:1',
      '--dry-run',
    ]);
    expect(objects[0]!.binaryData).toBeUndefined();
    const pod = objects[1]!.spec.template.spec;
    expect(pod.initContainers[0].env).toEqual(expect.arrayContaining([{ name: 'MAAS_ARTIFACT_URI', value: 'https://models.example.com/har/3/model.onnx' }]));
    expect(pod.containers[0].image).toBe('registry.example/maas:1');
    expect(pod.containers[0].args).toContain('/model-artifact/model.onnx');
  });

  it('server: the API server validates the objects and stores nothing; nothing is recorded', async () => {
    const e = await env();
    const r = await e.maas([...deploy, '--dry-run=server']);
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((doc) => doc.toJS() as Obj);
    expect(objects.map((o): unknown => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);
    // What came back is the API server's answer: defaulted, with a uid, never stored.
    expect(objects[1]!.metadata.uid).toBeTruthy();
    expect(objects[1]!.spec.template.spec.containers[0].terminationMessagePath).toBe('/dev/termination-log');
    expect(r.stderr).toMatch(/dry run \(server\): .* validated 4 objects in namespace ml; nothing was stored or recorded/);
    const writes = e.fake.requests.filter((x) => x.method !== 'GET');
    expect(writes.length).toBe(4);
    for (const w of writes) expect(w.query).toContain('dryRun=All');
    for (const p of ['configmaps', 'deployments', 'services', 'horizontalpodautoscalers']) expect(e.fake.state.list(p, NS)).toEqual([]);
    expect(await e.json<DeploymentRecord[]>(['ps'])).toEqual([]);
  });

  it('server: a missing namespace is said plainly', async () => {
    const e = await env([]);
    const r = await e.maas([...deploy, '--dry-run=server']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('namespace "ml" does not exist, so the API server cannot validate objects in it');
    expect(e.fake.requests.filter((x) => x.method !== 'GET')).toEqual([]);
  });

  it('is refused for the local target', async () => {
    const e = await env();
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'local', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--dry-run applies to --target kubernetes');
  });
});

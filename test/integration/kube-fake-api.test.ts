// The Kubernetes API substitute driven by the real @kubernetes/client-node 1.3 client, with the
// calls the kubernetes target makes: server-side apply of the builder output, rollout, placement,
// scale to zero, delete by label, logs, events, the service proxy, errors and RBAC. Controllers
// run only when a test ticks them (settle), so nothing here waits on real time.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { RequestOptions } from 'node:https';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { toMaasError } from '../../src/core/errors.js';
import { DECOMMISSION_FIELD_MANAGER, FIELD_MANAGER, selectorFor, selectorLabels } from '../../src/targets/kubernetes/names.js';
import { buildModelObjects, buildModelObjectSet, identityOf, releaseScale, scaleToZero } from '../../src/targets/kubernetes/objects.js';
import { checkNodeFits } from '../../src/targets/kubernetes/placement.js';
import { servingRequests } from '../../src/targets/kubernetes/resources.js';
import { explainRollout } from '../../src/targets/kubernetes/rollout-explain.js';
import type { ModelObjectsInput } from '../../src/targets/kubernetes/types.js';
import { CRASH, NOT_READY, policyFromRbacYaml, startFakeKube, type FakeKube, type FakeKubeOptions } from '../support/fake-kube/index.js';
import { exampleDescription, exampleInput } from '../support/fake-kube/fixtures.js';

const NS = 'maas';
const ROOT = join(import.meta.dirname, '../..');

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  autoscaling: AutoscalingV2Api;
  objects: KubernetesObjectApi;
}

function clients(fake: FakeKube, token?: string): Clients {
  const kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions({ namespace: NS, ...(token ? { token } : {}) }));
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    autoscaling: kc.makeApiClient(AutoscalingV2Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** Server-side apply exactly as the kubernetes target does it. */
function apply<T extends KubernetesObject>(c: Clients, obj: T, o: { manager?: string; force?: boolean; dryRun?: boolean } = {}): Promise<T> {
  return c.objects.patch(
    structuredClone(obj),
    undefined,
    o.dryRun ? 'All' : undefined,
    o.manager ?? FIELD_MANAGER,
    o.force ?? true,
    PatchStrategy.ServerSideApply,
  );
}

async function applyAll(c: Clients, input: ModelObjectsInput): Promise<void> {
  for (const o of buildModelObjects(input)) await apply(c, o);
}

async function failure(p: Promise<unknown>): Promise<ApiException<unknown> & { status: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body = typeof e.body === 'string' && e.body ? (JSON.parse(e.body) as Record<string, unknown>) : {};
    return Object.assign(e, { status: body });
  }
  throw new Error('expected the call to fail');
}

const fakes: FakeKube[] = [];
async function fakeKube(o: FakeKubeOptions = {}): Promise<FakeKube> {
  const f = await startFakeKube({ namespaces: [NS], autoTick: false, ...o });
  fakes.push(f);
  return f;
}
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

const { name, instance } = identityOf(exampleInput());
const pods = async (c: Clients, o: { labelSelector?: string; fieldSelector?: string } = {}) => (await c.core.listNamespacedPod({ namespace: NS, ...o })).items;

describe('discovery and reads', () => {
  it('serves discovery and namespaces to the client', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const res = await c.core.getAPIResources();
    expect(res.resources.find((r) => r.name === 'services/proxy')?.verbs).toContain('create');
    const apps = await c.kc.makeApiClient(AppsV1Api).getAPIResources();
    expect(apps.resources.map((r) => r.name)).toEqual(['deployments']);
    expect((await c.core.readNamespace({ name: NS })).status?.phase).toBe('Active');
    await c.core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    expect((await c.core.listNamespace()).items.map((n) => n.metadata?.name)).toContain('team-a');
  });
});

describe('server-side apply', () => {
  it('creates every builder object, validates them, and a second identical apply is a no-op', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const input = exampleInput();
    const first: KubernetesObject[] = [];
    for (const o of buildModelObjects(input)) first.push(await apply(c, o));
    expect(first.map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);
    const d = await c.apps.readNamespacedDeployment({ name, namespace: NS });
    expect(d.metadata?.generation).toBe(1);
    expect(d.spec?.replicas).toBe(1); // defaulted: the HPA owns the count
    expect(d.spec?.template.spec?.containers[0]?.terminationMessagePath).toBe('/dev/termination-log');
    expect(d.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['maas', 'Apply']]);
    const svc = await c.core.readNamespacedService({ name, namespace: NS });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\./);

    const rv = new Map(first.map((o) => [o.kind, o.metadata?.resourceVersion]));
    for (const o of buildModelObjects(input)) {
      const again = await apply(c, o);
      expect(again.metadata?.resourceVersion, o.kind).toBe(rv.get(o.kind));
    }
    // A changed model rolls: new generation, new resourceVersion.
    const v4 = await apply(c, buildModelObjectSet(exampleInput({ image: 'ghcr.io/example/maas-server:0.2.0' })).deployment);
    expect(v4.metadata?.generation).toBe(2);
    expect(v4.metadata?.resourceVersion).not.toBe(rv.get('Deployment'));
  });

  it('works through the typed API with the apply content type as well', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { deployment } = buildModelObjectSet(exampleInput());
    const d = await c.apps.patchNamespacedDeployment(
      { name, namespace: NS, body: deployment, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(d.metadata?.uid).toBeTruthy();
    expect(fake.state.managers('deployments', NS, name).map((m) => m.manager)).toEqual(['maas']);
  });

  it('conflicts with fields another manager owns unless forced, with the real Status body', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { deployment } = buildModelObjectSet(exampleInput({ description: exampleDescription({ replicas: { min: 2, max: 2 } }) }));
    await apply(c, deployment);
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS }, spec: { replicas: 5 } };
    const e = await failure(apply(c, other, { manager: 'ops-script', force: false }));
    expect(e.code).toBe(409);
    expect(e.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "maas": .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "maas"', field: '.spec.replicas' }] },
      code: 409,
    });
    expect(toMaasError(e).exitCode).toBe(5);
    // The same value is shared ownership, not a conflict.
    await apply(c, { ...other, spec: { replicas: 2 } }, { manager: 'ops-script', force: false });
    // Forced, the field moves; now maas conflicts unless it forces too (maas always does).
    const forced = await apply(c, other, { manager: 'ops-script', force: true });
    expect((forced as V1Deployment).spec?.replicas).toBe(5);
    const back = await failure(apply(c, deployment, { force: false }));
    expect(back.status.message).toBe('Apply failed with 1 conflict: conflict with "ops-script": .spec.replicas');
    expect(((await apply(c, deployment)) as V1Deployment).spec?.replicas).toBe(2);
  });

  it('drops fields the manager stopped applying, and refuses apply without a field manager', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { configMap } = buildModelObjectSet(exampleInput());
    await apply(c, { ...configMap, metadata: { ...configMap.metadata, labels: { ...configMap.metadata.labels, extra: 'yes' } } });
    expect(fake.state.get('configmaps', NS, name)?.metadata.labels.extra).toBe('yes');
    await apply(c, configMap);
    expect(fake.state.get('configmaps', NS, name)?.metadata.labels.extra).toBeUndefined();
    const e = await failure(c.objects.patch(configMap, undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply));
    expect(e.code).toBe(422);
    expect(e.status.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });

  it('dryRun=All validates and answers but stores nothing', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { deployment, configMap } = buildModelObjectSet(exampleInput());
    const dry = await apply(c, deployment, { dryRun: true });
    expect(dry.metadata?.uid).toBeTruthy();
    expect(fake.state.get('deployments', NS, name)).toBeUndefined();
    await c.core.createNamespacedConfigMap({ namespace: NS, body: configMap, dryRun: 'All' });
    expect(fake.state.list('configmaps', NS)).toEqual([]);
    const broken = structuredClone(deployment);
    broken.spec!.template.metadata!.labels = { other: 'labels' };
    const e = await failure(apply(c, broken, { dryRun: true }));
    expect(e.code).toBe(422);
  });

  it('carries a ConfigMap artifact of several hundred KiB intact; a ConfigMap over 1 MiB is refused', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const data = Buffer.alloc(600 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const { configMap } = buildModelObjectSet(exampleInput({ artifact: { kind: 'configmap', fileName: 'model.onnx', data } }));
    await apply(c, configMap);
    const stored = await c.core.readNamespacedConfigMap({ name, namespace: NS });
    expect(Buffer.from(stored.binaryData!['model.onnx']!, 'base64').equals(data)).toBe(true);
    const huge = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'huge', namespace: NS },
      binaryData: { blob: Buffer.alloc(1100 * 1024).toString('base64') },
    };
    const e = await failure(apply(c, huge));
    expect(e.code).toBe(422);
    expect(e.status.message).toBe('ConfigMap "huge" is invalid: []: Too long: may not be more than 1048576 bytes');
  });

  it('applying into a missing namespace is a 404 on the namespace', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { service } = buildModelObjectSet(exampleInput({ namespace: 'nowhere' }));
    const e = await failure(apply(c, service));
    expect(e.code).toBe(404);
    expect(e.status).toMatchObject({ reason: 'NotFound', message: 'namespaces "nowhere" not found', details: { name: 'nowhere', kind: 'namespaces' } });
  });
});

describe('Status errors parse as ApiException with the real bodies', () => {
  it('401, 403, 404, 409, 422', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const { deployment, configMap } = buildModelObjectSet(exampleInput());

    const unauth = await failure(clients(fake, 'wrong-token').core.listNamespacedPod({ namespace: NS }));
    expect(unauth.code).toBe(401);
    expect(toMaasError(unauth).exitCode).toBe(8);
    const raw = await fetch(`${fake.url}/api/v1/namespaces/${NS}/pods`, { headers: { authorization: 'Bearer nope' } });
    expect(await raw.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });

    // Answer rules give the Status the real API server writes for the request.
    fake.answer({ method: 'POST', path: /\/deployments$/, status: 403 });
    fake.answer({ method: 'PATCH', path: /\/deployments\//, status: 403 });
    const forbidden = await failure(c.apps.createNamespacedDeployment({ namespace: NS, body: deployment }));
    expect(forbidden.code).toBe(403);
    expect(forbidden.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'deployments.apps is forbidden: User "system:serviceaccount:maas:maas" cannot create resource "deployments" in API group "apps" in the namespace "maas"',
      reason: 'Forbidden',
      details: { group: 'apps', kind: 'deployments' },
      code: 403,
    });
    const named = await failure(apply(c, deployment));
    expect(named.status.message).toBe(
      `deployments.apps "${name}" is forbidden: User "system:serviceaccount:maas:maas" cannot patch resource "deployments" in API group "apps" in the namespace "maas"`,
    );
    expect(toMaasError(named)).toMatchObject({ code: 'FORBIDDEN', exitCode: 8 });
    expect(toMaasError(named).hint).toMatch(/rbac/);

    const missing = await failure(c.apps.readNamespacedDeployment({ name: 'ghost', namespace: NS }));
    expect(missing.code).toBe(404);
    expect(missing.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "ghost" not found',
      reason: 'NotFound',
      details: { name: 'ghost', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    expect(toMaasError(missing).exitCode).toBe(4);

    await c.core.createNamespacedConfigMap({ namespace: NS, body: configMap });
    const exists = await failure(c.core.createNamespacedConfigMap({ namespace: NS, body: configMap }));
    expect(exists.code).toBe(409);
    expect(exists.status).toMatchObject({
      reason: 'AlreadyExists',
      message: `configmaps "${name}" already exists`,
      details: { name, group: '', kind: 'configmaps' },
    });

    const bad = structuredClone(deployment);
    bad.spec!.template.metadata!.labels = { app: 'other' };
    bad.spec!.replicas = -1;
    const invalid = await failure(c.apps.createNamespacedDeployment({ namespace: NS, body: bad }));
    expect(invalid.code).toBe(422);
    expect(invalid.status.reason).toBe('Invalid');
    expect(invalid.status.message).toBe(
      `Deployment.apps "${name}" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: \`selector\` does not match template \`labels\`]`,
    );
    expect((invalid.status.details as { causes: unknown[] }).causes).toHaveLength(2);
    expect(toMaasError(invalid)).toMatchObject({ code: 'REJECTED', exitCode: 8 });

    // Type errors against the OpenAPI schema are 400s, as the decoder reports them.
    const typed = await fetch(`${fake.url}/apis/apps/v1/namespaces/${NS}/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.kubeConfigOptions().users[0]!.token!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }),
    });
    expect(typed.status).toBe(400);
    expect(((await typed.json()) as { message: string }).message).toMatch(/^Deployment in version "v1" cannot be handled as a Deployment: .*replicas/);
  });
});

describe('rollout, placement and failures', () => {
  const readDeployment = (c: Clients, n = name) => c.apps.readNamespacedDeployment({ name: n, namespace: NS });

  it('rolls out to Running on the node that fits; the explainer says ready', async () => {
    const fake = await fakeKube({
      nodes: [
        { name: 'small', cpu: '250m', memory: '1Gi' },
        { name: 'big', cpu: '8', memory: '16Gi' },
      ],
    });
    const c = clients(fake);
    await applyAll(c, exampleInput({ description: exampleDescription({ replicas: { min: 2, max: 2 } }) }));
    fake.settle();
    const d = await readDeployment(c);
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect(d.status?.conditions?.map((x) => [x.type, x.status, x.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    const running = await pods(c, { labelSelector: selectorFor(instance) });
    expect(running).toHaveLength(2);
    for (const p of running) {
      expect(p.metadata?.name).toMatch(new RegExp(`^${name}-[a-z0-9]+-[a-z0-9]{5}$`));
      expect(p.spec?.nodeName).toBe('big');
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.qosClass).toBe('Guaranteed');
    }
    const events = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${running[0]!.metadata!.name!}` });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']));
    expect(explainRollout({ deployment: d, pods: running, events: events.items })).toMatchObject({ state: 'ready', category: 'Ready' });
    // Logs of the server container.
    const log = await c.core.readNamespacedPodLog({ name: running[0]!.metadata!.name!, namespace: NS, container: 'server', tailLines: 1 });
    expect(log).toMatch(/listening on http:\/\/0\.0\.0\.0:8080\n$/);
  });

  it('Pending with FailedScheduling when nothing fits; the explainer quotes the scheduler', async () => {
    const fake = await fakeKube({
      nodes: [
        { name: 'a', cpu: '2' },
        { name: 'b', cpu: '2' },
        { name: 'c', cpu: '8', ready: false },
      ],
    });
    const c = clients(fake);
    await applyAll(c, exampleInput({ description: exampleDescription({ cpu: 4, replicas: { min: 1, max: 1 } }) }));
    fake.settle();
    const [pod] = await pods(c, { labelSelector: selectorFor(instance) });
    expect(pod?.status?.phase).toBe('Pending');
    expect(pod?.status?.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' })]);
    const message =
      '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const events = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod!.metadata!.name!},reason=FailedScheduling` });
    expect(events.items.map((e) => [e.type, e.message, e.source?.component])).toEqual([['Warning', message, 'default-scheduler']]);
    const why = explainRollout({ deployment: await readDeployment(c), pods: [pod!], events: events.items });
    expect(why).toMatchObject({ state: 'failing', category: 'Unschedulable' });
    expect(why.reason).toBe(`pod ${pod!.metadata!.name!} cannot be scheduled: ${message}`);
    // A node with room appears: the scheduler retries and the rollout completes.
    fake.addNode({ name: 'd', cpu: '8' });
    fake.settle();
    expect((await readDeployment(c)).status?.readyReplicas).toBe(1);
  });

  it('strict mode pins pods to the named node; the placement check agrees with what the scheduler does', async () => {
    const fake = await fakeKube({
      nodes: [
        { name: 'n1', cpu: '4' },
        { name: 'n2', cpu: '4' },
        { name: 'n3', cpu: '4' },
      ],
    });
    fake.addPod({ namespace: 'other', name: 'db-0', nodeName: 'n2', cpu: '3', memory: '1Gi' });
    const c = clients(fake);
    const description = exampleDescription({ cpu: 2, replicas: { min: 1, max: 1 } });
    // The pre-check the strict deploy runs: node, then its pods across all namespaces.
    const check = async (nodeName: string) => {
      const node = await c.core.readNode({ name: nodeName }).catch(() => undefined);
      const onNode = await c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
      return checkNodeFits(node, onNode.items, { ...servingRequests(description), nodeName });
    };
    expect(await check('n2')).toMatchObject({ ok: false, code: 'Insufficient' });
    expect(await check('n9')).toMatchObject({ ok: false, code: 'NotFound' });
    expect(await check('n3')).toMatchObject({ ok: true });
    const onN3 = exampleInput({ description, mode: 'strict', node: 'n3' });
    await applyAll(c, onN3);
    fake.settle();
    const running = await pods(c, { labelSelector: selectorFor(identityOf(onN3).instance) });
    expect(running.map((p) => [p.spec?.nodeName, p.status?.phase])).toEqual([['n3', 'Running']]);

    // Pinned to the full node (a second slot of the same model version), the scheduler refuses the same way the check did.
    await applyAll(c, exampleInput({ description, mode: 'strict', node: 'n2' }));
    fake.settle();
    const ev = (await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=FailedScheduling' })).items[0];
    expect(ev?.message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  });

  it('an image no registry has: ErrImagePull then ImagePullBackOff, with events; the explainer names the image', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    await applyAll(c, exampleInput({ image: 'ghcr.io/example/does-not-exist:1', description: exampleDescription({ replicas: { min: 1, max: 1 } }) }));
    fake.settle();
    const [pod] = await pods(c);
    expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
    const events = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod!.metadata!.name!}` });
    const failed = events.items.filter((e) => e.reason === 'Failed').map((e) => e.message);
    expect(failed).toEqual(
      expect.arrayContaining([
        'Failed to pull image "ghcr.io/example/does-not-exist:1": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/example/does-not-exist:1": failed to resolve reference "ghcr.io/example/does-not-exist:1": ghcr.io/example/does-not-exist:1: not found',
        'Error: ErrImagePull',
        'Error: ImagePullBackOff',
      ]),
    );
    const why = explainRollout({ deployment: await readDeployment(c), pods: [pod!], events: events.items });
    expect(why).toMatchObject({ category: 'ImagePull', fatal: true });
    expect(why.reason).toContain('"ghcr.io/example/does-not-exist:1"');
    const logErr = await failure(c.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: NS, container: 'server' }));
    expect(logErr.status.message).toBe(`container "server" in pod "${pod!.metadata!.name!}" is waiting to start: trying and failing to pull image`);
  });

  it('an image that crashes: CrashLoopBackOff, previous logs, and the explainer gives the exit code', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    await applyAll(c, exampleInput({ image: 'ghcr.io/example/maas-server:crashes', description: exampleDescription({ replicas: { min: 1, max: 1 } }) }));
    fake.settle();
    const [pod] = await pods(c);
    expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(pod?.status?.phase).toBe('Running');
    expect(pod?.status?.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
    const previous = await c.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: NS, container: 'server', previous: true });
    expect(previous).toBe(CRASH.logs);
    const events = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod!.metadata!.name!},reason=BackOff` });
    expect(events.items[0]?.message).toMatch(/^Back-off restarting failed container server in pod /);
    const why = explainRollout({ deployment: await readDeployment(c), pods: [pod!], events: events.items });
    expect(why).toMatchObject({ category: 'CrashLoop', fatal: true });
    expect(why.reason).toMatch(new RegExp(`keeps failing \\(CrashLoopBackOff, \\d+ restarts?\\); last exit code ${CRASH.exitCode} \\(Error\\)`));
  });

  it('an image that never gets ready stays out of the Service; a good image replaces it', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    const input = exampleInput({ image: 'ghcr.io/example/maas-server:never-ready', description: exampleDescription({ replicas: { min: 1, max: 1 } }) });
    await applyAll(c, input);
    fake.settle();
    const [pod] = await pods(c);
    expect(pod?.status?.phase).toBe('Running');
    expect(pod?.status?.containerStatuses?.[0]).toMatchObject({ started: true, ready: false });
    const events = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=Unhealthy' });
    const why = explainRollout({ deployment: await readDeployment(c), pods: [pod!], events: events.items });
    expect(why).toMatchObject({ category: 'ReadinessProbe', fatal: false });
    expect(why.reason).toContain(`Readiness probe failed: ${NOT_READY}`);
    const proxied = await failure(c.core.connectGetNamespacedServiceProxyWithPath({ name: `${name}:http`, namespace: NS, path: 'v2/health/ready' }));
    expect(proxied.code).toBe(503);
    await apply(c, buildModelObjectSet({ ...input, image: 'ghcr.io/example/maas-server:0.1.0' }).deployment);
    fake.settle();
    expect((await readDeployment(c)).status?.readyReplicas).toBe(1);
  });

  it('a new version with a bad image never replaces the serving pods (maxUnavailable 0)', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    const input = exampleInput({ description: exampleDescription({ replicas: { min: 1, max: 1 } }) });
    await applyAll(c, input);
    fake.settle();
    const [v1] = await pods(c, { fieldSelector: 'status.phase=Running' });
    expect(v1?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).toBe(true);
    await apply(c, buildModelObjectSet({ ...input, image: 'ghcr.io/example/maas-server:does-not-exist' }).deployment);
    fake.settle();
    const d = await readDeployment(c);
    const all = await pods(c);
    expect(all.some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff')).toBe(true);
    expect(d.status).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    expect(all.map((p) => p.metadata?.name)).toContain(v1!.metadata?.name);
    const events = await c.core.listNamespacedEvent({ namespace: NS });
    const why = explainRollout({ deployment: d, pods: all, events: events.items });
    expect(why.category).toBe('ImagePull');
    expect(why.reason).toContain('maas-server:does-not-exist');
  });

  it('a rollout that makes no progress reports ProgressDeadlineExceeded once its deadline passed on the clock', async () => {
    const clock = new ManualClock();
    const fake = await fakeKube({ nodes: [{ name: 'n1', cpu: '1' }], clock });
    const c = clients(fake);
    await applyAll(c, exampleInput({ description: exampleDescription({ cpu: 2, replicas: { min: 1, max: 1 } }) }));
    fake.settle();
    expect((await readDeployment(c)).status?.conditions?.find((x) => x.type === 'Progressing')?.reason).toBe('ReplicaSetUpdated');
    clock.advance(601_000);
    fake.settle();
    const d = await readDeployment(c);
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    const events = await c.core.listNamespacedEvent({ namespace: NS });
    const why = explainRollout({ deployment: d, pods: await pods(c), events: events.items });
    expect(why).toMatchObject({ category: 'DeadlineExceeded', fatal: true });
    expect(why.reason).toMatch(/exceeded its progress deadline: pod .* cannot be scheduled: 0\/1 nodes are available: 1 Insufficient cpu\./);
  });
});

describe('scale and deletion', () => {
  it('scale to zero keeps the objects; re-deploy restores; delete by label removes everything', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    const input = exampleInput({ description: exampleDescription({ replicas: { min: 2, max: 2 } }) });
    await applyAll(c, input);
    fake.settle();
    expect(await pods(c)).toHaveLength(2);

    await apply(c, scaleToZero(name, NS), { manager: DECOMMISSION_FIELD_MANAGER, force: true });
    fake.settle();
    expect(await pods(c)).toEqual([]);
    const zero = await c.apps.readNamespacedDeployment({ name, namespace: NS });
    expect(zero.spec?.replicas).toBe(0);
    // The pod template is still the one maas applied.
    expect(zero.spec?.template.spec?.containers[0]?.image).toBe(input.image);
    expect(explainRollout({ deployment: zero, pods: [], events: [] }).category).toBe('ScaledToZero');

    // Re-deploy takes spec.replicas back (maas applies with force).
    await apply(c, buildModelObjectSet(input).deployment);
    fake.settle();
    expect(await pods(c)).toHaveLength(2);

    // Something else in the namespace stays.
    await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'unrelated', labels: { app: 'x' } }, data: { a: 'b' } } });
    const selector = selectorFor(instance);
    await c.apps.deleteCollectionNamespacedDeployment({ namespace: NS, labelSelector: selector });
    await c.core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: selector });
    await c.autoscaling.deleteCollectionNamespacedHorizontalPodAutoscaler({ namespace: NS, labelSelector: selector });
    // A Service by name: the DELETE answers with the Service object, not a Status.
    const deleted = await c.core.deleteNamespacedService({ name, namespace: NS });
    expect(deleted.metadata?.name).toBe(name);
    fake.settle();
    expect(await pods(c)).toEqual([]);
    expect((await c.core.listNamespacedConfigMap({ namespace: NS })).items.map((x) => x.metadata?.name)).toEqual(['unrelated']);
    expect(await c.objects.list('apps/v1', 'Deployment', NS)).toMatchObject({ items: [] });
  });

  it('the HPA raises the Deployment to minReplicas and re-applying does not fight it', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    const input = exampleInput({ description: exampleDescription({ replicas: { min: 2, max: 5 } }) });
    await applyAll(c, input);
    fake.settle();
    expect((await c.apps.readNamespacedDeployment({ name, namespace: NS })).status?.readyReplicas).toBe(2);
    const hpa = await c.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace: NS });
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(hpa.status?.desiredReplicas).toBe(2);
    for (const o of buildModelObjects(input)) await apply(c, o, { force: false });
    expect((await c.apps.readNamespacedDeployment({ name, namespace: NS })).spec?.replicas).toBe(2);

    // Scale to zero, then back: with an HPA, re-applying alone leaves zero replicas (maas does
    // not own the count); releasing the decommission manager's field brings the HPA back.
    await apply(c, scaleToZero(name, NS), { manager: DECOMMISSION_FIELD_MANAGER });
    fake.settle();
    expect(await pods(c)).toEqual([]);
    expect((await c.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace: NS })).status?.conditions?.[0]?.reason).toBe('ScalingDisabled');
    for (const o of buildModelObjects(input)) await apply(c, o);
    expect((await c.apps.readNamespacedDeployment({ name, namespace: NS })).spec?.replicas).toBe(0);
    await apply(c, releaseScale(name, NS), { manager: DECOMMISSION_FIELD_MANAGER });
    fake.settle();
    expect((await c.apps.readNamespacedDeployment({ name, namespace: NS })).status?.readyReplicas).toBe(2);
    expect(fake.state.managers('deployments', NS, name).map((m) => m.manager)).not.toContain(DECOMMISSION_FIELD_MANAGER);
  });
});

describe('service proxy', () => {
  let backend: Server;
  let backendUrl: string;
  const seen: Array<{ method: string; url: string; body: string; headers: IncomingHttpHeaders }> = [];
  beforeAll(async () => {
    backend = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (b: Buffer) => chunks.push(b));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
        res.writeHead(req.url?.startsWith('/v2/health') ? 200 : 201, { 'content-type': 'application/json', 'x-from': 'backend' });
        res.end(JSON.stringify({ path: req.url, method: req.method, echo: body ? (JSON.parse(body) as unknown) : null }));
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('503 without ready endpoints, then forwards GET and POST to the registered backend', async () => {
    const fake = await fakeKube({ nodes: [{ name: 'n1' }] });
    const c = clients(fake);
    await applyAll(c, exampleInput({ description: exampleDescription({ replicas: { min: 1, max: 1 } }) }));
    fake.registerBackend(NS, name, backendUrl);
    const early = await failure(c.core.connectGetNamespacedServiceProxyWithPath({ name: `${name}:http`, namespace: NS, path: 'v2/health/ready' }));
    expect(early.code).toBe(503);
    expect(early.status).toMatchObject({ reason: 'ServiceUnavailable', message: `no endpoints available for service "${name}:http"` });
    expect(toMaasError(early).code).toBe('UNAVAILABLE');
    fake.settle();

    const health = await c.core.connectGetNamespacedServiceProxyWithPath({ name: `${name}:http`, namespace: NS, path: 'v2/health/ready' });
    expect(health).toMatchObject({ path: '/v2/health/ready', method: 'GET' });

    // POST with a body over plain HTTP with the kubeconfig's credentials (headers and agent from
    // applyToHTTPSOptions), as an HTTP client outside client-node (the inference client) does it.
    const url = `${c.kc.getCurrentCluster()!.server}/api/v1/namespaces/${NS}/services/${name}:http/proxy/v2/models/har-classifier/infer?trace=1`;
    const opts: RequestOptions = {};
    await c.kc.applyToHTTPSOptions(opts);
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...(opts.headers as Record<string, string>), 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-from')).toBe('backend');
    expect(await res.json()).toEqual({
      path: '/v2/models/har-classifier/infer?trace=1',
      method: 'POST',
      echo: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] },
    });
    // The cluster credentials never reach the model server.
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();

    const nobody = await failure(c.core.connectGetNamespacedServiceProxyWithPath({ name: 'ghost:http', namespace: NS, path: 'x' }));
    expect(nobody.status.message).toBe('services "ghost" not found');
  });
});

describe('answer rules', () => {
  it('matching requests get the Status the API server writes for the code, N times, or a dropped connection', async () => {
    const fake = await fakeKube();
    const c = clients(fake);
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    fake.answer({ path, status: 500, times: 2 });
    for (let i = 0; i < 2; i++) {
      const e = await failure(c.core.listNamespacedConfigMap({ namespace: NS }));
      expect(e.code).toBe(500);
      expect(e.status).toMatchObject({ reason: 'InternalError', code: 500 });
      expect(toMaasError(e).code).toBe('UNAVAILABLE');
    }
    expect((await c.core.listNamespacedConfigMap({ namespace: NS })).items).toEqual([]);
    fake.answer({ path: /\/deployments$/, method: 'GET', status: 503 });
    expect((await failure(c.apps.listNamespacedDeployment({ namespace: NS }))).status).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    fake.answer({ path: /\/configmaps\//, method: 'PATCH', status: 409 });
    const conflict = await failure(apply(c, buildModelObjectSet(exampleInput()).configMap));
    expect(conflict.status.message).toBe(
      `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
    fake.answer({ path, status: 429, message: 'slow down' });
    expect((await failure(c.core.listNamespacedConfigMap({ namespace: NS }))).status).toMatchObject({ reason: 'TooManyRequests', message: 'slow down' });
    fake.answer({ path, drop: true });
    const dropped = await c.core.listNamespacedConfigMap({ namespace: NS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(dropped).toMatchObject({ name: 'FetchError', code: 'ECONNRESET' });
    expect(toMaasError(dropped).code).toBe('UNAVAILABLE');
    expect((await c.core.listNamespacedConfigMap({ namespace: NS })).items).toEqual([]);
    expect(fake.requests.filter((r) => r.answered)).toHaveLength(6);
  });
});

describe('RBAC from manifests/rbac.yaml', () => {
  it('allows every call maas makes and forbids the rest with the real message', async () => {
    const policy = policyFromRbacYaml(readFileSync(join(ROOT, 'manifests/rbac.yaml'), 'utf8'), 'system:serviceaccount:maas:maas');
    const fake = await fakeKube({ nodes: [{ name: 'n1' }], namespaces: [NS, 'other'], policy });
    const c = clients(fake);
    // Strict placement reads.
    await c.core.readNode({ name: 'n1' });
    await c.core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    await c.core.readNamespace({ name: NS });
    // Deploy and watch the rollout.
    const input = exampleInput({ description: exampleDescription({ replicas: { min: 1, max: 2 } }), mode: 'strict', node: 'n1' });
    const strict = identityOf(input);
    await applyAll(c, input);
    fake.settle();
    expect((await c.apps.readNamespacedDeployment({ name: strict.name, namespace: NS })).status?.readyReplicas).toBe(1);
    const [pod] = await pods(c, { labelSelector: selectorFor(strict.instance) });
    await c.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: NS, container: 'server' });
    await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod!.metadata!.name!}` });
    fake.registerBackend(NS, strict.name, 'http://127.0.0.1:9'); // nothing listens: the proxy is allowed, the backend is not there
    expect((await failure(c.core.connectGetNamespacedServiceProxyWithPath({ name: `${strict.name}:http`, namespace: NS, path: 'v2' }))).code).toBe(503);
    // Decommission.
    await apply(c, scaleToZero(strict.name, NS), { manager: DECOMMISSION_FIELD_MANAGER });
    await c.apps.deleteCollectionNamespacedDeployment({ namespace: NS, labelSelector: selectorFor(strict.instance) });

    const elsewhere = await failure(apply(c, buildModelObjectSet({ ...input, namespace: 'other' }).deployment));
    expect(elsewhere.status.message).toBe(
      `deployments.apps "${strict.name}" is forbidden: User "system:serviceaccount:maas:maas" cannot patch resource "deployments" in API group "apps" in the namespace "other"`,
    );
    const podDelete = await failure(c.core.deleteCollectionNamespacedPod({ namespace: NS }));
    expect(podDelete.status.message).toBe(
      'pods is forbidden: User "system:serviceaccount:maas:maas" cannot deletecollection resource "pods" in API group "" in the namespace "maas"',
    );
    const nodeWrite = await failure(c.core.deleteNode({ name: 'n1' }));
    expect(nodeWrite.status.message).toBe(
      'nodes "n1" is forbidden: User "system:serviceaccount:maas:maas" cannot delete resource "nodes" in API group "" at the cluster scope',
    );
  });
});

// Labels selected by the Service and the Deployment are the same pair.
it('selectorLabels and selectorFor select the same objects in the fake', async () => {
  const fake = await fakeKube();
  const c = clients(fake);
  await applyAll(c, exampleInput());
  const sel = Object.entries(selectorLabels(instance))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const a = await c.core.listNamespacedService({ namespace: NS, labelSelector: sel });
  const b = await c.core.listNamespacedService({ namespace: NS, labelSelector: selectorFor(instance) });
  expect(a.items.map((x) => x.metadata?.name)).toEqual(b.items.map((x) => x.metadata?.name));
  expect(a.items.map((x) => x.metadata?.name)).toEqual([name]);
  const bad = await failure(c.core.listNamespacedService({ namespace: NS, labelSelector: 'a in (b' }));
  expect(bad.code).toBe(400);
});

// A composition on the kubernetes target, through the CLI against the API server substitute: the
// members' objects and the router's ConfigMap (router.json), Deployment and Service applied and
// valid against the official schemas, the router's members addressed by their Services' cluster
// DNS names; `compose status` through the API server's proxy (unavailable without a backend, then
// a real composition router over real model servers, fed the ConfigMap's configuration); a re-apply
// that swaps a member rolls the router pod (new configuration digest on the pod template) and
// scales the removed member to zero; `compose delete --purge` removes the router and the members.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateHar, harToRequests } from '../../examples/har/generate.js';
import type { RouterConfig } from '../../src/domain/composition.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { CompositionStatsWire } from '../../src/protocol/composition-stats.js';
import { startCompositionServer, type CompositionServer } from '../../src/serving/composition/start.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { tempDir } from '../support/cli.js';
import { startKubeEnv, TEST_IMAGE, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';
import type { Obj } from '../support/fake-kube/types.js';

const NS = 'ml';
const NAME = 'har-ensemble';
const ROUTER = `maas-compose-${NAME}`;
const DIGEST = 'maas.dev/router-config-digest';
const work = tempDir('maas-kube-compose-');
let model: TrainedModel;
let e: KubeEnv;
const servers: ModelServer[] = [];
let router: CompositionServer | undefined;
let routerFile = '';
/** Each member's cluster DNS address -> the local server standing in for its pods. */
const local = new Map<string, string>();

interface Applied {
  name: string;
  version: string;
  outcome: string;
  router: string;
  state: string;
  endpoint: string | null;
  members: { key: string; deployment: string; outcome: string }[];
  released: { key: string; deployment: string; outcome: string }[];
}

interface Status {
  name: string;
  version: string;
  router: { id: string; state: string; endpoint: string | null } | null;
  members: { key: string; deployment: string | null; state: string }[];
  measurements: CompositionStatsWire | null;
  unavailable?: string;
}

/** The example description under another name (the same artifact serves every member). */
const renamed = (name: string): ModelDescription => ({ ...model.description, metadata: { ...model.description.metadata, name } });

function compositionFile(version: string, members: string[]): string {
  const file = join(e.dir, `composition-${version}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: NAME, version, labels: { team: 'activity' } },
      spec: {
        task: 'classification',
        features: model.description.spec.features.map((f) => f.name),
        mode: 'ensemble',
        aggregation: 'majority',
        timeout: '2s',
        members: members.map((m) => ({ model: `${m}@1` })),
      },
    }),
  );
  return file;
}

const apply = (version: string, members: string[]) =>
  e.json<Applied>(['compose', 'apply', compositionFile(version, members), '--target', 'kubernetes', '-n', NS]);
const get = (plural: string, name: string): Obj | undefined => e.fake.state.get(plural, NS, name);
const routerJson = (): RouterConfig => JSON.parse(String(get('configmaps', ROUTER)!.data['router.json'])) as RouterConfig;
const routerPods = (): string[] =>
  e.fake.state
    .list('pods', NS)
    .filter((p) => p.metadata.labels?.['app.kubernetes.io/instance'] === ROUTER && !p.metadata.deletionTimestamp)
    .map((p) => String(p.metadata.name));

/** A real model server per member name (same artifact, the member's name), behind its Service too. */
async function memberServer(name: string): Promise<ModelServer> {
  const s = await startModelServer({ description: renamed(name), artifactPath: join(model.dir, 'model.onnx'), host: '127.0.0.1', port: 0 });
  servers.push(s);
  await s.ready;
  e.fake.registerBackend(NS, `${name}-v1`, s.url);
  return s;
}

/**
 * Feeds the local router what the cluster's router reads: router.json from the ConfigMap, each
 * member's cluster DNS address mapped to the local server standing in for its pods.
 */
function syncRouterFile(): RouterConfig {
  const config = routerJson();
  const mapped = { ...config, members: config.members.map((m) => ({ ...m, endpoint: local.get(m.endpoint!) ?? m.endpoint })) };
  writeFileSync(`${routerFile}.tmp`, JSON.stringify(mapped));
  renameSync(`${routerFile}.tmp`, routerFile);
  return config;
}

beforeAll(async () => {
  model = trainExampleModel(join(work.path, 'model'));
  e = await startKubeEnv(model, { nodes: [{ name: 'n1', cpu: '8', memory: '16Gi' }] });
  for (const name of ['har-b', 'har-c']) await e.register(renamed(name), join(model.dir, 'model.onnx'));
  writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(harToRequests(generateHar({ rows: 4, seed: 5 }))));
}, 120_000);

afterAll(async () => {
  await router?.close();
  for (const s of servers.splice(0)) await s.close();
  await e?.close();
  work.cleanup();
});

describe('compose on the kubernetes target', () => {
  const ids = new Map<string, string>();
  let routerId = '';
  let firstDigest = '';
  let firstPods: string[] = [];

  it('apply: members deployed, router ConfigMap/Deployment/Service applied and valid, members addressed by cluster DNS, router ready', async () => {
    const r = await apply('1', ['har-classifier', 'har-b']);
    expect(r).toMatchObject({ name: NAME, version: '1', outcome: 'created', state: 'ready', released: [] });
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-classifier@1', 'deployed'],
      ['har-b@1', 'deployed'],
    ]);
    routerId = r.router;
    for (const m of r.members) ids.set(m.key, m.deployment);
    expect(r.endpoint).toBe(`${e.fake.url}/api/v1/namespaces/${NS}/services/${ROUTER}:http/proxy`);

    // Every object maas sent passes the official schemas; the router's three among them.
    const kinds = validateSent(e.fake.requests);
    expect(kinds.filter((k) => k === 'ConfigMap')).toHaveLength(3);
    const applied = e
      .writes()
      .filter((q) => q.method === 'PATCH' && q.path.includes(`/${ROUTER}`))
      .map((q) => `${String((JSON.parse(q.body!) as Obj).kind)} ${new URLSearchParams(q.query).get('fieldManager') ?? ''}`);
    expect(applied).toEqual(['ConfigMap maas', 'Deployment maas', 'Service maas', 'Deployment maas-decommission']);
    for (const name of ['har-classifier-v1', 'har-b-v1'])
      for (const plural of ['configmaps', 'deployments', 'services']) expect(get(plural, name), `${plural}/${name}`).toBeDefined();

    // The router's objects: labels, the image, the configuration and its digest on the pod template.
    const cm = get('configmaps', ROUTER)!;
    const dep = get('deployments', ROUTER)!;
    const svc = get('services', ROUTER)!;
    for (const o of [cm, dep, svc]) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/component': 'composition-router',
        'app.kubernetes.io/managed-by': 'maas',
        'app.kubernetes.io/instance': ROUTER,
        'maas.dev/composition': NAME,
        team: 'activity',
      });
      expect(o.metadata.annotations).toMatchObject({ 'maas.dev/deployment-id': routerId, 'maas.dev/composition-ref': `${NAME}@1` });
    }
    expect(dep.spec.template.spec.containers[0].image).toBe(TEST_IMAGE);
    expect(dep.spec.template.spec.containers[0].args).toContain('/router/router.json');
    expect(svc.spec.ports).toMatchObject([{ name: 'http', port: 80, targetPort: 'http' }]);
    const config = routerJson();
    expect(config.composition.metadata).toMatchObject({ name: NAME, version: '1' });
    expect(config.members.map((m) => [m.key, m.deployment, m.endpoint, m.endpointFile])).toEqual([
      ['har-classifier@1', ids.get('har-classifier@1'), `http://har-classifier-v1.${NS}.svc:80`, undefined],
      ['har-b@1', ids.get('har-b@1'), `http://har-b-v1.${NS}.svc:80`, undefined],
    ]);
    firstDigest = String(dep.spec.template.metadata.annotations[DIGEST]);
    expect(firstDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    firstPods = routerPods();
    expect(firstPods).toHaveLength(1);

    // The router record: kind composition, ready, its runtime in the shape of a model's.
    const rec = await e.json<DeploymentRecord>(['status', routerId]);
    expect(rec).toMatchObject({ kind: 'composition', model: NAME, version: '1', state: 'ready', namespace: NS });
    expect(rec.runtime).toMatchObject({
      name: ROUTER,
      namespace: NS,
      image: TEST_IMAGE,
      context: 'fake',
      objects: [`ConfigMap/${ROUTER}`, `Deployment/${ROUTER}`, `Service/${ROUTER}`],
    });
  });

  it('compose status: router and members ready; without a router process behind the Service, measurements are unavailable, not an error', async () => {
    const r = await e.maas(['compose', 'status', NAME, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as Status;
    expect(st.router).toMatchObject({ id: routerId, state: 'ready' });
    expect(st.members.map((m) => [m.key, m.state])).toEqual([
      ['har-classifier@1', 'ready'],
      ['har-b@1', 'ready'],
    ]);
    expect(st.measurements).toBeNull();
    expect(st.unavailable).toMatch(/router did not answer/);
  });

  it('predict and compose status through the proxy reach a real router fed the ConfigMap, over real members', async () => {
    for (const name of ['har-classifier', 'har-b', 'har-c']) local.set(`http://${name}-v1.${NS}.svc:80`, (await memberServer(name)).url);
    routerFile = join(e.dir, 'router.json');
    syncRouterFile();
    router = await startCompositionServer({ configFile: routerFile, host: '127.0.0.1', port: 0, reloadIntervalMs: 0 });
    await router.ready;
    e.fake.registerBackend(NS, ROUTER, router.url);

    const answer = await e.json<{ model_name: string; outputs: { name: string; data: unknown[] }[] }>(['predict', NAME, '--data', 'rows.json']);
    expect(answer.model_name).toBe(NAME);
    expect(answer.outputs.find((o) => o.name === 'label')!.data).toHaveLength(4);
    const st = await e.json<Status>(['compose', 'status', NAME]);
    expect(st.unavailable).toBeUndefined();
    expect(st.measurements).toMatchObject({ composition: `${NAME}@1`, mode: 'ensemble', errors: 0 });
    expect(st.measurements!.members.map((m) => [m.key, m.deployment, m.requests, m.errors])).toEqual([
      ['har-classifier@1', ids.get('har-classifier@1'), 1, 0],
      ['har-b@1', ids.get('har-b@1'), 1, 0],
    ]);
    const proxied = e.fake.requests.filter((q) => q.resource === 'services/proxy').map((q) => `${q.method} ${q.path}`);
    expect(proxied).toContain(`POST /api/v1/namespaces/${NS}/services/${ROUTER}:http/proxy/v2/models/${NAME}/infer`);
  });

  it('re-apply with har-b swapped for har-c: new ConfigMap, the router pod rolled by the new digest, har-b scaled to zero', async () => {
    const generation = Number(get('deployments', ROUTER)!.metadata.generation);
    const r = await apply('2', ['har-classifier', 'har-c']);
    expect(r).toMatchObject({ outcome: 'updated', router: routerId, version: '2', state: 'ready' });
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-classifier@1', 'kept'],
      ['har-c@1', 'deployed'],
    ]);
    ids.set('har-c@1', r.members[1]!.deployment);
    expect(r.released).toEqual([{ key: 'har-b@1', deployment: ids.get('har-b@1'), outcome: 'cached' }]);

    const config = routerJson();
    expect(config.composition.metadata.version).toBe('2');
    expect(config.members.map((m) => [m.key, m.deployment, m.endpoint])).toEqual([
      ['har-classifier@1', ids.get('har-classifier@1'), `http://har-classifier-v1.${NS}.svc:80`],
      ['har-c@1', ids.get('har-c@1'), `http://har-c-v1.${NS}.svc:80`],
    ]);
    const dep = get('deployments', ROUTER)!;
    expect(Number(dep.metadata.generation)).toBe(generation + 1);
    expect(dep.spec.template.metadata.annotations[DIGEST]).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(dep.spec.template.metadata.annotations[DIGEST]).not.toBe(firstDigest);
    // The update waited for the rolling update: one router pod, a new one.
    const pods = routerPods();
    expect(pods).toHaveLength(1);
    expect(pods[0]).not.toBe(firstPods[0]);
    expect(dep.status.updatedReplicas).toBe(1);
    // The image did not change with the configuration; the Service is the same one.
    expect(dep.spec.template.spec.containers[0].image).toBe(TEST_IMAGE);
    expect(get('services', ROUTER)!.metadata.annotations['maas.dev/composition-ref']).toBe(`${NAME}@2`);

    // Two-step decommission, step one, for the member no longer listed.
    expect(get('deployments', 'har-b-v1')!.spec.replicas).toBe(0);
    expect(await e.json<DeploymentRecord>(['status', ids.get('har-b@1')!])).toMatchObject({ state: 'cached', consumers: [] });
    expect(get('deployments', 'har-c-v1')!.spec.replicas).toBe(1);
    expect(validateSent(e.fake.requests).length).toBeGreaterThan(0);

    // Re-applying the same file changes nothing: no write to the router's objects.
    const routerWrites = () => e.writes().filter((q) => q.path.includes(`/${ROUTER}`) && !q.path.includes('/proxy/')).length;
    const before = routerWrites();
    expect((await apply('2', ['har-classifier', 'har-c'])).outcome).toBe('unchanged');
    expect(routerWrites()).toBe(before);
  });

  it('compose status after the swap: the router (fed the new ConfigMap) measures har-c, not har-b', async () => {
    syncRouterFile();
    expect(await router!.reload()).toBe(true);
    expect((await e.maas(['predict', NAME, '--data', 'rows.json'])).code).toBe(0);
    const st = await e.json<Status>(['compose', 'status', NAME]);
    expect(st.router).toMatchObject({ id: routerId, state: 'ready' });
    expect(st.members.map((m) => [m.key, m.state])).toEqual([
      ['har-classifier@1', 'ready'],
      ['har-c@1', 'ready'],
    ]);
    expect(st.measurements!.composition).toBe(`${NAME}@2`);
    expect(st.measurements!.members.map((m) => [m.key, m.errors])).toEqual([
      ['har-classifier@1', 0],
      ['har-c@1', 0],
    ]);
  });

  it('compose delete --purge: the router objects and the members go; the member released earlier stays cached', async () => {
    const r = await e.json<{ router: { id: string; outcome: string }; members: { key: string; outcome: string }[] }>(['compose', 'delete', NAME, '--purge']);
    expect(r.router).toEqual({ id: routerId, outcome: 'purged' });
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-classifier@1', 'purged'],
      ['har-c@1', 'purged'],
    ]);
    e.fake.settle();
    for (const instance of [ROUTER, 'har-classifier-v1', 'har-c-v1']) expect(e.labelled(instance), instance).toEqual([]);
    expect(get('deployments', 'har-b-v1')!.spec.replicas).toBe(0);
    expect(await e.json<unknown[]>(['compose', 'list'])).toEqual([]);
    const ps = await e.json<DeploymentRecord[]>(['ps']);
    expect(ps.map((d) => [`${d.model}@${d.version}`, d.state])).toEqual([['har-b@1', 'cached']]);
    validateSent(e.fake.requests);
  });
});

describe('the router methods of the kubernetes target', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const record = (over: Partial<DeploymentRecord>): DeploymentRecord => ({
    id: 'd-router',
    kind: 'composition',
    model: 'probe',
    version: '1',
    target: 'kubernetes',
    mode: 'open',
    namespace: NS,
    state: 'deploying',
    runtime: {},
    consumers: ['composition:probe'],
    createdAt: at,
    updatedAt: at,
    history: [],
    ...over,
  });
  const config = (version: string, members: string[]): RouterConfig => ({
    composition: {
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: 'probe', version },
      spec: {
        task: 'classification',
        features: model.description.spec.features.map((f) => f.name),
        mode: 'ensemble',
        members: members.map((m) => ({ model: `${m}@1` })),
      },
    },
    features: model.description.spec.features,
    labels: model.description.spec.outputs!.labels!,
    members: members.map((m) => ({
      key: `${m}@1`,
      deployment: `d-${m}`,
      model: m,
      version: '1',
      endpoint: `http://${m}-v1.${NS}.svc:80`,
      weight: 1,
      role: 'member',
      timeoutMs: 1000,
    })),
    timeoutMs: 1000,
  });
  const envs: KubeEnv[] = [];
  afterAll(async () => {
    for (const x of envs.splice(0)) await x.close();
  });
  async function routerOn(image: string): Promise<{ k: KubeEnv; d: DeploymentRecord; target: ReturnType<KubeEnv['target']> }> {
    const k = await startKubeEnv(model, { nodes: [{ name: 'n1', cpu: '4', memory: '8Gi' }] });
    envs.push(k);
    const target = k.target({ images: { fallback: image } });
    const started = await target.startRouter(record({}), config('1', ['a', 'b']), () => {});
    return { k, d: record({ runtime: started.runtime }), target };
  }

  it('memberAddress: the Service of the member record by cluster DNS, in its namespace, under the name its runtime remembers', async () => {
    const target = e.target();
    const member = record({ kind: 'model', model: 'har-classifier', version: '1', namespace: 'team-a' });
    expect(await target.memberAddress(member)).toEqual({ endpoint: 'http://har-classifier-v1.team-a.svc:80' });
    expect(await target.memberAddress({ ...member, runtime: { name: 'maas-d-1a2b', namespace: 'team-a' } })).toEqual({
      endpoint: 'http://maas-d-1a2b.team-a.svc:80',
    });
  });

  it('updateRouter of a router whose start applied nothing yet sends nothing (the start reads the stored composition)', async () => {
    const { k, target } = await routerOn(TEST_IMAGE);
    const writes = k.writes().length;
    await target.updateRouter(record({ model: 'other' }), config('2', ['a', 'c']));
    expect(k.writes().length).toBe(writes);
  });

  it('updateRouter whose new router pod crash-loops fails with the cause', async () => {
    const { d, target } = await routerOn('ghcr.io/maas-dev/maas:crashes');
    await expect(target.updateRouter(d, config('2', ['a', 'c']))).rejects.toMatchObject({
      code: 'FAILURE',
      message: expect.stringMatching(/did not roll out its new configuration: .*(crash|exit)/i),
    });
  });

  it('updateRouter whose rollout is merely slow returns once its wait is over (the caller confirms the switch)', async () => {
    const { k, d, target } = await routerOn('ghcr.io/maas-dev/maas:stalls');
    const before = k.time.now();
    await target.updateRouter(d, config('2', ['a', 'c']));
    expect(k.time.now() - before).toBeGreaterThanOrEqual(60_000);
    expect(JSON.parse(String(k.fake.state.get('configmaps', NS, 'maas-compose-probe')!.data['router.json'])).composition.metadata.version).toBe('2');
  });
});

// Rollout and rollback on the kubernetes target, over the API server substitute: the same
// objects (same names, same Service) re-applied for the new version, the Deployment's rolling
// update waited for, every object sent valid. Waits run on manual time (clusterClock).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, harToRequests } from '../../examples/har/generate.js';
import { buildServices } from '../../src/app/composition-root.js';
import { rollout } from '../../src/app/rollout.js';
import { EXIT, MaasError } from '../../src/core/errors.js';
import { resolveHome } from '../../src/core/home.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { tempDir } from '../support/cli.js';
import { CRASH, NOT_READY } from '../support/fake-kube/index.js';
import { isPodReady } from '../support/fake-kube/pod-lifecycle.js';
import type { Obj } from '../support/fake-kube/types.js';
import { startKubeEnv, TEST_IMAGE, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const NAME = 'har-classifier-v1';
const work = tempDir('maas-kube-rollout-');
let trained: TrainedModel;
const envs: KubeEnv[] = [];
const servers: ModelServer[] = [];

beforeAll(() => {
  trained = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const e of envs.splice(0)) await e.close();
});

async function env(): Promise<KubeEnv> {
  const e = await startKubeEnv(trained, { nodes: [{ name: 'n1', cpu: '4', memory: '8Gi' }] });
  envs.push(e);
  const v2: ModelDescription = structuredClone(trained.description);
  v2.metadata.version = '2';
  await e.register(v2, join(trained.dir, 'model.onnx'));
  return e;
}

const quiet = () => {};

describe('rollout on kubernetes', () => {
  it('updates the Deployment and ConfigMap in place and waits for the rolling update; the Service stays', async () => {
    const e = await env();
    const [m1, m2] = [await e.model('har-classifier', '1'), await e.model('har-classifier', '2')];
    const target = e.target();
    const base: DeploymentRecord = {
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
    };
    const d: DeploymentRecord = { ...base, runtime: (await target.start(base, m1, quiet)).runtime };
    expect((await target.waitReady(d, e.clock.now() + 120_000, quiet)).state).toBe('ready');
    const service = e.fake.state.get('services', NS, NAME)!;
    const oldPods = e.fake.state.list('pods', NS).map((p) => String(p.metadata.name));
    const said: string[] = [];

    const r = await target.rollout({ ...d, state: 'ready' }, { from: m1, to: m2, deadline: e.clock.now() + 120_000, progress: (m) => said.push(m) });
    expect(r.endpoint).toBe(`${e.fake.url}/api/v1/namespaces/${NS}/services/${NAME}:http/proxy`);
    expect(r.runtime).toMatchObject({ name: NAME, namespace: NS });
    expect(r.retire).toBeUndefined();
    // Same objects, new content: the pod template names version 2, the pods were replaced.
    const dep = e.fake.state.get('deployments', NS, NAME)!;
    expect(dep.spec.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@2');
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(JSON.parse(e.fake.state.get('configmaps', NS, NAME)!.data['model.json'])).toMatchObject({ metadata: { version: '2' } });
    const pods = e.fake.state.list('pods', NS);
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((p) => p.metadata.annotations['maas.dev/model-ref'] === 'har-classifier@2')).toBe(true);
    expect(pods.some((p) => oldPods.includes(String(p.metadata.name)))).toBe(false);
    // The Service was re-applied unchanged: same selector, same object.
    const after = e.fake.state.get('services', NS, NAME)!;
    expect(after.spec.selector).toEqual(service.spec.selector);
    expect(after.metadata.uid).toBe(service.metadata.uid);
    expect(e.fake.state.list('deployments', NS).map((x) => String(x.metadata.name))).toEqual([NAME]);
    expect(said.some((m) => m.startsWith('applying Deployment'))).toBe(true);
    expect(validateSent(e.fake.requests)).toEqual([
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'Deployment',
      'ConfigMap',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'Deployment',
    ]);
  });

  it('through the CLI: rollout, no-op, rollback and history keep the deployment ID and endpoint', async () => {
    const e = await env();
    const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', 'ci']);
    const rolled = await e.json<DeploymentRecord & { changed: boolean }>(['rollout', d.id, '--to', 'har-classifier@2', '--reason', 'drift']);
    expect(rolled).toMatchObject({ id: d.id, version: '2', state: 'ready', endpoint: d.endpoint, consumers: ['ci'], changed: true });
    expect(rolled.rollouts).toEqual([expect.objectContaining({ from: '1', to: '2', reason: 'drift' })]);
    expect(e.fake.state.get('deployments', NS, NAME)!.spec.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@2');
    expect(await e.json(['status', d.id])).toMatchObject({ version: '2', state: 'ready' });

    const same = await e.maas(['rollout', d.id, '--to', '@2']);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/nothing to do/);

    const back = await e.json<DeploymentRecord>(['rollback', d.id]);
    expect(back).toMatchObject({ id: d.id, version: '1', state: 'ready' });
    expect(e.fake.state.get('deployments', NS, NAME)!.spec.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@1');
    const history = await e.json<{ entries: { version: string; reason: string }[] }>(['history', d.id]);
    expect(history.entries.map((x) => `${x.version}:${x.reason}`)).toEqual(['1:deployed', '2:drift', '1:rollback']);
    expect(() => validateSent(e.fake.requests)).not.toThrow();
  });
});

/** What the API server holds of the deployment's objects that the served version decides. */
function served(e: KubeEnv): { template: Obj; configMap: Obj } {
  const cm = e.fake.state.get('configmaps', NS, NAME)!;
  return { template: e.fake.state.get('deployments', NS, NAME)!.spec.template as Obj, configMap: { data: cm.data, binaryData: cm.binaryData } };
}

/** Another version asking for a serving size no node has: its pods cannot be scheduled. */
async function registerUnschedulable(e: KubeEnv, version: string): Promise<void> {
  const big: ModelDescription = structuredClone(trained.description);
  big.metadata.version = version;
  big.spec.resources = { ...big.spec.resources, serving: { ...big.spec.resources?.serving, cpu: '64' } };
  await e.register(big, join(trained.dir, 'model.onnx'));
}

/** A real model server of version 1 behind the Service proxy: predictions say which version answered. */
async function serveVersion1(e: KubeEnv): Promise<void> {
  const server = await startModelServer({ description: trained.description, artifactPath: join(trained.dir, 'model.onnx'), host: '127.0.0.1', port: 0 });
  servers.push(server);
  await server.ready;
  e.fake.registerBackend(NS, NAME, server.url);
  writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(harToRequests(generateHar({ rows: 2, seed: 5 }))));
}

/**
 * After a failed rollout: the Deployment's pod template (image, digests, annotations) and the
 * ConfigMap are exactly version 1's again, the record still serves version 1 with no change in
 * its history, and once the controllers caught up only version 1's pods run, all ready.
 */
async function expectVersion1Back(e: KubeEnv, d: DeploymentRecord, before: ReturnType<typeof served>): Promise<void> {
  const after = served(e);
  expect(after.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@1');
  expect(after.template.spec.containers[0].image).toBe(d.runtime.image);
  expect(after).toEqual(before);
  expect(JSON.parse(e.fake.state.get('configmaps', NS, NAME)!.data['model.json'])).toMatchObject({ metadata: { version: '1' } });
  const history = await e.json<{ version: string; entries: { version: string; reason: string; current: boolean }[] }>(['history', d.id]);
  expect(history.version).toBe('1');
  expect(history.entries.map((x) => `${x.version}:${x.reason}:${x.current}`)).toEqual(['1:deployed:true']);
  // The undo is applied, not waited for: the Deployment controller (one tick here, about a
  // second on a cluster) scales the new pods away and the old ReplicaSet is current again.
  e.fake.settle();
  const record = await e.json<DeploymentRecord>(['status', d.id]);
  expect(record).toMatchObject({ id: d.id, version: '1', state: 'ready', endpoint: d.endpoint, runtime: { image: d.runtime.image } });
  expect(record.rollouts ?? []).toEqual([]);
  const pods = e.fake.state.list('pods', NS);
  expect(pods.length).toBeGreaterThan(0);
  expect(pods.map((p): unknown[] => [p.metadata.annotations['maas.dev/model-ref'], p.spec.containers[0].image, isPodReady(p)])).toEqual(
    pods.map(() => ['har-classifier@1', d.runtime.image, true]),
  );
}

describe('a rollout that cannot finish is undone', () => {
  it('through the CLI: new pods crash-loop -> FAILURE with the explanation; version 1 applied again and serving; a later rollout runs', async () => {
    const e = await env();
    const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', 'ci']);
    await serveVersion1(e);
    const before = served(e);
    expect(before.template.spec.containers[0].image).toBe(TEST_IMAGE);
    // The server image of the cluster changes to one whose containers exit at start: what the
    // rollout applies next crash-loops, version 1's pod keeps serving meanwhile.
    expect((await e.maas(['config', 'set', 'kubernetes.image', 'ghcr.io/acme/maas-server:crashes'])).code).toBe(0);

    const r = await e.maas(['rollout', d.id, '--to', 'har-classifier@2', '--reason', 'drift']);
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stderr).toMatch(
      new RegExp(
        `rollout of deployment ${d.id} to har-classifier@2 failed: container "server" in pod ${NAME}-\\S+ keeps failing \\(CrashLoopBackOff, \\d+ restarts?\\); last exit code ${CRASH.exitCode} \\(Error\\)`,
      ),
    );
    expect(r.stderr).toContain('see the server log with `maas logs <deployment>`');
    expect(r.stderr).toContain(`har-classifier@1 was applied again (its pods kept serving); see \`maas logs ${d.id}\``);
    expect(r.stderr).toContain('har-classifier@2 did not roll out; applying har-classifier@1 again');
    // The rollout did apply version 2 before undoing it.
    const templates = e
      .writes()
      .filter((q) => q.method === 'PATCH' && q.path.endsWith(`/deployments/${NAME}`) && q.body?.includes('"template"'))
      .map((q) => (JSON.parse(q.body!) as Obj).spec.template.metadata.annotations['maas.dev/model-ref'] as string);
    expect(templates).toEqual(['har-classifier@1', 'har-classifier@2', 'har-classifier@1']);
    await expectVersion1Back(e, d, before);
    const predicted = await e.json<{ model_name: string; model_version: string }>(['predict', d.id, '--data', 'rows.json']);
    expect(predicted).toMatchObject({ model_name: 'har-classifier', model_version: '1' });

    // The failed rollout released its claim: with a working image the same rollout runs now.
    expect((await e.maas(['config', 'unset', 'kubernetes.image'])).code).toBe(0);
    const rolled = await e.json<DeploymentRecord & { changed: boolean }>(['rollout', d.id, '--to', 'har-classifier@2', '--reason', 'drift']);
    expect(rolled).toMatchObject({ id: d.id, version: '2', state: 'ready', endpoint: d.endpoint, changed: true });
    expect(e.fake.state.get('deployments', NS, NAME)!.spec.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@2');
    const history = await e.json<{ entries: { version: string; reason: string }[] }>(['history', d.id]);
    expect(history.entries.map((x) => `${x.version}:${x.reason}`)).toEqual(['1:deployed', '2:drift']);
    expect(() => validateSent(e.fake.requests)).not.toThrow();
  });

  const failures: Array<{ name: string; image?: string; to: string; timeout: string; why: RegExp; hint: string }> = [
    {
      name: 'the image cannot be pulled',
      image: 'ghcr.io/acme/does-not-exist:2',
      to: '2',
      timeout: '120s',
      why: new RegExp(`pod ${NAME}-\\S+ cannot pull image "ghcr\\.io/acme/does-not-exist:2" for container "server" \\((ErrImagePull|ImagePullBackOff)\\)`),
      hint: 'check the image name and tag',
    },
    {
      name: 'the readiness probe keeps failing until --timeout',
      image: 'ghcr.io/acme/maas-server:never-ready',
      to: '2',
      timeout: '30s',
      why: new RegExp(`container "server" in pod ${NAME}-\\S+ runs but is not ready: Readiness probe failed: ${NOT_READY}`),
      hint: 'answers /v2/health/ready with an error until the model is loaded',
    },
    {
      name: 'the new version cannot be scheduled until --timeout',
      to: '3',
      timeout: '30s',
      why: new RegExp(`pod ${NAME}-\\S+ cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu`),
      hint: 'free capacity on the nodes',
    },
  ];

  it.each(failures)('through the CLI: $name -> FAILURE with the cause; version 1 applied again', async ({ image, to, timeout, why, hint }) => {
    const e = await env();
    await registerUnschedulable(e, '3');
    const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    const before = served(e);
    if (image) expect((await e.maas(['config', 'set', 'kubernetes.image', image])).code).toBe(0);
    const r = await e.maas(['rollout', d.id, '--to', `har-classifier@${to}`, '--timeout', timeout]);
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stderr).toContain(`rollout of deployment ${d.id} to har-classifier@${to} failed: `);
    expect(r.stderr).not.toContain('before the deadline');
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain(hint);
    expect(r.stderr).toContain('har-classifier@1 was applied again');
    await expectVersion1Back(e, d, before);
  });

  it('through the CLI: new pods never get ready within --timeout -> TIMEOUT; version 1 applied again; a later rollout runs', async () => {
    const e = await env();
    const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    await serveVersion1(e);
    const before = served(e);
    // An image whose pull never ends: the new pod stays ContainerCreating, slow but not failing.
    expect((await e.maas(['config', 'set', 'kubernetes.image', 'ghcr.io/acme/maas-server:stalls'])).code).toBe(0);
    const started = e.clock.now();

    const r = await e.maas(['rollout', d.id, '--to', '@2', '--timeout', '45s']);
    expect(r.code).toBe(EXIT.TIMEOUT);
    expect(r.stderr).toMatch(
      new RegExp(
        `rollout of deployment ${d.id} to har-classifier@2 failed: not rolled out before the deadline \\(1 of 1 replica ready \\(ContainerCreating\\)\\)`,
      ),
    );
    expect(r.stderr).toContain('har-classifier@1 was applied again (its pods kept serving)');
    // It waited for the whole --timeout (manual time), not longer.
    expect(e.clock.now() - started).toBeGreaterThanOrEqual(45_000);
    expect(e.clock.now() - started).toBeLessThan(60_000);
    await expectVersion1Back(e, d, before);
    expect(await e.json<{ model_version: string }>(['predict', d.id, '--data', 'rows.json'])).toMatchObject({ model_version: '1' });

    expect((await e.maas(['config', 'unset', 'kubernetes.image'])).code).toBe(0);
    const rolled = await e.json<DeploymentRecord>(['rollout', d.id, '--to', '@2']);
    expect(rolled).toMatchObject({ id: d.id, version: '2', state: 'ready' });
    expect((await e.json<{ entries: { version: string }[] }>(['history', d.id])).entries.map((x) => x.version)).toEqual(['1', '2']);
  });

  it('through the use case: the error carries the code and explanation, the record is untouched, and the claim is released', async () => {
    const e = await env();
    await registerUnschedulable(e, '3');
    const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    const before = served(e);
    const s = await buildServices({
      home: resolveHome({}, e.dir, e.home),
      config: {},
      env: { KUBECONFIG: e.kubeconfig },
      cwd: e.dir,
      clock: e.clock,
      cluster: {},
      version: '0.1.0',
    });
    try {
      const failed = await rollout(s, { deployment: d.id, to: 'har-classifier@3', reason: 'retrain', timeoutMs: 30_000 }, quiet).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(MaasError);
      expect(failed).toMatchObject({ code: 'FAILURE', message: expect.stringMatching(/to har-classifier@3 failed: pod \S+ cannot be scheduled/) });
      expect((failed as MaasError).hint).toContain('har-classifier@1 was applied again');
      expect(served(e)).toEqual(before);
      expect(await s.deployments.getDeployment(d.id)).toMatchObject({ version: '1', runtime: d.runtime });
      e.fake.settle();
      // Nobody holds the claim: another one can be taken at once.
      expect(await s.deployments.claimRollout(d.id, 'probe', new Date(e.clock.now()).toISOString(), new Date(0).toISOString())).toBe(true);
      await s.deployments.releaseRollout(d.id, 'probe');
      const ok = await rollout(s, { deployment: d.id, to: 'har-classifier@2', reason: 'retrain', timeoutMs: 30_000 }, quiet);
      expect(ok).toMatchObject({ changed: true, deployment: { version: '2', state: 'ready' }, change: { from: '1', to: '2', reason: 'retrain' } });
    } finally {
      await s.close();
    }
  });
});

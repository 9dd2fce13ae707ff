// Rollout and rollback on the kubernetes target, over the API server substitute: the same
// objects (same names, same Service) re-applied for the new version, the Deployment's rolling
// update waited for, every object sent valid. Waits run on manual time (clusterClock).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { tempDir } from '../support/cli.js';
import { startKubeEnv, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const NAME = 'har-classifier-v1';
const work = tempDir('maas-kube-rollout-');
let trained: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  trained = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
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

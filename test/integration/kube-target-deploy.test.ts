// `maas deploy --target kubernetes` end to end through the CLI, against the API server substitute
// with the real client: open and strict placement, refusals before anything is created,
// idempotent applies, an interrupted deploy that converges, rollout failures explained.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import { openStores } from '../../src/registry/open.js';
import { tempDir } from '../support/cli.js';
import { CRASH, NOT_READY, type FakeKubeOptions } from '../support/fake-kube/index.js';
import { startKubeEnv, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const work = tempDir('maas-kube-deploy-');
let model: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});

async function env(o: FakeKubeOptions & { contextNamespace?: string } = {}): Promise<KubeEnv> {
  const e = await startKubeEnv(model, { nodes: [{ name: 'n1', cpu: '4', memory: '8Gi' }], ...o });
  envs.push(e);
  return e;
}

type Deployed = DeploymentRecord & { outcome: string };

/** Names of the model objects in a namespace, by kind. */
function objectsIn(e: KubeEnv, ns: string): string[] {
  return ['configmaps', 'deployments', 'services', 'horizontalpodautoscalers'].flatMap((p) => e.fake.state.list(p, ns).map((o) => `${p}/${o.metadata.name}`));
}

/** A profile of the example model's features over `rows` random rows, all of them in its sample. */
function harProfile(rows: number): ReferenceProfile {
  const random = seededRandom(rows);
  const features = model.description.spec.features.map((f) => ({ name: f.name, type: f.type }));
  const b = new ProfileBuilder(features, { random, sampleSize: rows });
  for (let i = 0; i < rows; i++) b.add(Object.fromEntries(features.map((f) => [f.name, random.next() * 10])));
  return b.finish({ source: { uri: 'file:///train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
}

async function storeProfile(e: KubeEnv, profile: ReferenceProfile): Promise<void> {
  const stores = await openStores(resolveHome({}, e.dir, e.home));
  try {
    await stores.models.setProfile('har-classifier', '1', profile);
  } finally {
    stores.close();
  }
}

describe('deploy --target kubernetes', () => {
  it('deploys in open mode: creates the namespace, applies valid objects, becomes ready; status, ps and logs work', async () => {
    const e = await env();
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', 'ci']);
    expect(d).toMatchObject({ state: 'ready', target: 'kubernetes', namespace: NS, mode: 'open', outcome: 'created', consumers: ['ci'] });
    const name = 'har-classifier-v1';
    expect(d.endpoint).toBe(`${e.fake.url}/api/v1/namespaces/${NS}/services/${name}:http/proxy`);
    expect(d.runtime).toMatchObject({
      context: 'fake',
      kubeconfig: e.kubeconfig,
      namespace: NS,
      server: e.fake.url,
      name,
      image: 'ghcr.io/maas-dev/maas:0.1.0',
      artifact: 'configmap',
    });

    expect(e.fake.state.get('namespaces', undefined, NS)).toBeDefined();
    expect(objectsIn(e, NS).sort()).toEqual([`configmaps/${name}`, `deployments/${name}`, `horizontalpodautoscalers/${name}`, `services/${name}`]);
    const cm = e.fake.state.get('configmaps', NS, name)!;
    expect(Buffer.from(cm.binaryData['model.onnx'], 'base64').equals(model.onnx)).toBe(true);
    expect(JSON.parse(cm.data['model.json'])).toEqual(model.description);
    expect(e.fake.state.managers('deployments', NS, name).map((m) => m.manager)).toContain('maas');
    const pods = e.fake.state.list('pods', NS);
    expect(pods.map((p): unknown => p.metadata.labels['app.kubernetes.io/instance'])).toEqual([name]);
    expect(e.fake.state.get('deployments', NS, name)!.metadata.annotations['maas.dev/deployment-id']).toBe(d.id);

    // Everything sent is a valid object of its kind; every apply is server-side apply by `maas` (or the release by `maas-decommission`), forced.
    expect(validateSent(e.fake.requests)).toEqual(['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'Deployment']);
    for (const s of e.writes().filter((x) => x.method === 'PATCH')) {
      expect(s.contentType).toBe('application/apply-patch+yaml');
      expect(s.query).toMatch(/fieldManager=maas(-decommission)?(&|$)/);
      expect(s.query).toContain('force=true');
    }

    const status = await e.json<DeploymentRecord>(['status', d.id]);
    expect(status).toMatchObject({ id: d.id, state: 'ready' });
    const ps = await e.json<DeploymentRecord[]>(['ps']);
    expect(ps.map((x) => [x.id, x.state])).toEqual([[d.id, 'ready']]);
    const logs = await e.maas(['logs', d.id, '--tail', '5']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/listening on http:\/\/0\.0\.0\.0:8080/);
    const human = await e.maas(['status', d.id]);
    expect(human.stdout).toContain(`kubernetes (namespace ${NS})`);
  });

  it('ships the reference profile in the ConfigMap and starts the server with --profile; a large one without its sample rows', async () => {
    const e = await env();
    const small = harProfile(20);
    await storeProfile(e, small);
    const name = 'har-classifier-v1';
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    expect(d).toMatchObject({ state: 'ready', runtime: { artifact: 'configmap', profile: { file: '/model/profile.json', rows: 20, sampleRows: 20 } } });
    const cm = e.fake.state.get('configmaps', NS, name)!;
    expect(JSON.parse(cm.data['profile.json'])).toEqual(small);
    expect(Buffer.from(cm.binaryData['model.onnx'], 'base64').equals(model.onnx)).toBe(true);
    const args = (): string[] => e.fake.state.get('deployments', NS, name)!.spec.template.spec.containers[0].args as string[];
    expect(args().slice(args().indexOf('--profile'))).toEqual(['--profile', '/model/profile.json']);
    expect(validateSent(e.fake.requests)).toContain('ConfigMap');
    expect((await e.maas(['status', d.id])).stdout).toMatch(/Profile: +\/model\/profile\.json \(20 rows, sample of 20\)/);

    // Too large with the description and the model file: the aggregates go, the sample rows do not.
    const big = harProfile(8000);
    await storeProfile(e, big);
    const r = await e.maas(['restart', d.id, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const restarted = JSON.parse(r.stdout) as DeploymentRecord;
    expect(restarted).toMatchObject({ state: 'ready', runtime: { profile: { file: '/model/profile.json', rows: 8000, sampleRows: 0 } } });
    expect((restarted.runtime.profile as { note: string }).note).toContain('profile shipped without its 8000 sample rows');
    const shipped = JSON.parse(e.fake.state.get('configmaps', NS, name)!.data['profile.json']) as ReferenceProfile;
    expect(shipped.sample.rows).toEqual([]);
    expect(shipped.features).toEqual(big.features);
    expect(args()).toContain('--profile');
    validateSent(e.fake.requests);
    expect((await e.maas(['status', d.id])).stdout).toContain('sample of 0); profile shipped without its 8000 sample rows');
  });

  it('takes the namespace from the kubeconfig context when -n is not given', async () => {
    const e = await env({ contextNamespace: 'team-a' });
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes']);
    expect(d).toMatchObject({ state: 'ready', namespace: 'team-a' });
    expect(objectsIn(e, 'team-a')).toHaveLength(4);
  });

  it('strict mode checks the node, then pins the pods to it', async () => {
    const e = await env({
      nodes: [
        { name: 'n1', cpu: '4' },
        { name: 'n2', cpu: '4' },
      ],
    });
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--mode', 'strict', '--node', 'n2']);
    expect(d).toMatchObject({ state: 'ready', mode: 'strict', node: 'n2' });
    expect(e.fake.state.list('pods', NS).map((p): unknown => p.spec.nodeName)).toEqual(['n2']);
    const affinity = e.fake.state.get('deployments', NS, 'har-classifier-v1-n2')!.spec.template.spec.affinity;
    expect(affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields).toEqual([
      { key: 'metadata.name', operator: 'In', values: ['n2'] },
    ]);
    const reads = e.fake.requests.filter(
      (r) => r.path === '/api/v1/nodes/n2' || r.query.includes('spec.nodeName%3Dn2') || r.query.includes('spec.nodeName=n2'),
    );
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses strict placement onto a missing, a NotReady or a full node before creating anything', async () => {
    const e = await env({
      nodes: [
        { name: 'ok', cpu: '4' },
        { name: 'sick', ready: false },
        { name: 'full', cpu: '1', memory: '2Gi' },
      ],
    });
    e.fake.addPod({ namespace: 'other', name: 'db-0', nodeName: 'full', cpu: '900m', memory: '1Gi' });
    const cases: Array<[string, number, RegExp]> = [
      ['ghost', 4, /node "ghost" does not exist/],
      ['sick', 6, /node "sick" is not Ready \(KubeletNotReady/],
      ['full', 8, /node "full" has not enough room: cpu: needs 250m, free 100m of 1 allocatable/],
    ];
    for (const [node, code, message] of cases) {
      const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--mode', 'strict', '--node', node]);
      expect(r.code, node).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('strict placement refused');
      expect(r.stderr).toContain('nothing was created');
      expect(r.stderr).toMatch(/hint: .*--node/);
    }
    // Nothing reached the cluster: no namespace, no objects, not a single write.
    expect(e.fake.state.get('namespaces', undefined, NS)).toBeUndefined();
    expect(e.fake.state.list('configmaps').filter((c) => c.metadata.labels?.['app.kubernetes.io/managed-by'] === 'maas')).toEqual([]);
    expect(e.writes()).toEqual([]);
    const ps = await e.json<DeploymentRecord[]>(['ps']);
    expect(ps.every((x) => x.state === 'failed' && /strict placement refused/.test(x.reason ?? ''))).toBe(true);
    // Nothing was created, so they go without a word to the cluster, even with the kubeconfig gone.
    const requests = e.fake.requests.length;
    for (const x of ps)
      expect((await e.json<{ outcome: string }>(['decommission', x.id, '--purge'], { KUBECONFIG: join(e.dir, 'gone.yaml') })).outcome).toBe('purged');
    expect(await e.json<DeploymentRecord[]>(['ps'])).toEqual([]);
    expect(e.fake.requests.length).toBe(requests);
  });

  it('applying the same objects twice changes nothing (same resourceVersions, no error)', async () => {
    const e = await env();
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', 'a']);
    const name = 'har-classifier-v1';
    const versions = () =>
      Object.fromEntries(
        ['configmaps', 'deployments', 'services', 'horizontalpodautoscalers'].map((p) => [
          p,
          e.fake.state.get(p, NS, name)?.metadata.resourceVersion as string,
        ]),
      );
    const before = versions();

    // A second deploy of the same model finds it ready: it adds the consumer and sends nothing.
    const writes = e.writes().length;
    const again = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', 'b']);
    expect(again).toMatchObject({ id: d.id, outcome: 'reused', consumers: ['a', 'b'] });
    expect(e.writes().length).toBe(writes);

    // The target's start itself, twice more: every apply is a no-op for the API server.
    const record = { ...d, runtime: d.runtime };
    const version = await e.model('har-classifier', '1');
    const target = e.target();
    for (let i = 0; i < 2; i++) {
      const started = await target.start(record, version, () => {});
      expect(started.runtime).toMatchObject({ namespace: NS, name });
    }
    expect((await target.observe(record)).state).toBe('ready');
    expect(versions()).toEqual(before);
    expect(validateSent(e.fake.requests).length).toBeGreaterThan(writes);
  });

  it('a deploy interrupted half-way (only the ConfigMap applied) converges when run again', async () => {
    const e = await env();
    const name = 'har-classifier-v1';
    e.fake.answer({ path: `/apis/apps/v1/namespaces/ml/deployments/${name}`, method: 'PATCH', status: 500 });
    const failed = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    expect(failed.code).toBe(6);
    expect(failed.stderr).toMatch(/the API server .* failed to apply Deployment ml\/har-classifier-v1 \(500 InternalError\)/);
    expect(failed.stderr).toMatch(/hint: retry/);
    expect(objectsIn(e, NS)).toEqual([`configmaps/${name}`]);
    const [record] = await e.json<DeploymentRecord[]>(['ps']);
    // The failed start recorded the ConfigMap it applied (a purge would remove it); ps looks and
    // says what is missing, without writing anything.
    expect(record).toMatchObject({ state: 'failed', reason: expect.stringContaining('objects missing in namespace ml: Deployment har-classifier-v1') });
    expect(record!.runtime).toMatchObject({ objects: [`ConfigMap/${name}`] });
    const cmVersion = e.fake.state.get('configmaps', NS, name)!.metadata.resourceVersion as string;

    // The same names: the next deploy adopts what the interrupted one left.
    const again = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS]);
    expect(again).toMatchObject({ id: record!.id, state: 'ready', outcome: 'restarted' });
    expect(objectsIn(e, NS)).toHaveLength(4);
    expect(e.fake.state.get('configmaps', NS, name)!.metadata.resourceVersion).toBe(cmVersion);
    validateSent(e.fake.requests);
  });

  it('explains a rollout that cannot pull its image, and a redeploy with a good image recovers', async () => {
    const e = await env();
    const bad = 'ghcr.io/acme/does-not-exist:1';
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--image', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `deployment d-[0-9a-f]+ failed: pod har-classifier-v1-\\w+-\\w+ cannot pull image "${bad}" for container "server" \\((ErrImagePull|ImagePullBackOff)\\)`,
      ),
    );
    expect(r.stderr).toContain('check the image name and tag');
    const [record] = await e.json<DeploymentRecord[]>(['ps']);
    expect(record).toMatchObject({ state: 'failed', runtime: { image: bad } });

    const ok = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--image', 'ghcr.io/acme/maas-server:0.1.0']);
    expect(ok).toMatchObject({ id: record!.id, state: 'ready', outcome: 'restarted', runtime: { image: 'ghcr.io/acme/maas-server:0.1.0' } });
  });

  it('explains a rollout that cannot be scheduled', async () => {
    const e = await env({ nodes: [{ name: 'tiny', cpu: '200m', memory: '8Gi' }] });
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot be scheduled: 0\/1 nodes are available: 1 Insufficient cpu/);
    expect(r.stderr).toContain('free capacity on the nodes');
  });

  it('explains a crash loop with the exit code; logs show the previous container', async () => {
    const e = await env();
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--image', 'ghcr.io/acme/maas-server:crashes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `container "server" in pod har-classifier-v1-\\S+ keeps failing \\(CrashLoopBackOff, \\d+ restarts?\\); last exit code ${CRASH.exitCode} \\(Error\\)`,
      ),
    );
    const [record] = await e.json<DeploymentRecord[]>(['ps']);
    const logs = await e.maas(['logs', record!.id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`--- previous container (restarted `);
    expect(logs.stdout).toContain(`---\n${CRASH.logs}`);
  });

  it('explains a readiness probe that keeps failing at the deadline', async () => {
    const e = await env();
    const r = await e.maas([
      'deploy',
      'har-classifier@1',
      '--target',
      'kubernetes',
      '-n',
      NS,
      '--timeout',
      '2s',
      '--image',
      'ghcr.io/acme/maas-server:never-ready',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`runs but is not ready: Readiness probe failed: ${NOT_READY}`);
    expect(r.stderr).toMatch(/container "server" in pod har-classifier-v1-\S+ runs but is not ready/);
  });

  it('--no-create-namespace refuses a missing namespace and creates nothing', async () => {
    const e = await env();
    const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'absent', '--no-create-namespace']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('namespace "absent" does not exist; nothing was created');
    expect(r.stderr).toContain('kubectl create namespace absent');
    expect(e.writes()).toEqual([]);
  });

  it('an artifact too large for a ConfigMap with a file URI is refused with what to do', async () => {
    const e = await env();
    const big = join(e.dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'model.onnx'), Buffer.alloc(800 * 1024, 7));
    await e.register({ ...model.description, metadata: { ...model.description.metadata, version: '2' } }, join(big, 'model.onnx'));
    const r = await e.maas(['deploy', 'har-classifier@2', '--target', 'kubernetes', '-n', NS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the artifact of har-classifier@2 \(819200 bytes\) is too large to ship in a ConfigMap .* cannot download its URI file:/);
    expect(r.stderr).toMatch(/hint: host the model file at an https:\/\/ URL/);
    expect(e.writes()).toEqual([]);
  });
});

// A kubernetes deployment in use and at its end: predict and feedback through the API server's
// Service proxy to a real model server of the deployed model, then the two-step decommission
// with two consumers (release, scale to zero and cache, redeploy, purge) and `maas gc`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, harToRequests } from '../../examples/har/generate.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import { seededRandom } from '../../src/core/clock.js';
import { ProfileBuilder } from '../../src/drift/profile.js';
import type { DriftReport } from '../../src/drift/report.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import { REPO_ROOT, tempDir } from '../support/cli.js';
import { policyFromRbacYaml } from '../support/fake-kube/index.js';
import { startKubeEnv, trainExampleModel, validateSent, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const work = tempDir('maas-kube-serve-');
let model: TrainedModel;
const envs: KubeEnv[] = [];
const servers: ModelServer[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const e of envs.splice(0)) await e.close();
});

async function env(): Promise<KubeEnv> {
  const e = await startKubeEnv(model, { nodes: [{ name: 'n1', cpu: '4', memory: '8Gi' }] });
  envs.push(e);
  return e;
}

type Deployed = DeploymentRecord & { outcome: string };

const deployArgs = (consumer: string) => ['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--consumer', consumer];

describe('drift check through the API server proxy', () => {
  it("reads the model server's drift report of its window, and exits 3 with --fail-on-drift on shifted traffic", async () => {
    const e = await env();
    const d = await e.json<Deployed>(deployArgs('ops'));
    const features = model.description.spec.features.map((f) => ({ name: f.name, type: f.type }));
    const train = generateHar({ rows: 2000, seed: 1 });
    const builder = new ProfileBuilder(features, { random: seededRandom(1) });
    for (const r of harToRequests(train)) builder.add(r);
    const profile = builder.finish({ source: { uri: 'file:///train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
    const server = await startModelServer({ description: model.description, artifactPath: join(model.dir, 'model.onnx'), host: '127.0.0.1', port: 0, profile });
    servers.push(server);
    await server.ready;
    e.fake.registerBackend(NS, 'har-classifier-v1', server.url);
    writeFileSync(join(e.dir, 'shifted.json'), JSON.stringify(harToRequests(generateHar({ rows: 400, seed: 9, shift: 2 }))));
    expect((await e.maas(['predict', d.id, '--data', 'shifted.json', '-o', 'name'])).code).toBe(0);

    const r = await e.maas(['drift', 'check', d.id, '--fail-on-drift', '-o', 'json']);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as DriftReport;
    expect(report.subject).toEqual({ model: 'har-classifier', version: '1', deployment: d.id });
    expect(report.current.rows).toBe(400);
    expect(report.dataset.drifted).toBe(true);
    const proxied = e.fake.requests.filter((q) => q.resource === 'services/proxy').map((q) => q.path);
    expect(proxied.some((p) => p.endsWith('/proxy/v2/models/har-classifier/drift'))).toBe(true);
  });
});

describe('predict and feedback through the API server proxy', () => {
  it('reach the real model server behind the Service, with the kubeconfig credentials', async () => {
    const e = await env();
    const d = await e.json<Deployed>(deployArgs('app'));
    expect(d.state).toBe('ready');
    // The pod of the substitute runs no process; the Service proxy forwards to a real `maas serve`
    // of the same description and artifact, in this process.
    const server = await startModelServer({ description: model.description, artifactPath: join(model.dir, 'model.onnx'), host: '127.0.0.1', port: 0 });
    servers.push(server);
    await server.ready;
    const name = 'har-classifier-v1';
    e.fake.registerBackend(NS, name, server.url);

    const rows = harToRequests(generateHar({ rows: 3, seed: 5 }));
    writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(rows));
    const predicted = await e.json<{ id: string; model_name: string; outputs: Array<{ name: string; shape: number[]; data: unknown[] }> }>([
      'predict',
      d.id,
      '--data',
      'rows.json',
    ]);
    expect(predicted.model_name).toBe('har-classifier');
    const labels = predicted.outputs.find((o) => o.name === 'label')!;
    expect(labels.shape).toEqual([3]);
    for (const l of labels.data) expect(model.description.spec.outputs?.labels).toContain(l);

    const table = await e.maas(['predict', d.id, '--data', 'rows.json']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ROW\s+ID\s+LABEL\s+CONFIDENCE/);

    const fb = await e.json<{ accepted: number }>(['feedback', d.id, '--id', `${predicted.id}:0`, '--label', 'walking']);
    expect(fb.accepted).toBe(1);

    // Both went through the API server's proxy subresource of the deployment's Service.
    const proxied = e.writes().filter((s) => s.path.includes('/proxy/'));
    expect(proxied.map((s) => `${s.method} ${s.path}`)).toEqual([
      `POST /api/v1/namespaces/${NS}/services/${name}:http/proxy/v2/models/har-classifier/infer`,
      `POST /api/v1/namespaces/${NS}/services/${name}:http/proxy/v2/models/har-classifier/infer`,
      `POST /api/v1/namespaces/${NS}/services/${name}:http/proxy/v2/models/har-classifier/feedback`,
    ]);
    const users = e.fake.requests.filter((r) => r.resource === 'services/proxy').map((r) => r.user);
    expect(new Set(users)).toEqual(new Set(['system:serviceaccount:maas:maas']));
  });

  it('a model server that is not up yet answers 503 through the proxy: unavailable, exit 6', async () => {
    const e = await env();
    const d = await e.json<Deployed>(deployArgs('app'));
    e.fake.registerBackend(NS, 'har-classifier-v1', 'http://127.0.0.1:9');
    writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(harToRequests(generateHar({ rows: 1, seed: 5 }))));
    const r = await e.maas(['predict', d.id, '--data', 'rows.json']);
    expect(r.code).toBe(6);
  });
});

describe('decommission and gc', () => {
  it('two consumers: the first release keeps it, the last scales it to zero (cached); redeploy serves again; purge removes every object', async () => {
    const e = await env();
    const d = await e.json<Deployed>(deployArgs('alice'));
    const bob = await e.json<Deployed>(deployArgs('bob'));
    expect(bob).toMatchObject({ id: d.id, outcome: 'reused', consumers: ['alice', 'bob'] });
    const name = 'har-classifier-v1';
    const replicas = () => e.fake.state.get('deployments', NS, name)?.spec.replicas as number | undefined;

    const released = await e.json<{ outcome: string; remainingConsumers: string[] }>(['decommission', d.id, '--consumer', 'alice']);
    expect(released).toMatchObject({ outcome: 'released', remainingConsumers: ['bob'] });
    expect(replicas()).toBe(1);
    expect((await e.json<DeploymentRecord>(['status', d.id])).state).toBe('ready');

    const cached = await e.json<{ outcome: string; deployment: DeploymentRecord }>(['decommission', d.id, '--consumer', 'bob']);
    expect(cached.outcome).toBe('cached');
    expect(replicas()).toBe(0);
    expect(e.fake.state.managers('deployments', NS, name).map((m) => m.manager)).toEqual(expect.arrayContaining(['maas', 'maas-decommission']));
    // The pod template maas applied is intact; only the count changed.
    expect(e.fake.state.get('deployments', NS, name)!.spec.template.spec.containers[0].image).toBe('ghcr.io/maas-dev/maas:0.1.0');
    e.fake.settle();
    expect(e.fake.state.list('pods', NS)).toEqual([]);
    expect(await e.json<DeploymentRecord>(['status', d.id])).toMatchObject({ state: 'cached', consumers: [] });
    const logs = await e.maas(['logs', d.id]);
    expect(logs).toMatchObject({ code: 0, stdout: '' });
    writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(harToRequests(generateHar({ rows: 1, seed: 5 }))));
    const refused = await e.maas(['predict', d.id, '--data', 'rows.json']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('(har-classifier@1 on kubernetes) is scaled to zero (cached)');
    expect(refused.stderr).toContain('maas restart');

    // Deploying it again releases the decommission manager's replica count: the HPA takes over.
    const back = await e.json<Deployed>(deployArgs('carol'));
    expect(back).toMatchObject({ id: d.id, state: 'ready', outcome: 'restarted', consumers: ['carol'] });
    expect(replicas()).toBe(1);
    expect(e.fake.state.managers('deployments', NS, name).map((m) => m.manager)).not.toContain('maas-decommission');

    expect((await e.json<{ outcome: string }>(['decommission', d.id, '--consumer', 'carol'])).outcome).toBe('cached');
    const purged = await e.json<{ outcome: string }>(['decommission', d.id, '--purge']);
    expect(purged.outcome).toBe('purged');
    expect(e.labelled(name)).toEqual([]);
    expect(e.fake.state.list('services', NS)).toEqual([]);
    expect(await e.json<DeploymentRecord[]>(['ps'])).toEqual([]);
    expect(validateSent(e.fake.requests).filter((k) => k === 'Deployment').length).toBeGreaterThanOrEqual(5);
  });

  it('purge is refused while another consumer uses it; gc --all destroys cached deployments', async () => {
    const e = await env();
    const d = await e.json<Deployed>(deployArgs('alice'));
    await e.json(deployArgs('bob'));
    const inUse = await e.maas(['decommission', d.id, '--consumer', 'alice', '--purge']);
    expect(inUse.code).toBe(5);
    expect(inUse.stderr).toContain('still used by bob');
    await e.json(['decommission', d.id, '--consumer', 'alice']);
    await e.json(['decommission', d.id, '--consumer', 'bob']);
    const dry = await e.json<{ dryRun: boolean; destroyed: string[] }>(['gc', '--all', '--dry-run']);
    expect(dry).toEqual({ dryRun: true, destroyed: [d.id], artifacts: [] });
    expect(e.labelled('har-classifier-v1').length).toBeGreaterThan(0);
    const gc = await e.json<{ destroyed: string[] }>(['gc', '--all']);
    expect(gc.destroyed).toEqual([d.id]);
    expect(e.labelled('har-classifier-v1')).toEqual([]);
  });
});

describe('with exactly the permissions of manifests/rbac.yaml', () => {
  it('the ServiceAccount can run the whole lifecycle in its namespace, strict placement included', async () => {
    const policy = policyFromRbacYaml(readFileSync(join(REPO_ROOT, 'manifests/rbac.yaml'), 'utf8'), 'system:serviceaccount:maas:maas');
    const e = await startKubeEnv(model, { nodes: [{ name: 'n1' }], namespaces: ['maas'], policy });
    envs.push(e);
    const d = await e.json<Deployed>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'maas', '--mode', 'strict', '--node', 'n1']);
    expect(d.state).toBe('ready');
    expect((await e.maas(['logs', d.id])).code).toBe(0);
    const server = await startModelServer({ description: model.description, artifactPath: join(model.dir, 'model.onnx'), host: '127.0.0.1', port: 0 });
    servers.push(server);
    await server.ready;
    e.fake.registerBackend('maas', 'har-classifier-v1-n1', server.url);
    writeFileSync(join(e.dir, 'rows.json'), JSON.stringify(harToRequests(generateHar({ rows: 1, seed: 5 }))));
    expect((await e.maas(['predict', d.id, '--data', 'rows.json'])).code).toBe(0);
    expect((await e.json<{ outcome: string }>(['decommission', d.id])).outcome).toBe('cached');
    expect((await e.json<{ outcome: string }>(['decommission', d.id, '--purge'])).outcome).toBe('purged');
    expect(e.labelled('har-classifier-v1-n1')).toEqual([]);
    expect(e.fake.requests.filter((r) => r.status === 403)).toEqual([]);
    // Outside its namespace the same account is refused, with the missing permission named.
    const elsewhere = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'team-b']);
    expect(elsewhere.code).toBe(8);
    expect(elsewhere.stderr).toContain('cannot patch resource "configmaps" in API group "" in the namespace "team-b"');
  });
});

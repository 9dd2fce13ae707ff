// `maas retrain DEPLOYMENT --feedback --target kubernetes` on a strict deployment, through the
// command against the API server substitute: the whole data path runs in one Job pinned to the
// deployment's node (assemble, train, evaluate), what comes back is the model and aggregates, and
// the new version is registered with the node's counts and comparison and rolled out when better;
// the token Secret, the Job and the ConfigMap are gone afterwards. Locally the command refuses,
// a dry run creates nothing, and a failing step registers nothing.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RetrainResult } from '../../src/app/retrain.js';
import type { Comparison } from '../../src/app/compare.js';
import { seededRandom } from '../../src/core/clock.js';
import { EXIT } from '../../src/core/errors.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import { formatStepResult, PLAN_ENV, type AssembleResult, type EvaluateResult, type InClusterPlan } from '../../src/retrain/in-cluster.js';
import { comparePredictions } from '../../src/retrain/comparison.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { END_MARKER, FILE_MARKER } from '../../src/targets/kubernetes/job-objects.js';
import { labelledSecretName } from '../../src/targets/kubernetes/names.js';
import { strictAffinity } from '../../src/targets/kubernetes/objects.js';
import { tempDir } from '../support/cli.js';
import type { Obj } from '../support/fake-kube/types.js';
import { startKubeEnv, trainExampleModel, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const NODE = 'n2';
const work = tempDir('maas-kube-retrain-strict-');
let model: TrainedModel;
const envs: KubeEnv[] = [];
const servers: ModelServer[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
  model.description.spec.training = {
    ...model.description.spec.training,
    code: { ...model.description.spec.training?.code, image: 'registry.example/har-train:1' },
  };
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const e of envs.splice(0)) await e.close();
});

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** A cluster with three nodes and the example model deployed strictly on NODE (its pods ready). */
async function strictDeployment(): Promise<{ e: KubeEnv; d: DeploymentRecord }> {
  const e = await startKubeEnv(model, {
    namespaces: [NS],
    nodes: [
      { name: 'n1', cpu: '4', memory: '8Gi' },
      { name: NODE, cpu: '4', memory: '8Gi' },
      { name: 'n3', cpu: '4', memory: '8Gi' },
    ],
  });
  envs.push(e);
  // The description names ./train.csv; the harness registers v1 without a profile, so retrain
  // resolves that path from the working directory: the base rows are these 10.
  copyFileSync(join(model.dir, 'train.csv'), join(e.dir, 'train.csv'));
  const d = await e.json<DeploymentRecord>(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--mode', 'strict', '--node', NODE]);
  expect(d).toMatchObject({ state: 'ready', mode: 'strict', node: NODE });
  // The Service's backend: a real model server of the example (no reference profile).
  const server = await startModelServer({ description: model.description, artifactPath: join(model.dir, 'model.onnx'), host: '127.0.0.1', port: 0 });
  servers.push(server);
  await server.ready;
  e.fake.registerBackend(NS, String(d.runtime.name), server.url);
  return { e, d };
}

const assembled: AssembleResult = {
  step: 'assemble',
  labelled: 200,
  counts: { base: 10, feedback: 140, duplicates: 1, contradictions: 0, total: 149 },
  weighting: { mode: 'all', feedbackWeight: 1, reason: 'no concept drift: every row once' },
  classBalance: { walking: 50, sitting: 49, standing: 50 },
  holdout: 60,
  feedback: { digest: `sha256:${'cd'.repeat(32)}`, rows: 140 },
  window: { since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' },
};

/** A real comparison on 60 held-out rows: the challenger is right on 15 more of them (significant). */
function betterComparison(): Comparison {
  const labels = ['walking', 'sitting', 'standing'];
  const truth = Array.from({ length: 60 }, (_, i) => labels[i % 3]!);
  const wrong = (l: string) => labels[(labels.indexOf(l) + 1) % 3]!;
  const a = truth.map((t, i) => (i < 20 ? wrong(t) : t));
  const b = truth.map((t, i) => (i < 5 ? wrong(t) : t));
  const o = comparePredictions({ task: 'classification', truth, a, b, labels }, { metric: 'accuracy', random: seededRandom(0) });
  expect(o.verdict).toBe('better');
  return {
    a: { ref: 'har-classifier@1', metrics: o.a },
    b: { ref: 'har-classifier@2', metrics: o.b },
    primary: o.primary,
    test: o.test,
    verdict: o.verdict,
    rows: 60,
    reason: o.reason,
    source: 'the newest 60 labelled rows on the node (not trained on)',
    target: 'activity',
    unlabelled: 0,
    margin: 0,
    alpha: 0.05,
  };
}

/** The produced description: version 2 of the example. */
function produced(): ModelDescription {
  const p = structuredClone(model.description);
  p.metadata.version = '2';
  return p;
}

const files = (description: ModelDescription) =>
  `${FILE_MARKER}model.onnx\n${b64(model.onnx)}\n${FILE_MARKER}model.yaml\n${b64(stringify(description))}\n${END_MARKER}\n`;

/** The deployment's objects (Deployment and Service name). */
const objectOf = (d: DeploymentRecord): string => String(d.runtime.name);

/** No Job, no token Secret and no ConfigMap but the deployment's own are left. */
function nothingLeft(e: KubeEnv, d: DeploymentRecord): void {
  expect(e.fake.state.list('jobs', NS)).toEqual([]);
  expect(e.fake.state.list('secrets', NS)).toEqual([]);
  expect(e.fake.state.list('configmaps', NS).map((c): unknown => c.metadata.name)).toEqual([objectOf(d)]);
}

function planOf(job: Obj, container: 'assemble' | 'evaluate'): { raw: string; plan: InClusterPlan } {
  const spec = job.spec.template.spec;
  const c = [...spec.initContainers, ...spec.containers].find((x: Obj) => x.name === container) as Obj;
  const raw = String(c.env.find((v: Obj) => v.name === PLAN_ENV).value);
  return { raw, plan: JSON.parse(raw) as InClusterPlan };
}

describe('maas retrain --feedback --target kubernetes on a strict deployment', () => {
  it('assembles, trains and compares in one Job on the node, registers with its results and rolls out', async () => {
    const { e, d } = await strictDeployment();
    const object = objectOf(d);
    const from = e.fake.requests.length;
    const comparison = betterComparison();
    const evaluated: EvaluateResult = { step: 'evaluate', comparison: comparison as unknown as Record<string, unknown> };
    e.fake.scriptJob({
      outcome: 'succeeded',
      logs: {
        assemble: `waiting for the server to see the token\nlabelled rows: 200\n${formatStepResult(assembled)}\n`,
        train: 'epoch 1\ndone\n',
        // The produced description names ./train.csv (the data on the node), which is not returned.
        evaluate: `champion 0.6667, challenger 0.9167\n${formatStepResult(evaluated)}\n${files(produced())}`,
      },
    });
    const run = await e.maas(['retrain', d.id, '--feedback', '--target', 'kubernetes', '-n', NS, '-o', 'json']);
    expect(run.code, run.stderr).toBe(EXIT.OK);
    const r = JSON.parse(run.stdout) as RetrainResult;

    expect(r).toMatchObject({ status: 'promoted', champion: 'har-classifier@1', challenger: 'har-classifier@2', deployment: d.id });
    expect(r.onNode).toEqual({ node: NODE, holdout: 0.3, baseRows: 10 });
    expect(r.trainingSet).toEqual({ counts: assembled.counts, weighting: assembled.weighting, classBalance: assembled.classBalance, holdout: 60 });
    expect(r.comparison).toEqual(comparison);
    expect(r.lineage).toMatchObject({ parentVersion: '1', trigger: 'manual', target: 'kubernetes', feedbackWindow: assembled.window });
    expect(r.lineage!.inputs).toEqual([
      expect.objectContaining({ source: expect.stringMatching(/train\.csv$/), rows: 10 }),
      { source: `feedback:${d.id}`, digest: assembled.feedback.digest, rows: assembled.feedback.rows },
    ]);
    expect(r.rollout).toMatchObject({ from: 'har-classifier@1', to: 'har-classifier@2' });
    // The drift check went to the server through the service proxy; without a profile it has no report (404), and the run went on.
    expect(r.drift).toBeUndefined();
    const driftCall = e.fake.requests.slice(from).find((q) => q.path.includes('/proxy/') && q.path.endsWith('/drift'));
    expect(driftCall?.method).toBe('GET');
    // The steps' output streamed to stderr, without the result lines and the files.
    expect(r.training?.logTail).toEqual([
      'waiting for the server to see the token',
      'labelled rows: 200',
      'epoch 1',
      'done',
      'champion 0.6667, challenger 0.9167',
    ]);
    expect(run.stderr).not.toContain('--- maas-');

    // Registered (without the data file the description names, which stayed on the node) and rolled out on the same node.
    expect((await e.model('har-classifier', '2')).version).toBe('2');
    const status = await e.json<DeploymentRecord>(['status', d.id]);
    expect(status).toMatchObject({ version: '2', state: 'ready', node: NODE });
    const live = e.fake.state.get('deployments', NS, object)!;
    expect(live.spec.template.metadata.annotations['maas.dev/model-ref']).toBe('har-classifier@2');
    expect(live.spec.template.spec.affinity).toEqual(strictAffinity(NODE));
    expect(e.fake.state.list('pods', NS).map((p): unknown => p.spec.nodeName)).toEqual([NODE]);

    // What was created for the run: the token Secret, the base data, the Job pinned to the node.
    const created = e.fake.requests.slice(from).filter((q) => q.method === 'POST' && ['secrets', 'configmaps', 'jobs'].includes(q.resource ?? ''));
    expect(created.map((q) => `${q.resource} ${q.status}`)).toEqual(['secrets 201', 'configmaps 201', 'jobs 201']);
    const [secret, configMap, job] = created.map((q) => JSON.parse(q.body!) as Obj) as [Obj, Obj, Obj];
    expect(secret.metadata.name).toBe(labelledSecretName(object));
    expect(String(configMap.data['train.csv']).trim().split('\n')).toHaveLength(11); // the header and the 10 base rows
    const pod = job.spec.template.spec as { affinity: unknown; initContainers: Obj[]; containers: Obj[]; volumes: unknown[] };
    expect(pod.affinity).toEqual(strictAffinity(NODE));
    expect(pod.initContainers.map((c): unknown => c.name)).toEqual(['assemble', 'train']);
    expect(pod.containers.map((c): unknown => c.name)).toEqual(['evaluate']);
    expect(pod.initContainers[1]?.image).toBe('registry.example/har-train:1');
    expect(pod.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: labelledSecretName(object) }) }));
    const { raw, plan } = planOf(job, 'assemble');
    expect(planOf(job, 'evaluate').plan).toEqual(plan);
    expect(plan).toMatchObject({
      server: `http://${object}.${NS}.svc:80`,
      champion: 'har-classifier@1',
      challenger: 'har-classifier@2',
      target: 'activity',
      task: 'classification',
      holdout: 0.3,
      features: model.description.spec.features.map((f) => f.name),
    });
    // Settings and names only: no row travels in the plan (the base rows go in the ConfigMap).
    expect(Object.keys(plan).sort()).toEqual(
      [
        'server',
        'model',
        'champion',
        'challenger',
        'features',
        'target',
        'task',
        'holdout',
        'weighting',
        'conceptDrift',
        'minHoldoutRows',
        'waitSeconds',
        'championDescription',
        'championArtifact',
      ].sort(),
    );
    for (const row of String(configMap.data['train.csv']).trim().split('\n').slice(1)) expect(raw).not.toContain(row);

    // All three are gone: the Secret first (its absence closes the server to labelled requests).
    nothingLeft(e, d);
    const deletes = e.fake.requests.slice(from).filter((q) => q.method === 'DELETE' && ['secrets', 'configmaps', 'jobs'].includes(q.resource ?? ''));
    expect(deletes.map((q) => q.resource)).toEqual(['secrets', 'jobs', 'configmaps']);
  });

  it('says in its human output that the labelled rows stayed on the node', async () => {
    const { e, d } = await strictDeployment();
    const evaluated: EvaluateResult = { step: 'evaluate', comparison: betterComparison() as unknown as Record<string, unknown> };
    e.fake.scriptJob({
      outcome: 'succeeded',
      logs: { assemble: `${formatStepResult(assembled)}\n`, train: 'epoch 1\ndone\n', evaluate: `${formatStepResult(evaluated)}\n${files(produced())}` },
    });
    const r = await e.maas(['retrain', d.id, '--feedback', '--target', 'kubernetes', '-n', NS, '--promote', 'never']);
    expect(r.code, r.stderr).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/har-classifier@2 registered; not rolled out \(--promote never\)/);
    expect(r.stdout).toMatch(new RegExp(`on node ${NODE}: all labelled rows stay there, joined with 10 base rows; 30 % of them held out to compare there`));
    expect(r.stdout).toMatch(/training set: 149 rows \(10 from data, 140 feedback/);
    expect(r.stdout).toMatch(/compare on 60 held-out rows: accuracy har-classifier@1 0\.6667 vs har-classifier@2 0\.9167/);
    const said = `${r.stdout}\n${r.stderr}`;
    expect(said).toContain(`feedback: stays on node ${NODE}`);
    expect(said).toMatch(/training set on the node: 149 rows/);
    expect(said).toMatch(/compare \(on the node\)/);
    expect(r.stderr).toContain('  | epoch 1');
    expect(await e.json<DeploymentRecord>(['status', d.id])).toMatchObject({ version: '1' });
    nothingLeft(e, d);
  });

  it('refuses to train the feedback here (local target) and names the flag that trains it on the node', async () => {
    const { e, d } = await strictDeployment();
    const from = e.fake.requests.length;
    const r = await e.maas(['retrain', d.id, '--feedback']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toContain(`deployment ${d.id} is placed strictly on node ${NODE}: its labelled rows never leave that node`);
    expect(r.stderr).toContain('--target kubernetes');
    expect(e.fake.requests.slice(from).filter((q) => q.method !== 'GET')).toEqual([]);
    await expect(e.model('har-classifier', '2')).rejects.toThrow(/not registered/);
  });

  it('plans without creating anything on a dry run', async () => {
    const { e, d } = await strictDeployment();
    const from = e.fake.requests.length;
    const r = await e.json<RetrainResult>(['retrain', d.id, '--feedback', '--target', 'kubernetes', '-n', NS, '--dry-run']);
    expect(r).toMatchObject({ status: 'planned', challenger: 'har-classifier@2', onNode: { node: NODE, holdout: 0.3, baseRows: 10 } });
    expect(r.reason).toBe(`would train har-classifier@2 in a Job on node ${NODE} on 10 base rows and the labelled feedback there`);
    expect(r.trainingSet).toBeUndefined();
    // Only the drift check went to the cluster (through the service proxy): nothing was created.
    expect(e.fake.requests.slice(from).filter((q) => q.method !== 'GET' && !q.path.includes('/proxy/'))).toEqual([]);
    nothingLeft(e, d);
    await expect(e.model('har-classifier', '2')).rejects.toThrow(/not registered/);
  });

  it('explains a failing train step by name with its log tail, registers nothing and leaves nothing behind', async () => {
    const { e, d } = await strictDeployment();
    e.fake.scriptJob({
      outcome: 'failed',
      container: 'train',
      exitCode: 2,
      logs: {
        assemble: `assembled 149 rows\n${formatStepResult(assembled)}\n`,
        train: 'loading /maas/work/train.csv\nTraceback: ValueError: could not converge\n',
      },
    });
    const r = await e.maas(['retrain', d.id, '--feedback', '--target', 'kubernetes', '-n', NS]);
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stderr).toMatch(
      new RegExp(`failed in step "train" \\(Job ${NS}/maas-train-har-classifier-[0-9a-f]{8} on node ${NODE}: BackoffLimitExceeded, exit code 2`),
    );
    expect(r.stderr).toMatch(/\| Traceback: ValueError: could not converge/);
    expect(r.stderr).toMatch(/assembled 149 rows/);
    await expect(e.model('har-classifier', '2')).rejects.toThrow(/not registered/);
    expect(await e.json<DeploymentRecord>(['status', d.id])).toMatchObject({ version: '1', state: 'ready' });
    nothingLeft(e, d);
    expect(e.fake.requests.some((q) => q.method === 'DELETE' && q.resource === 'secrets' && q.path.endsWith(labelledSecretName(objectOf(d))))).toBe(true);
  });
});

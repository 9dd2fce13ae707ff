// Retraining a strict deployment on its node, against the API server substitute: the runner reads
// the live Deployment, creates the token Secret, the data ConfigMap and the Job pinned to the
// node, streams the steps' logs in order, recovers the files and the step results from the
// evaluate log, and deletes all three objects; a failing step is explained by name; a missing or
// non-strict Deployment is refused before anything is created.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { KubeTrainingOptions, TrainingJob } from '../../src/domain/training.js';
import { formatStepResult, IN_POD, PLAN_ENV, type AssembleResult, type EvaluateResult, type InClusterPlan } from '../../src/retrain/in-cluster.js';
import { END_MARKER, FILE_MARKER } from '../../src/targets/kubernetes/job-objects.js';
import { labelledSecretName, objectName } from '../../src/targets/kubernetes/names.js';
import { buildModelObjectSet, strictAffinity } from '../../src/targets/kubernetes/objects.js';
import { ClientNodeTrainingApi, KubeTrainingRunner } from '../../src/targets/kubernetes/training-job.js';
import type { ModelObjectsInput } from '../../src/targets/kubernetes/types.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { exampleInput } from '../support/fake-kube/fixtures.js';

const NODE = 'gpu-1';
const OBJECT = objectName('har-classifier', '3', NODE);
const SECRET = labelledSecretName(OBJECT);

let fake: FakeKube;
let kc: KubeConfig;
let dir: { path: string; cleanup: () => void };
let connected: KubeTrainingOptions[];

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['ml'], nodes: [{ name: NODE, cpu: '8', memory: '16Gi' }], autoTick: false });
  kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions({ namespace: 'default' }));
  dir = tempDir('maas-kube-train-node-');
  // The base data: the header only (the description names none).
  writeFileSync(join(dir.path, 'data.csv'), 'acc_x_mean,acc_y_mean,label\n');
  connected = [];
});

afterEach(async () => {
  await fake.close();
  dir.cleanup();
});

/** A clock whose every wait is one controller round of the substitute. */
function tickingClock(): Clock {
  const manual = new ManualClock();
  return {
    now: () => manual.now(),
    sleep: async (ms) => {
      await manual.sleep(ms);
      fake.tick();
    },
  };
}

function runner(): KubeTrainingRunner {
  return new KubeTrainingRunner({
    clock: tickingClock(),
    runId: () => 'run1',
    newToken: () => 'tok-1',
    connect: async (o) => {
      connected.push(o);
      return { api: new ClientNodeTrainingApi(kc, 'fake'), namespace: o.namespace ?? 'default' };
    },
  });
}

/** The strict deployment's objects on the cluster, as `maas deploy --strict --node gpu-1` leaves them. */
async function seedDeployment(over: Partial<ModelObjectsInput> = {}): Promise<void> {
  const set = buildModelObjectSet(exampleInput({ namespace: 'ml', mode: 'strict', node: NODE, ...over }));
  const pod = set.deployment.spec!.template.spec!;
  // The server reads the labelled-rows token (optional Secret); added unless objects.ts does it already.
  if (over.mode !== 'open' && !pod.volumes!.some((v) => v.secret?.secretName === SECRET)) {
    pod.volumes!.push({ name: 'labelled-token', secret: { secretName: SECRET, optional: true } });
    pod.containers[0]!.volumeMounts!.push({ name: 'labelled-token', mountPath: IN_POD.tokenDir, readOnly: true });
  }
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: 'ml', body: set.deployment });
  await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'ml', body: set.service });
  fake.settle();
}

function record(): DeploymentRecord {
  const at = '2025-01-01T00:00:00Z';
  return {
    id: 'd-strict',
    model: 'har-classifier',
    version: '3',
    target: 'kubernetes',
    mode: 'strict',
    node: NODE,
    namespace: 'ml',
    cluster: fake.url,
    state: 'ready',
    runtime: { name: OBJECT, namespace: 'ml', context: 'fake' },
    consumers: [],
    createdAt: at,
    updatedAt: at,
    history: [],
  };
}

const plan: Omit<InClusterPlan, 'server' | 'championDescription' | 'championArtifact'> = {
  model: 'har-classifier',
  champion: 'har-classifier@3',
  challenger: 'har-classifier@4',
  features: ['acc_x_mean', 'acc_y_mean'],
  target: 'label',
  task: 'classification',
  holdout: 0.3,
  weighting: { mode: 'auto' },
  conceptDrift: false,
  minHoldoutRows: 20,
  waitSeconds: 120,
};

function job(): TrainingJob {
  const d = modelDescription({ name: 'har-classifier', version: '3' });
  d.spec.training = {
    code: { image: 'registry.example/har-train:1', command: ['python', 'train.py', '--data', '$DATA', '--out', '$OUT', '--version', '$VERSION'] },
  };
  d.spec.resources = { training: { cpu: '1', memory: '2Gi' } };
  return {
    description: d,
    dataFile: join(dir.path, 'data.csv'),
    version: '4',
    outDir: join(dir.path, 'out'),
    workDir: dir.path,
    timeoutMs: 600_000,
    target: 'kubernetes',
    // Another namespace asked for: the deployment's namespace wins (its server mounts the Secret).
    kube: { namespace: 'elsewhere' },
    inCluster: { deployment: record(), plan },
  };
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

const assembled: AssembleResult = {
  step: 'assemble',
  labelled: 120,
  counts: { base: 0, feedback: 84, duplicates: 0, contradictions: 0, total: 84 },
  weighting: { mode: 'feedback-only', feedbackWeight: 1, reason: 'no base data' },
  classBalance: { walking: 40, sitting: 44 },
  holdout: 36,
  feedback: { digest: `sha256:${'ab'.repeat(32)}`, rows: 84 },
};
const evaluated: EvaluateResult = { step: 'evaluate', comparison: { winner: 'challenger', rows: 36 } };

/** What the run created (after the seeding). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function created(from: number): Array<Record<string, any>> {
  return fake.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && (r.status ?? 0) < 300)
    .map((r) => JSON.parse(r.body!) as Record<string, unknown>);
}

function cleanedUp(from: number): void {
  expect(fake.state.list('jobs', 'ml')).toEqual([]);
  expect(fake.state.list('configmaps', 'ml')).toEqual([]);
  expect(fake.state.list('secrets', 'ml')).toEqual([]);
  const deletes = fake.requests.slice(from).filter((r) => r.method === 'DELETE');
  expect(deletes.map((r) => r.resource)).toEqual(['secrets', 'jobs', 'configmaps']);
}

describe('KubeTrainingRunner on a strict deployment', () => {
  it("runs the steps in one Job on the deployment's node, streams them, recovers files and results, and deletes everything", async () => {
    await seedDeployment();
    const from = fake.requests.length;
    const onnx = Buffer.from([0, 1, 2, 250, 251, 252]);
    fake.scriptJob({
      outcome: 'succeeded',
      logs: {
        'fetch-artifact': 'model.onnx.part: OK\n',
        assemble: `waiting for the server to see the token\nlabelled rows: 120\n${formatStepResult(assembled)}\n`,
        train: 'epoch 1\nepoch 2\n',
        evaluate: `champion 0.91, challenger 0.94\n${formatStepResult(evaluated)}\n${FILE_MARKER}model.onnx\n${b64(onnx)}\n${FILE_MARKER}model.yaml\n${b64('kind: Model\n')}\n${END_MARKER}\n`,
      },
    });
    const lines: string[] = [];
    let secretDuringRun: unknown;
    let ranOn: unknown;
    const r = await runner().train(job(), {
      onOutput: (l) => {
        lines.push(l);
        if (l === 'labelled rows: 120') secretDuringRun = fake.state.get('secrets', 'ml', SECRET);
        ranOn ??= fake.state.list('pods', 'ml').find((p) => p.metadata.labels['job-name'])?.spec.nodeName;
      },
    });
    expect(ranOn).toBe(NODE);

    // The steps' output in order, without the result lines and the files.
    expect(lines).toEqual([
      'model.onnx.part: OK',
      'waiting for the server to see the token',
      'labelled rows: 120',
      'epoch 1',
      'epoch 2',
      'champion 0.91, challenger 0.94',
    ]);
    expect(r).toMatchObject({ exitCode: 0, outDir: join(dir.path, 'out'), results: [assembled, evaluated] });
    expect(r.logTail).toEqual(lines);
    expect(readFileSync(join(dir.path, 'out', 'model.onnx'))).toEqual(onnx);
    expect(readFileSync(join(dir.path, 'out', 'model.yaml'), 'utf8')).toBe('kind: Model\n');
    // Each step's log was read as its own container, one after the other.
    const logReads = fake.requests.slice(from).filter((q) => q.path.endsWith('/log'));
    const order = [...new Set(logReads.map((q) => new URLSearchParams(q.query).get('container')))];
    expect(order).toEqual(['fetch-artifact', 'assemble', 'train', 'evaluate']);
    // Polled over several controller rounds (the init containers run one per round).
    expect(fake.requests.slice(from).filter((q) => q.method === 'GET' && q.resource === 'jobs').length).toBeGreaterThan(4);

    // Connected to the deployment's context and namespace.
    expect(connected).toEqual([{ context: 'fake', namespace: 'ml' }]);
    const objects = created(from);
    expect(objects.map((o) => `${String(o.kind)} ${String(o.metadata.namespace)}/${String(o.metadata.name)}`)).toEqual([
      `Secret ml/${SECRET}`,
      expect.stringMatching(/^ConfigMap ml\/maas-train-har-classifier-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job ml\/maas-train-har-classifier-[0-9a-f]{8}$/),
    ]);
    const [secret, configMap, jobObject] = objects as [Record<string, any>, Record<string, any>, Record<string, any>]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Buffer.from(String(secret.data.token), 'base64').toString()).toBe('tok-1');
    expect(secretDuringRun).toMatchObject({ type: 'Opaque', data: { token: b64('tok-1') } });
    expect(configMap.data).toEqual({ 'train.csv': 'acc_x_mean,acc_y_mean,label\n' });
    const pod = jobObject.spec.template.spec;
    expect(pod.affinity).toEqual(strictAffinity(NODE));
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'labelled-token', secret: expect.objectContaining({ secretName: SECRET }) }));
    const planEnv = (c: { env: Array<{ name: string; value: string }> }) => JSON.parse(c.env.find((e) => e.name === PLAN_ENV)!.value) as InClusterPlan;
    const fullPlan = planEnv(pod.containers[0]);
    expect(fullPlan).toEqual({
      ...plan,
      server: `http://${OBJECT}.ml.svc:80`,
      championDescription: '/model/model.json',
      championArtifact: '/model-artifact/model.onnx',
    });
    expect(planEnv(pod.initContainers[1])).toEqual(fullPlan);
    // The server's Service is what the plan names.
    expect(fake.state.get('services', 'ml', OBJECT)?.spec.ports[0].port).toBe(80);
    cleanedUp(from);
  });

  it('explains a failing train step by name with its log tail, and leaves nothing behind', async () => {
    await seedDeployment({ artifact: { kind: 'configmap', fileName: 'model.onnx', data: Buffer.from('onnx') } });
    const from = fake.requests.length;
    fake.scriptJob({
      outcome: 'failed',
      container: 'train',
      exitCode: 2,
      logs: { assemble: `assembled 84 rows\n${formatStepResult(assembled)}\n`, train: 'loading\nTraceback: boom\n' },
    });
    const lines: string[] = [];
    const e = await rejection(runner().train(job(), { onOutput: (l) => lines.push(l) }));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toMatch(/failed in step "train" \(Job ml\/maas-train-har-classifier-[0-9a-f]{8} on node gpu-1: BackoffLimitExceeded, exit code 2/);
    expect(e.message).toMatch(/\| Traceback: boom/);
    expect(e.details).toMatchObject({ step: 'train', exitCode: 2, logTail: ['assembled 84 rows', 'loading', 'Traceback: boom'] });
    expect(e.hint).toMatch(/training program/);
    expect(lines).toEqual(['assembled 84 rows', 'loading', 'Traceback: boom']);
    // evaluate never started, so its log was never asked for.
    expect(fake.requests.slice(from).some((q) => q.path.endsWith('/log') && q.query.includes('container=evaluate'))).toBe(false);
    cleanedUp(from);
  });

  it('names a failing assemble step and what to check', async () => {
    await seedDeployment();
    const from = fake.requests.length;
    fake.scriptJob({ outcome: 'failed', container: 'assemble', exitCode: 1, logs: { assemble: 'the server does not accept the token\n' } });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.message).toMatch(/failed in step "assemble"/);
    expect(e.hint).toMatch(/maas status d-strict/);
    cleanedUp(from);
  });

  it('stops at once when a step cannot pull its image', async () => {
    await seedDeployment();
    const from = fake.requests.length;
    fake.scriptJob({ outcome: 'waiting', container: 'train', reason: 'ErrImagePull', message: 'registry.example/har-train:1: not found' });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toMatch(/cannot pull image "registry.example\/har-train:1" for init container "train"/);
    cleanedUp(from);
  });

  it('replaces a token Secret left by a crashed run', async () => {
    await seedDeployment();
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: 'ml',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET }, type: 'Opaque', stringData: { token: 'stale' } },
    });
    const from = fake.requests.length;
    fake.scriptJob({ outcome: 'succeeded', logs: { assemble: 'assembling\n', evaluate: `${formatStepResult(evaluated)}\n${END_MARKER}\n` } });
    let during: unknown;
    const r = await runner().train(job(), { onOutput: () => (during ??= fake.state.get('secrets', 'ml', SECRET)) });
    expect(r.results).toEqual([evaluated]);
    expect(during).toMatchObject({ data: { token: b64('tok-1') } });
    const secretCalls = fake.requests.slice(from).filter((q) => q.resource === 'secrets');
    expect(secretCalls.map((q) => `${q.method} ${q.status}`)).toEqual(['POST 409', 'DELETE 200', 'POST 201', 'DELETE 200']);
    expect(fake.state.list('secrets', 'ml')).toEqual([]);
  });

  it('refuses a missing Deployment before creating anything', async () => {
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(new RegExp(`the Deployment ml/${OBJECT} of deployment d-strict is not on the cluster`));
    expect(e.hint).toMatch(/deploy har-classifier@3 again/);
    expect(fake.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('refuses a Deployment that is not strictly placed before creating anything', async () => {
    await seedDeployment({ mode: 'open', name: OBJECT });
    const from = fake.requests.length;
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toMatch(/is not strictly placed/);
    expect(fake.requests.slice(from).filter((q) => q.method !== 'GET')).toEqual([]);
  });
});

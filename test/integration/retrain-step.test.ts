// The in-cluster retraining steps end to end on loopback, without a cluster: a real model server
// (the HAR classifier, real onnxruntime) takes predictions after a concept change and their
// feedback; `maas retrain-step assemble` (in-process main(), in-pod paths under --root) reads the
// labelled rows with the token and writes the training set; the example's own trainer trains on it
// into $OUT; `maas retrain-step evaluate` compares champion and challenger on the held-out rows and
// prints the produced files and the training set's profile (no sample rows), which
// parseReturnedFiles recovers from its output as the Job runner does from the pod log; the
// recovered directory registers through trainAndRegister as an in-cluster run does, with that
// profile. Then the same against a strict server that only answers the token.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, HAR_FEATURES, HAR_TARGET } from '../../examples/har/generate.js';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';
import { main as trainHarMain } from '../../examples/har/train.js';
import { trainAndRegister } from '../../src/app/train-and-register.js';
import { ManualClock } from '../../src/core/clock.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';
import type { TrainingJob, TrainingRunner } from '../../src/domain/training.js';
import type { ReferenceProfile } from '../../src/drift/profile.js';
import { rowsToRequest } from '../../src/protocol/rows.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import {
  IN_CLUSTER_PROFILE_FILE,
  IN_POD,
  parseStepResults,
  PLAN_ENV,
  type AssembleResult,
  type EvaluateResult,
  type InClusterPlan,
} from '../../src/retrain/in-cluster.js';
import { inspectArtifact } from '../../src/serving/runtimes/index.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import { loadModelFiles } from '../../src/spec/load.js';
import { parseReturnedFiles } from '../../src/targets/kubernetes/job-objects.js';
import { runCli, tempDir } from '../support/cli.js';
import { memoryStores } from '../support/memory-stores.js';

const dir = tempDir('maas-retrain-step-it-');
const MODEL = 'har-classifier';
let model: HarModelFiles;
let open: ModelServer | undefined;
let strict: ModelServer | undefined;

async function post(server: ModelServer, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json: unknown = await res.json();
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Predictions of `rows` changed-concept windows, then their true labels as feedback; the windows' feature values. */
async function labelledTraffic(server: ModelServer, name: string, rows: number, seed: number): Promise<number[][]> {
  const data = generateHar({ rows, seed, labelShift: true });
  const records = data.rows.map((r) => Object.fromEntries(data.features.map((f, j) => [f, r[j]!])));
  await post(server, `/v2/models/${MODEL}/infer`, { ...rowsToRequest(records, model.description.spec.features), id: name });
  await post(server, `/v2/models/${MODEL}/feedback`, { feedback: data.labels.map((label, i) => ({ id: `${name}:${i}`, label })) });
  return data.rows;
}

function plan(server: ModelServer, o: Partial<InClusterPlan> = {}): InClusterPlan {
  return {
    server: server.url,
    model: MODEL,
    champion: `${MODEL}@1`,
    challenger: `${MODEL}@2`,
    features: [...HAR_FEATURES],
    target: HAR_TARGET,
    task: 'classification',
    holdout: 0.3,
    weighting: { mode: 'auto' },
    conceptDrift: true,
    minHoldoutRows: 30,
    championDescription: model.descriptionFile,
    championArtifact: join(dirname(model.descriptionFile), 'model.onnx'),
    waitSeconds: 10,
    ...o,
  };
}

/** A fresh pod root: the token Secret and the base data (the description's own training rows). */
function podRoot(name: string, token?: string): string {
  const root = join(dir.path, name);
  mkdirSync(join(root, IN_POD.tokenDir), { recursive: true });
  if (token !== undefined) writeFileSync(join(root, IN_POD.tokenFile), `${token}\n`);
  mkdirSync(join(root, dirname(IN_POD.base)), { recursive: true });
  writeFileSync(join(root, IN_POD.base), readFileSync(join(dirname(model.descriptionFile), 'train.csv')));
  return root;
}

const step = (name: 'assemble' | 'evaluate', root: string, p: InClusterPlan) =>
  runCli(['retrain-step', name, '--root', root], { home: join(dir.path, 'home'), cwd: dir.path, env: { [PLAN_ENV]: JSON.stringify(p) } });

/** The example's own training program, as the Job's second init container runs it: $DATA in, $OUT out. */
async function trainInPod(root: string): Promise<void> {
  await trainHarMain(['--data', join(root, IN_POD.train), '--out', join(root, IN_POD.out), '--version', '2', '--epochs', '40']);
}

/** The strict deployment an in-cluster run retrains (what trainAndRegister passes through to the runner). */
function deployment(): DeploymentRecord {
  const at = '2026-03-01T00:00:00.000Z';
  return {
    id: 'dep-0001',
    model: MODEL,
    version: '1',
    target: 'kubernetes',
    mode: 'strict',
    node: 'node-a',
    namespace: 'ml',
    state: 'ready',
    runtime: {},
    consumers: [],
    createdAt: at,
    updatedAt: at,
    history: [],
  };
}

/** Every distinct feature value of the rows, as the CSV cells hold them. */
const cells = (rows: number[][]): string[] => [...new Set(rows.flat().map(String))].filter((v) => /\d\.\d{3,}/.test(v));

beforeAll(async () => {
  mkdirSync(join(dir.path, 'champion'));
  model = writeHarModel(join(dir.path, 'champion'));
}, 60_000);

afterAll(async () => {
  await open?.close();
  await strict?.close();
  dir.cleanup();
});

describe('retrain-step against an open model server', () => {
  it('assembles from the labelled rows, trains, evaluates and returns the produced files (never a row)', async () => {
    open = await startModelServer({
      description: model.description,
      artifactPath: join(dirname(model.descriptionFile), 'model.onnx'),
      host: '127.0.0.1',
      port: 0,
    });
    await open.ready;
    const sent = await labelledTraffic(open, 'changed', 200, 22);
    const root = podRoot('open', 'any-token');
    const p = plan(open);

    const a = await step('assemble', root, p);
    expect(a.code, a.stderr).toBe(0);
    const [assembled] = parseStepResults(a.stdout) as AssembleResult[];
    expect(assembled).toMatchObject({
      step: 'assemble',
      labelled: 200,
      holdout: 60,
      counts: { base: 10, feedback: 140 },
      weighting: { mode: 'weighted' },
      feedback: { rows: 140, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
    expect(readFileSync(join(root, IN_POD.holdout), 'utf8').trim().split('\n')).toHaveLength(61);
    for (const v of cells(sent)) expect(a.stdout).not.toMatch(new RegExp(`(?<![\\d.])${v.replace('.', '\\.')}(?!\\d)`));

    await trainInPod(root);

    const e = await step('evaluate', root, p);
    expect(e.code, e.stderr).toBe(0);
    const results = parseStepResults(e.stdout) as EvaluateResult[];
    expect(results).toHaveLength(1);
    const comparison = results[0]!.comparison as { a: { ref: string }; b: { ref: string }; rows: number; verdict: string; primary: { a: number; b: number } };
    expect(comparison).toMatchObject({ a: { ref: `${MODEL}@1` }, b: { ref: `${MODEL}@2` }, rows: 60, verdict: 'better' });
    expect(comparison.primary.b).toBeGreaterThan(comparison.primary.a + 0.3);

    // What the runner gets back from the log: the model, its description and metrics, the training set's
    // profile; the trainer's copy of its data stays.
    const returned = parseReturnedFiles(e.stdout);
    expect(returned.complete).toBe(true);
    expect([...returned.files.keys()].sort()).toEqual([IN_CLUSTER_PROFILE_FILE, 'metrics.json', 'model.onnx', 'model.yaml']);
    const profileBytes = returned.files.get(IN_CLUSTER_PROFILE_FILE)!;
    returned.files.delete(IN_CLUSTER_PROFILE_FILE);
    for (const [name, bytes] of returned.files) expect(bytes.equals(readFileSync(join(root, IN_POD.out, name))), name).toBe(true);
    expect(returned.output.join('\n')).toContain('not returned (a copy of the training set or the held-out rows; rows stay on the node): train.csv');
    for (const v of cells(sent)) expect(returned.output.join('\n')).not.toMatch(new RegExp(`(?<![\\d.])${v.replace('.', '\\.')}(?!\\d)`));

    // The profile: the whole training set (weighted copies included), aggregates only. Its min, max
    // and quantiles are single cells; no row of the training set or the held-out rows is in it.
    const profile = JSON.parse(profileBytes.toString()) as ReferenceProfile;
    expect(profile).toMatchObject({ rows: assembled!.counts.total, target: { name: HAR_TARGET }, sample: { columns: [...HAR_FEATURES], rows: [] } });
    expect(profile.sample.capacity).toBeGreaterThan(0);
    expect(profile.features.map((f) => f.name)).toEqual([...HAR_FEATURES]);
    const profileText = profileBytes.toString();
    const podRows = ['train', 'holdout'].flatMap((f) =>
      readFileSync(join(root, f === 'train' ? IN_POD.train : IN_POD.holdout), 'utf8')
        .trim()
        .split('\n')
        .slice(1),
    );
    expect(podRows.length).toBeGreaterThan(200);
    for (const row of podRows) {
      const values = row.split(',').slice(0, HAR_FEATURES.length);
      expect(profileText).not.toContain(values.join(','));
      expect(profileText).not.toContain(values.slice(0, 3).join(','));
    }

    // The recovered files are a loadable description of the challenger with its artifact.
    const back = join(dir.path, 'returned');
    mkdirSync(back);
    for (const [name, bytes] of returned.files) writeFileSync(join(back, name), bytes);
    const [loaded] = await loadModelFiles(['model.yaml'], { cwd: back, checkArtifact: true });
    expect(loaded!.description.metadata).toMatchObject({ name: MODEL, version: '2' });
    expect(loaded!.artifactPath).toBe(join(back, 'model.onnx'));
    // Its training data stayed on the node: the description names a file that is not here.
    expect(loaded!.description.spec.training?.data?.uri).toMatch(/train\.csv$/);
    expect(existsSync(join(back, 'train.csv'))).toBe(false);

    // Registered as an in-cluster run registers it (the runner has written the recovered files,
    // the profile among them, into the out dir): version 2 with the node's profile.
    writeFileSync(join(back, IN_CLUSTER_PROFILE_FILE), profileBytes);
    const stores = memoryStores();
    const runner: TrainingRunner = {
      train: async (job) => ({ exitCode: 0, seconds: 1, logTail: [], outDir: job.outDir, results: [assembled!, results[0]!] }),
    };
    const services = {
      ...stores,
      datasets: new FsDatasetReader(),
      clock: new ManualClock(Date.UTC(2026, 2, 2)),
      inspectArtifact,
      training: { get: async () => runner },
    };
    // The plan as the CLI makes it; the runner adds the server and the champion's paths.
    const { server: _server, championDescription: _description, championArtifact: _artifact, ...partial } = p;
    const job: TrainingJob = {
      description: model.description,
      dataFile: join(root, IN_POD.base),
      version: '2',
      outDir: back,
      workDir: dir.path,
      timeoutMs: 60_000,
      target: 'kubernetes',
      inCluster: { deployment: deployment(), plan: partial },
    };
    const trained = await trainAndRegister(services, { job, trigger: 'drift', inputs: [] }, { onOutput: () => {} });
    expect(trained.registered).toMatchObject({
      name: MODEL,
      version: '2',
      status: 'created',
      file: 'model.yaml',
      profile: { rows: assembled!.counts.total, features: HAR_FEATURES.length, note: 'profile computed where the data is' },
    });
    const stored = await stores.models.getProfile(MODEL, '2');
    expect(stored).toEqual(profile);
    expect(stored!.sample.rows).toEqual([]);
    expect((await stores.models.profileSummary(MODEL, '2'))?.sampleRows).toBe(0);
    // Only the description is registered: the profile file is not a version of anything.
    expect([...stores.models.versions.keys()]).toEqual([`${MODEL}@2`]);
  }, 120_000);

  it('fails with the usual error rendering outside a Job', async () => {
    const r = await runCli(['retrain-step', 'assemble', '--root', dir.path], { home: join(dir.path, 'home'), cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${PLAN_ENV} is not set`);
    expect((await runCli(['--help'], { home: join(dir.path, 'home') })).stdout).not.toContain('retrain-step');
  });
});

describe('retrain-step against a strict model server (maas serve --strict --labelled-token-file)', () => {
  it('waits until the token reaches the server, then reads the rows; a wrong token is refused', async () => {
    const serverToken = join(dir.path, 'server-token');
    strict = await startModelServer({
      description: model.description,
      artifactPath: join(dirname(model.descriptionFile), 'model.onnx'),
      host: '127.0.0.1',
      port: 0,
      strict: true,
      labelledTokenFile: serverToken,
    });
    await strict.ready;
    await labelledTraffic(strict, 'strict', 60, 23);

    // The Secret is not on the server's volume yet: refused, asked again, accepted once it is.
    const root = podRoot('strict', 's3cret');
    const arrives = setTimeout(() => writeFileSync(serverToken, 's3cret\n'), 400);
    try {
      const a = await step('assemble', root, plan(strict, { minHoldoutRows: 10 }));
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toContain('the model server does not accept the token yet (403)');
      expect(parseStepResults(a.stdout)[0]).toMatchObject({ step: 'assemble', labelled: 60, holdout: 18 });
    } finally {
      clearTimeout(arrives);
    }

    const wrong = podRoot('strict-wrong', 'not-it');
    const r = await step('assemble', wrong, plan(strict, { waitSeconds: 1 }));
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`the model server ${strict.url} does not accept the retraining Job's token (still refused after 1 s)`);
    expect(parseStepResults(r.stdout)).toEqual([]);
  }, 60_000);
});

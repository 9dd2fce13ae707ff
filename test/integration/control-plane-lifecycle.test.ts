// Rollout, rollback, history, retrain and compare through the control plane, over real HTTP on
// 127.0.0.1 against the in-memory harness (fake targets, scripted inference and evaluator, a
// fake training program): scopes, 202 and the queued job, its result, idempotency keys, job
// ownership, the refusal of client-named data, then the CLI's remote forms run in-process.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import { deploy } from '../../src/app/deploy.js';
import { lifecycleJobRunners, ROLLBACK_JOB } from '../../src/app/lifecycle-jobs.js';
import type { RetrainResult } from '../../src/app/retrain.js';
import type { RolloutOutcome } from '../../src/app/rollout.js';
import { MaasError } from '../../src/core/errors.js';
import type { TrainingJob, TrainingRunner } from '../../src/domain/training.js';
import type { JobRecord } from '../../src/queue/port.js';
import { appHarness, scriptedEvaluator, type ScriptedPrediction } from '../support/app.js';
import { runCli, tempDir } from '../support/cli.js';
import { startControlPlane, type Answer, type ControlPlane } from '../support/control-plane.js';
import { onnxFor } from '../support/onnx-models.js';

const ROWS = 100;
const truth = (x: unknown): string => (Number(x) % 2 ? 'yes' : 'no');
const flip = (l: string): string => (l === 'no' ? 'yes' : 'no');
const right: ScriptedPrediction = (rows) => ({ labels: rows.map((r) => truth(r.x)) });
const wrong: ScriptedPrediction = (rows) => ({ labels: rows.map((r) => flip(truth(r.x))) });

const dir = tempDir('maas-lifecycle-');
/** Training data the champion's description names: the server must never read it. */
const secretCsv = join(dir.path, 'secret.csv');
let cp: ControlPlane;
let id = '';
const trained: TrainingJob[] = [];

function expectError(a: Answer, status: number, code: string): { code: string; message: string; hint?: string } {
  expect(a.status, a.text).toBe(status);
  const e = (a.json as { error: { code: string; message: string; hint?: string } }).error;
  expect(e.code).toBe(code);
  return e;
}

/** The job once the in-process queue has run it, as its owner sees it. */
async function finished(jobId: string, token = cp.tokens.deploy): Promise<JobRecord> {
  await cp.harness.services.queue.idle();
  const a = await cp.request('GET', `/v1/jobs/${jobId}`, { token });
  expect(a.status, a.text).toBe(200);
  return a.json as JobRecord;
}

/** Writes the new version's description and ONNX artifact into $OUT, as a training program does. */
const fakeTraining: TrainingRunner = {
  async train(job, io) {
    trained.push(job);
    io.onOutput('epoch 1: loss 0.3', 'stdout');
    mkdirSync(job.outDir, { recursive: true });
    const d = modelDescription({ name: 'har', version: job.version });
    writeFileSync(join(job.outDir, 'model.yaml'), stringify(d));
    writeFileSync(join(job.outDir, 'model.onnx'), onnxFor(d));
    return { exitCode: 0, seconds: 0.5, logTail: ['epoch 1: loss 0.3'], outDir: job.outDir };
  },
};

beforeAll(async () => {
  writeFileSync(secretCsv, `x,label\n${Array.from({ length: 50 }, (_, i) => `${9000 + i},yes`).join('\n')}\n`);
  const harness = await appHarness({
    evaluator: scriptedEvaluator({ 'har@1': wrong, 'har@2': right, 'har@3': right }),
    inference: {
      labelled: async () => ({
        model_name: 'har',
        model_version: '1',
        features: ['x'],
        target: 'label',
        rows: Array.from({ length: ROWS }, (_, i) => [i, truth(i)]),
        ids: Array.from({ length: ROWS }, (_, i) => `p${i}`),
        times: Array.from({ length: ROWS }, (_, i) => new Date(Date.UTC(2025, 11, 1) + i * 60_000).toISOString()),
        versions: Array.from({ length: ROWS }, () => '1'),
      }),
      drift: async () => {
        throw new MaasError('NOT_FOUND', 'no reference profile');
      },
    },
  });
  cp = await startControlPlane({ harness });
  Object.assign(cp.harness.services, { training: { get: async () => fakeTraining } });
  const champion = modelDescription({ name: 'har', version: '1' });
  champion.spec.training = { data: { uri: `file://${secretCsv}`, target: 'label' } };
  await cp.harness.register(champion);
  await cp.harness.register(modelDescription({ name: 'har', version: '2' }));
  const r = await deploy(
    cp.harness.services,
    { model: 'har', version: '1', target: 'local', mode: 'open', consumer: 'token:deployer', wait: true, timeoutMs: 10_000 },
    () => {},
  );
  id = r.deployment.id;
  expect(r.deployment.state).toBe('ready');
});

afterAll(async () => {
  await cp?.close();
  dir.cleanup();
});

describe('scopes', () => {
  it('refuses a read token on rollout, rollback and retrain (403, nothing queued), and lets it read history and compare', async () => {
    const before = (await cp.harness.services.queue.list()).length;
    for (const [path, body] of [
      [`/v1/deployments/${id}/rollout`, { to: 'har@2' }],
      [`/v1/deployments/${id}/rollback`, {}],
      [`/v1/deployments/${id}/retrain`, { dryRun: true }],
    ] as const) {
      const e = expectError(await cp.request('POST', path, { token: cp.tokens.read, body }), 403, 'FORBIDDEN');
      expect(e.message, path).toContain('"deploy"');
    }
    expect(await cp.harness.services.queue.list()).toHaveLength(before);
    expect((await cp.request('GET', `/v1/deployments/${id}/history`, { token: cp.tokens.read })).status).toBe(200);
    const compared = await cp.request('POST', '/v1/compare', { token: cp.tokens.read, body: { a: 'har@1', b: 'har@2', deployment: id } });
    expect(compared.status, compared.text).toBe(200);
    expect((await cp.request('GET', `/v1/deployments/${id}/history`)).status).toBe(401);
  });
});

describe('rollout, history, rollback', () => {
  let jobId = '';

  it('queues a rollout (202 with the job); the same Idempotency-Key replays the answer and queues one job', async () => {
    const before = (await cp.harness.services.queue.list()).length;
    const send = () =>
      cp.request('POST', `/v1/deployments/${id}/rollout`, { token: cp.tokens.deploy, body: { to: 'har@2' }, headers: { 'idempotency-key': 'roll-2' } });
    const first = await send();
    expect(first.status, first.text).toBe(202);
    const body = first.json as { job: string; deployment: { id: string; version: string } };
    expect(body.deployment).toMatchObject({ id, version: '1' });
    jobId = body.job;
    const replay = await send();
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
    const jobs = await cp.harness.services.queue.list();
    expect(jobs).toHaveLength(before + 1);
    expect(jobs.filter((j) => j.kind === 'rollout').map((j) => j.id)).toEqual([jobId]);
  });

  it('runs the rollout job: its result is the switch, its logs the progress; the deployment serves har@2', async () => {
    const job = await finished(jobId);
    expect(job).toMatchObject({ kind: 'rollout', state: 'succeeded', owner: 'deployer', payload: { deploymentId: id, to: 'har@2', reason: 'manual' } });
    const r = job.result as RolloutOutcome;
    expect(r).toMatchObject({ changed: true, deployment: { id, version: '2' }, change: { from: '1', to: '2', reason: 'manual' } });
    expect(job.logs.map((l) => l.message).join('\n')).toContain(`rolling out har@2 to deployment ${id}`);
    expect(cp.harness.local.calls).toContain(`rollout ${id} har@1 -> har@2`);
    expect(cp.harness.stores.deployments.records.get(id)!.version).toBe('2');
    const audit = cp.harness.services.audit!;
    await vi.waitFor(async () =>
      expect((await audit.list()).filter((e) => e.action === 'deployment.rollout').map((e) => [e.tokenName, e.status, e.target])).toContainEqual([
        'deployer',
        202,
        id,
      ]),
    );
  });

  it('shows the job to its owner and admins only (404 to another token, as for no job)', async () => {
    expect((await cp.request('GET', `/v1/jobs/${jobId}`, { token: cp.tokens.admin })).status).toBe(200);
    expectError(await cp.request('GET', `/v1/jobs/${jobId}`, { token: cp.tokens.read }), 404, 'NOT_FOUND');
    const other = await cp.token('other-deployer', 'deploy');
    expectError(await cp.request('GET', `/v1/jobs/${jobId}`, { token: other.token }), 404, 'NOT_FOUND');
    expect((await cp.request('GET', '/v1/jobs', { token: other.token })).json).toEqual({ jobs: [] });
  });

  it('fails a rollout job to an unknown version with the use case error', async () => {
    const a = await cp.request('POST', `/v1/deployments/${id}/rollout`, { token: cp.tokens.deploy, body: { to: 'har@9' } });
    expect(a.status, a.text).toBe(202);
    const job = await finished((a.json as { job: string }).job);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND' } });
    expect(cp.harness.stores.deployments.records.get(id)!.version).toBe('2');
    // An unknown deployment is refused at once, with nothing queued.
    expectError(await cp.request('POST', '/v1/deployments/d-nothing/rollback', { token: cp.tokens.deploy }), 404, 'NOT_FOUND');
    expectError(await cp.request('POST', '/v1/deployments/d-nothing/rollout', { token: cp.tokens.deploy, body: { to: 'har@2' } }), 404, 'NOT_FOUND');
    expectError(await cp.request('POST', `/v1/deployments/${id}/rollout`, { token: cp.tokens.deploy, body: { to: 'har@2', replicas: 2 } }), 422, 'VALIDATION');
  });

  it('answers the history: deployed, then the rollout', async () => {
    const a = await cp.request('GET', `/v1/deployments/${id}/history`, { token: cp.tokens.read });
    expect(a.status, a.text).toBe(200);
    const h = a.json as { deployment: string; version: string; entries: { version: string; reason: string; current: boolean }[] };
    expect(h).toMatchObject({ deployment: id, version: '2' });
    expect(h.entries.map((e) => [e.version, e.reason, e.current])).toEqual([
      ['1', 'deployed', false],
      ['2', 'manual', true],
    ]);
    expectError(await cp.request('GET', '/v1/deployments/d-nothing/history', { token: cp.tokens.read }), 404, 'NOT_FOUND');
  });

  it('rolls back as a job to the version fixed when asked; running that job again changes nothing', async () => {
    const a = await cp.request('POST', `/v1/deployments/${id}/rollback`, { token: cp.tokens.deploy, body: {} });
    expect(a.status, a.text).toBe(202);
    const job = await finished((a.json as { job: string }).job);
    expect(job).toMatchObject({ kind: 'rollback', state: 'succeeded', payload: { deploymentId: id, version: '1' } });
    expect(job.result).toMatchObject({ changed: true, deployment: { version: '1' }, change: { from: '2', to: '1', reason: 'rollback' } });
    // A retry of the same job (a worker lost after the switch) converges instead of undoing it.
    const again = (await lifecycleJobRunners(cp.harness.services)[ROLLBACK_JOB]!(job.payload, () => {}, { id: job.id, attempt: 2 })) as RolloutOutcome;
    expect(again).toMatchObject({ changed: false, deployment: { version: '1' } });
    const h = (await cp.request('GET', `/v1/deployments/${id}/history`, { token: cp.tokens.read })).json as { entries: { version: string; reason: string }[] };
    expect(h.entries.map((e) => [e.version, e.reason])).toEqual([
      ['1', 'deployed'],
      ['2', 'manual'],
      ['1', 'rollback'],
    ]);
  });
});

describe('retrain', () => {
  it('refuses data named by the client, and training on the server machine without admin; nothing is queued', async () => {
    const before = (await cp.harness.services.queue.list()).length;
    const data = expectError(
      await cp.request('POST', `/v1/deployments/${id}/retrain`, { token: cp.tokens.admin, body: { data: ['/etc/passwd'] } }),
      400,
      'USAGE',
    );
    expect(data.message).toMatch(/reads no data files named by a client/);
    const local = expectError(await cp.request('POST', `/v1/deployments/${id}/retrain`, { token: cp.tokens.deploy, body: {} }), 403, 'FORBIDDEN');
    expect(local.message).toMatch(/target local.*admin/);
    expect(local.hint).toMatch(/kubernetes/);
    expect(await cp.harness.services.queue.list()).toHaveLength(before);
    expect(trained).toHaveLength(0);
  });

  it('plans a dry run as a job on the feedback only, with one attempt', async () => {
    const a = await cp.request('POST', `/v1/deployments/${id}/retrain`, { token: cp.tokens.deploy, body: { dryRun: true, weighting: { since: '3650d' } } });
    expect(a.status, a.text).toBe(202);
    const job = await finished((a.json as { job: string }).job);
    expect(job).toMatchObject({ kind: 'retrain', state: 'succeeded', payload: { deploymentId: id, dryRun: true } });
    // The duration became a time when asked for, so a job that starts later reads the same rows.
    expect((job.payload as { weighting: { since: string } }).weighting.since).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const r = job.result as RetrainResult;
    expect(r).toMatchObject({ status: 'planned', champion: 'har@1', challenger: 'har@3', deployment: id });
    // Not the description's own data (the secret file): the labelled feedback, 30 % held out.
    expect(r.trainingSet).toMatchObject({ counts: { base: 0, feedback: 70 }, holdout: 30 });
    expect(trained).toHaveLength(0);
  });

  it('trains, registers, compares and promotes the challenger as a job; the training output is in its logs', async () => {
    const a = await cp.request('POST', `/v1/deployments/${id}/retrain`, { token: cp.tokens.admin, body: { promote: 'auto' } });
    expect(a.status, a.text).toBe(202);
    const job = await finished((a.json as { job: string }).job, cp.tokens.admin);
    expect(job.maxAttempts).toBe(1);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const r = job.result as RetrainResult;
    expect(r).toMatchObject({ status: 'promoted', champion: 'har@1', challenger: 'har@3', comparison: { verdict: 'better', rows: 30 } });
    expect(r.lineage?.inputs.map((i) => [i.source, i.rows])).toEqual([[`feedback:${id}`, 70]]);
    expect(job.logs.map((l) => l.message)).toContain('| epoch 1: loss 0.3');
    expect(trained).toHaveLength(1);
    expect(trained[0]!.dataFile.startsWith(trained[0]!.outDir.replace(/\/out$/, ''))).toBe(true);
    expect(cp.harness.stores.deployments.records.get(id)!.version).toBe('3');
    expect(await cp.harness.services.models.getModel('har', '3')).toBeDefined();
  });
});

describe('compare', () => {
  const rows = Array.from({ length: 40 }, (_, i) => [i, truth(i)] as (string | number | null)[]);

  it('compares two versions on rows sent in the body, leaving out rows without truth (never coerced)', async () => {
    const a = await cp.request('POST', '/v1/compare', {
      token: cp.tokens.read,
      body: { a: 'har@1', b: 'har@2', rows: { features: ['x'], target: 'label', rows: [...rows, [41, null]] } },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({
      a: { ref: 'har@1', metrics: { accuracy: 0 } },
      b: { ref: 'har@2', metrics: { accuracy: 1 } },
      rows: 40,
      unlabelled: 1,
      verdict: 'better',
      source: 'the rows of the request',
      target: 'label',
    });
  });

  it("compares on a deployment's labelled feedback, and refuses a request with both sources or neither", async () => {
    const a = await cp.request('POST', '/v1/compare', { token: cp.tokens.read, body: { a: 'har@1', b: 'har@2', deployment: id, seed: 3 } });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({ rows: ROWS, source: `the labelled feedback of deployment ${id}`, verdict: 'better' });
    expectError(
      await cp.request('POST', '/v1/compare', {
        token: cp.tokens.read,
        body: { a: 'har@1', b: 'har@2', deployment: id, rows: { features: ['x'], target: 'label', rows } },
      }),
      400,
      'USAGE',
    );
    expectError(await cp.request('POST', '/v1/compare', { token: cp.tokens.read, body: { a: 'har@1', b: 'har@2' } }), 400, 'USAGE');
    expectError(await cp.request('POST', '/v1/compare', { token: cp.tokens.read, body: { a: 'har', b: 'har@2', deployment: id } }), 422, 'VALIDATION');
    const nested = await cp.request('POST', '/v1/compare', {
      token: cp.tokens.read,
      body: {
        a: 'har@1',
        b: 'har@2',
        rows: {
          features: ['x'],
          target: 'label',
          rows: [
            [1, 'no'],
            [2, { yes: true }],
          ],
        },
      },
    });
    expect(expectError(nested, 422, 'VALIDATION').message).toMatch(/rows\/1\/1 must be a string/);
    const many = Array.from({ length: 100_001 }, () => [1, 'no']);
    expect(
      (
        await cp.request('POST', '/v1/compare', {
          token: cp.tokens.read,
          body: { a: 'har@1', b: 'har@2', rows: { features: ['x'], target: 'label', rows: many } },
        })
      ).status,
    ).toBe(422);
  });
});

describe('the CLI against the server', () => {
  const home = join(dir.path, 'home');
  const cli = (args: string[], token = cp.tokens.deploy) => runCli(args, { home, env: { MAAS_SERVER: cp.url, MAAS_TOKEN: token } });

  it('rolls out through a job and prints what the local form prints', async () => {
    const r = await cli(['rollout', id, '--to', 'har@2', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      id: string;
      version: string;
      changed: boolean;
      change: { from: string; to: string; reason: string };
      consumers: string[];
    };
    expect(out).toMatchObject({ id, version: '2', changed: true, change: { from: '3', to: '2', reason: 'manual' } });
    expect(cp.harness.stores.deployments.records.get(id)!.version).toBe('2');
    // The job's error is the command's, with the same exit code (NOT_FOUND: 4).
    const missing = await cli(['rollout', id, '--to', 'har@9']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/har/);
  });

  it('queues a rollback with --async and prints its job ID; history shows it once done', async () => {
    const r = await cli(['rollback', id, '--async', '-o', 'name']);
    expect(r.code, r.stderr).toBe(0);
    const jobId = r.stdout.trim();
    expect(jobId).toMatch(/^job-\d+$/);
    expect((await finished(jobId)).kind).toBe('rollback');
    const h = await cli(['history', id, '-o', 'json'], cp.tokens.read);
    expect(h.code, h.stderr).toBe(0);
    const entries = (JSON.parse(h.stdout) as { entries: { version: string; reason: string }[] }).entries;
    expect(entries.at(-1)).toMatchObject({ version: '3', reason: 'rollback' });
  });

  it('compares on the deployment there, and refuses files on this machine with USAGE saying why', async () => {
    const c = await cli(['compare', 'har@1', 'har@2', '--deployment', id, '-o', 'json'], cp.tokens.read);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ verdict: 'better', rows: ROWS });
    const file = await cli(['compare', 'har@1', 'har@2', '--data', secretCsv], cp.tokens.read);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/--data names a file on this machine.*reads no files a client names/);
    const retrain = await cli(['retrain', id, '--data', secretCsv]);
    expect(retrain.code).toBe(2);
    expect(retrain.stderr).toMatch(/--data names a file on this machine/);
  });

  it('runs a retrain dry run on the server and renders the plan', async () => {
    const r = await cli(['retrain', id, '--dry-run', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'planned',
      champion: 'har@3',
      challenger: 'har@4',
      trainingSet: { counts: { base: 0, feedback: 70 } },
    });
  });
});

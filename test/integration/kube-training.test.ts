// The Kubernetes training runner against the API server substitute: Job and ConfigMap created
// with the right spec, completion followed, files recovered from the pod log, clean-up done;
// failures explained (exit code with the log tail, OOMKilled, deadline, image pull).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import type { TrainingJob } from '../../src/domain/training.js';
import { END_MARKER, FILE_MARKER } from '../../src/targets/kubernetes/job-objects.js';
import { ClientNodeTrainingApi, KubeTrainingRunner } from '../../src/targets/kubernetes/training-job.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';

let fake: FakeKube;
let dir: { path: string; cleanup: () => void };

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['ml'], autoTick: false });
  dir = tempDir('maas-kube-train-');
  writeFileSync(join(dir.path, 'data.csv'), 'x,label\n1,a\n2,b\n');
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
    connect: async (o) => {
      const kc = new KubeConfig();
      kc.loadFromOptions(fake.kubeConfigOptions({ namespace: 'ml' }));
      return { api: new ClientNodeTrainingApi(kc, 'fake'), namespace: o.namespace ?? 'ml' };
    },
  });
}

function job(): TrainingJob {
  const d = modelDescription({ name: 'har', version: '1' });
  d.spec.training = {
    code: { image: 'registry.example/har-train:1', command: ['python', 'train.py', '--data', '$DATA', '--out', '$OUT', '--version', '$VERSION'] },
  };
  d.spec.resources = { training: { cpu: '500m', memory: '1Gi' } };
  return {
    description: d,
    dataFile: join(dir.path, 'data.csv'),
    version: '2',
    outDir: join(dir.path, 'out'),
    workDir: dir.path,
    timeoutMs: 600_000,
    target: 'kubernetes',
  };
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

function cleanedUp(): void {
  expect(fake.state.list('jobs', 'ml')).toEqual([]);
  expect(fake.state.list('configmaps', 'ml')).toEqual([]);
  const deletes = fake.requests.filter((r) => r.method === 'DELETE');
  expect(deletes.map((r) => r.resource)).toEqual(['jobs', 'configmaps']);
  expect(`${deletes[0]!.query}${deletes[0]!.body ?? ''}`).toMatch(/propagationPolicy(=|":")Foreground/);
}

describe('KubeTrainingRunner', () => {
  it('creates the ConfigMap and Job, follows it, streams the log, recovers the files and cleans up', async () => {
    const onnx = Buffer.from([0, 1, 2, 250, 251, 252]);
    fake.scriptJob({
      outcome: 'succeeded',
      log: `epoch 1\nepoch 2\n${FILE_MARKER}model.onnx\n${b64(onnx)}\n${FILE_MARKER}model.yaml\n${b64('kind: Model\n')}\n${END_MARKER}\n`,
    });
    const lines: string[] = [];
    const r = await runner().train(job(), { onOutput: (l) => lines.push(l) });
    expect(r).toMatchObject({ exitCode: 0, outDir: join(dir.path, 'out'), logTail: ['epoch 1', 'epoch 2'] });
    expect(lines).toEqual(['epoch 1', 'epoch 2']);
    expect(readFileSync(join(dir.path, 'out', 'model.onnx'))).toEqual(onnx);
    expect(readFileSync(join(dir.path, 'out', 'model.yaml'), 'utf8')).toBe('kind: Model\n');

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const created = fake.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body!) as Record<string, any>);
    expect(created.map((o) => String(o.kind))).toEqual(['ConfigMap', 'Job']);
    expect(created[0]!.data).toEqual({ 'train.csv': 'x,label\n1,a\n2,b\n' });
    const spec = created[1]!.spec;
    expect(spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 600 });
    expect(spec.template.spec.containers[0].image).toBe('registry.example/har-train:1');
    expect(spec.template.spec.containers[0].command.slice(4)).toEqual([
      'python',
      'train.py',
      '--data',
      '/maas/data/train.csv',
      '--out',
      '/maas/out',
      '--version',
      '2',
    ]);
    expect(spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '500m', memory: '1Gi' });
    // Polled until complete (more than one read of the Job).
    expect(fake.requests.filter((r) => r.method === 'GET' && r.resource === 'jobs').length).toBeGreaterThan(1);
    cleanedUp();
  });

  it('explains a failed Job with its exit code and the log tail, and cleans up', async () => {
    fake.scriptJob({ outcome: 'failed', exitCode: 3, log: Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n') + '\nTraceback: boom\n' });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toMatch(/BackoffLimitExceeded, exit code 3/);
    expect(e.message).toMatch(/\| Traceback: boom/);
    expect((e.details as { logTail: string[] }).logTail).toHaveLength(20);
    cleanedUp();
  });

  it('explains OOMKilled', async () => {
    fake.scriptJob({ outcome: 'failed', exitCode: 137, containerReason: 'OOMKilled' });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.message).toMatch(/ran out of memory \(OOMKilled/);
    expect(e.hint).toMatch(/spec\.resources\.training\.memory/);
    cleanedUp();
  });

  it('reports an exceeded deadline as TIMEOUT', async () => {
    fake.scriptJob({ outcome: 'failed', reason: 'DeadlineExceeded', exitCode: 143 });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('TIMEOUT');
    cleanedUp();
  });

  it('stops at once on an image that cannot be pulled', async () => {
    fake.scriptJob({ outcome: 'waiting', reason: 'ErrImagePull', message: 'registry.example/har-train:1: not found' });
    const e = await rejection(runner().train(job(), { onOutput: () => {} }));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toMatch(/cannot pull image "registry.example\/har-train:1"/);
    cleanedUp();
  });

  it('refuses a description without an image before creating anything', async () => {
    const j = job();
    delete j.description.spec.training!.code!.image;
    const e = await rejection(runner().train(j, { onOutput: () => {} }));
    expect(e.code).toBe('USAGE');
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });
});

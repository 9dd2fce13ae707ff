// `maas retrain --target kubernetes` through the command, against the API server substitute: the
// training set goes to the cluster in a ConfigMap, the Job runs the description's image, the
// produced description and artifact come back in the pod log, and the new version is registered
// with its lineage; the Job and ConfigMap are gone afterwards. A failed Job registers nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, harToCsv } from '../../examples/har/generate.js';
import type { RetrainResult } from '../../src/app/retrain.js';
import { END_MARKER, FILE_MARKER } from '../../src/targets/kubernetes/job-objects.js';
import { tempDir } from '../support/cli.js';
import { startKubeEnv, trainExampleModel, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const work = tempDir('maas-kube-retrain-');
let model: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
  model.description.spec.training = {
    ...model.description.spec.training,
    code: { ...model.description.spec.training?.code, image: 'registry.example/har-train:1' },
  };
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

describe('maas retrain --target kubernetes', () => {
  it('trains in a Job, brings the result back and registers it with its lineage', async () => {
    const e = await startKubeEnv(model, { namespaces: ['ml'] });
    envs.push(e);
    const data = join(e.dir, 'more.csv');
    writeFileSync(data, harToCsv(generateHar({ rows: 300, seed: 4 })));
    const produced = { ...model.description, metadata: { ...model.description.metadata, version: '2' } };
    e.fake.scriptJob({
      outcome: 'succeeded',
      // The example's description names its training data (train.csv beside it): the Job returns it too.
      log: `epoch 1\ndone\n${FILE_MARKER}model.onnx\n${b64(model.onnx)}\n${FILE_MARKER}model.yaml\n${b64(stringify(produced))}\n${FILE_MARKER}train.csv\n${b64(readFileSync(data))}\n${END_MARKER}\n`,
    });
    const r = await e.json<RetrainResult>(['retrain', 'har-classifier@1', '--data', data, '--target', 'kubernetes', '-n', 'ml', '--promote', 'never']);
    expect(r).toMatchObject({ status: 'registered', challenger: 'har-classifier@2' });
    expect(r.lineage).toMatchObject({ parentVersion: '1', trigger: 'manual', target: 'kubernetes' });
    expect(r.lineage?.inputs.map((i) => i.rows)).toEqual([300]);
    const job = e.fake.requests.find((q) => q.method === 'POST' && q.resource === 'jobs');
    expect(JSON.parse(job!.body!)).toMatchObject({ spec: { template: { spec: { containers: [{ image: 'registry.example/har-train:1' }] } } } });
    expect(e.fake.state.list('jobs', 'ml')).toEqual([]);
    expect(e.fake.state.list('configmaps', 'ml')).toEqual([]);
    expect((await e.model('har-classifier', '2')).version).toBe('2');
  });

  it('explains a failed Job with its log tail and registers nothing', async () => {
    const e = await startKubeEnv(model, { namespaces: ['ml'] });
    envs.push(e);
    const data = join(e.dir, 'more.csv');
    writeFileSync(data, harToCsv(generateHar({ rows: 50, seed: 4 })));
    e.fake.scriptJob({ outcome: 'failed', exitCode: 1, log: 'loading data\nValueError: could not converge\n' });
    const r = await e.maas(['retrain', 'har-classifier@1', '--data', data, '--target', 'kubernetes', '-n', 'ml']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not converge/);
    await expect(e.model('har-classifier', '2')).rejects.toThrow(/not registered/);
    expect(e.fake.state.list('jobs', 'ml')).toEqual([]);
  });
});

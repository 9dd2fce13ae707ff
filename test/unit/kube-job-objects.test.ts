// The training Job and its data ConfigMap: valid against the official schemas (kubernetes-models),
// command placeholders, resources, security, limits; the file return format of the pod log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { MaasError } from '../../src/core/errors.js';
import { IN_POD, PLAN_ENV, type InClusterPlan } from '../../src/retrain/in-cluster.js';
import {
  buildInClusterTrainingJob,
  buildLabelledTokenSecret,
  buildTrainingConfigMap,
  buildTrainingJob,
  EPILOGUE,
  FILE_MARKER,
  inClusterPlan,
  parseReturnedFiles,
  strictServerPod,
  TRAIN_STEP_SCRIPT,
  trainingObjectName,
  type InClusterJobInput,
  type TrainingObjectsInput,
} from '../../src/targets/kubernetes/job-objects.js';
import { labelledSecretName, objectName } from '../../src/targets/kubernetes/names.js';
import { buildDeployment, strictAffinity } from '../../src/targets/kubernetes/objects.js';
import type { ModelObjectsInput } from '../../src/targets/kubernetes/types.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { exampleInput } from '../support/fake-kube/fixtures.js';

function parent(): ModelDescription {
  const d = modelDescription({ name: 'har', version: '1', features: [['x', 'number']] });
  d.spec.training = {
    code: { image: 'registry.example/har-train:1', command: ['python', 'train.py', '--data', '$DATA', '--out=$OUT', '--version', '$VERSION'] },
  };
  d.spec.resources = { training: { cpu: '2', memory: '4Gi', gpu: 1 } };
  return d;
}

const input = (o: Partial<TrainingObjectsInput> = {}): TrainingObjectsInput => ({
  name: trainingObjectName('har', '2', 'run1'),
  namespace: 'ml',
  description: parent(),
  version: '2',
  data: 'x,label\n1,a\n',
  timeoutSeconds: 1800,
  ...o,
});

function thrown(fn: () => unknown): MaasError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MaasError);
    return e as MaasError;
  }
  throw new Error('expected a MaasError');
}

describe('training Job objects', () => {
  it('are valid against the official schemas', () => {
    expect(() => new Job(buildTrainingJob(input()) as never).validate()).not.toThrow();
    expect(() => new ConfigMap(buildTrainingConfigMap(input()) as never).validate()).not.toThrow();
  });

  it('run the command with in-pod paths under a restrictive, bounded pod', () => {
    const job = buildTrainingJob(input({ ttlSecondsAfterFinished: 120 }));
    expect(job.metadata.name).toMatch(/^maas-train-har-[0-9a-f]{8}$/);
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 120 });
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0]!;
    expect(c.image).toBe('registry.example/har-train:1');
    expect(c.command).toEqual([
      'sh',
      '-c',
      EPILOGUE,
      'maas-train',
      'python',
      'train.py',
      '--data',
      '/maas/data/train.csv',
      '--out=/maas/out',
      '--version',
      '2',
    ]);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.resources).toEqual({
      requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
    });
    expect(pod.volumes).toContainEqual({ name: 'data', configMap: { name: job.metadata.name, defaultMode: 0o444 } });
    expect(pod.volumes).toContainEqual({ name: 'out', emptyDir: { sizeLimit: '1Gi' } });
    expect(buildTrainingConfigMap(input()).data).toEqual({ 'train.csv': 'x,label\n1,a\n' });
  });

  it('need an image and a command', () => {
    const noImage = parent();
    delete noImage.spec.training!.code!.image;
    const e = thrown(() => buildTrainingJob(input({ description: noImage })));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/spec\.training\.code\.image/);
    const noCommand = parent();
    delete noCommand.spec.training!.code!.command;
    expect(thrown(() => buildTrainingJob(input({ description: noCommand }))).message).toMatch(/spec\.training\.code\.command/);
  });

  it('refuse data too large for a ConfigMap', () => {
    const e = thrown(() => buildTrainingConfigMap(input({ data: 'x'.repeat(1024 * 1024) })));
    expect(e.message).toMatch(/too large for in-cluster delivery without shared storage/);
  });
});

describe('returned files', () => {
  it('the epilogue prints the produced files that parseReturnedFiles reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maas-epilogue-'));
    try {
      const out = join(dir, 'out');
      const script = EPILOGUE.replaceAll('/maas/out', out);
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
      const program = `mkdir -p ${out}; echo training; printf 'kind: Model\\n' > ${out}/model.yaml; node -e "require('fs').writeFileSync('${out}/model.onnx', Buffer.from('${bytes.toString('base64')}', 'base64'))"`;
      writeFileSync(join(dir, 'p.sh'), program);
      const log = execFileSync('sh', ['-c', script, 'maas-train', 'sh', join(dir, 'p.sh')]).toString();
      const r = parseReturnedFiles(log);
      expect(r.complete).toBe(true);
      expect(r.output).toEqual(['training']);
      expect(r.files.get('model.yaml')?.toString()).toBe('kind: Model\n');
      expect(r.files.get('model.onnx')).toEqual(bytes);
      // A failing program: its exit code, no files.
      writeFileSync(join(dir, 'f.sh'), 'echo bad; exit 4');
      expect(() => execFileSync('sh', ['-c', script, 'maas-train', 'sh', join(dir, 'f.sh')])).toThrow(/status 4|code 4|exit/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cut-off log is incomplete', () => {
    expect(parseReturnedFiles('hello\n--- maas-file a.txt\naGk=\n').complete).toBe(false);
  });
});

// A strict deployment's retraining Job ----------------------------------------------------------

const NODE = 'gpu-1';
const OBJECT = objectName('har-classifier', '3', NODE);
const SECRET = labelledSecretName(OBJECT);

/**
 * The live Deployment of a strict deployment. Its server mounts the labelled-rows token Secret
 * (optional); added here unless objects.ts already does.
 */
function strictDeployment(over: Partial<ModelObjectsInput> = {}): V1Deployment {
  const d: V1Deployment = buildDeployment(exampleInput({ namespace: 'ml', mode: 'strict', node: NODE, ...over }));
  const pod = d.spec!.template.spec!;
  if (!pod.volumes!.some((v) => v.secret?.secretName === SECRET)) {
    pod.volumes!.push({ name: 'labelled-token', secret: { secretName: SECRET, optional: true } });
    pod.containers[0]!.volumeMounts!.push({ name: 'labelled-token', mountPath: IN_POD.tokenDir, readOnly: true });
  }
  return d;
}

const partialPlan: Omit<InClusterPlan, 'server' | 'championDescription' | 'championArtifact'> = {
  model: 'har-classifier',
  champion: 'har-classifier@3',
  challenger: 'har-classifier@4',
  features: ['acc_x_mean', 'acc_y_mean'],
  target: 'label',
  task: 'classification',
  last: 500,
  holdout: 0.3,
  weighting: { mode: 'auto' },
  conceptDrift: false,
  minHoldoutRows: 20,
  waitSeconds: 120,
};

function inClusterInput(deployment = strictDeployment()): InClusterJobInput {
  const server = strictServerPod(deployment, { secretName: SECRET, what: 'deployment d-1' });
  return {
    ...input({ data: 'acc_x_mean,acc_y_mean,label\n0.125,0.5,walking\n' }),
    server,
    plan: inClusterPlan(partialPlan, server, { name: OBJECT, namespace: 'ml' }),
    secretName: SECRET,
  };
}

function containersOf(job: ReturnType<typeof buildInClusterTrainingJob>): { init: V1Container[]; main: V1Container[]; all: V1Container[] } {
  const pod = job.spec!.template.spec!;
  const init = pod.initContainers ?? [];
  return { init, main: pod.containers, all: [...init, ...pod.containers] };
}

describe('in-cluster retraining Job', () => {
  it('is valid against the official schemas, and so is the token Secret', () => {
    expect(() => new Job(buildInClusterTrainingJob(inClusterInput()) as never).validate()).not.toThrow();
    const inline = strictDeployment({ artifact: { kind: 'configmap', fileName: 'model.onnx', data: Buffer.from('onnx') } });
    expect(() => new Job(buildInClusterTrainingJob(inClusterInput(inline)) as never).validate()).not.toThrow();
    const secret = buildLabelledTokenSecret({ name: SECRET, namespace: 'ml', token: 'tok-123_abc' });
    expect(() => new Secret(secret as never).validate()).not.toThrow();
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: `${OBJECT}-labelled`, namespace: 'ml' } });
    expect(Buffer.from(secret.data!.token!, 'base64').toString()).toBe('tok-123_abc');
    expect(secret.immutable).toBeUndefined();
  });

  it("runs on the deployment's node, in the order download, assemble, train, then evaluate", () => {
    const job = buildInClusterTrainingJob(inClusterInput());
    const pod = job.spec!.template.spec!;
    expect(pod.affinity).toEqual(strictAffinity(NODE));
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 600 });
    const { init, main, all } = containersOf(job);
    expect(init.map((c) => c.name)).toEqual(['fetch-artifact', 'assemble', 'train']);
    expect(main.map((c) => c.name)).toEqual(['evaluate']);
    // The download is the Deployment's own init container, with its volume.
    const live = strictDeployment().spec!.template.spec!;
    expect(init[0]).toEqual(live.initContainers![0]);
    expect(pod.volumes).toContainEqual(live.volumes!.find((v) => v.name === 'artifact'));
    for (const c of all) expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // The maas steps run in the server's image, with its cpu and memory.
    for (const c of [init[1]!, main[0]!]) {
      expect(c.image).toBe('ghcr.io/example/maas-server:0.1.0');
      expect(c.resources).toEqual(live.containers[0]!.resources);
    }
    expect(init[1]!.command).toEqual(['maas', 'retrain-step', 'assemble']);
    expect(main[0]!.command).toEqual(['maas', 'retrain-step', 'evaluate']);
  });

  it('gives the token to assemble only', () => {
    const job = buildInClusterTrainingJob(inClusterInput());
    const pod = job.spec!.template.spec!;
    const tokenVolumes = pod.volumes!.filter((v) => v.secret);
    expect(tokenVolumes).toEqual([{ name: 'labelled-token', secret: { secretName: SECRET, defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } }]);
    const holders = containersOf(job).all.filter((c) => c.volumeMounts?.some((m) => m.name === 'labelled-token'));
    expect(holders.map((c) => c.name)).toEqual(['assemble']);
    expect(holders[0]!.volumeMounts).toContainEqual({ name: 'labelled-token', mountPath: IN_POD.tokenDir, readOnly: true });
    expect(holders[0]!.volumeMounts).toContainEqual({ name: 'data', mountPath: '/maas/data', readOnly: true });
    expect(pod.volumes).toContainEqual({
      name: 'data',
      configMap: { name: job.metadata.name, defaultMode: 0o444, items: [{ key: 'train.csv', path: 'train.csv' }] },
    });
  });

  it("has evaluate read the champion where the server reads it, and the plan name the server's paths and Service", () => {
    const i = inClusterInput();
    const job = buildInClusterTrainingJob(i);
    const server = strictDeployment().spec!.template.spec!.containers[0]!;
    const args = server.args!;
    expect(i.plan).toMatchObject({
      server: `http://${OBJECT}.ml.svc:80`,
      championDescription: args[args.indexOf('--description') + 1],
      championArtifact: args[args.indexOf('--artifact') + 1],
    });
    expect(i.plan.championDescription).toBe('/model/model.json');
    expect(i.plan.championArtifact).toBe('/model-artifact/model.onnx');
    const evaluate = containersOf(job).main[0]!;
    expect(evaluate.volumeMounts).toContainEqual({ name: 'model', mountPath: '/model', readOnly: true });
    expect(evaluate.volumeMounts).toContainEqual({ name: 'artifact', mountPath: '/model-artifact', readOnly: true });
    expect(job.spec!.template.spec!.volumes).toContainEqual({ name: 'model', configMap: { name: OBJECT, defaultMode: 0o444 } });
    // An artifact inside the ConfigMap: no download, the model volume only.
    const inline = inClusterInput(strictDeployment({ artifact: { kind: 'configmap', fileName: 'model.onnx', data: Buffer.from('onnx') } }));
    expect(inline.plan.championArtifact).toBe('/model/model.onnx');
    const inlineJob = buildInClusterTrainingJob(inline);
    expect(containersOf(inlineJob).init.map((c) => c.name)).toEqual(['assemble', 'train']);
    expect(inlineJob.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['data', 'work', 'out', 'tmp', 'labelled-token', 'model']);
  });

  it("trains with the description's program on the assembled set, without printing files", () => {
    const job = buildInClusterTrainingJob(inClusterInput());
    const train = containersOf(job).init.find((c) => c.name === 'train')!;
    expect(train.image).toBe('registry.example/har-train:1');
    expect(train.command).toEqual([
      'sh',
      '-c',
      TRAIN_STEP_SCRIPT,
      'maas-train',
      'python',
      'train.py',
      '--data',
      IN_POD.train,
      '--out=/maas/out',
      '--version',
      '2',
    ]);
    expect(TRAIN_STEP_SCRIPT).not.toContain(FILE_MARKER);
    expect(JSON.stringify(train)).not.toContain(EPILOGUE);
    expect(train.env).toContainEqual({ name: 'MAAS_DATA', value: IN_POD.train });
    expect(train.resources).toEqual({
      requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
    });
    expect(train.volumeMounts).toEqual([
      { name: 'work', mountPath: IN_POD.workDir, readOnly: true },
      { name: 'out', mountPath: IN_POD.out },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
  });

  it('hands the steps the full plan in env, and nothing of the data', () => {
    const i = inClusterInput();
    const job = buildInClusterTrainingJob(i);
    const { init, main } = containersOf(job);
    for (const c of [init[1]!, main[0]!]) {
      const env = c.env!.find((e) => e.name === PLAN_ENV)!;
      expect(JSON.parse(env.value!)).toEqual(i.plan);
    }
    const everything = JSON.stringify(job);
    for (const cell of ['0.125', 'walking']) expect(everything).not.toContain(cell);
    expect(buildTrainingConfigMap(i).data).toEqual({ 'train.csv': i.data });
  });

  it('refuses a Deployment that is not a strict maas server reading the token', () => {
    const open = buildDeployment(exampleInput({ namespace: 'ml' }));
    const e = thrown(() => strictServerPod(open, { secretName: SECRET, what: 'deployment d-1' }));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toMatch(/is not strictly placed/);
    const noToken = buildDeployment(exampleInput({ namespace: 'ml', mode: 'strict', node: NODE }));
    noToken.spec!.template.spec!.volumes = noToken.spec!.template.spec!.volumes!.filter((v) => !v.secret);
    const e2 = thrown(() => strictServerPod(noToken, { secretName: SECRET, what: 'deployment d-1' }));
    expect(e2.code).toBe('CONFLICT');
    expect(e2.message).toMatch(new RegExp(`does not mount the labelled-rows token Secret ${SECRET}`));
    expect(e2.hint).toMatch(/deploy deployment d-1 again/);
    // No affinity on the template: the record's node.
    const unpinned = strictDeployment();
    delete unpinned.spec!.template.spec!.affinity;
    expect(strictServerPod(unpinned, { secretName: SECRET, what: 'deployment d-1', node: 'n7' }).node).toBe('n7');
    expect(thrown(() => strictServerPod(unpinned, { secretName: SECRET, what: 'deployment d-1' })).message).toMatch(/not pinned to a node/);
  });
});

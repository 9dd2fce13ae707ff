// The training Job and its data ConfigMap: valid against the official schemas (kubernetes-models),
// command placeholders, resources, security, limits; the file return format of the pod log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { MaasError } from '../../src/core/errors.js';
import {
  buildTrainingConfigMap,
  buildTrainingJob,
  EPILOGUE,
  parseReturnedFiles,
  trainingObjectName,
  type TrainingObjectsInput,
} from '../../src/targets/kubernetes/job-objects.js';
import type { ModelDescription } from '../../src/spec/schema.js';

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

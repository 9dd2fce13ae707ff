// The Kubernetes objects of a training run: a ConfigMap holding the training data and a batch/v1
// Job running `spec.training.code.command` in `spec.training.code.image`. Pure; no I/O.
//
// How the produced files come back: the cluster has no storage shared with this machine, so the
// container prints them after the program succeeded, each as a marker line
// `--- maas-file <name>` followed by its bytes base64-encoded, then `--- maas-end`, and the runner
// reads them from the pod log. Kubelets rotate container logs at `containerLogMaxSize` (10 MiB by
// default), so produced files may total at most RETURNED_FILES_LIMIT bytes (about 7 MiB encoded);
// larger models need shared storage (an object store), which this delivery does not cover.
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import { MaasError } from '../../core/errors.js';
import { cpuMillis, formatBytes, formatMillis, memoryBytes } from '../../domain/quantity.js';
import type { ModelDescription } from '../../spec/schema.js';
import { CONFIGMAP_PAYLOAD_LIMIT, containerSecurity, podSecurity } from './objects.js';
import { LABEL, MANAGED_BY, shortHash, toLabelValue } from './names.js';
import { GPU_RESOURCE } from './resources.js';
import type { ConfigMapObject, NamedMeta } from './types.js';
import type { V1Job } from '@kubernetes/client-node';

export type JobObject = V1Job & { apiVersion: 'batch/v1'; kind: 'Job'; metadata: NamedMeta };

export const TRAINING_CONTAINER = 'train';
export const TRAINING_DATA_DIR = '/maas/data';
export const TRAINING_DATA_KEY = 'train.csv';
export const TRAINING_OUT_DIR = '/maas/out';
export const FILE_MARKER = '--- maas-file ';
export const END_MARKER = '--- maas-end';
/** Produced files must fit the pod log (see the header). */
export const RETURNED_FILES_LIMIT = 7 * 1024 * 1024;
export const DEFAULT_TRAINING = { cpu: '1', memory: '1Gi' } as const;
export const DEFAULT_TTL_SECONDS = 600;

export interface TrainingObjectsInput {
  /** Name of the Job and its ConfigMap (see trainingObjectName). */
  name: string;
  namespace: string;
  /** The parent version's description (its training code runs). */
  description: ModelDescription;
  /** The version to produce. */
  version: string;
  /** The training data (CSV text). */
  data: string;
  timeoutSeconds: number;
  ttlSecondsAfterFinished?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** `maas-train-<model>-<hash>`: a DNS label, unique per model, version and run id. */
export function trainingObjectName(model: string, version: string, runId: string): string {
  const hash = shortHash(`${model}@${version}#${runId}`).slice(0, 8);
  const base = `maas-train-${model}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63 - hash.length - 1)
    .replace(/-+$/, '');
  return `${base}-${hash}`;
}

function labels(input: TrainingObjectsInput): Record<string, string> {
  return {
    [LABEL.name]: 'maas-training',
    [LABEL.instance]: input.name,
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.component]: 'training',
    [LABEL.model]: toLabelValue(input.description.metadata.name),
    [LABEL.modelVersion]: toLabelValue(input.version),
  };
}

function meta(input: TrainingObjectsInput): NamedMeta {
  return {
    name: input.name,
    namespace: input.namespace,
    labels: labels(input),
    annotations: { 'maas.dev/parent': `${input.description.metadata.name}@${input.description.metadata.version}` },
  };
}

export function buildTrainingConfigMap(input: TrainingObjectsInput): ConfigMapObject {
  const bytes = Buffer.byteLength(input.data);
  if (bytes > CONFIGMAP_PAYLOAD_LIMIT) {
    throw new MaasError(
      'USAGE',
      `the training data (${formatBytes(bytes)}) is too large for in-cluster delivery without shared storage: a ConfigMap holds at most ${Math.floor(CONFIGMAP_PAYLOAD_LIMIT / 1024)} KiB`,
      { hint: 'train locally (--target local), or reduce the data (a shorter feedback window, a sample)' },
    );
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(input), data: { [TRAINING_DATA_KEY]: input.data } };
}

/** `$DATA`, `$OUT` and `$VERSION` (also `${...}`) replaced by in-pod paths inside each argument. */
export function podCommand(command: readonly string[], version: string): string[] {
  const map: Record<string, string> = { DATA: `${TRAINING_DATA_DIR}/${TRAINING_DATA_KEY}`, OUT: TRAINING_OUT_DIR, VERSION: version };
  return command.map((arg) => arg.replace(/\$\{(DATA|OUT|VERSION)\}|\$(DATA|OUT|VERSION)(?![A-Za-z0-9_])/g, (_, a?: string, b?: string) => map[(a ?? b)!]!));
}

/**
 * The epilogue: runs the command from its arguments ("$@", so nothing of it is shell-parsed),
 * exits with its code on failure, else prints each produced file between markers.
 */
export const EPILOGUE = [
  '"$@" || exit $?',
  `for f in "${TRAINING_OUT_DIR}"/*; do`,
  '  [ -f "$f" ] || continue',
  `  echo "${FILE_MARKER}$(basename "$f")"`,
  '  base64 "$f" || exit 70',
  'done',
  `echo "${END_MARKER}"`,
].join('\n');

function trainingResources(description: ModelDescription): { requests: Record<string, string>; limits: Record<string, string> } {
  const t = description.spec.resources?.training ?? {};
  const q = (v: unknown): string | number | undefined => (typeof v === 'string' || typeof v === 'number' ? v : undefined);
  const cpuRaw = q(t.cpu) ?? DEFAULT_TRAINING.cpu;
  const memRaw = q(t.memory) ?? DEFAULT_TRAINING.memory;
  const cpu = cpuMillis(cpuRaw);
  const mem = memoryBytes(memRaw);
  if (cpu === undefined || cpu <= 0) throw new MaasError('VALIDATION', `spec.resources.training.cpu: "${String(cpuRaw)}" is not a positive CPU quantity`);
  if (mem === undefined || mem <= 0) throw new MaasError('VALIDATION', `spec.resources.training.memory: "${String(memRaw)}" is not a positive memory quantity`);
  const r: Record<string, string> = { cpu: formatMillis(cpu), memory: formatBytes(mem) };
  if ((t.gpu ?? 0) > 0) r[GPU_RESOURCE] = String(t.gpu);
  return { requests: { ...r }, limits: { ...r } };
}

export function buildTrainingJob(input: TrainingObjectsInput): JobObject {
  const { name, version } = input.description.metadata;
  const code = input.description.spec.training?.code;
  if (!code?.command || code.command.length === 0) {
    throw new MaasError('USAGE', `${name}@${version} has no training command (spec.training.code.command)`, {
      hint: 'add spec.training.code.command, e.g. [python, train.py, --data, $DATA, --out, $OUT, --version, $VERSION]',
    });
  }
  if (!code.image) {
    throw new MaasError('USAGE', `${name}@${version} has no training image (spec.training.code.image): a Kubernetes Job needs one`, {
      hint: 'add spec.training.code.image (an image holding the training program and a POSIX sh with base64), or train locally',
    });
  }
  const container: V1Container = {
    name: TRAINING_CONTAINER,
    image: code.image,
    ...(input.imagePullPolicy ? { imagePullPolicy: input.imagePullPolicy } : {}),
    command: ['sh', '-c', EPILOGUE, 'maas-train', ...podCommand(code.command, input.version)],
    ...(code.path?.startsWith('/') ? { workingDir: code.path } : {}),
    env: [
      { name: 'MAAS_DATA', value: `${TRAINING_DATA_DIR}/${TRAINING_DATA_KEY}` },
      { name: 'MAAS_OUT', value: TRAINING_OUT_DIR },
      { name: 'MAAS_VERSION', value: input.version },
      { name: 'HOME', value: '/tmp' },
      { name: 'NO_COLOR', value: '1' },
    ],
    resources: trainingResources(input.description),
    securityContext: containerSecurity(),
    volumeMounts: [
      { name: 'data', mountPath: TRAINING_DATA_DIR, readOnly: true },
      { name: 'out', mountPath: TRAINING_OUT_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  const volumes: V1Volume[] = [
    { name: 'data', configMap: { name: input.name, defaultMode: 0o444 } },
    { name: 'out', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
  ];
  const m = meta(input);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: m,
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(input.timeoutSeconds)),
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS,
      template: {
        metadata: { labels: { ...m.labels } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(),
          containers: [container],
          volumes,
        },
      },
    },
  };
}

export interface ReturnedFiles {
  /** File name -> bytes. */
  files: Map<string, Buffer>;
  /** The log lines before the first marker (the program's own output). */
  output: string[];
  /** Whether the end marker was seen (false: the log was cut off). */
  complete: boolean;
}

/** Splits a pod log into the program's output and the files printed by the epilogue. */
export function parseReturnedFiles(log: string): ReturnedFiles {
  const files = new Map<string, Buffer>();
  const output: string[] = [];
  let current: { name: string; chunks: string[] } | undefined;
  let complete = false;
  let inFiles = false;
  const close = () => {
    if (current) files.set(current.name, Buffer.from(current.chunks.join(''), 'base64'));
    current = undefined;
  };
  for (const raw of log.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith(FILE_MARKER)) {
      close();
      inFiles = true;
      current = { name: line.slice(FILE_MARKER.length).trim(), chunks: [] };
    } else if (line === END_MARKER) {
      close();
      complete = true;
      inFiles = true;
    } else if (current) {
      current.chunks.push(line.trim());
    } else if (!inFiles) {
      output.push(line);
    }
  }
  close();
  if (output.length > 0 && output[output.length - 1] === '') output.pop();
  return { files, output, complete };
}

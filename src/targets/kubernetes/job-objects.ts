// The Kubernetes objects of a training run: a ConfigMap holding the training data and a batch/v1
// Job running `spec.training.code.command` in `spec.training.code.image`. Pure; no I/O.
//
// How the produced files come back: the cluster has no storage shared with this machine, so the
// container prints them after the program succeeded, each as a marker line
// `--- maas-file <name>` followed by its bytes base64-encoded, then `--- maas-end`, and the runner
// reads them from the pod log. Kubelets rotate container logs at `containerLogMaxSize` (10 MiB by
// default), so produced files may total at most RETURNED_FILES_LIMIT bytes (about 7 MiB encoded);
// larger models need shared storage (an object store), which this delivery does not cover.
//
// A strict deployment's retraining (buildInClusterTrainingJob) is one Job on the deployment's node
// whose init containers assemble the training set from the server's labelled rows and run the
// training program, and whose container compares champion and challenger and prints the files;
// see retrain/in-cluster.ts for the contract with the steps.
import { posix } from 'node:path';
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Job,
  V1PodSpec,
  V1LocalObjectReference,
  V1ResourceRequirements,
  V1Secret,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { MaasError } from '../../core/errors.js';
import { cpuMillis, formatBytes, formatMillis, memoryBytes } from '../../domain/quantity.js';
import { IN_POD, PLAN_ENV, type InClusterPlan } from '../../retrain/in-cluster.js';
import type { ModelDescription } from '../../spec/schema.js';
import { CONFIGMAP_PAYLOAD_LIMIT, containerSecurity, DOWNLOAD_CONTAINER, podSecurity, SERVER_CONTAINER, SERVICE_PORT, strictAffinity } from './objects.js';
import { LABEL, LABELLED_TOKEN_KEY, MANAGED_BY, shortHash, toLabelValue } from './names.js';
import { GPU_RESOURCE } from './resources.js';
import type { ConfigMapObject, NamedMeta } from './types.js';

export type JobObject = V1Job & { apiVersion: 'batch/v1'; kind: 'Job'; metadata: NamedMeta };
export type SecretObject = V1Secret & { apiVersion: 'v1'; kind: 'Secret'; metadata: NamedMeta };

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

/**
 * `$DATA`, `$OUT` and `$VERSION` (also `${...}`) replaced by in-pod paths inside each argument;
 * `paths` are those of a training Job unless given (an in-cluster Job trains on IN_POD.train).
 */
export function podCommand(
  command: readonly string[],
  version: string,
  paths: { data: string; out: string } = { data: `${TRAINING_DATA_DIR}/${TRAINING_DATA_KEY}`, out: TRAINING_OUT_DIR },
): string[] {
  const map: Record<string, string> = { DATA: paths.data, OUT: paths.out, VERSION: version };
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

/** The training code of the parent version, checked: a Kubernetes Job needs a command and an image. */
function trainingCode(description: ModelDescription): { command: string[]; image: string; path?: string } {
  const { name, version } = description.metadata;
  const code = description.spec.training?.code;
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
  return { command: code.command, image: code.image, ...(code.path !== undefined ? { path: code.path } : {}) };
}

export function buildTrainingJob(input: TrainingObjectsInput): JobObject {
  const code = trainingCode(input.description);
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
  return jobObject(input, { containers: [container], volumes });
}

/** A run-once Job around `pod`: no retries, the run's deadline and TTL, no API token, restricted pod security. */
function jobObject(input: TrainingObjectsInput, pod: Omit<V1PodSpec, 'restartPolicy'>): JobObject {
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
          ...pod,
        },
      },
    },
  };
}

// In-cluster retraining of a strict deployment ------------------------------------------------

export const ASSEMBLE_CONTAINER = 'assemble';
export const EVALUATE_CONTAINER = 'evaluate';
/** The `train` step of an in-cluster Job runs the program only: `evaluate` prints the produced files. */
export const TRAIN_STEP_SCRIPT = 'exec "$@"';
/** Resources of the maas steps when the server container declares none. */
export const DEFAULT_STEP_RESOURCES = { cpu: '500m', memory: '512Mi' } as const;
/** The volume of the labelled-rows token in an in-cluster Job (only `assemble` mounts it). */
export const TOKEN_VOLUME = 'labelled-token';
const JOB_VOLUMES = ['data', 'work', 'out', 'tmp', TOKEN_VOLUME];
const JOB_PATHS = [posix.dirname(IN_POD.base), IN_POD.workDir, IN_POD.out, '/tmp', IN_POD.tokenDir];

/** What an in-cluster retraining Job takes from the live Deployment of a strict deployment (see strictServerPod). */
export interface StrictServerPod {
  /** The node the Deployment is pinned to: the Job runs there too. */
  node: string;
  /** The maas image of the server container: the steps run `maas retrain-step` in it. */
  image: string;
  imagePullPolicy?: string;
  /** The server container's resources (cpu and memory are used: the steps load the champion as the server does). */
  resources?: V1ResourceRequirements;
  /** The server's `--description` and `--artifact` (in-pod paths): the champion of the comparison. */
  description: string;
  artifact: string;
  /** The volumes holding them (and those of the download init container), with the Deployment's names. */
  modelVolumes: V1Volume[];
  /** The server's mounts of those volumes (read-only), at the server's paths. */
  modelMounts: V1VolumeMount[];
  /** The Deployment's artifact download init container (URL artifacts), copied as is. */
  fetchArtifact?: V1Container;
  imagePullSecrets?: V1LocalObjectReference[];
  tolerations?: V1Toleration[];
}

/** The single node a pod template is pinned to by strictAffinity, if it is. */
export function pinnedNode(deployment: V1Deployment): string | undefined {
  const terms = deployment.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const f = terms[0]!.matchFields?.find((x) => x.key === 'metadata.name' && x.operator === 'In' && x.values?.length === 1);
  return f?.values?.[0];
}

function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

const overlaps = (a: string, b: string): boolean => {
  const x = a.replace(/\/+$/, '');
  const y = b.replace(/\/+$/, '');
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
};

/**
 * Reads what a retraining Job needs from the live Deployment of a strict deployment (`what` names
 * it in errors; `node` is the record's node, used when the template names none). CONFLICT when it
 * is not a strictly placed maas model server that reads the labelled-rows token Secret `secretName`.
 */
export function strictServerPod(deployment: V1Deployment, o: { secretName: string; node?: string; what: string }): StrictServerPod {
  const objectName = `Deployment ${deployment.metadata?.namespace ?? '?'}/${deployment.metadata?.name ?? '?'}`;
  const redeploy = `deploy ${o.what} again with this version of maas (--strict --node <node>), then retrain`;
  const conflict = (why: string, hint = redeploy) => new MaasError('CONFLICT', `${objectName} of ${o.what} ${why}`, { hint });
  const pod = deployment.spec?.template?.spec;
  const server = pod?.containers?.find((c) => c.name === SERVER_CONTAINER);
  if (!pod || !server?.image) throw conflict(`has no "${SERVER_CONTAINER}" container with an image: it is not a maas model server`);
  const args = [...(server.command ?? []), ...(server.args ?? [])];
  if (!args.includes('--strict')) {
    throw conflict(
      'is not strictly placed (its server runs without --strict), so its labelled rows are not retrained on on its node',
      `${redeploy}; or retrain on the exported feedback with --target local`,
    );
  }
  const node = pinnedNode(deployment) ?? o.node;
  if (!node) throw conflict('is not pinned to a node');
  const description = argValue(args, '--description');
  const artifact = argValue(args, '--artifact');
  if (!description || !artifact) throw conflict('runs a server without --description and --artifact');
  const volumes = pod.volumes ?? [];
  if (!volumes.some((v) => v.secret?.secretName === o.secretName)) {
    throw conflict(
      `does not mount the labelled-rows token Secret ${o.secretName} (it was deployed by an earlier version of maas), so its server would refuse the Job`,
    );
  }
  const mounts = server.volumeMounts ?? [];
  const modelMounts: V1VolumeMount[] = [];
  for (const path of [description, artifact]) {
    const m = mounts.filter((x) => path.startsWith(`${x.mountPath.replace(/\/+$/, '')}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!m) throw conflict(`has its server read ${path} from no volume`);
    if (!modelMounts.some((x) => x.name === m.name)) modelMounts.push({ ...m, readOnly: true });
  }
  const fetchArtifact = pod.initContainers?.find((c) => c.name === DOWNLOAD_CONTAINER);
  const needed = [...new Set([...modelMounts.map((m) => m.name), ...(fetchArtifact?.volumeMounts ?? []).map((m) => m.name)])];
  const modelVolumes: V1Volume[] = [];
  for (const name of needed) {
    const v = volumes.find((x) => x.name === name);
    if (!v) throw conflict(`mounts the volume "${name}" that its pod does not define`);
    if (JOB_VOLUMES.includes(name)) throw conflict(`has a model volume named "${name}", which the retraining Job uses itself`);
    modelVolumes.push(v);
  }
  for (const m of modelMounts) {
    if (JOB_PATHS.some((p) => overlaps(p, m.mountPath))) throw conflict(`mounts its model at ${m.mountPath}, where the retraining Job mounts its own volumes`);
  }
  return {
    node,
    image: server.image,
    ...(server.imagePullPolicy ? { imagePullPolicy: server.imagePullPolicy } : {}),
    ...(server.resources ? { resources: server.resources } : {}),
    description,
    artifact,
    modelVolumes,
    modelMounts,
    ...(fetchArtifact ? { fetchArtifact } : {}),
    ...(pod.imagePullSecrets?.length ? { imagePullSecrets: pod.imagePullSecrets } : {}),
    ...(pod.tolerations?.length ? { tolerations: pod.tolerations } : {}),
  };
}

/** The full plan: the given one, the deployment's Service as the server, the server's own champion paths. */
export function inClusterPlan(
  plan: Omit<InClusterPlan, 'server' | 'championDescription' | 'championArtifact'>,
  server: Pick<StrictServerPod, 'description' | 'artifact'>,
  service: { name: string; namespace: string },
): InClusterPlan {
  return {
    ...plan,
    server: `http://${service.name}.${service.namespace}.svc:${SERVICE_PORT}`,
    championDescription: server.description,
    championArtifact: server.artifact,
  };
}

export interface InClusterJobInput extends TrainingObjectsInput {
  /** What the Job takes from the deployment's live Deployment. */
  server: StrictServerPod;
  /** The full plan (see inClusterPlan); every step reads it from env PLAN_ENV. */
  plan: InClusterPlan;
  /** The labelled-rows token Secret (see buildLabelledTokenSecret). */
  secretName: string;
}

/** cpu and memory of the server container (no GPU: the server holds it), else DEFAULT_STEP_RESOURCES. */
function stepResources(r: V1ResourceRequirements | undefined): V1ResourceRequirements {
  const pick = (m: Record<string, string | number> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(m ?? {}).flatMap(([k, v]) => ((k === 'cpu' || k === 'memory') && v !== undefined ? [[k, String(v)]] : [])));
  const requests = pick(r?.requests);
  const limits = pick(r?.limits);
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0)
    return { requests: { ...DEFAULT_STEP_RESOURCES }, limits: { ...DEFAULT_STEP_RESOURCES } };
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

/**
 * The retraining Job of a strict deployment, on its node: init containers [fetch-artifact,]
 * assemble, train; container evaluate (see retrain/in-cluster.ts). Only `assemble` mounts the
 * token; `evaluate` mounts the deployment's model volumes where its server has them.
 */
export function buildInClusterTrainingJob(input: InClusterJobInput): JobObject {
  const code = trainingCode(input.description);
  const { server } = input;
  const stepEnv = (): V1EnvVar[] => [
    { name: PLAN_ENV, value: JSON.stringify(input.plan) },
    { name: 'MAAS_HOME', value: '/tmp/maas' },
    { name: 'HOME', value: '/tmp' },
    { name: 'NO_COLOR', value: '1' },
    { name: 'NODE_ENV', value: 'production' },
  ];
  const maasStep = (name: string, step: 'assemble' | 'evaluate', volumeMounts: V1VolumeMount[]): V1Container => ({
    name,
    image: server.image,
    ...(server.imagePullPolicy ? { imagePullPolicy: server.imagePullPolicy } : {}),
    command: ['maas', 'retrain-step', step],
    env: stepEnv(),
    resources: stepResources(server.resources),
    securityContext: containerSecurity(),
    volumeMounts,
  });
  const tmp = (): V1VolumeMount => ({ name: 'tmp', mountPath: '/tmp' });
  const assemble = maasStep(ASSEMBLE_CONTAINER, 'assemble', [
    { name: 'data', mountPath: posix.dirname(IN_POD.base), readOnly: true },
    { name: 'work', mountPath: IN_POD.workDir },
    { name: TOKEN_VOLUME, mountPath: IN_POD.tokenDir, readOnly: true },
    tmp(),
  ]);
  const train: V1Container = {
    name: TRAINING_CONTAINER,
    image: code.image,
    ...(input.imagePullPolicy ? { imagePullPolicy: input.imagePullPolicy } : {}),
    command: ['sh', '-c', TRAIN_STEP_SCRIPT, 'maas-train', ...podCommand(code.command, input.version, { data: IN_POD.train, out: IN_POD.out })],
    ...(code.path?.startsWith('/') ? { workingDir: code.path } : {}),
    env: [
      { name: 'MAAS_DATA', value: IN_POD.train },
      { name: 'MAAS_OUT', value: IN_POD.out },
      { name: 'MAAS_VERSION', value: input.version },
      { name: 'HOME', value: '/tmp' },
      { name: 'NO_COLOR', value: '1' },
    ],
    resources: trainingResources(input.description),
    securityContext: containerSecurity(),
    volumeMounts: [{ name: 'work', mountPath: IN_POD.workDir, readOnly: true }, { name: 'out', mountPath: IN_POD.out }, tmp()],
  };
  const evaluate = maasStep(EVALUATE_CONTAINER, 'evaluate', [
    { name: 'work', mountPath: IN_POD.workDir, readOnly: true },
    { name: 'out', mountPath: IN_POD.out },
    tmp(),
    ...server.modelMounts.map((m) => ({ ...m, readOnly: true })),
  ]);
  const volumes: V1Volume[] = [
    { name: 'data', configMap: { name: input.name, defaultMode: 0o444, items: [{ key: TRAINING_DATA_KEY, path: posix.basename(IN_POD.base) }] } },
    { name: 'work', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'out', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
    // Readable by the pod's group (fsGroup) only; the Secret is deleted when the run ends.
    {
      name: TOKEN_VOLUME,
      secret: { secretName: input.secretName, defaultMode: 0o440, items: [{ key: LABELLED_TOKEN_KEY, path: posix.basename(IN_POD.tokenFile) }] },
    },
    ...server.modelVolumes,
  ];
  return jobObject(input, {
    // The deployment's node: its labelled rows never leave it.
    affinity: strictAffinity(server.node),
    ...(server.tolerations ? { tolerations: server.tolerations } : {}),
    ...(server.imagePullSecrets ? { imagePullSecrets: server.imagePullSecrets } : {}),
    initContainers: [...(server.fetchArtifact ? [server.fetchArtifact] : []), assemble, train],
    containers: [evaluate],
    volumes,
  });
}

export interface LabelledTokenSecretInput {
  /** labelledSecretName(the deployment's object name): the name its server mounts. */
  name: string;
  namespace: string;
  token: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * The labelled-rows token Secret a retraining Job shares with the model server. Not immutable on
 * purpose: kubelets do not refresh immutable Secrets, and each run creates it anew under the same name.
 */
export function buildLabelledTokenSecret(input: LabelledTokenSecretInput): SecretObject {
  if (!input.token || /\s/.test(input.token)) throw new MaasError('INTERNAL', 'the labelled-rows token must be a non-empty string without whitespace');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: 'labelled-token', ...(input.labels ?? {}) },
      ...(input.annotations ? { annotations: { ...input.annotations } } : {}),
    },
    type: 'Opaque',
    data: { [LABELLED_TOKEN_KEY]: Buffer.from(input.token).toString('base64') },
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

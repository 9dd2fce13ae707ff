// The Kubernetes objects of a model deployment: ConfigMap, Deployment, Service and, when the
// replica bounds differ, a HorizontalPodAutoscaler. Pure: same input, same objects; no I/O.
import { createHash } from 'node:crypto';
import type { V1Affinity, V1Container, V1PodSecurityContext, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { MaasError } from '../../core/errors.js';
import type { ReferenceProfile } from '../../drift/profile.js';
import { IN_POD } from '../../retrain/in-cluster.js';
import { ANNOTATION, LABEL, MANAGED_BY, isValidLabelKey, isValidLabelValue, labelledSecretName, objectName, selectorLabels, toLabelValue } from './names.js';
import { containerResources, replicaBounds, servingRequests } from './resources.js';
import type { ConfigMapObject, DeploymentObject, HpaObject, KubeObject, ModelObjectsInput, NamedMeta, ServiceObject } from './types.js';

export const DEFAULT_PORT = 8080;
export const SERVICE_PORT = 80;
export const PORT_NAME = 'http';
export const SERVER_CONTAINER = 'server';
export const DOWNLOAD_CONTAINER = 'fetch-artifact';
export const DEFAULT_DOWNLOADER_IMAGE = 'curlimages/curl:8.11.1';
export const DEFAULT_TARGET_CPU = 70;
/** The non-root user of the model server image (templates/Dockerfile). */
export const RUN_AS_USER = 10001;

export const MODEL_DIR = '/model';
export const ARTIFACT_DIR = '/model-artifact';
export const DATA_DIR = '/data';
/** The volume of a strict server's labelled-rows token (the optional Secret labelledSecretName). */
export const LABELLED_TOKEN_VOLUME = 'labelled-token';
export const DESCRIPTION_KEY = 'model.json';
export const PROFILE_KEY = 'profile.json';

/**
 * A ConfigMap may hold 1 MiB in total; the artifact travels base64-encoded in binaryData, next
 * to the description and metadata. 900 KiB of encoded payload leaves room for both.
 */
export const CONFIGMAP_PAYLOAD_LIMIT = 900 * 1024;

export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** Whether an artifact of this size (plus the description) can ship inside the ConfigMap. */
export function artifactFitsConfigMap(artifactBytes: number, descriptionBytes = 0): boolean {
  return base64Length(artifactBytes) + descriptionBytes <= CONFIGMAP_PAYLOAD_LIMIT;
}

/** How a profile ships: its JSON (absent when it does not fit at all), its sample rows, and why it was cut. */
export interface ShippedProfile {
  json?: string;
  rows: number;
  sampleRows: number;
  note?: string;
}

/**
 * The profile as it ships in the ConfigMap next to `usedBytes` of description and (encoded)
 * artifact, which come first: whole when it fits, else without its sample rows (the aggregates
 * are small; the server then runs its histogram-based tests only), else not at all.
 */
export function profileForConfigMap(profile: ReferenceProfile, usedBytes: number): ShippedProfile {
  const room = CONFIGMAP_PAYLOAD_LIMIT - usedBytes;
  const whole = JSON.stringify(profile);
  const sampleRows = profile.sample.rows.length;
  if (Buffer.byteLength(whole) <= room) return { json: whole, rows: profile.rows, sampleRows };
  const aggregates = JSON.stringify({ ...profile, sample: { ...profile.sample, rows: [] } });
  const why = `the ConfigMap holds at most ${Math.floor(CONFIGMAP_PAYLOAD_LIMIT / 1024)} KiB with the description and the artifact`;
  if (Buffer.byteLength(aggregates) <= room) {
    return {
      json: aggregates,
      rows: profile.rows,
      sampleRows: 0,
      note: `profile shipped without its ${sampleRows} sample rows (${why}); value-based drift tests fall back to histograms`,
    };
  }
  return {
    rows: profile.rows,
    sampleRows: 0,
    note: `profile not shipped: even without its sample rows it does not fit (${why}); the server runs without drift reference`,
  };
}

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

function checkFileName(fileName: string): void {
  if (
    !CONFIGMAP_KEY.test(fileName) ||
    fileName === '.' ||
    fileName === '..' ||
    fileName.length > 253 ||
    fileName === DESCRIPTION_KEY ||
    fileName === PROFILE_KEY
  ) {
    throw new MaasError('VALIDATION', `artifact file name "${fileName}" cannot be used in the pod`, {
      hint: `use letters, digits, '-', '_' and '.', and not "${DESCRIPTION_KEY}" or "${PROFILE_KEY}"`,
    });
  }
}

/** The shared object name and the instance label of the objects of `input`. */
export function identityOf(input: ModelObjectsInput): { name: string; instance: string } {
  const name = input.name ?? objectName(input.modelRef.name, input.modelRef.version, input.mode === 'strict' ? input.node : undefined);
  return { name, instance: input.instance ?? name };
}

function labelsFor(input: ModelObjectsInput): Record<string, string> {
  // User labels first so that maas labels always win; invalid ones are skipped, not fatal.
  const user = Object.entries(input.description.metadata.labels ?? {}).filter(
    ([k, v]) => isValidLabelKey(k) && isValidLabelValue(v) && !k.startsWith('app.kubernetes.io/') && !k.startsWith('maas.dev/'),
  );
  return {
    ...Object.fromEntries(user),
    ...selectorLabels(identityOf(input).instance),
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.component]: 'model-server',
    [LABEL.version]: toLabelValue(input.modelRef.version),
    [LABEL.model]: toLabelValue(input.modelRef.name),
    [LABEL.modelVersion]: toLabelValue(input.modelRef.version),
  };
}

function annotationsFor(input: ModelObjectsInput): Record<string, string> {
  return {
    [ANNOTATION.modelRef]: `${input.modelRef.name}@${input.modelRef.version}`,
    [ANNOTATION.specDigest]: input.modelRef.specDigest,
    [ANNOTATION.artifactDigest]: input.modelRef.artifactDigest,
  };
}

function meta(input: ModelObjectsInput): NamedMeta {
  // The deployment ID stays out of the pod template: it must not roll pods or vary dry runs.
  const annotations = { ...annotationsFor(input), ...(input.deploymentId ? { [ANNOTATION.deploymentId]: input.deploymentId } : {}) };
  return { name: identityOf(input).name, namespace: input.namespace, labels: labelsFor(input), annotations };
}

export function buildConfigMap(input: ModelObjectsInput): ConfigMapObject {
  const cm: ConfigMapObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(input),
    data: { [DESCRIPTION_KEY]: input.descriptionJson, ...(input.profileJson !== undefined ? { [PROFILE_KEY]: input.profileJson } : {}) },
  };
  if (input.artifact.kind === 'configmap') {
    checkFileName(input.artifact.fileName);
    const size = input.artifact.data.length;
    const beside = Buffer.byteLength(input.descriptionJson) + (input.profileJson !== undefined ? Buffer.byteLength(input.profileJson) : 0);
    if (!artifactFitsConfigMap(size, beside)) {
      throw new MaasError(
        'VALIDATION',
        `the artifact (${size} bytes) is too large to ship in a ConfigMap${input.profileJson !== undefined ? ' with the description and profile' : ''}`,
        {
          hint: 'publish the artifact at an https:// URI; the pod then downloads it with an init container',
        },
      );
    }
    cm.binaryData = { [input.artifact.fileName]: input.artifact.data.toString('base64') };
  }
  return cm;
}

/** Restrictive container settings (the `restricted` Pod Security Standard and then some). */
export function containerSecurity(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function podSecurity(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    // emptyDir volumes become group-writable for the server user.
    fsGroup: RUN_AS_USER,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function artifactPath(input: ModelObjectsInput): string {
  return input.artifact.kind === 'configmap' ? `${MODEL_DIR}/${input.artifact.fileName}` : `${ARTIFACT_DIR}/${input.artifact.fileName}`;
}

/** Init container for URL artifacts: download, then verify the registered digest before serving. */
function downloader(input: ModelObjectsInput & { artifact: { kind: 'url' } }): V1Container {
  const { uri, fileName } = input.artifact;
  if (!/^https?:\/\//i.test(uri)) {
    throw new MaasError('VALIDATION', `the pod cannot download the artifact from "${uri}"`, {
      hint: 'publish the artifact at an http(s) URI (for s3:// or gs:// use a pre-signed https URL)',
    });
  }
  checkFileName(fileName);
  const digest = /^sha256:([a-f0-9]{64})$/.exec(input.modelRef.artifactDigest)?.[1] ?? '';
  // Values travel in env, never spliced into the script, so a URI cannot inject shell.
  const script = [
    'set -eu',
    'curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 -o "$MAAS_ARTIFACT_PATH.part" "$MAAS_ARTIFACT_URI"',
    'if [ -n "$MAAS_ARTIFACT_SHA256" ]; then echo "$MAAS_ARTIFACT_SHA256  $MAAS_ARTIFACT_PATH.part" | sha256sum -c -; fi',
    'mv "$MAAS_ARTIFACT_PATH.part" "$MAAS_ARTIFACT_PATH"',
  ].join('\n');
  return {
    name: DOWNLOAD_CONTAINER,
    image: input.downloaderImage ?? DEFAULT_DOWNLOADER_IMAGE,
    ...(input.imagePullPolicy ? { imagePullPolicy: input.imagePullPolicy } : {}),
    command: ['sh', '-c', script],
    env: [
      { name: 'MAAS_ARTIFACT_URI', value: uri },
      { name: 'MAAS_ARTIFACT_PATH', value: `${ARTIFACT_DIR}/${fileName}` },
      { name: 'MAAS_ARTIFACT_SHA256', value: digest },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
    securityContext: containerSecurity(),
    volumeMounts: [{ name: 'artifact', mountPath: ARTIFACT_DIR }],
  };
}

function serverContainer(input: ModelObjectsInput): V1Container {
  const port = input.port ?? DEFAULT_PORT;
  const mounts: V1VolumeMount[] = [
    { name: 'model', mountPath: MODEL_DIR, readOnly: true },
    { name: 'data', mountPath: DATA_DIR },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (input.artifact.kind === 'url') mounts.push({ name: 'artifact', mountPath: ARTIFACT_DIR, readOnly: true });
  if (input.mode === 'strict') mounts.push({ name: LABELLED_TOKEN_VOLUME, mountPath: IN_POD.tokenDir, readOnly: true });
  const http = (path: string) => ({ path, port: PORT_NAME, scheme: 'HTTP' });
  return {
    name: SERVER_CONTAINER,
    image: input.image,
    ...(input.imagePullPolicy ? { imagePullPolicy: input.imagePullPolicy } : {}),
    // command and args both set: the pod does not depend on the image's entrypoint.
    command: ['maas', 'serve'],
    args: [
      '--description',
      `${MODEL_DIR}/${DESCRIPTION_KEY}`,
      '--artifact',
      artifactPath(input),
      '--host',
      '0.0.0.0',
      '--port',
      String(port),
      '--log-db',
      `${DATA_DIR}/requests.db`,
      // The ConfigMap volume holds every key: the profile is a file next to the description.
      ...(input.profileJson !== undefined ? ['--profile', `${MODEL_DIR}/${PROFILE_KEY}`] : []),
      // Strict placement keeps data on its node: the server holds no raw rows in memory either.
      // Its labelled rows go only to a request bearing the token of the retraining Job on this
      // node (a Secret mounted in place, so rotation and deletion reach the server unrestarted).
      ...(input.mode === 'strict' ? ['--strict', '--labelled-token-file', IN_POD.tokenFile] : []),
    ],
    env: [
      { name: 'MAAS_HOME', value: DATA_DIR },
      { name: 'HOME', value: '/tmp' },
      { name: 'NO_COLOR', value: '1' },
      { name: 'NODE_ENV', value: 'production' },
    ],
    ports: [{ name: PORT_NAME, containerPort: port, protocol: 'TCP' }],
    resources: containerResources(servingRequests(input.description)),
    // Startup covers model loading (up to 2 minutes); liveness then restarts a hung server;
    // readiness takes a replica out of the Service while it cannot answer.
    startupProbe: { httpGet: http('/v2/health/live'), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
    livenessProbe: { httpGet: http('/v2/health/live'), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { httpGet: http('/v2/health/ready'), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
    securityContext: containerSecurity(),
    volumeMounts: mounts,
  };
}

function volumes(input: ModelObjectsInput): V1Volume[] {
  const v: V1Volume[] = [
    { name: 'model', configMap: { name: identityOf(input).name, defaultMode: 0o444 } },
    // The request log; bounded by the server, capped here so that it can never fill the node.
    { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
  ];
  if (input.artifact.kind === 'url') v.push({ name: 'artifact', emptyDir: {} });
  // Optional: the Secret exists only while a retraining Job runs, and the pod starts without it.
  // 0440 (owner root, group fsGroup): the non-root server reads it through podSecurity's fsGroup.
  if (input.mode === 'strict') {
    v.push({ name: LABELLED_TOKEN_VOLUME, secret: { secretName: labelledSecretName(identityOf(input).name), optional: true, defaultMode: 0o440 } });
  }
  return v;
}

/** The profile's digest on the pod template: pods read it at start, so a new profile rolls them. */
function profileAnnotation(input: ModelObjectsInput): Record<string, string> {
  if (input.profileJson === undefined) return {};
  return { [ANNOTATION.profileDigest]: `sha256:${createHash('sha256').update(input.profileJson).digest('hex')}` };
}

export function buildDeployment(input: ModelObjectsInput): DeploymentObject {
  if (input.mode === 'strict' && !input.node) {
    throw new MaasError('USAGE', 'strict placement needs a node', { hint: 'pass --node <name> (see `kubectl get nodes`)' });
  }
  const m = meta(input);
  const bounds = replicaBounds(input.description);
  const initContainers = input.artifact.kind === 'url' ? [downloader({ ...input, artifact: input.artifact })] : undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: m,
    spec: {
      // With an HPA the replica count belongs to it: an apply that set it would fight the HPA
      // on every re-deploy. The API defaults a new Deployment to 1 and the HPA raises it to min.
      ...(bounds.autoscale ? {} : { replicas: bounds.initial }),
      selector: { matchLabels: selectorLabels(identityOf(input).instance) },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      // Never fewer ready replicas than wanted during an update: a new version only takes
      // traffic once its readiness probe passes.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        // The digests change with the model, so a new version rolls the pods even when only
        // the ConfigMap content changed.
        metadata: { labels: { ...m.labels }, annotations: { ...annotationsFor(input), ...profileAnnotation(input) } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(),
          terminationGracePeriodSeconds: 30,
          ...(input.mode === 'strict' && input.node ? { affinity: strictAffinity(input.node) } : {}),
          ...(initContainers ? { initContainers } : {}),
          containers: [serverContainer(input)],
          volumes: volumes(input),
        },
      },
    },
  };
}

/**
 * Strict placement pins by node name through required node affinity on `metadata.name`, not
 * `nodeName` and not the `kubernetes.io/hostname` label: the scheduler still checks resources and
 * taints and reports why it cannot place the pod (a FailedScheduling event), and the node name is
 * exactly what the user passed and what the placement check read, while the hostname label can
 * differ from the node name (cloud providers, --hostname-override).
 */
export function strictAffinity(node: string): V1Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
      },
    },
  };
}

export function buildService(input: ModelObjectsInput): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(input),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(identityOf(input).instance),
      ports: [{ name: PORT_NAME, port: SERVICE_PORT, targetPort: PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export function buildHpa(input: ModelObjectsInput): HpaObject | undefined {
  const bounds = replicaBounds(input.description);
  if (!bounds.autoscale) return undefined;
  const { name } = identityOf(input);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(input),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: bounds.min,
      maxReplicas: bounds.max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: input.targetCpuUtilization ?? DEFAULT_TARGET_CPU } },
        },
      ],
    },
  };
}

export interface ModelObjectSet {
  configMap: ConfigMapObject;
  deployment: DeploymentObject;
  service: ServiceObject;
  hpa?: HpaObject;
}

export function buildModelObjectSet(input: ModelObjectsInput): ModelObjectSet {
  const hpa = buildHpa(input);
  return {
    configMap: buildConfigMap(input),
    deployment: buildDeployment(input),
    service: buildService(input),
    ...(hpa ? { hpa } : {}),
  };
}

/** All objects in apply order: the ConfigMap before the pods that mount it, the HPA last. */
export function buildModelObjects(input: ModelObjectsInput): KubeObject[] {
  const s = buildModelObjectSet(input);
  return [s.configMap, s.deployment, s.service, ...(s.hpa ? [s.hpa] : [])];
}

/**
 * Decommission step 1 as a server-side apply body: only `spec.replicas: 0`. Send it with field
 * manager DECOMMISSION_FIELD_MANAGER and force=true: a separate manager keeps every field `maas`
 * owns (an apply by `maas` with this body would drop the whole pod template), force takes
 * `spec.replicas` over from whoever held it. An HPA does not scale a Deployment up from zero.
 * To serve again: a `maas` apply with force takes the count back when replicas are fixed; with
 * an HPA apply releaseScale (see there).
 */
export function scaleToZero(
  name: string,
  namespace: string,
): { apiVersion: 'apps/v1'; kind: 'Deployment'; metadata: { name: string; namespace: string }; spec: { replicas: 0 } } {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { replicas: 0 } };
}

/**
 * Undoes scaleToZero: applied with DECOMMISSION_FIELD_MANAGER, a body of nothing but identity
 * releases `spec.replicas` (server-side apply drops or re-defaults fields a manager stops
 * applying when nobody else owns them). Needed when an HPA manages the Deployment: `maas`
 * does not apply replicas then, so the count would stay 0; released, it falls back to the API
 * default of 1 and the HPA raises it to minReplicas.
 */
export function releaseScale(name: string, namespace: string): { apiVersion: 'apps/v1'; kind: 'Deployment'; metadata: { name: string; namespace: string } } {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } };
}

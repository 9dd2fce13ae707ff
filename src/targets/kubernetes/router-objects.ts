// The Kubernetes objects of a composition's router: a ConfigMap holding router.json (the
// RouterConfig), a Deployment running `maas serve --composition` in the maas image, and a
// ClusterIP Service that `maas predict NAME` reaches through the API server's proxy. The router
// finds its members by their Services' cluster DNS names (see memberEndpoint). Pure: same input,
// same objects; no I/O.
import { createHash } from 'node:crypto';
import type { V1Container } from '@kubernetes/client-node';
import { MaasError } from '../../core/errors.js';
import type { RouterConfig } from '../../domain/composition.js';
import { canonicalJson } from '../../registry/canonical.js';
import { ANNOTATION, LABEL, MANAGED_BY, isValidLabelKey, isValidLabelValue, isValidObjectName, shortHash, toLabelValue } from './names.js';
import { CONFIGMAP_PAYLOAD_LIMIT, DATA_DIR, DEFAULT_PORT, PORT_NAME, SERVER_CONTAINER, SERVICE_PORT, containerSecurity, podSecurity } from './objects.js';
import type { ConfigMapObject, DeploymentObject, KubeObject, NamedMeta, ServiceObject } from './types.js';

/** `app.kubernetes.io/name` of router objects (model servers are `maas-model`): part of the pod selector. */
export const ROUTER_APP_NAME = 'maas-router';
/** `app.kubernetes.io/component` of router objects. */
export const ROUTER_COMPONENT = 'composition-router';

export const ROUTER_LABEL = {
  /** The composition a router serves (its name; a DNS-1123 label, so a valid label value). */
  composition: 'maas.dev/composition',
} as const;

export const ROUTER_ANNOTATION = {
  /** `NAME@VERSION` of the composition the objects were last applied for. */
  compositionRef: 'maas.dev/composition-ref',
  /** `sha256:<hex>` of router.json, on the pod template: a new configuration rolls the pods. */
  configDigest: 'maas.dev/router-config-digest',
} as const;

/** Where the ConfigMap is mounted in the pod, and the key (file) that holds the configuration. */
export const ROUTER_DIR = '/router';
export const ROUTER_CONFIG_KEY = 'router.json';

/**
 * What a router pod asks for. Requests are small (it forwards requests and keeps counters and a
 * request log); memory is capped at the request, CPU may burst to one core: the router sits on
 * the path of every request, and a 250m CPU limit would throttle it under load.
 */
export const ROUTER_RESOURCES = {
  requests: { cpu: '250m', memory: '256Mi' },
  limits: { cpu: '1', memory: '256Mi' },
} as const;

const NAME_PREFIX = 'maas-compose-';
const MAX_NAME = 63;

/**
 * The name every object of a composition's router shares: `maas-compose-<name>` (a valid
 * DNS-1035 label of at most 63 characters). A composition name is a DNS-1123 label of at most 53
 * characters; a longer or digit-led one is cut and suffixed with a hash of the exact name.
 */
export function routerObjectName(composition: string): string {
  const readable = `${NAME_PREFIX}${composition}`;
  if (isValidObjectName(readable)) return readable;
  const suffix = shortHash(composition);
  const cleaned = composition
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const head = `${NAME_PREFIX}${cleaned}`.slice(0, MAX_NAME - 1 - suffix.length).replace(/-+$/, '');
  return `${head}-${suffix}`;
}

/**
 * How a router inside the cluster reaches a member: its Service by cluster DNS, on the Service
 * port (`http://<service>.<namespace>.svc:80`). `.svc` without the cluster domain resolves through
 * every pod's DNS search path, whatever the cluster domain is.
 */
export function memberEndpoint(service: string, namespace: string): string {
  return `http://${service}.${namespace}.svc:${SERVICE_PORT}`;
}

/**
 * The file the router reads: the configuration as JSON with sorted keys (indented, for `kubectl
 * get configmap -o yaml` readers), so that the same configuration always gives the same bytes and
 * the same digest, and a different one a different digest.
 */
export function routerConfigJson(config: RouterConfig): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(config)), null, 2)}\n`;
}

export function routerConfigDigest(json: string): string {
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}

export interface RouterObjectsInput {
  /** Name of every object; default routerObjectName() of the composition. */
  name?: string;
  /** The `app.kubernetes.io/instance` label the selectors use; default the name. */
  instance?: string;
  /** The router's maas deployment, as an annotation on the objects (never on the pod template). */
  deploymentId?: string;
  namespace: string;
  config: RouterConfig;
  /** The maas image (the model server image: it runs `maas serve`). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface RouterObjectSet {
  configMap: ConfigMapObject;
  deployment: DeploymentObject;
  service: ServiceObject;
}

function identity(input: RouterObjectsInput): { name: string; instance: string } {
  const name = input.name ?? routerObjectName(input.config.composition.metadata.name);
  return { name, instance: input.instance ?? name };
}

/** What the Deployment selects its pods by, and the Service its endpoints: immutable identity only. */
export function routerSelectorLabels(instance: string): Record<string, string> {
  return { [LABEL.name]: ROUTER_APP_NAME, [LABEL.instance]: instance };
}

function labelsFor(input: RouterObjectsInput): Record<string, string> {
  const { name, version, labels } = input.config.composition.metadata;
  // The composition's own labels first (the valid ones), so that maas labels always win.
  const user = Object.entries(labels ?? {}).filter(
    ([k, v]) => isValidLabelKey(k) && isValidLabelValue(v) && !k.startsWith('app.kubernetes.io/') && !k.startsWith('maas.dev/'),
  );
  return {
    ...Object.fromEntries(user),
    ...routerSelectorLabels(identity(input).instance),
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.component]: ROUTER_COMPONENT,
    [LABEL.version]: toLabelValue(version),
    [ROUTER_LABEL.composition]: toLabelValue(name),
  };
}

function meta(input: RouterObjectsInput): NamedMeta {
  const { name, version } = input.config.composition.metadata;
  return {
    name: identity(input).name,
    namespace: input.namespace,
    labels: labelsFor(input),
    annotations: {
      [ROUTER_ANNOTATION.compositionRef]: `${name}@${version}`,
      ...(input.deploymentId ? { [ANNOTATION.deploymentId]: input.deploymentId } : {}),
    },
  };
}

/** Members a router in the cluster cannot reach: those addressed by a local endpoint file. */
function checkMembers(config: RouterConfig): void {
  const local = config.members.filter((m) => m.endpoint === undefined);
  if (local.length === 0) return;
  throw new MaasError(
    'USAGE',
    `a router on Kubernetes cannot reach member${local.length === 1 ? '' : 's'} ${local.map((m) => `${m.key} (${m.deployment})`).join(', ')}: ${local.length === 1 ? 'it is' : 'they are'} not served in a cluster`,
    { hint: 'members of a composition on the kubernetes target must be kubernetes deployments (deploy them with --target kubernetes)' },
  );
}

export function buildRouterConfigMap(input: RouterObjectsInput, json = routerConfigJson(input.config)): ConfigMapObject {
  if (Buffer.byteLength(json) > CONFIGMAP_PAYLOAD_LIMIT) {
    throw new MaasError(
      'VALIDATION',
      `the router configuration of ${input.config.composition.metadata.name} (${Buffer.byteLength(json)} bytes) does not fit in a ConfigMap`,
      { hint: `a ConfigMap holds at most 1 MiB; fewer members or features with fewer category values keep it under ${CONFIGMAP_PAYLOAD_LIMIT / 1024} KiB` },
    );
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(input), data: { [ROUTER_CONFIG_KEY]: json } };
}

function routerContainer(input: RouterObjectsInput): V1Container {
  const http = (path: string) => ({ path, port: PORT_NAME, scheme: 'HTTP' });
  return {
    // Named like a model server's container, so that `maas logs` reads a router the same way.
    name: SERVER_CONTAINER,
    image: input.image,
    ...(input.imagePullPolicy ? { imagePullPolicy: input.imagePullPolicy } : {}),
    command: ['maas', 'serve'],
    args: ['--composition', `${ROUTER_DIR}/${ROUTER_CONFIG_KEY}`, '--host', '0.0.0.0', '--port', String(DEFAULT_PORT), '--log-db', `${DATA_DIR}/requests.db`],
    env: [
      { name: 'MAAS_HOME', value: DATA_DIR },
      { name: 'HOME', value: '/tmp' },
      { name: 'NO_COLOR', value: '1' },
      { name: 'NODE_ENV', value: 'production' },
    ],
    ports: [{ name: PORT_NAME, containerPort: DEFAULT_PORT, protocol: 'TCP' }],
    resources: { requests: { ...ROUTER_RESOURCES.requests }, limits: { ...ROUTER_RESOURCES.limits } },
    // The router loads no model: it is up within seconds. Readiness takes a replica out of the
    // Service while it cannot answer; liveness restarts a hung one.
    startupProbe: { httpGet: http('/v2/health/live'), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
    livenessProbe: { httpGet: http('/v2/health/live'), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { httpGet: http('/v2/health/ready'), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
    securityContext: containerSecurity(),
    volumeMounts: [
      { name: 'router', mountPath: ROUTER_DIR, readOnly: true },
      { name: 'data', mountPath: DATA_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

export function buildRouterDeployment(input: RouterObjectsInput, json = routerConfigJson(input.config)): DeploymentObject {
  const m = meta(input);
  const { name, instance } = identity(input);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: m,
    spec: {
      // One replica: the request log (predictions that feedback refers to) and the measurements
      // `maas compose status` reads live in the pod; behind a Service spreading requests over
      // several replicas, feedback and measurements would each reach only one of them.
      replicas: 1,
      selector: { matchLabels: routerSelectorLabels(instance) },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      // A new configuration starts a new pod first and stops the old one once the new one is
      // ready: the Service always has a ready router.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        // The configuration's digest rolls the pods on every change (and only then): a mounted
        // ConfigMap reaches a running pod only after the kubelet's sync (up to a minute or more).
        metadata: { labels: { ...m.labels }, annotations: { [ROUTER_ANNOTATION.configDigest]: routerConfigDigest(json) } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(),
          terminationGracePeriodSeconds: 30,
          containers: [routerContainer(input)],
          volumes: [
            // The whole ConfigMap as a directory (no subPath): a running router still sees an
            // update (the kubelet swaps the files), which it notices and reloads.
            { name: 'router', configMap: { name, defaultMode: 0o444 } },
            // The request log; capped so that it can never fill the node.
            { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  };
}

export function buildRouterService(input: RouterObjectsInput): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(input),
    spec: {
      type: 'ClusterIP',
      selector: routerSelectorLabels(identity(input).instance),
      ports: [{ name: PORT_NAME, port: SERVICE_PORT, targetPort: PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export function buildRouterObjectSet(input: RouterObjectsInput): RouterObjectSet {
  checkMembers(input.config);
  const json = routerConfigJson(input.config);
  return { configMap: buildRouterConfigMap(input, json), deployment: buildRouterDeployment(input, json), service: buildRouterService(input) };
}

/** All objects in apply order: the ConfigMap before the pods that mount it. */
export function buildRouterObjects(input: RouterObjectsInput): KubeObject[] {
  const s = buildRouterObjectSet(input);
  return [s.configMap, s.deployment, s.service];
}

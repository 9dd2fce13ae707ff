// Object names, label keys and label selectors of model deployments on Kubernetes. Pure.

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  model: 'maas.dev/model',
  modelVersion: 'maas.dev/version',
  deploymentId: 'maas.dev/deployment-id',
} as const;

export const ANNOTATION = {
  specDigest: 'maas.dev/spec-digest',
  artifactDigest: 'maas.dev/artifact-digest',
  modelRef: 'maas.dev/model-ref',
} as const;

export const APP_NAME = 'maas-model';
export const MANAGED_BY = 'maas';
/** Field manager of every server-side apply maas sends for a deployment. */
export const FIELD_MANAGER = 'maas';
/** Field manager of the scale-to-zero apply; distinct so that it does not drop the fields `maas` owns. */
export const DECOMMISSION_FIELD_MANAGER = 'maas-decommission';

const MAX_NAME = 63;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isValidLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

/** `prefix/name` or `name`; prefix a DNS subdomain of at most 253 characters. */
export function isValidLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const name = slash < 0 ? k : k.slice(slash + 1);
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/** DNS-1035 label: what a Service name must be (and therefore every object name maas derives). */
export function isValidObjectName(name: string): boolean {
  return name.length <= MAX_NAME && DNS1035_LABEL.test(name);
}

/** FNV-1a 32-bit as 8 hex digits: a short stable suffix that keeps truncated names unique. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Any string to a valid label value: characters outside `[A-Za-z0-9._-]` become `_`, the ends
 * are trimmed to alphanumerics and the result is cut to 63 characters (e.g. `1.2.0+build.5` ->
 * `1.2.0_build.5`).
 */
export function toLabelValue(s: string): string {
  let v = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  if (v.length > 63) v = v.slice(0, 63);
  return v.replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * The name of every object of a deployment (ConfigMap, Deployment, Service, HPA share it; kinds
 * differ). Derived from the deployment id only, so that status and decommission need nothing
 * else; `maas-` makes the owner obvious in `kubectl get all`. A valid DNS-1035 label of at most 63
 * characters; ids that need cleaning or cutting get a hash suffix so that two ids never collide.
 */
export function objectName(deploymentId: string): string {
  const clean = deploymentId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  const plain = `maas-${clean}`;
  if (clean === deploymentId && clean.length > 0 && plain.length <= MAX_NAME) return plain;
  const suffix = shortHash(deploymentId);
  const room = MAX_NAME - 'maas-'.length - 1 - suffix.length;
  const head = clean.slice(0, room).replace(/-+$/, '');
  return head ? `maas-${head}-${suffix}` : `maas-${suffix}`;
}

/** Labels the Deployment selects its pods by; immutable once created, so only identity goes here. */
export function selectorLabels(deploymentId: string): Record<string, string> {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: toLabelValue(deploymentId),
  };
}

/** Label selector (query form) matching every object maas created for a deployment. */
export function selectorFor(deploymentId: string): string {
  return `${LABEL.managedBy}=${MANAGED_BY},${LABEL.deploymentId}=${toLabelValue(deploymentId)}`;
}

/** Label selector matching every model deployment maas manages in a namespace. */
export const ALL_DEPLOYMENTS_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY},${LABEL.name}=${APP_NAME}`;

// Object names, label keys and label selectors of model deployments on Kubernetes. Pure.

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  model: 'maas.dev/model',
  modelVersion: 'maas.dev/version',
} as const;

export const ANNOTATION = {
  specDigest: 'maas.dev/spec-digest',
  artifactDigest: 'maas.dev/artifact-digest',
  modelRef: 'maas.dev/model-ref',
  /** sha256 of the profile the pods read, on the pod template: a new profile rolls the pods. */
  profileDigest: 'maas.dev/profile-digest',
  /** The maas deployment the objects were applied for; real deploys only, so that dry runs stay reproducible. */
  deploymentId: 'maas.dev/deployment-id',
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

/** FNV-1a 32-bit as 8 hex digits: a short stable suffix that keeps cut or cleaned names unique. */
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

const clean = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** Parts that clean() keeps exactly: a name cannot be mistaken for another one. */
const EXACT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `3` or `1.2.0`: their dots become dashes, and no other version renders the same. */
const EXACT_VERSION = /^[0-9]+(\.[0-9]+)*$/;

/**
 * The name every object of a deployment slot shares (ConfigMap, Deployment, Service, HPA; kinds
 * differ): `<model>-v<version>`, plus `-<node>` for strict placement so that the slots of one
 * namespace never collide, e.g. `har-classifier-v3` or `har-classifier-v1-2-0-gpu-1`. The same
 * model version and placement always give the same name, so dry runs are reproducible and a
 * deploy adopts what an interrupted one left. A valid DNS-1035 label of at most 63 characters;
 * a hash of the exact identity is appended only when the readable form had to be cut or lost
 * something (`1.0.0-rc.1` and `1.0.0-rc-1` are different versions but read the same).
 */
export function objectName(model: string, version: string, node?: string): string {
  const parts = [clean(model), `v${clean(version)}`, ...(node !== undefined ? [clean(node)] : [])];
  let readable = parts.filter((p) => p !== '').join('-');
  const exact = EXACT_NAME.test(model) && EXACT_VERSION.test(version) && (node === undefined || EXACT_NAME.test(node));
  // A DNS-1035 label starts with a letter; model names may start with a digit.
  if (!/^[a-z]/.test(readable)) readable = `m-${readable}`;
  if (exact && readable.length <= MAX_NAME) return readable;
  const suffix = shortHash(`${model}@${version}${node !== undefined ? `@${node}` : ''}`);
  return `${readable.slice(0, MAX_NAME - 1 - suffix.length).replace(/-+$/, '')}-${suffix}`;
}

/**
 * How the previous version of maas named objects: after the deployment ID (`maas-d-1a2b3c4d5e`).
 * Only used to recognise such records, whose objects carry the ID as their instance label.
 */
export function legacyObjectName(deploymentId: string): string {
  const c = deploymentId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  const plain = `maas-${c}`;
  if (c === deploymentId && c.length > 0 && plain.length <= MAX_NAME) return plain;
  const suffix = shortHash(deploymentId);
  const head = c.slice(0, MAX_NAME - 'maas-'.length - 1 - suffix.length).replace(/-+$/, '');
  return head ? `maas-${head}-${suffix}` : `maas-${suffix}`;
}

/** Labels the Deployment selects its pods by; immutable once created, so only identity goes here. */
export function selectorLabels(instance: string): Record<string, string> {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: instance,
  };
}

/** Label selector (query form) matching every object maas created for one instance. */
export function selectorFor(instance: string): string {
  return `${LABEL.managedBy}=${MANAGED_BY},${LABEL.instance}=${instance}`;
}

/** Label selector matching every model deployment maas manages in a namespace. */
export const ALL_DEPLOYMENTS_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY},${LABEL.name}=${APP_NAME}`;

/**
 * The Secret holding a strict deployment's labelled-rows token (key LABELLED_TOKEN_KEY): its server
 * mounts it (optional, absent between retraining runs) and a retraining Job on its node creates,
 * mounts and deletes it; nothing else is given the token.
 */
export function labelledSecretName(objectName: string): string {
  return `${objectName}-labelled`;
}
export const LABELLED_TOKEN_KEY = 'token';

// What kube-apiserver rejects: schema type errors (400, checked with the official OpenAPI
// schemas through kubernetes-models) and semantic field errors (422, hand-written like the
// apiserver's validation with the same messages).
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { cpuMillis, memoryBytes, parseQuantity } from '../../../src/domain/quantity.js';
import type { ResourceDef } from './resources.js';
import { matchLabels } from './selectors.js';
import { errors, type FieldError } from './status.js';
import { deepEqual, type Obj } from './types.js';

type ModelClass = new (data: Obj) => { validate(): void };
// The kinds written through the API (nodes, pods and events only come from the controllers).
// Each generated class takes its own data interface; stored JSON is checked at run time anyway.
const MODELS: Record<string, ModelClass> = {
  namespaces: Namespace,
  services: Service,
  configmaps: ConfigMap,
  secrets: Secret,
  deployments: Deployment,
  horizontalpodautoscalers: HorizontalPodAutoscaler,
  jobs: Job,
};

/** Type errors against the OpenAPI schema, as the decoder reports them (400). */
export function checkSchema(def: ResourceDef, o: Obj): void {
  const Model = MODELS[def.plural];
  if (!Model) return;
  try {
    new Model(o).validate();
  } catch (e) {
    throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${(e as Error).message}`);
  }
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const MSG = {
  subdomain:
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  label1123:
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  label1035:
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  labelValue:
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  labelName:
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  configKey:
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
};

/** Go's %#v-ish rendering of a value in an Invalid message. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return `map[string]string{${Object.entries(v as Obj)
      .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v);
}

class Errs {
  readonly list: FieldError[] = [];
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}` });
  }
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: `Required value${detail ? `: ${detail}` : ''}` });
  }
  notFound(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Not found: ${show(value)}` });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
  }
  tooLong(field: string, max: number): void {
    this.list.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });
  }
  notSupported(field: string, value: unknown, allowed: string[]): void {
    this.list.push({
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${show(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    });
  }
}

function labels(e: Errs, field: string, l: unknown): void {
  for (const [k, v] of Object.entries((l ?? {}) as Record<string, unknown>)) {
    const slash = k.lastIndexOf('/');
    const name = slash < 0 ? k : k.slice(slash + 1);
    const prefix = slash < 0 ? undefined : k.slice(0, slash);
    if (prefix !== undefined && !SUBDOMAIN.test(prefix)) e.invalid(field, k, `prefix part ${MSG.subdomain}`);
    if (!LABEL_NAME.test(name) || name.length > 63) e.invalid(field, k, MSG.labelName);
    if (typeof v !== 'string' || v.length > 63) e.invalid(`${field}`, v, 'must be no more than 63 characters');
    else if (!LABEL_VALUE.test(v)) e.invalid(field, v, MSG.labelValue);
  }
}

function meta(e: Errs, def: ResourceDef, o: Obj): void {
  const name = String(o.metadata?.name ?? '');
  if (!name) e.required('metadata.name', 'name or generateName is required');
  else if (
    def.plural === 'services'
      ? !LABEL_1035.test(name) || name.length > 63
      : def.plural === 'namespaces'
        ? !LABEL_1123.test(name) || name.length > 63
        : !SUBDOMAIN.test(name) || name.length > 253
  ) {
    e.invalid('metadata.name', name, def.plural === 'services' ? MSG.label1035 : def.plural === 'namespaces' ? MSG.label1123 : MSG.subdomain);
  }
  labels(e, 'metadata.labels', o.metadata?.labels);
  const ann = (o.metadata?.annotations ?? {}) as Record<string, string>;
  const size = Object.entries(ann).reduce((a, [k, v]) => a + k.length + String(v).length, 0);
  if (size > 256 * 1024) e.tooLong('metadata.annotations', 256 * 1024);
}

function resources(e: Errs, field: string, r: Obj | undefined): void {
  const req = (r?.requests ?? {}) as Record<string, string | number>;
  const lim = (r?.limits ?? {}) as Record<string, string | number>;
  for (const [k, v] of [...Object.entries(req), ...Object.entries(lim)]) {
    if (parseQuantity(v) === undefined)
      e.invalid(`${field}.${k}`, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  }
  for (const [k, v] of Object.entries(req)) {
    const l = lim[k];
    if (l === undefined) continue;
    const parse = k === 'cpu' ? cpuMillis : k === 'memory' ? memoryBytes : parseQuantity;
    if ((parse(v) ?? 0) > (parse(l) ?? 0)) e.invalid(`${field}.requests`, String(v), `must be less than or equal to ${k} limit of ${String(l)}`);
  }
}

function podSpec(e: Errs, field: string, s: Obj | undefined): void {
  const containers = (s?.containers ?? []) as Obj[];
  if (containers.length === 0) e.required(`${field}.containers`);
  const volumes = new Set(((s?.volumes ?? []) as Obj[]).map((v) => String(v.name)));
  const names = new Set<string>();
  const check = (list: Obj[], kind: string) =>
    list.forEach((c, i) => {
      const f = `${field}.${kind}[${i}]`;
      if (!c.name) e.required(`${f}.name`);
      else if (!LABEL_1123.test(String(c.name))) e.invalid(`${f}.name`, c.name, MSG.label1123);
      else if (names.has(String(c.name))) e.duplicate(`${f}.name`, c.name);
      names.add(String(c.name));
      if (!c.image) e.required(`${f}.image`);
      ((c.ports ?? []) as Obj[]).forEach((p, j) => {
        const port = Number(p.containerPort);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          e.invalid(`${f}.ports[${j}].containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive');
      });
      ((c.volumeMounts ?? []) as Obj[]).forEach((m, j) => {
        if (!volumes.has(String(m.name))) e.notFound(`${f}.volumeMounts[${j}].name`, m.name);
      });
      resources(e, `${f}.resources`, c.resources as Obj | undefined);
    });
  check((s?.initContainers ?? []) as Obj[], 'initContainers');
  check(containers, 'containers');
  if (s?.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(String(s.restartPolicy))) {
    e.notSupported(`${field}.restartPolicy`, s.restartPolicy, ['Always', 'OnFailure', 'Never']);
  }
}

function deployment(e: Errs, o: Obj, old: Obj | undefined): void {
  const s = (o.spec ?? {}) as Obj;
  if (typeof s.replicas === 'number' && s.replicas < 0) e.invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0');
  if (!s.selector) e.required('spec.selector');
  else if (Object.keys(s.selector.matchLabels ?? {}).length === 0) e.invalid('spec.selector', s.selector, 'empty selector is invalid for deployment');
  else if (!matchLabels(s.selector.matchLabels, s.template?.metadata?.labels)) {
    e.invalid('spec.template.metadata.labels', s.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`');
  }
  labels(e, 'spec.template.metadata.labels', s.template?.metadata?.labels);
  podSpec(e, 'spec.template.spec', s.template?.spec);
  if (s.template?.spec?.restartPolicy && s.template.spec.restartPolicy !== 'Always') {
    e.notSupported('spec.template.spec.restartPolicy', s.template.spec.restartPolicy, ['Always']);
  }
  if (old && !deepEqual(old.spec?.selector, s.selector)) {
    const pairs = Object.entries((s.selector?.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    e.invalid('spec.selector', `v1.LabelSelector{MatchLabels:map[string]string{${pairs.join(', ')}}}`, 'field is immutable');
  }
}

function service(e: Errs, o: Obj, old: Obj | undefined): void {
  const s = (o.spec ?? {}) as Obj;
  const ports = (s.ports ?? []) as Obj[];
  if (s.type !== 'ExternalName' && ports.length === 0) e.required('spec.ports');
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const port = Number(p.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) e.invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive');
    if (ports.length > 1 && !p.name) e.required(`spec.ports[${i}].name`);
    if (p.name && names.has(String(p.name))) e.duplicate(`spec.ports[${i}].name`, p.name);
    if (p.name) names.add(String(p.name));
  });
  if (s.type && !['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(s.type))) {
    e.notSupported('spec.type', s.type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']);
  }
  if (old && old.spec?.clusterIP && s.clusterIP && old.spec.clusterIP !== s.clusterIP) e.invalid('spec.clusterIPs[0]', s.clusterIP, 'may not change once set');
}

function job(e: Errs, o: Obj): void {
  const s = (o.spec?.template?.spec ?? {}) as Obj;
  podSpec(e, 'spec.template.spec', s);
  if (!['Never', 'OnFailure'].includes(String(s.restartPolicy))) e.notSupported('spec.template.spec.restartPolicy', s.restartPolicy, ['OnFailure', 'Never']);
}

function secret(e: Errs, o: Obj): void {
  let size = 0;
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
    if (!CONFIG_KEY.test(k)) e.invalid(`data[${k}]`, k, MSG.configKey);
    size += Buffer.from(String(v), 'base64').length;
  }
  if (size > 1024 * 1024) e.tooLong('data', 1024 * 1024);
}

function configMap(e: Errs, o: Obj): void {
  let size = 0;
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
    if (!CONFIG_KEY.test(k)) e.invalid(`data[${k}]`, k, MSG.configKey);
    if (o.binaryData && k in o.binaryData) e.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData');
    size += Buffer.byteLength(String(v));
  }
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>)) {
    if (!CONFIG_KEY.test(k)) e.invalid(`binaryData[${k}]`, k, MSG.configKey);
    size += Buffer.from(String(v), 'base64').length;
  }
  if (size > 1024 * 1024) e.tooLong('[]', 1024 * 1024);
}

function hpa(e: Errs, o: Obj): void {
  const s = (o.spec ?? {}) as Obj;
  if (typeof s.minReplicas === 'number' && s.minReplicas < 1) e.invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1');
  if (typeof s.maxReplicas !== 'number') e.required('spec.maxReplicas');
  else if (s.maxReplicas < (s.minReplicas ?? 1)) e.invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`');
  if (!s.scaleTargetRef?.kind) e.required('spec.scaleTargetRef.kind');
  if (!s.scaleTargetRef?.name) e.required('spec.scaleTargetRef.name');
}

/** Throws 422 Invalid with every field error, like the apiserver's strategy Validate. */
export function validate(def: ResourceDef, o: Obj, old?: Obj): void {
  const e = new Errs();
  meta(e, def, o);
  switch (def.plural) {
    case 'deployments':
      deployment(e, o, old);
      break;
    case 'services':
      service(e, o, old);
      break;
    case 'configmaps':
      configMap(e, o);
      break;
    case 'secrets':
      secret(e, o);
      break;
    case 'jobs':
      job(e, o);
      break;
    case 'horizontalpodautoscalers':
      hpa(e, o);
      break;
    default:
      break;
  }
  if (e.list.length > 0) throw errors.invalid(def, String(o.metadata?.name ?? ''), e.list);
}

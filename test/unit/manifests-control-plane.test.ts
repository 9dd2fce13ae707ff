// Every YAML document under manifests/ against the official Kubernetes schemas (kubernetes-models
// for types and required fields, @kubernetes/client-node's model maps for unknown fields, as the
// API server's strict field validation rejects them), then the protections of the control plane
// (manifests/control-plane/) one by one, so that removing one fails a test: non-root, read-only
// root filesystem, no capabilities, resources, probes, least-privilege RBAC, Redis reachable only
// by the server and the workers, and a kustomization that applies every file.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { cpuMillis, memoryBytes } from '../../src/domain/quantity.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { allowedByPolicy, policyFromRbacYaml, type Attributes } from '../support/fake-kube/rbac.js';

// Plain JSON from YAML: any shape, checked field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const MANIFESTS = join(REPO_ROOT, 'manifests');
const CONTROL_PLANE = join(MANIFESTS, 'control-plane');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = 'ghcr.io/maas-dev/maas';
const SERVER_ACCOUNT = 'system:serviceaccount:maas-system:maas-server';

/** The kinds the manifests use: `apiVersion/kind` -> the official schema's model. */
// Each generated class takes its own data interface; the parsed YAML is checked at run time anyway.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
};

interface Doc {
  /** Relative to the repository, with the document's index: manifests/rbac.yaml#2. */
  where: string;
  file: string;
  obj: Obj;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []))
    .sort();
}

/** kubectl reads YAML 1.1 (sigs.k8s.io/yaml): unquoted yes/no/on are booleans, 0444 is octal. */
function readDocs(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  return docs.flatMap((d, i) => {
    if (d.errors.length > 0) throw new Error(`${file}#${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    const obj = d.toJS() as Obj | null;
    return obj === null ? [] : [{ where: `${relative(REPO_ROOT, file)}#${i}`, file, obj }];
  });
}

const ALL = yamlFiles(MANIFESTS).flatMap(readDocs);
const isKustomization = (d: Doc) => basename(d.file) === 'kustomization.yaml';
const OBJECTS = ALL.filter((d) => !isKustomization(d));
const PLANE = OBJECTS.filter((d) => dirname(d.file) === CONTROL_PLANE);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface AttributeInfo {
  baseName: string;
  type: string;
}
type ModelMap = { getAttributeTypeMap(): AttributeInfo[] };

/** Fields the client's model of `type` does not know (the API server's strict validation rejects them). */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value)) for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  const model = (k8s as unknown as Record<string, unknown>)[type];
  // Primitives, IntOrString, quantities: their types are the schema validation's business.
  if (typeof model !== 'function' || !('getAttributeTypeMap' in model) || !isObj(value)) return;
  const attributes = (model as ModelMap).getAttributeTypeMap();
  for (const [k, v] of Object.entries(value)) {
    const a = attributes.find((x) => x.baseName === k);
    if (a) unknownFields(v, a.type, `${path}.${k}`, out);
    else out.push(`${path}.${k}`);
  }
}

/** Every problem of one object: not a known kind, schema errors, unknown fields. */
function problems(o: Obj): string[] {
  const key = `${String(o.apiVersion)}/${String(o.kind)}`;
  const Model = MODELS[key];
  if (!Model) return [`${key} is not a kind this test knows: add its model to MODELS`];
  const out: string[] = [];
  try {
    new Model(o as never).validate();
  } catch (e) {
    out.push((e as Error).message);
  }
  const unknown: string[] = [];
  unknownFields(o, `V1${String(o.kind)}`, '', unknown);
  if (unknown.length > 0) out.push(`unknown fields: ${unknown.map((p) => p.slice(1)).join(', ')}`);
  return out;
}

function find(kind: string, name: string, namespace?: string): Obj {
  const d = PLANE.find((x) => x.obj.kind === kind && x.obj.metadata?.name === name && (namespace === undefined || x.obj.metadata?.namespace === namespace));
  if (!d) throw new Error(`control-plane has no ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
  return d.obj;
}

const DEPLOYMENTS = PLANE.filter((d) => d.obj.kind === 'Deployment').map((d) => d.obj);
const server = find('Deployment', 'maas-server', 'maas-system');
const worker = find('Deployment', 'maas-worker', 'maas-system');
const redis = find('Deployment', 'redis', 'maas-system');

function podSpec(d: Obj): Obj {
  return d.spec.template.spec as Obj;
}
function containers(d: Obj): Obj[] {
  return [...((podSpec(d).initContainers ?? []) as Obj[]), ...(podSpec(d).containers as Obj[])];
}
function main(d: Obj): Obj {
  return (podSpec(d).containers as Obj[])[0]!;
}

/** matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) against a label set. */
function selects(selector: Obj, labels: Record<string, string>): boolean {
  const ml = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);
  const me = ((selector.matchExpressions ?? []) as Obj[]).every((e) => {
    const v = labels[e.key as string];
    const values = (e.values ?? []) as string[];
    switch (e.operator) {
      case 'In':
        return v !== undefined && values.includes(v);
      case 'NotIn':
        return v === undefined || !values.includes(v);
      case 'Exists':
        return v !== undefined;
      case 'DoesNotExist':
        return v === undefined;
      default:
        throw new Error(`unknown operator ${String(e.operator)}`);
    }
  });
  return ml && me;
}
const podLabels = (d: Obj) => d.spec.template.metadata.labels as Record<string, string>;

describe('every document under manifests/', () => {
  it('parses, and the control plane and the CLI manifests are there', () => {
    expect(ALL.length).toBeGreaterThan(10);
    expect(OBJECTS.some((d) => d.where.startsWith('manifests/rbac.yaml'))).toBe(true);
    expect(PLANE.length).toBeGreaterThan(10);
  });

  it('is a Kubernetes object that validates against the official schema, with no unknown field', () => {
    const failures = OBJECTS.flatMap((d) => problems(d.obj).map((p) => `${d.where} ${String(d.obj.kind)}/${String(d.obj.metadata?.name)}: ${p}`));
    expect(failures).toEqual([]);
  });

  it('would fail the validation when broken (the check is real)', () => {
    const typo = structuredClone(server);
    typo.spec.template.spec.containers[0].securityContxt = typo.spec.template.spec.containers[0].securityContext;
    delete typo.spec.template.spec.containers[0].securityContext;
    expect(problems(typo).join('\n')).toContain('spec.template.spec.containers[0].securityContxt');
    const wrongType = structuredClone(server);
    wrongType.spec.replicas = '1';
    expect(problems(wrongType).join('\n')).toMatch(/replicas/);
    const noImage = structuredClone(server);
    delete noImage.spec.template.spec.containers[0].name;
    expect(problems(noImage).join('\n')).toMatch(/name/);
    // YAML 1.1 as kubectl reads it: an unquoted `no` is a boolean, not the string an arg must be.
    const [yes] = readDocs(writeTemp('args.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: no\n'));
    expect(problems(yes!.obj).join('\n')).toMatch(/data/);
  });
});

const temps: string[] = [];
function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'maas-manifests-'));
  temps.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('manifests/control-plane', () => {
  it('kustomization.yaml lists every file of the directory exactly once, and nothing else', () => {
    const k = ALL.find((d) => d.file === join(CONTROL_PLANE, 'kustomization.yaml'))!.obj;
    expect(k.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k.kind).toBe('Kustomization');
    const files = readdirSync(CONTROL_PLANE)
      .filter((f) => f !== 'kustomization.yaml')
      .sort();
    const listed = k.resources as string[];
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(files);
    // Objects carry their namespaces (maas-system and maas): a kustomize namespace would move the Role.
    expect(k.namespace).toBeUndefined();
    expect(Object.keys(k).sort()).toEqual(['apiVersion', 'images', 'kind', 'resources']);
  });

  it('runs the image of this version everywhere: server, workers, the models they deploy, kustomize', () => {
    const k = ALL.find((d) => d.file === join(CONTROL_PLANE, 'kustomization.yaml'))!.obj;
    expect(k.images).toEqual([{ name: IMAGE, newTag: VERSION }]);
    for (const d of [server, worker]) {
      expect(main(d).image).toBe(`${IMAGE}:${VERSION}`);
      expect(d.metadata.labels['app.kubernetes.io/version']).toBe(VERSION);
      expect(podLabels(d)['app.kubernetes.io/version']).toBe(VERSION);
      // command and args both given: the pod does not depend on the image's entrypoint.
      expect(main(d).command).toEqual(['maas']);
    }
    const config = parse(find('ConfigMap', 'maas-config', 'maas-system').data['config.yaml'] as string) as Obj;
    expect(config.kubernetes.image).toBe(`${IMAGE}:${VERSION}`);
  });

  it('puts the control plane in maas-system and only its rights in maas, the models namespace', () => {
    for (const d of PLANE) {
      const { kind, metadata } = d.obj;
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(kind as string)) {
        expect(metadata.namespace, d.where).toBeUndefined();
      } else if (['Role', 'RoleBinding'].includes(kind as string)) {
        expect(metadata.namespace, d.where).toBe('maas');
      } else {
        expect(metadata.namespace, d.where).toBe('maas-system');
      }
    }
    // The models namespace is manifests/namespace.yaml's, unchanged.
    const [cliNamespace] = readDocs(join(MANIFESTS, 'namespace.yaml'));
    expect(find('Namespace', 'maas')).toEqual(cliNamespace!.obj);
    for (const name of ['maas-system', 'maas']) {
      expect(find('Namespace', name).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
  });

  it('labels every object, and never with the labels maas selects model objects by', () => {
    for (const d of PLANE) {
      const labels = (d.obj.metadata.labels ?? {}) as Record<string, string>;
      expect(labels['app.kubernetes.io/managed-by'], d.where).toBe('maas');
      // Decommission deletes by instance, `maas ps` lists name=maas-model: never a control-plane object.
      expect(labels['app.kubernetes.io/instance'], d.where).toBeUndefined();
      expect(labels['app.kubernetes.io/name'], d.where).not.toBe('maas-model');
      if (d.obj.kind === 'Namespace' && d.obj.metadata.name === 'maas') continue;
      expect(labels['app.kubernetes.io/part-of'], d.where).toBe('maas');
      if (d.obj.kind !== 'Namespace') {
        expect(labels['app.kubernetes.io/name'], d.where).toBeTruthy();
        expect(labels['app.kubernetes.io/component'], d.where).toBeTruthy();
      }
    }
    for (const d of DEPLOYMENTS) {
      const pod = podLabels(d);
      expect(pod['app.kubernetes.io/instance']).toBeUndefined();
      expect(pod['app.kubernetes.io/part-of']).toBe('maas');
      expect(selects(d.spec.selector as Obj, pod)).toBe(true);
    }
  });

  it('has the server, the workers and Redis', () => {
    expect(DEPLOYMENTS.map((d) => d.metadata.name as string).sort()).toEqual(['maas-server', 'maas-worker', 'redis']);
  });

  describe.each([
    ['server', server],
    ['workers', worker],
    ['redis', redis],
  ])('the %s', (_name, d) => {
    it('run as non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = podSpec(d);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.hostPID ?? false).toBe(false);
      expect(pod.hostIPC ?? false).toBe(false);
      expect(pod.enableServiceLinks).toBe(false);
      for (const c of containers(d)) {
        const s = c.securityContext as Obj;
        expect(s.runAsNonRoot, c.name).toBe(true);
        expect(s.runAsUser ?? pod.securityContext.runAsUser, c.name).toBeGreaterThan(0);
        expect(s.readOnlyRootFilesystem, c.name).toBe(true);
        expect(s.allowPrivilegeEscalation, c.name).toBe(false);
        expect(s.privileged ?? false, c.name).toBe(false);
        expect(s.capabilities?.drop, c.name).toEqual(['ALL']);
        expect(s.capabilities?.add, c.name).toBeUndefined();
        expect(s.seccompProfile ?? pod.securityContext.seccompProfile, c.name).toEqual({ type: 'RuntimeDefault' });
      }
    });

    it('have CPU and memory requests and limits, requests within limits', () => {
      for (const c of containers(d)) {
        const { requests, limits } = c.resources as { requests: Obj; limits: Obj };
        for (const [resource, parse] of [
          ['cpu', cpuMillis],
          ['memory', memoryBytes],
        ] as const) {
          const request = parse(requests[resource] as string);
          const limit = parse(limits[resource] as string);
          expect(request, `${String(c.name)} ${resource} request`).toBeGreaterThan(0);
          expect(limit, `${String(c.name)} ${resource} limit`).toBeGreaterThanOrEqual(request!);
        }
      }
    });

    it('write only to their volumes: /tmp is a bounded emptyDir, no hostPath', () => {
      const volumes = (podSpec(d).volumes ?? []) as Obj[];
      expect(volumes.filter((v) => v.hostPath)).toEqual([]);
      const tmp = (main(d).volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp');
      const tmpVolume = volumes.find((v) => v.name === tmp?.name);
      expect(tmpVolume?.emptyDir?.sizeLimit).toBeTruthy();
      for (const m of containers(d).flatMap((c) => (c.volumeMounts ?? []) as Obj[])) {
        expect(volumes.some((v) => v.name === m.name)).toBe(true);
      }
    });
  });

  it('the server: one pod at a time, probes on /healthz and /readyz, MAAS_HOME on the data volume', () => {
    expect(server.spec.replicas).toBe(1);
    expect(server.spec.strategy).toEqual({ type: 'Recreate' });
    const c = main(server);
    expect(c.args).toEqual(['server', '--listen', '0.0.0.0:8080', '--queue', 'redis://redis:6379']);
    expect(c.ports).toContainEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // The startup probe gives the server time before liveness may restart it.
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(30);
    expect(c.env).toContainEqual({ name: 'MAAS_HOME', value: '/data' });
    expect(podSpec(server).serviceAccountName).toBe('maas-server');
  });

  it('the server Service: ClusterIP, port 8080 named http, the server pods only', () => {
    const s = find('Service', 'maas-server', 'maas-system');
    expect(s.spec.type).toBe('ClusterIP');
    expect(s.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(selects({ matchLabels: s.spec.selector as Obj }, podLabels(server))).toBe(true);
    expect(selects({ matchLabels: s.spec.selector as Obj }, podLabels(worker))).toBe(false);
  });

  it('the workers: two, on the same queue, volume, config and account as the server, on its node', () => {
    expect(worker.spec.replicas).toBe(2);
    expect(main(worker).args).toEqual(['worker', '--queue', 'redis://redis:6379']);
    expect(podSpec(worker).serviceAccountName).toBe(podSpec(server).serviceAccountName);
    const claim = (d: Obj) => ((podSpec(d).volumes as Obj[]).find((v) => v.persistentVolumeClaim) ?? {}).persistentVolumeClaim?.claimName as unknown;
    expect(claim(server)).toBe('maas-data');
    expect(claim(worker)).toBe('maas-data');
    for (const d of [server, worker]) {
      const mounts = main(d).volumeMounts as Obj[];
      const volumes = podSpec(d).volumes as Obj[];
      const at = (path: string) => volumes.find((v) => v.name === mounts.find((m) => m.mountPath === path)?.name);
      expect(at('/data')?.persistentVolumeClaim?.claimName).toBe('maas-data');
      expect(at('/data/config.yaml')?.configMap?.name).toBe('maas-config');
      expect(mounts.find((m) => m.mountPath === '/data/config.yaml')).toMatchObject({ subPath: 'config.yaml', readOnly: true });
      expect(main(d).env).toContainEqual({ name: 'MAAS_HOME', value: '/data' });
    }
    // ReadWriteOnce: every pod that mounts the volume requires a node with the others (server and
    // workers match each other's term; the first one matches its own and goes anywhere).
    const pvc = find('PersistentVolumeClaim', 'maas-data', 'maas-system');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    for (const d of [server, worker]) {
      const terms = podSpec(d).affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution as Obj[];
      expect(terms).toHaveLength(1);
      expect(terms[0]!.topologyKey).toBe('kubernetes.io/hostname');
      for (const other of [server, worker]) expect(selects(terms[0]!.labelSelector as Obj, podLabels(other))).toBe(true);
      expect(selects(terms[0]!.labelSelector as Obj, podLabels(redis))).toBe(false);
    }
  });

  it('Redis: no API token, noeviction for BullMQ, its own volume, reachable only by the server and the workers', () => {
    expect(podSpec(redis).automountServiceAccountToken).toBe(false);
    const args = main(redis).args as string[];
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    expect(((podSpec(redis).volumes as Obj[]).find((v) => v.persistentVolumeClaim) ?? {}).persistentVolumeClaim?.claimName).toBe('redis-data');
    const service = find('Service', 'redis', 'maas-system');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }]);
    expect(selects({ matchLabels: service.spec.selector as Obj }, podLabels(redis))).toBe(true);

    const policy = find('NetworkPolicy', 'redis', 'maas-system');
    expect(selects(policy.spec.podSelector as Obj, podLabels(redis))).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const rules = policy.spec.ingress as Obj[];
    expect(rules).toHaveLength(1);
    expect(rules[0]!.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
    const peers = rules[0]!.from as Obj[];
    // Pod selectors in maas-system only: no namespaceSelector, no ipBlock.
    for (const p of peers) expect(Object.keys(p)).toEqual(['podSelector']);
    const admitted = (labels: Record<string, string>) => peers.some((p) => selects(p.podSelector as Obj, labels));
    expect(admitted(podLabels(server))).toBe(true);
    expect(admitted(podLabels(worker))).toBe(true);
    expect(admitted(podLabels(redis))).toBe(false);
    // A model server's pod (templates/kubernetes/deployment.yaml) and an unlabelled pod are refused.
    expect(admitted({ 'app.kubernetes.io/name': 'maas-model', 'app.kubernetes.io/managed-by': 'maas', 'app.kubernetes.io/component': 'model-server' })).toBe(
      false,
    );
    expect(admitted({})).toBe(false);
  });

  it('the config file is what maas reads: kubernetes target, the namespace of the Role, this image', async () => {
    const text = find('ConfigMap', 'maas-config', 'maas-system').data['config.yaml'] as string;
    const home = dirname(writeTemp('config.yaml', text));
    const r = await runCli(['config', 'view', '-o', 'json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const settings = (JSON.parse(r.stdout) as { settings: { key: string; value: string; source: string }[] }).settings;
    const value = (key: string) => settings.find((s) => s.key === key);
    expect(value('target')).toEqual({ key: 'target', value: 'kubernetes', source: 'config' });
    expect(value('kubernetes.namespace')).toEqual({
      key: 'kubernetes.namespace',
      value: find('Role', 'maas-server', 'maas').metadata.namespace,
      source: 'config',
    });
    expect(value('kubernetes.image')).toEqual({ key: 'kubernetes.image', value: main(server).image, source: 'config' });
  });

  describe('RBAC', () => {
    const rbacText = (file: string) => readFileSync(join(file), 'utf8');
    const policy = policyFromRbacYaml(rbacText(join(CONTROL_PLANE, 'rbac.yaml')), SERVER_ACCOUNT);
    const can = (a: Omit<Attributes, 'user'>) => allowedByPolicy(policy, { user: SERVER_ACCOUNT, ...a });
    const roles = PLANE.filter((d) => d.obj.kind === 'Role' || d.obj.kind === 'ClusterRole').map((d) => d.obj);

    it('grants no wildcard, no secret reads, no RBAC or impersonation rights', () => {
      expect(roles.length).toBe(2);
      for (const role of roles) {
        for (const rule of role.rules as Obj[]) {
          for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field] as string[], `${String(role.kind)} ${field}`).not.toContain('*');
          expect(rule.nonResourceURLs).toBeUndefined();
          expect(rule.verbs as string[]).not.toEqual(expect.arrayContaining(['escalate']));
          expect(rule.verbs as string[]).not.toEqual(expect.arrayContaining(['bind']));
          expect(rule.verbs as string[]).not.toEqual(expect.arrayContaining(['impersonate']));
          expect(rule.apiGroups as string[]).not.toContain('rbac.authorization.k8s.io');
          if ((rule.resources as string[]).includes('secrets')) {
            expect(role.kind, 'Secrets only in a namespaced Role').toBe('Role');
            expect(rule.verbs).toEqual(['create', 'delete']);
          }
        }
      }
      for (const verb of ['get', 'list', 'watch']) {
        expect(can({ verb, group: '', resource: 'secrets', namespace: 'maas' })).toBe(false);
        expect(can({ verb, group: '', resource: 'secrets', namespace: 'maas-system' })).toBe(false);
        expect(can({ verb, group: '', resource: 'secrets' })).toBe(false);
      }
    });

    it('cluster-wide: nodes get and list, nothing else', () => {
      const clusterRoles = roles.filter((r) => r.kind === 'ClusterRole');
      expect(clusterRoles.map((r) => r.rules as unknown)).toEqual([[{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]]);
      expect(can({ verb: 'get', group: '', resource: 'nodes' })).toBe(true);
      expect(can({ verb: 'list', group: '', resource: 'nodes' })).toBe(true);
      expect(can({ verb: 'patch', group: '', resource: 'nodes' })).toBe(false);
      expect(can({ verb: 'list', group: '', resource: 'pods' })).toBe(false);
      expect(can({ verb: 'create', group: '', resource: 'namespaces' })).toBe(false);
    });

    it("in maas: every right of the CLI's Role (enough for the whole lifecycle), and nothing more", () => {
      const cliRole = readDocs(join(MANIFESTS, 'rbac.yaml')).find((d) => d.obj.kind === 'Role')!.obj;
      const serverRole = find('Role', 'maas-server', 'maas');
      // The integration tests run deploy, strict placement, logs, predict, retraining and
      // decommission with exactly the CLI's Role (test/integration/kube-target-serve.test.ts).
      expect(serverRole.rules).toEqual(cliRole.rules);
      for (const rule of cliRole.rules as Obj[]) {
        for (const group of rule.apiGroups as string[]) {
          for (const res of rule.resources as string[]) {
            const [resource, subresource] = res.split('/') as [string, string | undefined];
            for (const verb of rule.verbs as string[]) {
              const a = { verb, group, resource, ...(subresource ? { subresource } : {}) };
              expect(can({ ...a, namespace: 'maas' }), `${verb} ${res} in maas`).toBe(true);
              expect(can({ ...a, namespace: 'maas-system' }), `${verb} ${res} in maas-system`).toBe(false);
              expect(can({ ...a, namespace: 'kube-system' }), `${verb} ${res} in kube-system`).toBe(false);
            }
          }
        }
      }
    });

    it('binds the rights to the ServiceAccount the server and the workers run as', () => {
      const account = find('ServiceAccount', 'maas-server', 'maas-system');
      expect(account.automountServiceAccountToken).toBe(true);
      for (const d of [server, worker]) expect(podSpec(d).serviceAccountName).toBe(account.metadata.name);
      expect(podSpec(redis).serviceAccountName).toBeUndefined();
      for (const b of PLANE.filter((d) => d.obj.kind === 'RoleBinding' || d.obj.kind === 'ClusterRoleBinding').map((d) => d.obj)) {
        expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'maas-server', namespace: 'maas-system' }]);
        expect(() =>
          find(b.roleRef.kind as string, b.roleRef.name as string, b.kind === 'RoleBinding' ? (b.metadata.namespace as string) : undefined),
        ).not.toThrow();
      }
      // Nobody else gets anything from these manifests.
      const other = policyFromRbacYaml(rbacText(join(CONTROL_PLANE, 'rbac.yaml')), 'system:serviceaccount:maas-system:default');
      expect(other).toEqual({ cluster: [], namespaced: {} });
    });
  });
});

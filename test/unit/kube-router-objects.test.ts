// The pure builders of a composition router's Kubernetes objects: every object checked against the
// official OpenAPI schemas (kubernetes-models), names and labels, the restricted security
// context, and the configuration digest on the pod template (changes with the configuration, and
// only then).
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { MaasError } from '../../src/core/errors.js';
import type { RouterConfig, RouterMember } from '../../src/domain/composition.js';
import { isValidLabelKey, isValidLabelValue, isValidObjectName, selectorFor } from '../../src/targets/kubernetes/names.js';
import {
  ROUTER_ANNOTATION,
  ROUTER_CONFIG_KEY,
  buildRouterObjects,
  buildRouterObjectSet,
  memberEndpoint,
  routerConfigDigest,
  routerConfigJson,
  routerObjectName,
  type RouterObjectsInput,
} from '../../src/targets/kubernetes/router-objects.js';
import type { KubeObject } from '../../src/targets/kubernetes/types.js';

function validateOfficial(o: KubeObject): void {
  switch (o.kind) {
    case 'ConfigMap':
      return new ConfigMap(o as never).validate();
    case 'Deployment':
      return new Deployment(o as never).validate();
    case 'Service':
      return new Service(o as never).validate();
    default:
      throw new Error(`a router has no ${o.kind}`);
  }
}

const member = (name: string, over: Partial<RouterMember> = {}): RouterMember => ({
  key: `${name}@1`,
  deployment: `d-${name}`,
  model: name,
  version: '1',
  endpoint: memberEndpoint(`${name}-v1`, 'ml'),
  weight: 1,
  role: 'member',
  timeoutMs: 1000,
  ...over,
});

function config(members: string[], over: { name?: string; version?: string; labels?: Record<string, string> } = {}): RouterConfig {
  return {
    composition: {
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: over.name ?? 'har-ensemble', version: over.version ?? '1', ...(over.labels ? { labels: over.labels } : {}) },
      spec: {
        task: 'classification',
        features: ['acc_x_mean', 'acc_y_mean'],
        mode: 'ensemble',
        aggregation: 'majority',
        members: members.map((m) => ({ model: `${m}@1` })),
      },
    },
    features: [
      { name: 'acc_x_mean', type: 'number' },
      { name: 'acc_y_mean', type: 'number' },
    ],
    labels: ['walking', 'sitting'],
    members: members.map((m) => member(m)),
    timeoutMs: 1000,
  };
}

const input = (c: RouterConfig, over: Partial<RouterObjectsInput> = {}): RouterObjectsInput => ({
  namespace: 'ml',
  config: c,
  image: 'ghcr.io/maas-dev/maas:0.1.0',
  ...over,
});

const digestOf = (c: RouterConfig, over: Partial<RouterObjectsInput> = {}): string =>
  buildRouterObjectSet(input(c, over)).deployment.spec!.template.metadata!.annotations![ROUTER_ANNOTATION.configDigest]!;

describe('router objects', () => {
  it('ConfigMap, Deployment and Service in apply order, valid against the official schemas, with valid names and labels', () => {
    const objects = buildRouterObjects(input(config(['har-a', 'har-b']), { deploymentId: 'd-router1' }));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/maas-compose-har-ensemble',
      'Deployment/maas-compose-har-ensemble',
      'Service/maas-compose-har-ensemble',
    ]);
    for (const o of objects) {
      expect(() => validateOfficial(o), o.kind).not.toThrow();
      expect(isValidObjectName(o.metadata.name)).toBe(true);
      expect(o.metadata.namespace).toBe('ml');
      for (const [k, v] of Object.entries(o.metadata.labels)) {
        expect(isValidLabelKey(k), k).toBe(true);
        expect(isValidLabelValue(v), `${k}=${v}`).toBe(true);
      }
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'maas-router',
        'app.kubernetes.io/instance': 'maas-compose-har-ensemble',
        'app.kubernetes.io/component': 'composition-router',
        'app.kubernetes.io/managed-by': 'maas',
        'app.kubernetes.io/version': '1',
        'maas.dev/composition': 'har-ensemble',
      });
      expect(o.metadata.annotations).toEqual({ 'maas.dev/composition-ref': 'har-ensemble@1', 'maas.dev/deployment-id': 'd-router1' });
    }
  });

  it('really rejects a broken router Deployment (the schema check is not a no-op)', () => {
    const { deployment } = buildRouterObjectSet(input(config(['har-a'])));
    const bad = structuredClone(deployment);
    (bad.spec!.template.spec!.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'eighty';
    expect(() => new Deployment(bad as never).validate()).toThrow(/containerPort/);
  });

  it('the ConfigMap holds router.json: the configuration, members addressed by their Services in cluster DNS', () => {
    const c = config(['har-a', 'har-b']);
    const { configMap } = buildRouterObjectSet(input(c));
    expect(Object.keys(configMap.data!)).toEqual([ROUTER_CONFIG_KEY]);
    const json = configMap.data![ROUTER_CONFIG_KEY]!;
    expect(json).toBe(routerConfigJson(c));
    const read = JSON.parse(json) as RouterConfig;
    expect(read).toEqual(c);
    expect(read.members.map((m) => m.endpoint)).toEqual(['http://har-a-v1.ml.svc:80', 'http://har-b-v1.ml.svc:80']);
    expect(configMap.binaryData).toBeUndefined();
  });

  it('runs `maas serve --composition` from the mounted ConfigMap, one replica, rolling with no unavailable pod, probes on the health paths', () => {
    const { deployment, service } = buildRouterObjectSet(input(config(['har-a'])));
    const spec = deployment.spec!;
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'maas-router', 'app.kubernetes.io/instance': 'maas-compose-har-ensemble' });
    // The template carries every selector label; the Service selects the same pods.
    expect(spec.template.metadata!.labels).toMatchObject(spec.selector.matchLabels!);
    expect(service.spec!.selector).toEqual(spec.selector.matchLabels);
    expect(service.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    // What destroy and logs select by matches every object and pod.
    const [k1, v1] = selectorFor('maas-compose-har-ensemble')
      .split(',')
      .map((kv) => kv.split('=')) as [string[], string[]];
    expect(spec.template.metadata!.labels![k1[0]!]).toBe(k1[1]);
    expect(spec.template.metadata!.labels![v1[0]!]).toBe(v1[1]);

    const pod = spec.template.spec!;
    const [c] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(c!.name).toBe('server');
    expect(c!.image).toBe('ghcr.io/maas-dev/maas:0.1.0');
    expect([...c!.command!, ...c!.args!]).toEqual([
      'maas',
      'serve',
      '--composition',
      '/router/router.json',
      '--host',
      '0.0.0.0',
      '--port',
      '8080',
      '--log-db',
      '/data/requests.db',
    ]);
    expect(c!.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c!.startupProbe!.httpGet).toMatchObject({ path: '/v2/health/live', port: 'http' });
    expect(c!.livenessProbe!.httpGet).toMatchObject({ path: '/v2/health/live', port: 'http' });
    expect(c!.readinessProbe!.httpGet).toMatchObject({ path: '/v2/health/ready', port: 'http' });
    expect(c!.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } });
    expect(c!.volumeMounts).toEqual([
      { name: 'router', mountPath: '/router', readOnly: true },
      { name: 'data', mountPath: '/data' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    // The whole ConfigMap as a directory (no subPath), so a running pod also sees an update.
    expect(c!.volumeMounts!.every((m) => m.subPath === undefined)).toBe(true);
    expect(pod.volumes).toEqual([
      { name: 'router', configMap: { name: 'maas-compose-har-ensemble', defaultMode: 0o444 } },
      { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
    ]);
  });

  it('restricted security context on pod and container, no service account token', () => {
    const pod = buildRouterObjectSet(input(config(['har-a']))).deployment.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]!.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // No host access of any kind.
    const podSpec = pod as unknown as Record<string, unknown>;
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) expect(podSpec[k]).toBeUndefined();
    expect(pod.volumes!.some((v) => 'hostPath' in v)).toBe(false);
  });

  it('the pod template carries the sha256 of router.json: it changes with the configuration, and only then', () => {
    const c = config(['har-a', 'har-b']);
    const digest = digestOf(c);
    expect(digest).toBe(routerConfigDigest(routerConfigJson(c)));
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    // The same configuration (another object, keys in another order), another deployment ID: same digest.
    const reordered = JSON.parse(
      JSON.stringify({ members: c.members, timeoutMs: c.timeoutMs, labels: c.labels, features: c.features, composition: c.composition }),
    ) as RouterConfig;
    expect(digestOf(reordered, { deploymentId: 'd-other' })).toBe(digest);
    expect(buildRouterObjectSet(input(c, { deploymentId: 'd-x' })).deployment.spec!.template).toEqual(buildRouterObjectSet(input(c)).deployment.spec!.template);
    // Any change of the configuration: a member swapped, reweighted, a new deadline, a new version.
    expect(digestOf(config(['har-a', 'har-c']))).not.toBe(digest);
    expect(digestOf({ ...c, members: [member('har-a', { weight: 2 }), member('har-b')] })).not.toBe(digest);
    expect(digestOf({ ...c, timeoutMs: 500 })).not.toBe(digest);
    expect(digestOf({ ...c, members: [member('har-a', { endpoint: memberEndpoint('har-a-v1', 'other') }), member('har-b')] })).not.toBe(digest);
    // The digest is the only annotation of the template: nothing else rolls the pods.
    expect(Object.keys(buildRouterObjectSet(input(c)).deployment.spec!.template.metadata!.annotations!)).toEqual([ROUTER_ANNOTATION.configDigest]);
  });

  it('names: maas-compose-<name>, a valid DNS-1035 label even for the longest composition names', () => {
    expect(routerObjectName('har-ensemble')).toBe('maas-compose-har-ensemble');
    expect(routerObjectName('3d-ensemble')).toBe('maas-compose-3d-ensemble');
    const long = `e${'x'.repeat(51)}a`; // 53 characters: the longest composition name
    const n = routerObjectName(long);
    expect(isValidObjectName(n)).toBe(true);
    expect(n.length).toBeLessThanOrEqual(63);
    expect(n.startsWith('maas-compose-exxx')).toBe(true);
    expect(routerObjectName(`${long.slice(0, -1)}b`)).not.toBe(n);
    const objects = buildRouterObjects(input(config(['har-a'], { name: long })));
    for (const o of objects) {
      expect(o.metadata.name).toBe(n);
      expect(() => validateOfficial(o)).not.toThrow();
    }
    expect(objects[0]!.metadata.labels['maas.dev/composition']).toBe(long);
  });

  it("copies the composition's valid labels; maas labels win; invalid ones are skipped", () => {
    const [cm] = buildRouterObjects(
      input(
        config(['har-a'], { labels: { team: 'activity', 'maas.dev/composition': 'spoof', 'app.kubernetes.io/name': 'x', 'bad key!': 'v', ok: 'not valid!' } }),
      ),
    );
    expect(cm!.metadata.labels).toMatchObject({ team: 'activity', 'maas.dev/composition': 'har-ensemble', 'app.kubernetes.io/name': 'maas-router' });
    expect(cm!.metadata.labels['bad key!']).toBeUndefined();
    expect(cm!.metadata.labels.ok).toBeUndefined();
  });

  it('refuses members a pod cannot reach (local endpoint files) and a configuration too large for a ConfigMap', () => {
    const c = config(['har-a', 'har-b']);
    const { endpoint: _dropped, ...harB } = member('har-b');
    const local: RouterConfig = { ...c, members: [member('har-a'), { ...harB, endpointFile: '/home/me/.maas/deployments/d-b/endpoint.json' }] };
    expect(() => buildRouterObjects(input(local))).toThrow(MaasError);
    expect(() => buildRouterObjects(input(local))).toThrow(/har-b@1 \(d-har-b\)/);
    const huge = {
      ...c,
      features: [{ name: 'kind', type: 'category' as const, values: Array.from({ length: 60_000 }, (_, i) => `value-${i}`) }],
    };
    expect(() => buildRouterObjects(input(huge))).toThrow(/does not fit in a ConfigMap/);
  });
});

// The pure Kubernetes builders: every object checked against the official OpenAPI schemas
// (kubernetes-models), names/labels/security settings, placement pre-check, rollout explainer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MaasError } from '../../src/core/errors.js';
import {
  ALL_DEPLOYMENTS_SELECTOR,
  isValidLabelKey,
  isValidLabelValue,
  isValidObjectName,
  LABELLED_TOKEN_KEY,
  labelledSecretName,
  legacyObjectName,
  objectName,
  selectorFor,
  selectorLabels,
  toLabelValue,
} from '../../src/targets/kubernetes/names.js';
import {
  artifactFitsConfigMap,
  base64Length,
  buildModelObjects,
  buildModelObjectSet,
  CONFIGMAP_PAYLOAD_LIMIT,
  profileForConfigMap,
  releaseScale,
  scaleToZero,
} from '../../src/targets/kubernetes/objects.js';
import { artifactFileName } from '../../src/targets/kubernetes/artifact-delivery.js';
import { IN_POD } from '../../src/retrain/in-cluster.js';
import { seededRandom } from '../../src/core/clock.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import { checkNodeFits, podRequests, type NodeLike, type PodLike } from '../../src/targets/kubernetes/placement.js';
import { servingRequests } from '../../src/targets/kubernetes/resources.js';
import { explainRollout, type EventLike, type PodStatusLike } from '../../src/targets/kubernetes/rollout-explain.js';
import type { KubeObject } from '../../src/targets/kubernetes/types.js';
import { exampleDescription, exampleInput } from '../support/fake-kube/fixtures.js';

const ROOT = join(import.meta.dirname, '../..');

/** Validates against the official schema of the object's kind; throws on any violation. */
function validateOfficial(o: KubeObject): void {
  switch (o.kind) {
    case 'ConfigMap':
      return new ConfigMap(o as never).validate();
    case 'Deployment':
      return new Deployment(o as never).validate();
    case 'Service':
      return new Service(o as never).validate();
    case 'HorizontalPodAutoscaler':
      return new HorizontalPodAutoscaler(o as never).validate();
  }
}

const small = Buffer.from('onnx-bytes'.repeat(100));

const variants = {
  'open, configmap artifact, fixed replicas': exampleInput({
    description: exampleDescription({ replicas: { min: 2, max: 2 } }),
    artifact: { kind: 'configmap', fileName: 'model.onnx', data: small },
  }),
  'open, url artifact, autoscaled': exampleInput(),
  'strict, url artifact, gpu, autoscaled': exampleInput({
    description: exampleDescription({ replicas: { min: 0, max: 4 }, gpu: 1, cpu: 2, memory: '1.5Gi' }),
    mode: 'strict',
    node: 'gpu-node-1',
  }),
  'strict, configmap artifact, one replica': exampleInput({
    description: exampleDescription({ replicas: { min: 1, max: 1 } }),
    mode: 'strict',
    node: 'worker-2',
    artifact: { kind: 'configmap', fileName: 'model.onnx', data: small },
  }),
};

describe('buildModelObjects', () => {
  for (const [name, input] of Object.entries(variants)) {
    it(`${name}: every object passes the official schema, names and labels are valid`, () => {
      const objs = buildModelObjects(input);
      for (const o of objs) {
        expect(() => validateOfficial(o)).not.toThrow();
        expect(isValidObjectName(o.metadata.name)).toBe(true);
        expect(o.metadata.name.length).toBeLessThanOrEqual(63);
        expect(o.metadata.namespace).toBe('maas');
        for (const [k, v] of Object.entries(o.metadata.labels)) {
          expect(isValidLabelKey(k), k).toBe(true);
          expect(isValidLabelValue(v), `${k}=${v}`).toBe(true);
        }
        expect(o.metadata.name).toBe(input.mode === 'strict' ? `har-classifier-v3-${input.node!}` : 'har-classifier-v3');
        expect(o.metadata.labels).toMatchObject({
          'app.kubernetes.io/name': 'maas-model',
          'app.kubernetes.io/managed-by': 'maas',
          'app.kubernetes.io/instance': o.metadata.name,
          'maas.dev/model': 'har-classifier',
          'maas.dev/version': '3',
        });
        expect(o.metadata.annotations?.['maas.dev/spec-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
        expect(o.metadata.annotations?.['maas.dev/artifact-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
      }
    });
  }

  it('really rejects broken objects (the schema check is not a no-op)', () => {
    const { deployment, service, hpa, configMap } = buildModelObjectSet(exampleInput());
    const badPort = structuredClone(deployment);
    (badPort.spec!.template.spec!.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'eighty';
    expect(() => new Deployment(badPort as never).validate()).toThrow(/containerPort/);
    const noTemplate = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
    delete noTemplate.spec.template;
    expect(() => new Deployment(noTemplate as never).validate()).toThrow(/template/);
    const badReplicas = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
    badReplicas.spec.replicas = 'two';
    expect(() => new Deployment(badReplicas as never).validate()).toThrow(/replicas/);
    const badSvc = structuredClone(service) as unknown as { spec: { ports: Array<Record<string, unknown>> } };
    badSvc.spec.ports[0]!.port = '80';
    expect(() => new Service(badSvc as never).validate()).toThrow(/port/);
    const badHpa = structuredClone(hpa!) as unknown as { spec: Record<string, unknown> };
    delete badHpa.spec.maxReplicas;
    expect(() => new HorizontalPodAutoscaler(badHpa as never).validate()).toThrow(/maxReplicas/);
    const badCm = structuredClone(configMap) as { data: unknown };
    badCm.data = { 'model.json': 42 };
    expect(() => new ConfigMap(badCm as never).validate()).toThrow();
  });

  it('open mode, ConfigMap artifact, fixed replicas: no HPA, replicas set, artifact in binaryData', () => {
    const input = variants['open, configmap artifact, fixed replicas'];
    const objs = buildModelObjects(input);
    expect(objs.map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const { configMap, deployment } = buildModelObjectSet(input);
    expect(Buffer.from(configMap.binaryData!['model.onnx']!, 'base64').equals(small)).toBe(true);
    expect(JSON.parse(configMap.data!['model.json']!)).toEqual(input.description);
    expect(deployment.spec!.replicas).toBe(2);
    const pod = deployment.spec!.template.spec!;
    expect(pod.initContainers).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.volumes!.map((v) => v.name)).toEqual(['model', 'data', 'tmp']);
    const c = pod.containers[0]!;
    expect(c.command).toEqual(['maas', 'serve']);
    expect(c.args).toEqual([
      '--description',
      '/model/model.json',
      '--artifact',
      '/model/model.onnx',
      '--host',
      '0.0.0.0',
      '--port',
      '8080',
      '--log-db',
      '/data/requests.db',
    ]);
  });

  it('the Deployment: probes on the v2 health endpoints, resources, selector and Service agree', () => {
    const { deployment, service } = buildModelObjectSet(exampleInput());
    const spec = deployment.spec!;
    const c = spec.template.spec!.containers[0]!;
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/v2/health/ready', port: 'http' });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/v2/health/live', port: 'http' });
    expect(c.startupProbe?.httpGet).toMatchObject({ path: '/v2/health/live', port: 'http' });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    // The selector picks out the template's pods and nothing version-specific (it is immutable).
    expect(spec.selector.matchLabels).toEqual(selectorLabels('har-classifier-v3'));
    for (const [k, v] of Object.entries(spec.selector.matchLabels!)) expect(spec.template.metadata!.labels![k]).toBe(v);
    expect(service.spec!.selector).toEqual(spec.selector.matchLabels);
    expect(service.spec!.type).toBe('ClusterIP');
    expect(service.spec!.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(spec.template.metadata!.annotations!['maas.dev/spec-digest']).toBe(deployment.metadata.annotations!['maas.dev/spec-digest']);
    // Custom port flows into args and the container port.
    const custom = buildModelObjectSet(exampleInput({ port: 9000 })).deployment.spec!.template.spec!.containers[0]!;
    expect(custom.args).toContain('9000');
    expect(custom.ports![0]!.containerPort).toBe(9000);
  });

  it('restrictive securityContext on pod, server and init container', () => {
    const { deployment } = buildModelObjectSet(variants['strict, url artifact, gpu, autoscaled']);
    const pod = deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of [...pod.containers, ...pod.initContainers!]) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.resources!.requests).toEqual(c.resources!.limits);
    }
  });

  it('strict mode pins by node name through required node affinity; URL artifacts use an init container; HPA', () => {
    const input = variants['strict, url artifact, gpu, autoscaled'];
    const { deployment, hpa } = buildModelObjectSet(input);
    const pod = deployment.spec!.template.spec!;
    expect(pod.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-node-1'] }] }],
        },
      },
    });
    // The HPA owns the replica count.
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(hpa!.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
    });
    expect(hpa!.spec!.metrics![0]!.resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
    const init = pod.initContainers![0]!;
    expect(init.name).toBe('fetch-artifact');
    expect(init.env).toEqual([
      { name: 'MAAS_ARTIFACT_URI', value: 'https://models.example.com/har-classifier/3/model.onnx' },
      { name: 'MAAS_ARTIFACT_PATH', value: '/model-artifact/model.onnx' },
      { name: 'MAAS_ARTIFACT_SHA256', value: input.modelRef.artifactDigest.slice('sha256:'.length) },
    ]);
    // The URI is never part of the script.
    expect(init.command!.join(' ')).not.toContain('models.example.com');
    expect(pod.containers[0]!.args).toContain('/model-artifact/model.onnx');
    // Strict placement: the server keeps no raw rows in memory either.
    expect(pod.containers[0]!.args).toContain('--strict');
    expect(pod.volumes!.find((v) => v.name === 'artifact')).toEqual({ name: 'artifact', emptyDir: {} });
    expect(pod.containers[0]!.resources).toEqual({
      requests: { cpu: '2', memory: '1536Mi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: '1536Mi', 'nvidia.com/gpu': '1' },
    });
    expect(buildModelObjects(input).map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);
  });

  it('strict servers read the optional labelled-token Secret (--labelled-token-file); open ones carry none of it', () => {
    for (const [name, input] of Object.entries(variants)) {
      const { deployment } = buildModelObjectSet(input);
      const pod = deployment.spec!.template.spec!;
      const server = pod.containers[0]!;
      if (input.mode !== 'strict') {
        expect(server.args, name).not.toContain('--labelled-token-file');
        expect(pod.volumes!.map((v) => v.name)).not.toContain('labelled-token');
        expect(server.volumeMounts!.map((m) => m.name)).not.toContain('labelled-token');
        expect(JSON.stringify(buildModelObjects(input))).not.toContain('labelled');
        continue;
      }
      // Still a valid Deployment by the official schema, with the Secret volume in it.
      expect(() => validateOfficial(deployment), name).not.toThrow();
      const args = server.args!;
      const at = args.indexOf('--labelled-token-file');
      expect(at, name).toBeGreaterThan(args.indexOf('--strict'));
      expect(args.slice(at, at + 2)).toEqual(['--labelled-token-file', IN_POD.tokenFile]);
      expect(IN_POD.tokenFile).toBe('/var/run/maas/labelled/token');
      // The Secret's key is the file name under the mount.
      expect(IN_POD.tokenFile).toBe(`${IN_POD.tokenDir}/${LABELLED_TOKEN_KEY}`);
      expect(server.volumeMounts).toContainEqual({ name: 'labelled-token', mountPath: IN_POD.tokenDir, readOnly: true });
      expect(pod.volumes!.find((v) => v.name === 'labelled-token')).toEqual({
        name: 'labelled-token',
        secret: { secretName: labelledSecretName(deployment.metadata.name), optional: true, defaultMode: 0o440 },
      });
      expect(labelledSecretName(deployment.metadata.name)).toBe(`har-classifier-v3-${input.node!}-labelled`);
      // 0440 (root:fsGroup) is readable by the non-root server only through the pod's fsGroup.
      expect(pod.securityContext!.fsGroup).toBe(server.securityContext!.runAsGroup);
      // Only the server gets the token, not the artifact downloader.
      for (const c of pod.initContainers ?? []) expect(c.volumeMounts!.map((m) => m.name)).not.toContain('labelled-token');
      // The schema check does look at the Secret volume.
      const bad = structuredClone(deployment);
      (bad.spec!.template.spec!.volumes!.find((v) => v.name === 'labelled-token')!.secret as { defaultMode: unknown }).defaultMode = 'rw';
      expect(() => new Deployment(bad as never).validate()).toThrow(/defaultMode/);
    }
  });

  it('replica bounds: min 0 deploys one replica; min == max after raising min means no HPA', () => {
    const zeroToOne = buildModelObjectSet(exampleInput({ description: exampleDescription({ replicas: { min: 0, max: 1 } }) }));
    expect(zeroToOne.hpa).toBeUndefined();
    expect(zeroToOne.deployment.spec!.replicas).toBe(1);
  });

  it('refuses what cannot work, with a hint', () => {
    const tooBig = Buffer.alloc(CONFIGMAP_PAYLOAD_LIMIT);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as MaasError;
      }
      throw new Error('expected a failure');
    };
    const big = err(() => buildModelObjects(exampleInput({ artifact: { kind: 'configmap', fileName: 'model.onnx', data: tooBig } })));
    expect(big).toBeInstanceOf(MaasError);
    expect(big.code).toBe('VALIDATION');
    expect(big.hint).toMatch(/https/);
    expect(err(() => buildModelObjects(exampleInput({ mode: 'strict' }))).code).toBe('USAGE');
    expect(err(() => buildModelObjects(exampleInput({ artifact: { kind: 'url', uri: 's3://bucket/model.onnx', fileName: 'model.onnx' } }))).message).toMatch(
      /cannot download/,
    );
    expect(err(() => buildModelObjects(exampleInput({ artifact: { kind: 'url', uri: 'https://x/y', fileName: '../etc/passwd' } }))).code).toBe('VALIDATION');
    expect(err(() => buildModelObjects(exampleInput({ artifact: { kind: 'configmap', fileName: 'model.json', data: small } }))).code).toBe('VALIDATION');
    expect(err(() => buildModelObjects(exampleInput({ description: exampleDescription({ cpu: 'lots' }) }))).message).toMatch(/serving\.cpu/);
  });

  it('artifactFitsConfigMap decides on the base64 size plus the description', () => {
    const maxRaw = (CONFIGMAP_PAYLOAD_LIMIT / 4) * 3;
    expect(artifactFitsConfigMap(maxRaw)).toBe(true);
    expect(artifactFitsConfigMap(maxRaw + 1)).toBe(false);
    expect(artifactFitsConfigMap(maxRaw - 3, 5)).toBe(false);
    expect(artifactFitsConfigMap(0, 1000)).toBe(true);
  });

  it('copies valid description labels, skips invalid ones and never lets them override maas labels', () => {
    const { service } = buildModelObjectSet(
      exampleInput({
        description: exampleDescription({ labels: { team: 'vision', 'bad key!': 'x', 'app.kubernetes.io/name': 'hijack', long: 'x'.repeat(64) } }),
      }),
    );
    expect(service.metadata.labels.team).toBe('vision');
    expect(service.metadata.labels['bad key!']).toBeUndefined();
    expect(service.metadata.labels.long).toBeUndefined();
    expect(service.metadata.labels['app.kubernetes.io/name']).toBe('maas-model');
  });

  it('builders are pure: same input, same output, input untouched', () => {
    const input = exampleInput();
    const before = JSON.stringify(input);
    expect(JSON.stringify(buildModelObjects(input))).toBe(JSON.stringify(buildModelObjects(input)));
    expect(JSON.stringify(input)).toBe(before);
  });

  it('a deployment ID is an annotation of the objects only: no label, selector, env or pod template varies with it', () => {
    const plain = buildModelObjects(exampleInput());
    const real = buildModelObjects(exampleInput({ deploymentId: 'd-1a2b3c4d5e' }));
    expect(JSON.stringify(plain)).not.toContain('d-1a2b3c4d5e');
    for (const [i, o] of real.entries()) {
      expect(o.metadata.annotations?.['maas.dev/deployment-id']).toBe('d-1a2b3c4d5e');
      const { annotations, ...meta } = o.metadata;
      const { 'maas.dev/deployment-id': _id, ...rest } = annotations!;
      expect({ ...o, metadata: { ...meta, annotations: rest } }).toEqual(plain[i]);
    }
  });

  it('objects of a record of the previous naming keep their name and instance label', () => {
    const { deployment, service } = buildModelObjectSet(exampleInput({ name: 'maas-d-1a2b3c4d5e', instance: 'd-1a2b3c4d5e', deploymentId: 'd-1a2b3c4d5e' }));
    expect(deployment.metadata.name).toBe('maas-d-1a2b3c4d5e');
    expect(deployment.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'maas-model', 'app.kubernetes.io/instance': 'd-1a2b3c4d5e' });
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(deployment.spec!.template.spec!.volumes![0]!.configMap!.name).toBe('maas-d-1a2b3c4d5e');
  });

  it('templates/kubernetes/*.yaml are exactly the builder output for the example', () => {
    const set = buildModelObjectSet(exampleInput());
    const files: Record<string, unknown> = {
      'configmap.yaml': set.configMap,
      'deployment.yaml': set.deployment,
      'service.yaml': set.service,
      'hpa.yaml': set.hpa,
    };
    for (const [file, obj] of Object.entries(files)) {
      const docs = parseAllDocuments(readFileSync(join(ROOT, 'templates/kubernetes', file), 'utf8')).map((d) => d.toJS() as unknown);
      expect(docs, file).toEqual([JSON.parse(JSON.stringify(obj))]);
    }
  });
});

/** A profile of `rows` rows of `features` numeric features, every row in its sample. */
function profileOf(rows: number, features = 2): ReferenceProfile {
  const names = Array.from({ length: features }, (_, i) => `f${i}`);
  const b = new ProfileBuilder(
    names.map((name) => ({ name, type: 'number' as const })),
    { random: seededRandom(7), sampleSize: rows },
  );
  for (let r = 0; r < rows; r++) b.add(Object.fromEntries(names.map((n, i) => [n, r * 1.000123 + i])));
  return b.finish({ source: { uri: 'file:///train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
}

describe('the reference profile in the objects', () => {
  const profile = profileOf(50);

  for (const [name, base] of Object.entries(variants)) {
    it(`${name}: profile.json in the ConfigMap, --profile in the server args, all valid objects`, () => {
      const used = Buffer.byteLength(base.descriptionJson) + (base.artifact.kind === 'configmap' ? base64Length(base.artifact.data.length) : 0);
      const shipped = profileForConfigMap(profile, used);
      expect(shipped).toEqual({ json: JSON.stringify(profile), rows: 50, sampleRows: 50 });
      const input = { ...base, profileJson: shipped.json! };
      const objs = buildModelObjects(input);
      for (const o of objs) expect(() => validateOfficial(o)).not.toThrow();
      const { configMap, deployment } = buildModelObjectSet(input);
      expect(JSON.parse(configMap.data!['profile.json']!)).toEqual(profile);
      const pod = deployment.spec!.template;
      const server = pod.spec!.containers[0]!;
      const args = server.args!;
      expect(args.slice(args.indexOf('--profile'), args.indexOf('--profile') + 2)).toEqual(['--profile', '/model/profile.json']);
      // The ConfigMap volume (every key) is mounted where the args point.
      expect(server.volumeMounts).toContainEqual({ name: 'model', mountPath: '/model', readOnly: true });
      expect(pod.spec!.volumes!.find((v) => v.name === 'model')?.configMap).toMatchObject({ name: configMap.metadata.name });
      // A new profile rolls the pods; without one, nothing changes.
      expect(pod.metadata!.annotations!['maas.dev/profile-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
      const other = buildModelObjectSet({ ...base, profileJson: JSON.stringify(profileOf(51)) }).deployment.spec!.template.metadata!.annotations!;
      expect(other['maas.dev/profile-digest']).not.toBe(pod.metadata!.annotations!['maas.dev/profile-digest']);
      const without = buildModelObjectSet(base);
      expect(without.configMap.data).not.toHaveProperty('profile.json');
      expect(without.deployment.spec!.template.spec!.containers[0]!.args).not.toContain('--profile');
      expect(without.deployment.spec!.template.metadata!.annotations).not.toHaveProperty('maas.dev/profile-digest');
    });
  }

  it('drops the sample rows when the whole profile does not fit beside description and artifact, and says so', () => {
    const big = profileOf(4000, 20);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(CONFIGMAP_PAYLOAD_LIMIT);
    const base = variants['open, configmap artifact, fixed replicas'];
    const used = Buffer.byteLength(base.descriptionJson) + base64Length(base.artifact.kind === 'configmap' ? base.artifact.data.length : 0);
    const shipped = profileForConfigMap(big, used);
    expect(shipped).toMatchObject({ rows: 4000, sampleRows: 0, note: expect.stringContaining('without its 4000 sample rows') });
    const aggregates = JSON.parse(shipped.json!) as ReferenceProfile;
    expect(aggregates.sample).toEqual({ capacity: 4000, columns: big.sample.columns, rows: [] });
    expect(aggregates.features).toEqual(big.features);
    const objs = buildModelObjects({ ...base, profileJson: shipped.json! });
    for (const o of objs) expect(() => validateOfficial(o)).not.toThrow();
    const cm = objs[0]!;
    const payload = Buffer.byteLength(JSON.stringify(cm.kind === 'ConfigMap' ? { ...cm.data, ...cm.binaryData } : {}));
    expect(payload).toBeLessThanOrEqual(CONFIGMAP_PAYLOAD_LIMIT);
    // No room at all: no profile, a note, never an error.
    const none = profileForConfigMap(big, CONFIGMAP_PAYLOAD_LIMIT - 100);
    expect(none).toMatchObject({ rows: 4000, sampleRows: 0, note: expect.stringContaining('profile not shipped') });
    expect(none.json).toBeUndefined();
  });

  it('keeps the artifact file name away from profile.json', () => {
    expect(artifactFileName('https://example.com/models/profile.json')).toBe('model.onnx');
    const input = exampleInput({ artifact: { kind: 'configmap', fileName: 'profile.json', data: small } });
    expect(() => buildModelObjects(input)).toThrow(/cannot be used in the pod/);
  });
});

describe('names and selectors', () => {
  it('names objects after the model version, and the node in strict mode: readable, stable, valid', () => {
    expect(objectName('har-classifier', '3')).toBe('har-classifier-v3');
    expect(objectName('har-classifier', '3', 'n2')).toBe('har-classifier-v3-n2');
    expect(objectName('har-classifier', '1.2.0')).toBe('har-classifier-v1-2-0');
    expect(objectName('har-classifier', '1.2.0', 'gpu-node-1')).toBe(objectName('har-classifier', '1.2.0', 'gpu-node-1'));
    const cases: Array<[string, string, string?]> = [
      ['har-classifier', '1.0.0-rc.1'],
      ['har-classifier', '1.0.0-rc-1'],
      ['har-classifier', '1.0.0+build.5'],
      ['har-classifier', '1.0.0-RC.1'],
      ['3d-pose', '1'],
      ['m-3d-pose', '1'],
      ['har-classifier', '3', 'ip-10-0-1-23.ec2.internal'],
      ['har-classifier', '3', 'ip-10-0-1-23-ec2-internal'],
      ['x'.repeat(53), '12345678901234567890.1.0'],
      ['x'.repeat(53), '12345678901234567890.2.0'],
      ['har-classifier', '3', 'n'.repeat(253)],
    ];
    const names = cases.map(([m, v, n]) => objectName(m, v, n));
    for (const [i, n] of names.entries()) expect(isValidObjectName(n), `${cases[i]!.join('@')} -> ${n}`).toBe(true);
    // Only what had to be cut or cleaned carries a hash; different slots never share a name.
    expect(new Set(names).size).toBe(names.length);
    expect(objectName('har-classifier', '1.0.0-rc.1')).toMatch(/^har-classifier-v1-0-0-rc-1-[0-9a-f]{8}$/);
    expect(objectName('3d-pose', '1')).toMatch(/^m-3d-pose-v1-[0-9a-f]{8}$/);
    expect(objectName('x'.repeat(53), '12345678901234567890.1.0')).toMatch(/^x{53}-[0-9a-f]{8}$/);
    // The previous naming, still recognised on old records.
    expect(legacyObjectName('d-1a2b3c4d5e')).toBe('maas-d-1a2b3c4d5e');
  });

  it('sanitises label values', () => {
    expect(toLabelValue('1.2.0+build.5')).toBe('1.2.0_build.5');
    expect(toLabelValue('-v1-')).toBe('v1');
    expect(toLabelValue('a'.repeat(70))).toHaveLength(63);
    for (const v of ['1.2.0-rc.1', '+++', 'é', `${'a'.repeat(62)}.b`]) expect(isValidLabelValue(toLabelValue(v)), v).toBe(true);
  });

  it('selectorFor matches the labels every object carries; scale-to-zero and release bodies', () => {
    expect(selectorFor('har-classifier-v3')).toBe('app.kubernetes.io/managed-by=maas,app.kubernetes.io/instance=har-classifier-v3');
    for (const o of buildModelObjects(exampleInput())) {
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'maas', 'app.kubernetes.io/instance': 'har-classifier-v3' });
    }
    expect(ALL_DEPLOYMENTS_SELECTOR).toBe('app.kubernetes.io/managed-by=maas,app.kubernetes.io/name=maas-model');
    expect(scaleToZero('har-classifier-v3', 'maas')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'har-classifier-v3', namespace: 'maas' },
      spec: { replicas: 0 },
    });
    expect(releaseScale('har-classifier-v3', 'maas')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'har-classifier-v3', namespace: 'maas' },
    });
  });
});

function node(over: { name?: string; ready?: boolean; cpu?: string; memory?: string; gpu?: number; unschedulable?: boolean; taint?: boolean } = {}): NodeLike {
  return {
    metadata: { name: over.name ?? 'n1' },
    spec: {
      ...(over.unschedulable ? { unschedulable: true } : {}),
      ...(over.taint ? { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } : {}),
    },
    status: {
      allocatable: { cpu: over.cpu ?? '4', memory: over.memory ?? '8Gi', pods: '110', ...(over.gpu ? { 'nvidia.com/gpu': String(over.gpu) } : {}) },
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        over.ready === false
          ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready' }
          : { type: 'Ready', status: 'True', reason: 'KubeletReady' },
      ],
    },
  };
}

function pod(cpu: string, memory: string, phase = 'Running', init?: { cpu: string; memory: string }): PodLike {
  return {
    spec: {
      nodeName: 'n1',
      containers: [{ resources: { requests: { cpu, memory } } }],
      ...(init ? { initContainers: [{ resources: { requests: init } }] } : {}),
    },
    status: { phase },
  };
}

describe('checkNodeFits', () => {
  const req = { cpuMillis: 1000, memoryBytes: 2 ** 30, gpu: 0 };

  it('a missing node', () => {
    const r = checkNodeFits(undefined, [], { ...req, nodeName: 'ghost' });
    expect(r).toMatchObject({ ok: false, code: 'NotFound' });
    expect(!r.ok && r.reason).toMatch(/node "ghost" does not exist/);
  });

  it('a NotReady, cordoned or tainted node', () => {
    const nr = checkNodeFits(node({ ready: false }), [], req);
    expect(nr).toMatchObject({ ok: false, code: 'NotReady' });
    expect(!nr.ok && nr.reason).toContain('KubeletNotReady');
    expect(checkNodeFits({ metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi' } } }, [], req)).toMatchObject({
      ok: false,
      code: 'NotReady',
    });
    expect(checkNodeFits(node({ unschedulable: true }), [], req)).toMatchObject({ ok: false, code: 'Unschedulable' });
    expect(checkNodeFits(node({ taint: true }), [], req)).toMatchObject({ ok: false, code: 'Tainted' });
  });

  it('a full node: allocatable minus the requests of the pods already there', () => {
    const full = checkNodeFits(node(), [pod('2', '1Gi'), pod('1500m', '1Gi')], req);
    expect(full).toMatchObject({ ok: false, code: 'Insufficient' });
    expect(!full.ok && full.reason).toMatch(/cpu: needs 1, free 500m of 4 allocatable/);
    const mem = checkNodeFits(node({ memory: '2Gi' }), [pod('100m', '1536Mi')], req);
    expect(!mem.ok && mem.reason).toMatch(/memory: needs 1Gi, free 512Mi of 2Gi/);
    const gpu = checkNodeFits(node(), [], { ...req, gpu: 1 });
    expect(!gpu.ok && gpu.reason).toMatch(/nvidia\.com\/gpu: needs 1, free 0/);
    // Every replica lands on the pinned node.
    expect(checkNodeFits(node(), [], { ...req, replicas: 5 })).toMatchObject({ ok: false, code: 'Insufficient' });
  });

  it('fits, ignoring finished pods; init containers count by their maximum', () => {
    const r = checkNodeFits(node(), [pod('3', '6Gi', 'Succeeded'), pod('2', '1Gi')], { ...req, replicas: 2 });
    expect(r).toEqual({ ok: true, free: { cpuMillis: 2000, memoryBytes: 7 * 2 ** 30, gpu: 0 } });
    expect(podRequests(pod('500m', '1Gi', 'Running', { cpu: '2', memory: '100Mi' }))).toEqual({ cpuMillis: 2000, memoryBytes: 2 ** 30, gpu: 0 });
    expect(checkNodeFits(node({ gpu: 2 }), [], { ...servingRequests(exampleDescription({ gpu: 2 })) }).ok).toBe(true);
  });
});

const NOW = '2026-01-01T00:00:10Z';

function dep(status: Record<string, unknown>, replicas = 1, generation = 1) {
  return { metadata: { name: 'maas-d-1', generation }, spec: { replicas }, status: { observedGeneration: generation, ...status } };
}

function podStatus(name: string, status: PodStatusLike['status'], hash = 'abc'): PodStatusLike {
  return {
    metadata: { name, creationTimestamp: NOW, labels: { 'pod-template-hash': hash } },
    spec: { containers: [{ name: 'server', image: 'ghcr.io/x/maas-server:1' }], initContainers: [{ name: 'fetch-artifact', image: 'curlimages/curl:8.11.1' }] },
    ...(status !== undefined ? { status } : {}),
  };
}

function ev(pod: string, reason: string, message: string, t = NOW): EventLike {
  return { involvedObject: { kind: 'Pod', name: pod }, reason, message, type: 'Warning', lastTimestamp: t };
}

describe('explainRollout', () => {
  it('ready and scaled to zero', () => {
    expect(
      explainRollout({ deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, 2), pods: [], events: [] }),
    ).toMatchObject({
      state: 'ready',
      category: 'Ready',
      reason: '2 of 2 replicas ready',
    });
    expect(explainRollout({ deployment: dep({}, 0), pods: [], events: [] })).toMatchObject({ state: 'ready', category: 'ScaledToZero' });
    // Status not yet observed for the latest generation is not ready, whatever the counts say.
    const stale = {
      metadata: { name: 'x', generation: 2 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
    };
    expect(explainRollout({ deployment: stale, pods: [], events: [] }).state).toBe('progressing');
  });

  it('unschedulable: the scheduler message from the latest FailedScheduling event', () => {
    const msg = "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.";
    const p = podStatus('p1', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'old message' }] });
    const r = explainRollout({
      deployment: dep({ replicas: 1, unavailableReplicas: 1 }),
      pods: [p],
      events: [ev('p1', 'FailedScheduling', 'older', '2026-01-01T00:00:01Z'), ev('p1', 'FailedScheduling', msg)],
    });
    expect(r).toMatchObject({ state: 'failing', category: 'Unschedulable', pod: 'p1', fatal: false });
    expect(r.reason).toBe(`pod p1 cannot be scheduled: ${msg}`);
    // Without events the condition message is used; Date timestamps (client-node) work too.
    const r2 = explainRollout({ deployment: dep({}), pods: [p], events: [{ ...ev('other', 'FailedScheduling', 'x'), lastTimestamp: new Date() }] });
    expect(r2.reason).toContain('old message');
  });

  it('image pull: names the image and the pull error', () => {
    const p = podStatus('p1', {
      phase: 'Pending',
      containerStatuses: [
        {
          name: 'server',
          image: 'ghcr.io/x/maas-server:1',
          ready: false,
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/x/maas-server:1"' } },
        },
      ],
    });
    const r = explainRollout({ deployment: dep({ replicas: 1 }), pods: [p], events: [] });
    expect(r).toMatchObject({ state: 'failing', category: 'ImagePull', fatal: true });
    expect(r.reason).toMatch(/cannot pull image "ghcr\.io\/x\/maas-server:1".*ImagePullBackOff/);
    expect(r.hint).toMatch(/image name/);
    const init = podStatus('p2', { phase: 'Pending', initContainerStatuses: [{ name: 'fetch-artifact', state: { waiting: { reason: 'ErrImagePull' } } }] });
    const r2 = explainRollout({ deployment: dep({}), pods: [init], events: [ev('p2', 'Failed', 'Failed to pull image "curlimages/curl:8.11.1": not found')] });
    expect(r2.reason).toMatch(/curlimages\/curl:8\.11\.1.*artifact download.*ErrImagePull.*not found/);
  });

  it('crash loop: last exit code and reason; OOMKilled suggests memory', () => {
    const p = podStatus('p1', {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'server',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 2, reason: 'Error', message: 'cannot load model: invalid ONNX' } },
        },
      ],
    });
    const r = explainRollout({ deployment: dep({ replicas: 1 }), pods: [p], events: [] });
    expect(r).toMatchObject({ category: 'CrashLoop', fatal: true });
    expect(r.reason).toBe(
      'container "server" in pod p1 keeps failing (CrashLoopBackOff, 4 restarts); last exit code 2 (Error): cannot load model: invalid ONNX',
    );
    const oom = structuredClone(p);
    oom.status!.containerStatuses![0]!.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled' } };
    expect(explainRollout({ deployment: dep({}), pods: [oom], events: [] }).hint).toMatch(/memory/);
  });

  it('failed artifact download in the init container', () => {
    const p = podStatus('p1', {
      phase: 'Pending',
      initContainerStatuses: [
        {
          name: 'fetch-artifact',
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ],
    });
    const r = explainRollout({ deployment: dep({}), pods: [p], events: [] });
    expect(r).toMatchObject({ category: 'InitFailed', fatal: true });
    expect(r.reason).toMatch(/artifact download.*exit code 1/);
    expect(r.hint).toMatch(/sha256/);
  });

  it('readiness probe failing', () => {
    const p = podStatus('p1', { phase: 'Running', containerStatuses: [{ name: 'server', ready: false, state: { running: { startedAt: NOW } } }] });
    const r = explainRollout({
      deployment: dep({ replicas: 1 }),
      pods: [p],
      events: [ev('p1', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503')],
    });
    expect(r).toMatchObject({ category: 'ReadinessProbe', fatal: false, state: 'failing' });
    expect(r.reason).toContain('statuscode: 503');
  });

  it('progress deadline, replica failure, and plain progress', () => {
    const deadline = dep({
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }],
    });
    const p = podStatus('p1', {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }],
    });
    const r = explainRollout({ deployment: deadline, pods: [p], events: [] });
    expect(r).toMatchObject({ category: 'DeadlineExceeded', fatal: true });
    expect(r.reason).toMatch(/progress deadline: pod p1 cannot be scheduled: 0\/1 nodes .* Insufficient memory/);
    const quota = dep({
      conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "x" is forbidden: exceeded quota: compute' }],
    });
    expect(explainRollout({ deployment: quota, pods: [], events: [] })).toMatchObject({ category: 'ReplicaFailure', fatal: true });
    const creating = podStatus('p1', { phase: 'Pending', containerStatuses: [{ name: 'server', state: { waiting: { reason: 'ContainerCreating' } } }] });
    expect(explainRollout({ deployment: dep({ replicas: 1 }), pods: [creating], events: [] })).toMatchObject({
      state: 'progressing',
      reason: '0 of 1 replica ready (ContainerCreating)',
    });
  });

  it('looks at the pods of the newest template only', () => {
    const oldBroken = podStatus(
      'old',
      { phase: 'Running', containerStatuses: [{ name: 'server', state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      'old',
    );
    oldBroken.metadata!.creationTimestamp = '2026-01-01T00:00:00Z';
    const fresh = podStatus('new', { phase: 'Pending', containerStatuses: [{ name: 'server', state: { waiting: { reason: 'ContainerCreating' } } }] }, 'new');
    expect(explainRollout({ deployment: dep({ replicas: 2 }), pods: [oldBroken, fresh], events: [] }).state).toBe('progressing');
    // Same second: the Progressing condition names the new ReplicaSet, and that decides.
    const sameSecond = { ...oldBroken, metadata: { ...oldBroken.metadata, creationTimestamp: NOW } };
    const named = dep(
      { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "maas-d-1-new" is progressing.' }] },
      2,
    );
    expect(explainRollout({ deployment: named, pods: [sameSecond, fresh], events: [] }).state).toBe('progressing');
    const namedOld = dep(
      { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "maas-d-1-old" is progressing.' }] },
      2,
    );
    expect(explainRollout({ deployment: namedOld, pods: [sameSecond, fresh], events: [] }).category).toBe('CrashLoop');
  });
});

// API defaulting (what kube-apiserver fills in on every write), so that live objects look real
// and an identical second apply compares equal.
import type { ResourceDef } from './resources.js';
import { isObj, type Obj } from './types.js';

function probe(p: Obj | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) p.httpGet.scheme ??= 'HTTP';
}

function container(c: Obj): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined) {
    const image = String(c.image ?? '');
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    c.imagePullPolicy = image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const p of (c.ports ?? []) as Obj[]) p.protocol ??= 'TCP';
  probe(c.readinessProbe);
  probe(c.livenessProbe);
  probe(c.startupProbe);
  if (isObj(c.resources) && isObj(c.resources.limits)) {
    // Requests default to limits for each resource that has only a limit.
    c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
  }
  c.resources ??= {};
}

export function podSpec(s: Obj | undefined): void {
  if (!s) return;
  s.restartPolicy ??= 'Always';
  s.terminationGracePeriodSeconds ??= 30;
  s.dnsPolicy ??= 'ClusterFirst';
  s.securityContext ??= {};
  s.schedulerName ??= 'default-scheduler';
  for (const c of [...((s.containers ?? []) as Obj[]), ...((s.initContainers ?? []) as Obj[])]) container(c);
  for (const v of (s.volumes ?? []) as Obj[]) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
  }
}

export function applyDefaults(def: ResourceDef, o: Obj): void {
  switch (def.plural) {
    case 'deployments': {
      const s = (o.spec ??= {});
      s.replicas ??= 1;
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      s.strategy ??= {};
      s.strategy.type ??= 'RollingUpdate';
      if (s.strategy.type === 'RollingUpdate') {
        s.strategy.rollingUpdate ??= {};
        s.strategy.rollingUpdate.maxUnavailable ??= '25%';
        s.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      podSpec(s.template?.spec);
      break;
    }
    case 'services': {
      const s = (o.spec ??= {});
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      s.internalTrafficPolicy ??= 'Cluster';
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
      for (const p of (s.ports ?? []) as Obj[]) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      o.status ??= { loadBalancer: {} };
      break;
    }
    case 'secrets':
      // stringData is write-only: merged into data, base64-encoded.
      o.type ??= 'Opaque';
      if (isObj(o.stringData)) {
        o.data = { ...(o.data ?? {}), ...Object.fromEntries(Object.entries(o.stringData).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')])) };
        delete o.stringData;
      }
      break;
    case 'jobs':
      podSpec(o.spec?.template?.spec);
      break;
    case 'horizontalpodautoscalers':
      (o.spec ??= {}).minReplicas ??= 1;
      break;
    case 'namespaces':
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
      o.spec ??= { finalizers: ['kubernetes'] };
      o.status ??= { phase: 'Active' };
      break;
    default:
      break;
  }
}

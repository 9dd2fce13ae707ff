// Controllers standing in for kube-controller-manager: the Deployment controller creates pods
// (named <deployment>-<template hash>-<random>), replaces them on template changes once the new
// ones are ready, scales them, garbage-collects them with their Deployment and keeps Deployment
// status (replicas, conditions) current; an HPA controller keeps replicas inside its bounds. The
// pods themselves are scheduled and run by PodLifecycle. One tick runs every controller once.
// The progress deadline is measured on the injected clock, so tests can pass it without waiting.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/core/clock.js';
import { podSpec } from './defaults.js';
import { recordUpdate } from './managed-fields.js';
import { isPodReady, PodLifecycle, type PodSim } from './pod-lifecycle.js';
import { JobController } from './jobs.js';
import { byPlural, type ResourceDef } from './resources.js';
import { matchLabels } from './selectors.js';
import type { Store } from './store.js';
import { clone, deepEqual, timestamp, type Obj } from './types.js';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** pod-template-hash: rand.SafeEncodeString over the decimal FNV hash, as the controller does. */
function templateHash(template: unknown): string {
  return [...String(fnv32(JSON.stringify(template)))].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

function suffix(n: number): string {
  return [...randomBytes(n)].map((b) => SAFE[b % SAFE.length]).join('');
}

function qosClass(spec: Obj): string {
  const cs = [...((spec.containers ?? []) as Obj[]), ...((spec.initContainers ?? []) as Obj[])];
  const guaranteed = cs.every((c) => {
    const r = (c.resources?.requests ?? {}) as Obj;
    const l = (c.resources?.limits ?? {}) as Obj;
    return l.cpu !== undefined && l.memory !== undefined && String(r.cpu ?? l.cpu) === String(l.cpu) && String(r.memory ?? l.memory) === String(l.memory);
  });
  if (guaranteed) return 'Guaranteed';
  const any = cs.some((c) => Object.keys((c.resources?.requests ?? {}) as Obj).length + Object.keys((c.resources?.limits ?? {}) as Obj).length > 0);
  return any ? 'Burstable' : 'BestEffort';
}

/** A condition without its timestamps, for change detection. */
function condKey(c: Obj): string {
  return `${String(c.type)}/${String(c.status)}/${String(c.reason ?? '')}`;
}

export class Controllers {
  private readonly progress = new Map<string, { at: number; sig: string }>();
  private readonly lifecycle: PodLifecycle;
  private readonly pods = byPlural('pods');
  private readonly deployments = byPlural('deployments');
  /** The scriptable Job controller (see jobs.ts). */
  readonly jobs: JobController;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.lifecycle = new PodLifecycle(store);
    this.jobs = new JobController(store);
  }

  private write(def: ResourceDef, obj: Obj): Obj {
    const e = this.store.get(def, obj.metadata.namespace, obj.metadata.name);
    return this.store.commit(def, obj, e?.managers ?? []).obj;
  }

  /** One round of every controller. Returns whether anything changed. */

  tick(): boolean {
    const before = this.store.resourceVersion;
    this.gc();
    this.hpas();
    for (const d of this.store.list(this.deployments)) this.reconcile(d.obj);
    for (const p of this.store.list(this.pods)) {
      this.lifecycle.advance(p.obj);
    }
    for (const d of this.store.list(this.deployments)) this.deploymentStatus(d.obj);
    this.jobs.tick();
    return this.store.resourceVersion !== before;
  }

  /** Garbage collection: pods whose Deployment is gone (background propagation). */

  private gc(): void {
    const live = new Set(this.store.list(this.deployments).map((d) => String(d.obj.metadata.uid)));
    for (const p of this.store.list(this.pods)) {
      const sim = this.lifecycle.simOf(p.obj);
      if (sim && !live.has(sim.deploymentUid)) this.deletePod(p.obj);
    }
  }

  private deletePod(pod: Obj): void {
    this.lifecycle.forget(pod);
    this.store.remove(this.pods, pod.metadata.namespace, pod.metadata.name);
  }

  /** Pods the controller created for a Deployment. */

  podsOf(d: Obj): Array<{ pod: Obj; sim: PodSim }> {
    return this.store
      .list(this.pods, d.metadata.namespace)
      .map((e) => ({ pod: e.obj, sim: this.lifecycle.simOf(e.obj) }))
      .filter((x): x is { pod: Obj; sim: PodSim } => x.sim?.deploymentUid === d.metadata.uid);
  }

  private reconcile(d: Obj): void {
    const desired = Number(d.spec?.replicas ?? 1);
    const hash = templateHash(d.spec?.template);
    const mine = this.podsOf(d);
    const current = mine.filter((x) => x.sim.hash === hash);
    const old = mine.filter((x) => x.sim.hash !== hash);
    if (current.length < desired) {
      for (let i = current.length; i < desired; i++) this.createPod(d, hash);
      this.store.event(d, {
        reason: 'ScalingReplicaSet',
        message: `Scaled up replica set ${String(d.metadata.name)}-${hash} from ${current.length} to ${desired}`,
        component: 'deployment-controller',
      });
    } else if (current.length > desired) {
      // Not-ready pods go first, as the ReplicaSet controller prefers.
      const order = [...current].sort((a, b) => Number(isPodReady(a.pod)) - Number(isPodReady(b.pod)));
      for (const x of order.slice(0, current.length - desired)) this.deletePod(x.pod);
      this.store.event(d, {
        reason: 'ScalingReplicaSet',
        message: `Scaled down replica set ${String(d.metadata.name)}-${hash} from ${current.length} to ${desired}`,
        component: 'deployment-controller',
      });
    }
    // maxUnavailable semantics: old pods go once the new ones are ready (or nothing is wanted).
    const readyNew = current.filter((x) => isPodReady(x.pod)).length;
    if (old.length > 0 && (desired === 0 || readyNew >= desired)) {
      for (const x of old) this.deletePod(x.pod);
      const hashes = [...new Set(old.map((x) => x.sim.hash))];
      for (const h of hashes) {
        this.store.event(d, {
          reason: 'ScalingReplicaSet',
          message: `Scaled down replica set ${String(d.metadata.name)}-${h} from ${old.filter((x) => x.sim.hash === h).length} to 0`,
          component: 'deployment-controller',
        });
      }
    }
  }

  private createPod(d: Obj, hash: string): void {
    const tpl = clone((d.spec?.template ?? {}) as Obj);
    const rs = `${String(d.metadata.name)}-${hash}`;
    const spec = clone((tpl.spec ?? {}) as Obj);
    podSpec(spec);
    spec.serviceAccountName ??= 'default';
    spec.serviceAccount = spec.serviceAccountName;
    spec.tolerations = [
      ...((spec.tolerations ?? []) as Obj[]),
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    const pod: Obj = {
      metadata: {
        name: `${rs}-${suffix(5)}`,
        generateName: `${rs}-`,
        namespace: d.metadata.namespace,
        labels: { ...((tpl.metadata?.labels ?? {}) as Obj), 'pod-template-hash': hash },
        ...(tpl.metadata?.annotations ? { annotations: clone(tpl.metadata.annotations) } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rs,
            uid: `${String(d.metadata.uid).slice(0, 24)}${hash.padEnd(12, '0').slice(0, 12)}`,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec,
      status: { phase: 'Pending', qosClass: qosClass(spec) },
    };
    const stored = this.store.commit(this.pods, pod, []).obj;
    this.lifecycle.track(stored, String(d.metadata.uid), hash);
    this.store.event(
      { ...stored, kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: { ...stored.metadata, name: rs, uid: pod.metadata.ownerReferences[0].uid } },
      {
        reason: 'SuccessfulCreate',
        message: `Created pod: ${String(stored.metadata.name)}`,
        component: 'replicaset-controller',
      },
    );
  }

  private deploymentStatus(d: Obj): void {
    const desired = Number(d.spec?.replicas ?? 1);
    const hash = templateHash(d.spec?.template);
    const mine = this.podsOf(d);
    const updated = mine.filter((x) => x.sim.hash === hash).length;
    const ready = mine.filter((x) => isPodReady(x.pod)).length;
    const rs = `${String(d.metadata.name)}-${hash}`;
    const sig = `${String(d.metadata.generation)}/${updated}/${ready}/${mine.length}`;
    const prog = this.progress.get(String(d.metadata.uid));
    const nowMs = this.clock.now();
    if (!prog || prog.sig !== sig) this.progress.set(String(d.metadata.uid), { at: nowMs, sig });
    const since = prog && prog.sig === sig ? prog.at : nowMs;
    const complete = updated === desired && ready >= desired && mine.length === desired;
    const deadline = Number(d.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const maxUnavailable = this.maxUnavailable(d, desired);
    const available = ready >= desired - maxUnavailable;
    const oldConds = (d.status?.conditions ?? []) as Obj[];
    const condition = (type: string, status: boolean, reason: string, message: string): Obj => {
      const prev = oldConds.find((c) => c.type === type);
      const same = prev && prev.status === (status ? 'True' : 'False') && prev.reason === reason && prev.message === message;
      const now = timestamp();
      return same
        ? prev
        : {
            type,
            status: status ? 'True' : 'False',
            lastUpdateTime: now,
            lastTransitionTime: prev && prev.status === (status ? 'True' : 'False') ? prev.lastTransitionTime : now,
            reason,
            message,
          };
    };
    const progressing = complete
      ? condition('Progressing', true, 'NewReplicaSetAvailable', `ReplicaSet "${rs}" has successfully progressed.`)
      : nowMs - since > deadline
        ? condition('Progressing', false, 'ProgressDeadlineExceeded', `ReplicaSet "${rs}" has timed out progressing.`)
        : condition('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${rs}" is progressing.`);
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      ...(mine.length > 0 ? { replicas: mine.length } : {}),
      ...(updated > 0 ? { updatedReplicas: updated } : {}),
      ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
      ...(Math.max(0, desired - ready) > 0 ? { unavailableReplicas: Math.max(0, desired - ready) } : {}),
      conditions: [
        available
          ? condition('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : condition('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
        progressing,
      ],
    };
    if (deepEqual(status, d.status)) return;
    this.write(this.deployments, { ...clone(d), status });
  }

  private maxUnavailable(d: Obj, desired: number): number {
    const v = d.spec?.strategy?.rollingUpdate?.maxUnavailable as string | number | undefined;
    if (v === undefined) return 0;
    if (typeof v === 'number') return v;
    const pct = /^(\d+)%$/.exec(v);
    return pct ? Math.floor((desired * Number(pct[1])) / 100) : Number(v) || 0;
  }

  /** HPA: keeps the target inside [minReplicas, maxReplicas] (no metrics, so no load-driven scaling). */

  private hpas(): void {
    const hpaDef = byPlural('horizontalpodautoscalers');
    for (const e of this.store.list(hpaDef)) {
      const h = e.obj;
      const ref = h.spec?.scaleTargetRef ?? {};
      const target = ref.kind === 'Deployment' ? this.store.get(this.deployments, h.metadata.namespace, String(ref.name)) : undefined;
      const conditions: Obj[] = [];
      let current = 0;
      let desired = 0;
      if (!target) {
        conditions.push({
          type: 'AbleToScale',
          status: 'False',
          reason: 'FailedGetScale',
          message: `the HPA controller was unable to get the target's current scale: deployments/scale.apps "${String(ref.name)}" not found`,
        });
      } else {
        current = Number(target.obj.spec?.replicas ?? 1);
        const min = Number(h.spec?.minReplicas ?? 1);
        const max = Number(h.spec?.maxReplicas ?? min);
        if (current === 0) {
          conditions.push({
            type: 'ScalingActive',
            status: 'False',
            reason: 'ScalingDisabled',
            message: 'scaling is disabled since the replica count of the target is zero',
          });
        } else {
          desired = Math.min(max, Math.max(min, current));
          if (desired !== current) {
            const next = clone(target.obj);
            next.spec.replicas = desired;
            const managers = recordUpdate(
              target.managers,
              { spec: { replicas: current } },
              { spec: { replicas: desired } },
              {
                manager: 'kube-controller-manager',
                apiVersion: 'autoscaling/v1',
                subresource: 'scale',
                now: timestamp(),
              },
            );
            this.store.commit(this.deployments, next, managers);
          }
          conditions.push({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
          conditions.push({
            type: 'ScalingActive',
            status: 'True',
            reason: 'ValidMetricFound',
            message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
          });
        }
      }
      const status = { observedGeneration: h.metadata.generation, currentReplicas: current, desiredReplicas: desired || current, conditions };
      const prev = clone(h.status ?? {});
      if (deepEqual({ ...prev, conditions: ((prev.conditions ?? []) as Obj[]).map(condKey) }, { ...status, conditions: conditions.map(condKey) })) continue;
      const now = timestamp();
      this.write(hpaDef, { ...clone(h), status: { ...status, conditions: conditions.map((c) => ({ ...c, lastTransitionTime: now })) } });
    }
  }

  /** Pods of a Service's selector that are Ready: the endpoints the proxy may use. */

  readyEndpoints(service: Obj): Obj[] {
    const sel = service.spec?.selector as Record<string, string> | undefined;
    if (!sel || Object.keys(sel).length === 0) return [];
    return this.store
      .list(this.pods, service.metadata.namespace)
      .map((e) => e.obj)
      .filter((p) => matchLabels(sel, p.metadata.labels) && isPodReady(p));
  }

  logs(pod: Obj, container: string, previous: boolean): string | undefined {
    if (!previous) {
      const scripted = this.jobs.logs(pod, container);
      if (scripted !== undefined) return scripted;
    }
    return this.lifecycle.logs(pod, container, previous);
  }
}

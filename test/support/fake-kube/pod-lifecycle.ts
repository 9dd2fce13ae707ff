// The scheduler and kubelet side of the pods the Deployment controller creates: bind to a node
// (or Unschedulable with a FailedScheduling event), pull images and start containers, or fail the
// way a real kubelet does (ErrImagePull then ImagePullBackOff, CrashLoopBackOff, a failing
// readiness probe) with the same waiting reasons, conditions and events. advance() is one stage.
// What a container does is decided by its image, as in a real cluster: see imageFate.
import { randomBytes } from 'node:crypto';
import { byPlural, type ResourceDef } from './resources.js';
import { schedule } from './scheduler.js';
import type { Store } from './store.js';
import { clone, deepEqual, timestamp, type Obj } from './types.js';

export type ImageFate = 'pull-fails' | 'stalls' | 'crashes' | 'never-ready' | 'runs';

/**
 * What running an image does here, standing in for the registry and the code inside it: a
 * reference containing `does-not-exist` is in no registry; tag `stalls` is pulled forever (the
 * container stays ContainerCreating: slow, not failing); tag `crashes` exits at start (see
 * CRASH); tag `never-ready` runs but fails its readiness probe (see NOT_READY); anything else runs.
 */
export function imageFate(image: string): ImageFate {
  if (image.includes('does-not-exist')) return 'pull-fails';
  if (image.endsWith(':stalls')) return 'stalls';
  if (image.endsWith(':crashes')) return 'crashes';
  if (image.endsWith(':never-ready')) return 'never-ready';
  return 'runs';
}

/** How a `crashes` image dies, and what it printed first (`kubectl logs --previous`). */
export const CRASH = { exitCode: 3, reason: 'Error', logs: 'error: cannot load model: invalid ONNX\n' };
/** The readiness probe failure of a `never-ready` image. */
export const NOT_READY = 'HTTP probe failed with statuscode: 503';

function runningLog(pod: Obj, c: Obj): string {
  return `${timestamp()} maas serve: container ${String(c.name)} of pod ${String(pod.metadata.name)} started\n${timestamp()} listening on http://0.0.0.0:8080\n`;
}

type Stage = 'pending' | 'scheduled' | 'starting' | 'pulling' | 'pull-failed' | 'pull-backoff' | 'crashed' | 'crash-backoff' | 'unready' | 'running';

export interface PodSim {
  deploymentUid: string;
  hash: string;
  stage: Stage;
  ticks: number;
  /** Container whose failure the pod shows (init containers included). */
  failing?: { name: string; init: boolean; crashed: boolean };
  previousLogs: Map<string, string>;
}

/** docker.io/library/x:tag as containerd reports references. */
function normalizeImage(image: string): string {
  const first = image.split('/')[0]!;
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = hasRegistry ? image : `docker.io/${image.includes('/') ? image : `library/${image}`}`;
  return /:[^/]+$/.test(path) || path.includes('@') ? path : `${path}:latest`;
}

function pullError(image: string): string {
  const ref = normalizeImage(image);
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
}

/** A condition without its timestamps, for change detection. */
function condKey(c: Obj): string {
  return `${String(c.type)}/${String(c.status)}/${String(c.reason ?? '')}`;
}

function podKey(pod: Obj): string {
  return `${String(pod.metadata.namespace)}/${String(pod.metadata.name)}`;
}

function cond(type: string, ok: boolean, reason?: string, message?: string): Obj {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: timestamp(),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

export function isPodReady(pod: Obj): boolean {
  return ((pod.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

export class PodLifecycle {
  private readonly sims = new Map<string, PodSim>();
  private ipCounter = 10;
  private readonly pods = byPlural('pods');

  constructor(private readonly store: Store) {}

  /** Starts simulating a pod the Deployment controller just created. */
  track(pod: Obj, deploymentUid: string, hash: string): void {
    this.sims.set(podKey(pod), { deploymentUid, hash, stage: 'pending', ticks: 0, previousLogs: new Map() });
  }

  simOf(pod: Obj): PodSim | undefined {
    return this.sims.get(podKey(pod));
  }

  forget(pod: Obj): void {
    this.sims.delete(podKey(pod));
  }

  /** Moves a tracked pod one stage on; pods seeded by tests stay as they are. */
  advance(pod: Obj): void {
    const sim = this.sims.get(podKey(pod));
    if (sim) this.step(pod, sim);
  }

  private write(def: ResourceDef, obj: Obj): Obj {
    const e = this.store.get(def, obj.metadata.namespace, obj.metadata.name);
    return this.store.commit(def, obj, e?.managers ?? []).obj;
  }

  private nodeIndex(nodeName: string): number {
    const n = this.store.get(byPlural('nodes'), undefined, nodeName)?.obj;
    return Number(/^10\.244\.(\d+)\./.exec(String(n?.spec?.podCIDR ?? ''))?.[1] ?? 0);
  }

  private scheduleOne(pod: Obj, sim: PodSim): void {
    const nodes = this.store.list(byPlural('nodes')).map((e) => e.obj);
    const byNode = new Map<string, Obj[]>();
    for (const e of this.store.list(this.pods)) {
      const n = e.obj.spec?.nodeName as string | undefined;
      if (n) byNode.set(n, [...(byNode.get(n) ?? []), e.obj]);
    }
    const r = schedule(pod, nodes, byNode);
    const p = clone(pod);
    if ('node' in r) {
      p.spec.nodeName = r.node;
      p.status.conditions = [cond('PodScheduled', true)];
      const stored = this.write(this.pods, p);
      this.store.event(stored, {
        reason: 'Scheduled',
        message: `Successfully assigned ${String(p.metadata.namespace)}/${String(p.metadata.name)} to ${r.node}`,
        component: 'default-scheduler',
      });
      sim.stage = 'scheduled';
      return;
    }
    const existing = ((pod.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'PodScheduled');
    if (existing?.message !== r.message) {
      p.status.conditions = [cond('PodScheduled', false, 'Unschedulable', r.message)];
      this.write(this.pods, p);
    }
    const last = this.store
      .list(byPlural('events'), pod.metadata.namespace)
      .filter((e) => e.obj.involvedObject.uid === pod.metadata.uid && e.obj.reason === 'FailedScheduling')
      .pop();
    if (last?.obj.message !== r.message)
      this.store.event(pod, { reason: 'FailedScheduling', message: r.message, type: 'Warning', component: 'default-scheduler' });
  }

  private kubeletEvent(pod: Obj, c: Obj, init: boolean, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): void {
    this.store.event(pod, {
      reason,
      message,
      type,
      component: 'kubelet',
      host: pod.spec.nodeName,
      fieldPath: `spec.${init ? 'initContainers' : 'containers'}{${String(c.name)}}`,
    });
  }

  private baseStatus(pod: Obj, phase: string, ready: boolean, initialized: boolean, notReady: string[]): Obj {
    const ip = pod.status?.podIP ?? `10.244.${this.nodeIndex(String(pod.spec.nodeName))}.${(this.ipCounter++ % 250) + 2}`;
    const node = this.store.get(byPlural('nodes'), undefined, String(pod.spec.nodeName))?.obj;
    const hostIP = ((node?.status?.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address ?? '172.18.0.2';
    const why = notReady.length > 0 ? `containers with unready status: [${notReady.join(' ')}]` : undefined;
    const status: Obj = {
      ...pod.status,
      phase,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: pod.status?.startTime ?? timestamp(),
      conditions: [
        cond('PodReadyToStartContainers', true),
        initialized
          ? cond('Initialized', true)
          : cond(
              'Initialized',
              false,
              'ContainersNotInitialized',
              'containers with incomplete status: [' + ((pod.spec.initContainers ?? []) as Obj[]).map((c) => String(c.name)).join(' ') + ']',
            ),
        ready ? cond('Ready', true) : cond('Ready', false, 'ContainersNotReady', why),
        ready ? cond('ContainersReady', true) : cond('ContainersReady', false, 'ContainersNotReady', why),
        cond('PodScheduled', true),
      ],
    };
    return status;
  }

  private containerStatus(c: Obj, state: Obj, o: { ready?: boolean; started?: boolean; restarts?: number; last?: Obj; pulled?: boolean } = {}): Obj {
    return {
      name: c.name,
      image: c.image,
      imageID: o.pulled ? `${normalizeImage(String(c.image))}@sha256:${randomBytes(32).toString('hex')}` : '',
      ...(o.pulled ? { containerID: `containerd://${randomBytes(32).toString('hex')}` } : {}),
      ready: o.ready ?? false,
      started: o.started ?? false,
      restartCount: o.restarts ?? 0,
      state,
      lastState: o.last ?? {},
    };
  }

  private step(pod: Obj, sim: PodSim): void {
    sim.ticks++;
    const inits = (pod.spec.initContainers ?? []) as Obj[];
    const mains = (pod.spec.containers ?? []) as Obj[];
    const names = mains.map((c) => String(c.name));
    const p = clone(pod);
    switch (sim.stage) {
      case 'pending':
        this.scheduleOne(pod, sim);
        return;
      case 'scheduled': {
        p.status = this.baseStatus(pod, 'Pending', false, inits.length === 0, names);
        if (inits.length > 0) p.status.initContainerStatuses = inits.map((c) => this.containerStatus(c, { waiting: { reason: 'PodInitializing' } }));
        p.status.containerStatuses = mains.map((c) =>
          this.containerStatus(c, { waiting: { reason: inits.length > 0 ? 'PodInitializing' : 'ContainerCreating' } }),
        );
        this.write(this.pods, p);
        sim.stage = 'starting';
        return;
      }
      case 'starting': {
        const initStatuses: Obj[] = [];
        for (const c of inits) {
          this.kubeletEvent(pod, c, true, 'Pulling', `Pulling image "${String(c.image)}"`);
          const fate = imageFate(String(c.image));
          if (fate === 'stalls') return void (sim.stage = 'pulling');
          if (fate === 'pull-fails') return this.pullFailed(p, sim, c, true);
          if (fate === 'crashes') return this.crashed(p, sim, c, true);
          this.started(pod, c, true);
          const now = timestamp();
          initStatuses.push(this.containerStatus(c, { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } }, { pulled: true }));
        }
        for (const c of mains) {
          this.kubeletEvent(pod, c, false, 'Pulling', `Pulling image "${String(c.image)}"`);
          const fate = imageFate(String(c.image));
          if (fate === 'stalls') return void (sim.stage = 'pulling');
          if (fate === 'pull-fails') return this.pullFailed(p, sim, c, false, initStatuses);
          if (fate === 'crashes') return this.crashed(p, sim, c, false, initStatuses);
          this.started(pod, c, false);
        }
        sim.stage = 'running';
        return this.runOrUnready(p, sim, initStatuses);
      }
      case 'pull-failed':
      case 'crashed':
        return this.backoff(p, sim);
      case 'crash-backoff':
        // Restart now and then, as the back-off doubles.
        if (sim.ticks % 10 === 0) return this.backoff(p, sim);
        return;
      case 'running':
      case 'unready':
        return this.runOrUnready(p, sim, (pod.status?.initContainerStatuses ?? []) as Obj[]);
      default:
        return;
    }
  }

  private started(pod: Obj, c: Obj, init: boolean): void {
    this.kubeletEvent(pod, c, init, 'Pulled', `Successfully pulled image "${String(c.image)}" in 1.2s (1.2s including waiting). Image size: 52428800 bytes.`);
    this.kubeletEvent(pod, c, init, 'Created', `Created container: ${String(c.name)}`);
    this.kubeletEvent(pod, c, init, 'Started', `Started container ${String(c.name)}`);
  }

  private runOrUnready(p: Obj, sim: PodSim, initStatuses: Obj[]): void {
    const mains = (p.spec.containers ?? []) as Obj[];
    const unready = mains.filter((c) => imageFate(String(c.image)) === 'never-ready').map((c) => ({ c, msg: NOT_READY }));
    const prevStatuses = (p.status?.containerStatuses ?? []) as Obj[];
    const status = this.baseStatus(
      p,
      'Running',
      unready.length === 0,
      true,
      unready.map((x) => String(x.c.name)),
    );
    if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
    status.containerStatuses = mains.map((c) => {
      const prev = prevStatuses.find((s) => s.name === c.name);
      const running = prev?.state?.running ? prev.state : { running: { startedAt: timestamp() } };
      const ready = !unready.some((x) => x.c.name === c.name);
      return prev?.state?.running
        ? { ...prev, ready, started: true }
        : this.containerStatus(c, running, { ready, started: true, pulled: true, restarts: Number(prev?.restartCount ?? 0) });
    });
    // Conditions carry transition times; keep the old ones when nothing else changed.
    const old = clone(p.status ?? {});
    const same =
      deepEqual({ ...old, conditions: undefined }, { ...status, conditions: undefined }) &&
      deepEqual(((old.conditions ?? []) as Obj[]).map(condKey), ((status.conditions ?? []) as Obj[]).map(condKey));
    if (!same) {
      p.status = status;
      const stored = this.write(this.pods, p);
      for (const x of unready) this.kubeletEvent(stored, x.c, false, 'Unhealthy', `Readiness probe failed: ${x.msg}`, 'Warning');
    }
    sim.stage = unready.length > 0 ? 'unready' : 'running';
  }

  private pullFailed(p: Obj, sim: PodSim, c: Obj, init: boolean, initStatuses: Obj[] = []): void {
    const msg = pullError(String(c.image));
    this.kubeletEvent(p, c, init, 'Failed', `Failed to pull image "${String(c.image)}": ${msg}`, 'Warning');
    this.kubeletEvent(p, c, init, 'Failed', 'Error: ErrImagePull', 'Warning');
    this.setFailing(p, c, init, { waiting: { reason: 'ErrImagePull', message: msg } }, initStatuses);
    sim.failing = { name: String(c.name), init, crashed: false };
    sim.stage = 'pull-failed';
  }

  private crashed(p: Obj, sim: PodSim, c: Obj, init: boolean, initStatuses: Obj[] = []): void {
    this.started(p, c, init);
    const now = timestamp();
    this.setFailing(p, c, init, { terminated: { exitCode: CRASH.exitCode, reason: CRASH.reason, startedAt: now, finishedAt: now } }, initStatuses);
    sim.failing = { name: String(c.name), init, crashed: true };
    sim.previousLogs.set(String(c.name), CRASH.logs);
    sim.stage = 'crashed';
  }

  /** ImagePullBackOff or CrashLoopBackOff after the first failure. */

  private backoff(p: Obj, sim: PodSim): void {
    const f = sim.failing!;
    const list = (f.init ? p.spec.initContainers : p.spec.containers) as Obj[];
    const c = list.find((x) => x.name === f.name)!;
    const statuses = (f.init ? p.status.initContainerStatuses : p.status.containerStatuses) as Obj[];
    const s = statuses.find((x) => x.name === f.name)!;
    const podRef = `${String(p.metadata.name)}_${String(p.metadata.namespace)}(${String(p.metadata.uid)})`;
    if (f.crashed) {
      const now = timestamp();
      const restarts = Number(s.restartCount ?? 0) + 1;
      const delay = Math.min(300, 10 * 2 ** (restarts - 1));
      s.restartCount = restarts;
      s.lastState = {
        terminated: {
          exitCode: CRASH.exitCode,
          reason: CRASH.reason,
          startedAt: now,
          finishedAt: now,
          containerID: `containerd://${randomBytes(32).toString('hex')}`,
        },
      };
      s.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay}s restarting failed container=${f.name} pod=${podRef}` } };
      s.ready = false;
      s.started = false;
      this.write(this.pods, p);
      this.kubeletEvent(p, c, f.init, 'BackOff', `Back-off restarting failed container ${f.name} in pod ${podRef}`, 'Warning');
      sim.stage = 'crash-backoff';
      return;
    }
    s.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${String(c.image)}": ErrImagePull: ${pullError(String(c.image))}` } };
    this.write(this.pods, p);
    this.kubeletEvent(p, c, f.init, 'BackOff', `Back-off pulling image "${String(c.image)}"`);
    this.kubeletEvent(p, c, f.init, 'Failed', 'Error: ImagePullBackOff', 'Warning');
    sim.stage = 'pull-backoff';
  }

  private setFailing(p: Obj, c: Obj, init: boolean, state: Obj, initStatuses: Obj[]): void {
    const inits = (p.spec.initContainers ?? []) as Obj[];
    const mains = (p.spec.containers ?? []) as Obj[];
    const phase = init ? 'Pending' : 'Running';
    p.status = this.baseStatus(
      p,
      phase,
      false,
      !init,
      mains.map((x) => String(x.name)),
    );
    if (inits.length > 0) {
      p.status.initContainerStatuses = inits.map((x) => {
        if (x.name === c.name && init) return this.containerStatus(x, state, { pulled: !state.waiting });
        return initStatuses.find((s) => s.name === x.name) ?? this.containerStatus(x, { waiting: { reason: 'PodInitializing' } });
      });
    }
    p.status.containerStatuses = mains.map((x) =>
      x.name === c.name && !init
        ? this.containerStatus(x, state, { pulled: !state.waiting })
        : this.containerStatus(x, { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } }),
    );
    this.write(this.pods, p);
  }

  /** Logs of a container; `previous` gives the last crashed instance. Undefined: none exists. */

  logs(pod: Obj, container: string, previous: boolean): string | undefined {
    const sim = this.sims.get(podKey(pod));
    const c = [...((pod.spec.containers ?? []) as Obj[]), ...((pod.spec.initContainers ?? []) as Obj[])].find((x) => x.name === container);
    if (!c) return undefined;
    if (previous) return sim?.previousLogs.get(container);
    return runningLog(pod, c);
  }
}

// Why a rollout is not done: reads a Deployment's status, its pods and their events and names the
// cause a person can act on (unschedulable, image pull, crash loop, failing probe, deadline).
// Pure; the caller lists pods with selectorLabels and events with involvedObject.name.
import { DOWNLOAD_CONTAINER } from './objects.js';

type Time = Date | string | null | undefined;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatusLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}

interface ContainerStateLike {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: Time };
  terminated?: { exitCode: number; reason?: string; message?: string; signal?: number };
}

export interface ContainerStatusLike {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export interface PodStatusLike {
  metadata?: { name?: string; creationTimestamp?: Time; deletionTimestamp?: Time; labels?: Record<string, string> };
  spec?: { containers?: Array<{ name: string; image?: string }>; initContainers?: Array<{ name: string; image?: string }> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatusLike[];
    initContainerStatuses?: ContainerStatusLike[];
  };
}

export interface EventLike {
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: Time;
  eventTime?: Time;
  firstTimestamp?: Time;
  metadata?: { creationTimestamp?: Time };
}

export type RolloutCategory =
  | 'Ready'
  | 'ScaledToZero'
  | 'Progressing'
  | 'Unschedulable'
  | 'ImagePull'
  | 'CrashLoop'
  | 'InitFailed'
  | 'ContainerConfig'
  | 'ReadinessProbe'
  | 'Evicted'
  | 'ReplicaFailure'
  | 'DeadlineExceeded';

export interface RolloutExplanation {
  state: 'ready' | 'progressing' | 'failing';
  category: RolloutCategory;
  /** One sentence naming the cause, with the scheduler/kubelet message where there is one. */
  reason: string;
  hint?: string;
  /** Waiting longer will not help (bad image, crash loop, deadline passed). */
  fatal: boolean;
  pod?: string;
  desired: number;
  ready: number;
}

export interface RolloutInput {
  deployment: DeploymentStatusLike;
  pods: readonly PodStatusLike[];
  events: readonly EventLike[];
}

function ms(t: Time): number {
  if (!t) return 0;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(v) ? v : 0;
}

function eventTime(e: EventLike): number {
  return Math.max(ms(e.lastTimestamp), ms(e.eventTime), ms(e.firstTimestamp), ms(e.metadata?.creationTimestamp));
}

/** Latest event about a pod, optionally with one of the reasons and a message matching. */
function latestEvent(events: readonly EventLike[], pod: string, reasons: string[], match?: RegExp): EventLike | undefined {
  return events
    .filter((e) => e.involvedObject?.name === pod && (!e.involvedObject.kind || e.involvedObject.kind === 'Pod'))
    .filter((e) => reasons.includes(e.reason ?? '') && (!match || match.test(e.message ?? '')))
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreStartHookError', 'PostStartHookError']);

type Finding = Omit<RolloutExplanation, 'desired' | 'ready' | 'state'> & { rank: number };

function imageOf(pod: PodStatusLike, c: ContainerStatusLike, init: boolean): string {
  const spec = (init ? pod.spec?.initContainers : pod.spec?.containers)?.find((x) => x.name === c.name);
  return spec?.image ?? c.image ?? '?';
}

function terminatedText(t: NonNullable<ContainerStateLike['terminated']>): string {
  const why = t.reason ? ` (${t.reason})` : '';
  const msg = t.message ? `: ${t.message.trim().split('\n').slice(-3).join(' | ')}` : '';
  return `exit code ${t.exitCode}${why}${msg}`;
}

function containerFinding(pod: PodStatusLike, name: string, c: ContainerStatusLike, events: readonly EventLike[], init: boolean): Finding | undefined {
  const waiting = c.state?.waiting;
  const what = init ? (c.name === DOWNLOAD_CONTAINER ? 'the artifact download (init container)' : `init container "${c.name}"`) : `container "${c.name}"`;
  if (waiting?.reason && IMAGE_PULL.has(waiting.reason)) {
    const image = imageOf(pod, c, init);
    const failed = latestEvent(events, name, ['Failed'], /pull|image/i);
    const detail = waiting.message ?? failed?.message;
    return {
      rank: 1,
      category: 'ImagePull',
      pod: name,
      fatal: true,
      reason: `pod ${name} cannot pull image "${image}" for ${what} (${waiting.reason})${detail ? `: ${detail}` : ''}`,
      hint: 'check the image name and tag, that the registry is reachable from the nodes, and imagePullSecrets for private registries',
    };
  }
  if (waiting?.reason && CONFIG.has(waiting.reason)) {
    return {
      rank: 1,
      category: 'ContainerConfig',
      pod: name,
      fatal: true,
      reason: `pod ${name}: ${what} cannot start (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ''}`,
    };
  }
  const last = c.lastState?.terminated ?? c.state?.terminated;
  const crashing = waiting?.reason === 'CrashLoopBackOff' || (init && c.state?.terminated && c.state.terminated.exitCode !== 0);
  if (crashing) {
    const restarts = c.restartCount ?? 0;
    const oom = last?.reason === 'OOMKilled';
    return {
      rank: 1,
      category: init ? 'InitFailed' : 'CrashLoop',
      pod: name,
      fatal: true,
      reason: `${what} in pod ${name} keeps failing (${waiting?.reason ?? 'Error'}, ${restarts} restart${restarts === 1 ? '' : 's'})${last ? `; last ${terminatedText(last)}` : ''}`,
      hint: oom
        ? 'the server ran out of memory: raise spec.resources.serving.memory'
        : init && c.name === DOWNLOAD_CONTAINER
          ? 'check that the artifact URI is reachable from the cluster and that its sha256 matches the registered digest'
          : 'see the server log with `maas logs <deployment>` (previous container)',
    };
  }
  if (!init && c.state?.running && c.ready === false) {
    const probe = latestEvent(events, name, ['Unhealthy'], /(Readiness|Startup) probe failed/);
    if (probe) {
      return {
        rank: 3,
        category: 'ReadinessProbe',
        pod: name,
        fatal: false,
        reason: `${what} in pod ${name} runs but is not ready: ${probe.message ?? 'probe failed'}`,
        hint: 'the model server answers /v2/health/ready with an error until the model is loaded; see `maas logs <deployment>`',
      };
    }
  }
  return undefined;
}

function podFinding(pod: PodStatusLike, events: readonly EventLike[]): Finding | undefined {
  const name = pod.metadata?.name ?? '?';
  if (pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted') {
    return { rank: 2, category: 'Evicted', pod: name, fatal: false, reason: `pod ${name} was evicted: ${pod.status.message ?? 'node pressure'}` };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const ev = latestEvent(events, name, ['FailedScheduling']);
    const msg = ev?.message ?? scheduled.message ?? 'no node fits';
    return {
      rank: 2,
      category: 'Unschedulable',
      pod: name,
      fatal: false,
      reason: `pod ${name} cannot be scheduled: ${msg}`,
      hint: 'free capacity on the nodes, lower spec.resources.serving, or in strict mode pick another node with --node',
    };
  }
  const found: Finding[] = [];
  for (const c of pod.status?.initContainerStatuses ?? []) {
    const f = containerFinding(pod, name, c, events, true);
    if (f) found.push(f);
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    const f = containerFinding(pod, name, c, events, false);
    if (f) found.push(f);
  }
  return found.sort((a, b) => a.rank - b.rank)[0];
}

/**
 * Pods of the current template: the Progressing condition names the new ReplicaSet
 * (`<deployment>-<pod-template-hash>`) once the controller has seen the latest generation;
 * otherwise the newest pods (creation timestamps have second precision, so ties keep all).
 * Old pods being replaced must not decide why the new version is not ready.
 */
function currentPods(deployment: DeploymentStatusLike, pods: readonly PodStatusLike[]): PodStatusLike[] {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const hashOf = (p: PodStatusLike) => p.metadata?.labels?.['pod-template-hash'];
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  const rs = /replica ?set "([^"]+)"/i.exec(progressing?.message ?? '')?.[1];
  const prefix = `${deployment.metadata?.name ?? ''}-`;
  if (observed && rs?.startsWith(prefix)) {
    const hash = rs.slice(prefix.length);
    if (live.some((p) => hashOf(p) === hash)) return live.filter((p) => hashOf(p) === hash);
  }
  const newest = Math.max(0, ...live.map((p) => ms(p.metadata?.creationTimestamp)));
  const hashes = new Set(live.filter((p) => ms(p.metadata?.creationTimestamp) === newest).map(hashOf));
  return hashes.has(undefined) ? live : live.filter((p) => hashes.has(hashOf(p)));
}

export function explainRollout({ deployment, pods, events }: RolloutInput): RolloutExplanation {
  const desired = deployment.spec?.replicas ?? 1;
  const st = deployment.status ?? {};
  const ready = st.readyReplicas ?? 0;
  const base = { desired, ready };
  const observed = (st.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const name = deployment.metadata?.name ?? 'deployment';
  if (observed && desired === 0 && (st.replicas ?? 0) === 0) {
    return { ...base, state: 'ready', category: 'ScaledToZero', fatal: false, reason: `${name} is scaled to zero` };
  }
  if (observed && (st.updatedReplicas ?? 0) >= desired && (st.availableReplicas ?? 0) >= desired && (st.replicas ?? 0) <= desired) {
    return { ...base, state: 'ready', category: 'Ready', fatal: false, reason: `${ready} of ${desired} replica${desired === 1 ? '' : 's'} ready` };
  }
  const conditions = st.conditions ?? [];
  const replicaFailure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (replicaFailure) {
    return {
      ...base,
      state: 'failing',
      category: 'ReplicaFailure',
      fatal: true,
      reason: `the cluster refuses to create pods for ${name} (${replicaFailure.reason ?? 'FailedCreate'}): ${replicaFailure.message ?? ''}`.trim(),
      hint: 'a ResourceQuota, LimitRange or Pod Security admission rejected the pod; see the message above',
    };
  }
  const finding = currentPods(deployment, pods)
    .map((p) => podFinding(p, events))
    .filter((f): f is Finding => f !== undefined)
    .sort((a, b) => a.rank - b.rank)[0];
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      ...base,
      state: 'failing',
      category: 'DeadlineExceeded',
      fatal: true,
      reason: `rollout of ${name} exceeded its progress deadline${finding ? `: ${finding.reason}` : ` (${ready} of ${desired} ready)`}`,
      ...(finding?.hint ? { hint: finding.hint } : {}),
      ...(finding?.pod ? { pod: finding.pod } : {}),
    };
  }
  if (finding) {
    const { rank: _rank, ...rest } = finding;
    return { ...base, ...rest, state: 'failing' };
  }
  const waiting = currentPods(deployment, pods)
    .flatMap((p) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
    .map((c) => c.state?.waiting?.reason)
    .filter((r): r is string => Boolean(r));
  const detail = waiting.length > 0 ? ` (${[...new Set(waiting)].join(', ')})` : '';
  return {
    ...base,
    state: 'progressing',
    category: 'Progressing',
    fatal: false,
    reason: `${ready} of ${desired} replica${desired === 1 ? '' : 's'} ready${detail}`,
  };
}

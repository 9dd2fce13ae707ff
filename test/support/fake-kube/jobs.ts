// A scriptable Job controller (batch/v1): the test says how each Job created from now on ends
// (fake.scriptJob), the controller runs one pod for it (its init containers one after the other,
// one per tick, then its containers; Running, then terminated) and sets the Job's conditions, and
// each container's log is the scripted text. Pods go with their Job.
import { randomBytes } from 'node:crypto';
import { podSpec } from './defaults.js';
import { byPlural } from './resources.js';
import type { Store } from './store.js';
import { clone, timestamp, type Obj } from './types.js';

export type JobScript =
  /** Every container exits 0 and the Job completes. */
  | { outcome: 'succeeded'; log?: string; logs?: Record<string, string> }
  /**
   * `container` (default the pod's first container) exits `exitCode` (reason e.g. `OOMKilled`): init
   * containers before it exit 0, those after it and the containers never start (a failed init
   * container stops the pod); the Job fails with `reason` (default BackoffLimitExceeded; DeadlineExceeded too).
   */
  | {
      outcome: 'failed';
      log?: string;
      logs?: Record<string, string>;
      container?: string;
      exitCode?: number;
      containerReason?: string;
      reason?: string;
      message?: string;
    }
  /** `container` (default the first to run) never starts: waiting with `reason` (e.g. ErrImagePull) forever; those before it exit 0. */
  | { outcome: 'waiting'; reason: string; message?: string; container?: string; logs?: Record<string, string> };
// `log` is the log of the pod's first container (spec.containers[0]); `logs` by container name
// (init containers too) wins over it. A container's log is empty while it runs, whole once it ended.

interface Run {
  script?: JobScript;
  pod?: string;
  /** What runs in turn: each init container alone, then the containers together. */
  steps: string[][];
  /** The step running now (steps.length once the pod ended). */
  step: number;
  states: Map<string, Obj>;
  /** Waiting forever, or ended. */
  over: boolean;
}

export class JobController {
  private readonly queue: JobScript[] = [];
  private readonly runs = new Map<string, Run>();
  /** `namespace/pod/container` -> log, for the pods of Jobs. */
  private readonly logsByContainer = new Map<string, string>();
  private readonly jobPods = new Set<string>();
  private readonly jobsDef = byPlural('jobs');
  private readonly podsDef = byPlural('pods');

  constructor(private readonly store: Store) {}

  /** How the next Job created (without a script yet) ends. */
  script(s: JobScript): void {
    this.queue.push(s);
  }

  logs(pod: Obj, container: string): string | undefined {
    const key = `${String(pod.metadata.namespace)}/${String(pod.metadata.name)}`;
    if (!this.jobPods.has(key)) return undefined;
    const known = [...((pod.spec?.containers ?? []) as Obj[]), ...((pod.spec?.initContainers ?? []) as Obj[])].some((c) => c.name === container);
    return known ? (this.logsByContainer.get(`${key}/${container}`) ?? '') : undefined;
  }

  tick(): void {
    const live = new Set<string>();
    for (const { obj: job } of this.store.list(this.jobsDef)) {
      const key = `${String(job.metadata.namespace)}/${String(job.metadata.name)}`;
      live.add(String(job.metadata.name));
      let run = this.runs.get(key);
      if (!run) {
        const script = this.queue.shift();
        run = { steps: [], step: 0, states: new Map(), over: false, ...(script ? { script } : {}) };
        this.runs.set(key, run);
      }
      if (!run.script || run.over) continue;
      if (!run.pod) this.startPod(job, run);
      else this.advance(job, run);
    }
    // Foreground or background, the pods go with their Job.
    for (const { obj: pod } of this.store.list(this.podsDef)) {
      const owner = pod.metadata?.labels?.['job-name'] as string | undefined;
      if (owner && !live.has(owner)) this.store.remove(this.podsDef, pod.metadata.namespace, pod.metadata.name);
    }
  }

  /** The node a pod template is pinned to (strict placement's affinity), else a stand-in. */
  private nodeOf(spec: Obj): string {
    const terms = (spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) as Obj[];
    const field = ((terms[0]?.matchFields ?? []) as Obj[]).find((f) => f.key === 'metadata.name' && f.operator === 'In');
    return terms.length === 1 && field?.values?.length === 1 ? String(field.values[0]) : 'training-node';
  }

  private startPod(job: Obj, run: Run): void {
    const tpl = clone((job.spec?.template ?? {}) as Obj);
    const spec = clone((tpl.spec ?? {}) as Obj);
    podSpec(spec);
    const name = `${String(job.metadata.name)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const inits = ((spec.initContainers ?? []) as Obj[]).map((c) => String(c.name));
    const mains = ((spec.containers ?? []) as Obj[]).map((c) => String(c.name));
    run.steps = [...inits.map((c) => [c]), mains];
    const pod: Obj = {
      metadata: {
        name,
        namespace: job.metadata.namespace,
        labels: { ...((tpl.metadata?.labels ?? {}) as Obj), 'job-name': job.metadata.name, 'batch.kubernetes.io/job-name': job.metadata.name },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...spec, nodeName: this.nodeOf(spec) },
      status: { phase: 'Pending' },
    };
    this.store.commit(this.podsDef, pod, []);
    run.pod = name;
    this.jobPods.add(`${String(job.metadata.namespace)}/${name}`);
    this.begin(job, run, 0);
    this.writeJob(job, { active: 1, startTime: timestamp() });
  }

  private logKey(job: Obj, run: Run, container: string): string {
    return `${String(job.metadata.namespace)}/${run.pod!}/${container}`;
  }

  private scriptedLog(run: Run, container: string): string {
    const s = run.script!;
    const logs = 'logs' in s ? s.logs : undefined;
    if (logs?.[container] !== undefined) return logs[container];
    return container === run.steps[run.steps.length - 1]?.[0] && 'log' in s ? (s.log ?? '') : '';
  }

  /** Starts step `i`: its containers run, or the scripted one waits forever. */
  private begin(job: Obj, run: Run, i: number): void {
    const script = run.script!;
    run.step = i;
    const waiting = script.outcome === 'waiting' ? (script.container ?? run.steps.flat()[0]) : undefined;
    for (const c of run.steps[i]!) {
      if (waiting !== undefined && run.steps[i]!.includes(waiting)) {
        const reason = c === waiting && script.outcome === 'waiting' ? script.reason : 'ContainerCreating';
        const message = c === waiting && script.outcome === 'waiting' ? script.message : undefined;
        run.states.set(c, { waiting: { reason, ...(message ? { message } : {}) } });
        run.over = true;
      } else {
        run.states.set(c, { running: { startedAt: timestamp() } });
        this.logsByContainer.set(this.logKey(job, run, c), '');
      }
    }
    this.writePod(job, run, run.over ? 'Pending' : i === run.steps.length - 1 ? 'Running' : 'Pending');
  }

  /** The running step ends: the next one starts, or the pod and the Job end. */
  private advance(job: Obj, run: Run): void {
    const script = run.script!;
    const failing = script.outcome === 'failed' ? (script.container ?? run.steps[run.steps.length - 1]![0]) : undefined;
    let failed = false;
    for (const c of run.steps[run.step]!) {
      const fails = script.outcome === 'failed' && c === failing;
      failed ||= fails;
      const exitCode = fails ? (script.exitCode ?? 1) : 0;
      const reason = fails ? (script.containerReason ?? 'Error') : 'Completed';
      const startedAt = (run.states.get(c)?.running?.startedAt as string | undefined) ?? timestamp();
      run.states.set(c, { terminated: { exitCode, reason, startedAt, finishedAt: timestamp() } });
      this.logsByContainer.set(this.logKey(job, run, c), this.scriptedLog(run, c));
    }
    if (!failed && run.step < run.steps.length - 1) {
      this.begin(job, run, run.step + 1);
      return;
    }
    run.over = true;
    this.writePod(job, run, failed ? 'Failed' : 'Succeeded');
    this.finish(job, failed);
  }

  private writePod(job: Obj, run: Run, phase: string): void {
    const ns = String(job.metadata.namespace);
    const entry = this.store.get(this.podsDef, ns, run.pod!);
    if (!entry) return;
    const pod = clone(entry.obj);
    const status = (c: Obj, init: boolean): Obj => {
      const state = run.states.get(String(c.name)) ?? { waiting: { reason: 'PodInitializing' } };
      const ready = init ? state.terminated?.exitCode === 0 : Boolean(state.running);
      return { name: c.name, image: c.image, ready, restartCount: 0, state: clone(state) };
    };
    const inits = (pod.spec.initContainers ?? []) as Obj[];
    pod.status = {
      ...(pod.status ?? {}),
      phase,
      ...(inits.length > 0 ? { initContainerStatuses: inits.map((c) => status(c, true)) } : {}),
      containerStatuses: ((pod.spec.containers ?? []) as Obj[]).map((c) => status(c, false)),
    };
    this.store.commit(this.podsDef, pod, entry.managers);
  }

  private finish(job: Obj, failed: boolean): void {
    const script = this.runs.get(`${String(job.metadata.namespace)}/${String(job.metadata.name)}`)!.script!;
    const ok = !failed;
    const now = timestamp();
    const conditions = ok
      ? [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: now,
            lastTransitionTime: now,
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: now,
            lastTransitionTime: now,
          },
        ]
      : [
          {
            type: 'Failed',
            status: 'True',
            reason: (script.outcome === 'failed' ? script.reason : undefined) ?? 'BackoffLimitExceeded',
            message:
              (script.outcome === 'failed' ? script.message : undefined) ??
              (script.outcome === 'failed' && script.reason === 'DeadlineExceeded'
                ? 'Job was active longer than specified deadline'
                : 'Job has reached the specified backoff limit'),
            lastProbeTime: now,
            lastTransitionTime: now,
          },
        ];
    this.writeJob(job, { ...(ok ? { succeeded: 1, completionTime: now } : { failed: 1 }), conditions });
  }

  private writeJob(job: Obj, status: Obj): void {
    const e = this.store.get(this.jobsDef, job.metadata.namespace, job.metadata.name)!;
    this.store.commit(this.jobsDef, { ...clone(e.obj), status: { ...(e.obj.status ?? {}), ...status } }, e.managers);
  }
}

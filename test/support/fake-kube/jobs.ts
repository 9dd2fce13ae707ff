// A scriptable Job controller (batch/v1): the test says how each Job created from now on ends
// (fake.scriptJob), the controller runs one pod for it over two ticks (Running, then terminated)
// and sets the Job's conditions, and the pod's log is the scripted text. Pods go with their Job.
import { randomBytes } from 'node:crypto';
import { podSpec } from './defaults.js';
import { byPlural } from './resources.js';
import type { Store } from './store.js';
import { clone, timestamp, type Obj } from './types.js';

export type JobScript =
  /** The container exits 0 and the Job completes. */
  | { outcome: 'succeeded'; log?: string }
  /** The container exits `exitCode` (reason e.g. `OOMKilled`) and the Job fails with `reason` (default BackoffLimitExceeded; DeadlineExceeded too). */
  | { outcome: 'failed'; log?: string; exitCode?: number; containerReason?: string; reason?: string; message?: string }
  /** The container never starts: waiting with `reason` (e.g. ErrImagePull) forever. */
  | { outcome: 'waiting'; reason: string; message?: string };

interface Run {
  script?: JobScript;
  stage: number;
  pod?: string;
}

export class JobController {
  private readonly queue: JobScript[] = [];
  private readonly runs = new Map<string, Run>();
  private readonly logsByPod = new Map<string, string>();
  private readonly jobsDef = byPlural('jobs');
  private readonly podsDef = byPlural('pods');

  constructor(private readonly store: Store) {}

  /** How the next Job created (without a script yet) ends. */
  script(s: JobScript): void {
    this.queue.push(s);
  }

  logs(pod: Obj, container: string): string | undefined {
    const text = this.logsByPod.get(`${String(pod.metadata.namespace)}/${String(pod.metadata.name)}`);
    const known = ((pod.spec?.containers ?? []) as Obj[]).some((c) => c.name === container);
    return text !== undefined && known ? text : undefined;
  }

  tick(): void {
    const live = new Set<string>();
    for (const { obj: job } of this.store.list(this.jobsDef)) {
      const key = `${String(job.metadata.namespace)}/${String(job.metadata.name)}`;
      live.add(String(job.metadata.name));
      let run = this.runs.get(key);
      if (!run) {
        const script = this.queue.shift();
        run = { stage: 0, ...(script ? { script } : {}) };
        this.runs.set(key, run);
      }
      if (!run.script || run.stage >= 2) continue;
      if (run.stage === 0) this.startPod(job, run);
      else this.finish(job, run);
      run.stage++;
    }
    // Foreground or background, the pods go with their Job.
    for (const { obj: pod } of this.store.list(this.podsDef)) {
      const owner = pod.metadata?.labels?.['job-name'] as string | undefined;
      if (owner && !live.has(owner)) this.store.remove(this.podsDef, pod.metadata.namespace, pod.metadata.name);
    }
  }

  private startPod(job: Obj, run: Run): void {
    const tpl = clone((job.spec?.template ?? {}) as Obj);
    const spec = clone((tpl.spec ?? {}) as Obj);
    podSpec(spec);
    const name = `${String(job.metadata.name)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const container = String(spec.containers?.[0]?.name ?? 'main');
    const script = run.script!;
    const state =
      script.outcome === 'waiting'
        ? { waiting: { reason: script.reason, ...(script.message ? { message: script.message } : {}) } }
        : { running: { startedAt: timestamp() } };
    const pod: Obj = {
      metadata: {
        name,
        namespace: job.metadata.namespace,
        labels: { ...((tpl.metadata?.labels ?? {}) as Obj), 'job-name': job.metadata.name, 'batch.kubernetes.io/job-name': job.metadata.name },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...spec, nodeName: 'training-node' },
      status: {
        phase: script.outcome === 'waiting' ? 'Pending' : 'Running',
        containerStatuses: [{ name: container, image: spec.containers?.[0]?.image, ready: script.outcome !== 'waiting', restartCount: 0, state }],
      },
    };
    this.store.commit(this.podsDef, pod, []);
    run.pod = name;
    if (script.outcome !== 'waiting') this.logsByPod.set(`${String(job.metadata.namespace)}/${name}`, '');
    this.writeJob(job, { active: 1, startTime: timestamp() });
  }

  private finish(job: Obj, run: Run): void {
    const script = run.script!;
    if (script.outcome === 'waiting') return;
    const ns = String(job.metadata.namespace);
    const entry = this.store.get(this.podsDef, ns, run.pod!);
    if (!entry) return;
    const ok = script.outcome === 'succeeded';
    const exitCode = ok ? 0 : (script.exitCode ?? 1);
    const pod = clone(entry.obj);
    pod.status.phase = ok ? 'Succeeded' : 'Failed';
    pod.status.containerStatuses[0].ready = false;
    pod.status.containerStatuses[0].state = {
      terminated: { exitCode, reason: ok ? 'Completed' : (script.containerReason ?? 'Error'), startedAt: timestamp(), finishedAt: timestamp() },
    };
    this.store.commit(this.podsDef, pod, entry.managers);
    this.logsByPod.set(`${ns}/${run.pod!}`, script.log ?? '');
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
            reason: script.reason ?? 'BackoffLimitExceeded',
            message:
              script.message ??
              (script.reason === 'DeadlineExceeded' ? 'Job was active longer than specified deadline' : 'Job has reached the specified backoff limit'),
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

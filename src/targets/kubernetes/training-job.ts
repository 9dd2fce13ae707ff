// Training as a Kubernetes Job: create the data ConfigMap and the Job (job-objects.ts), follow the
// Job by polling (the injected clock paces it) while streaming its pod's log, explain a failure
// the way rollouts are explained (image pull, OOMKilled, deadline, exit code with the log tail),
// recover the produced files from the pod log, and always delete the Job (foreground) and the
// ConfigMap at the end.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BatchV1Api, CoreV1Api, type CoreV1Event, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import { MaasError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import {
  TRAINING_LOG_TAIL,
  type KubeTrainingOptions,
  type TrainingIo,
  type TrainingJob,
  type TrainingOutcome,
  type TrainingRunner,
} from '../../domain/training.js';
import { formatTail, LogTail } from '../local/training-process.js';
import { withDeadline, API_CALL_TIMEOUT_MS } from './client-node-api.js';
import { kubeError } from './kube-errors.js';
import {
  buildTrainingConfigMap,
  buildTrainingJob,
  parseReturnedFiles,
  RETURNED_FILES_LIMIT,
  TRAINING_CONTAINER,
  trainingObjectName,
  type JobObject,
} from './job-objects.js';
import { explainRollout, type EventLike } from './rollout-explain.js';
import type { ConfigMapObject } from './types.js';

/** The calls a training run makes. Reads of one object answer undefined for 404. */
export interface TrainingKubeApi {
  readonly server: string;
  createConfigMap(obj: ConfigMapObject): Promise<void>;
  createJob(obj: JobObject): Promise<void>;
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** Pods of the Job (label `job-name`). */
  listJobPods(namespace: string, job: string): Promise<V1Pod[]>;
  listEvents(namespace: string, involvedName: string): Promise<CoreV1Event[]>;
  /** The whole log of the training container ('' when it has not started). */
  podLog(namespace: string, pod: string): Promise<string>;
  /** Deletes the Job with foreground propagation (its pods go first); absent is fine. */
  deleteJob(namespace: string, name: string): Promise<void>;
  deleteConfigMap(namespace: string, name: string): Promise<void>;
}

const statusOf = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** TrainingKubeApi over @kubernetes/client-node. */
export class ClientNodeTrainingApi implements TrainingKubeApi {
  readonly server: string;
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;

  constructor(
    kc: KubeConfig,
    private readonly contextName: string,
  ) {
    this.server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
  }

  /** One call with errors translated; `on404` is the answer for "not there" when that is not a failure. */
  private async call<T>(action: string, f: () => Promise<T>, on404?: { value: T }): Promise<T> {
    try {
      return await withDeadline(f(), API_CALL_TIMEOUT_MS, action, this.server);
    } catch (e) {
      if (!(e instanceof MaasError) && statusOf(e) === 404 && on404) return on404.value;
      throw e instanceof MaasError ? e : kubeError(e, { server: this.server, context: this.contextName, action });
    }
  }

  async createConfigMap(obj: ConfigMapObject): Promise<void> {
    await this.call(`create ConfigMap ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
      this.core.createNamespacedConfigMap({ namespace: obj.metadata.namespace, body: obj }),
    );
  }

  async createJob(obj: JobObject): Promise<void> {
    await this.call(`create Job ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
      this.batch.createNamespacedJob({ namespace: obj.metadata.namespace, body: obj }),
    );
  }

  readJob(namespace: string, name: string): Promise<V1Job | undefined> {
    return this.call<V1Job | undefined>(`read Job ${namespace}/${name}`, () => this.batch.readNamespacedJob({ namespace, name }), { value: undefined });
  }

  async listJobPods(namespace: string, job: string): Promise<V1Pod[]> {
    return (await this.call(`list the pods of Job ${namespace}/${job}`, () => this.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` })))
      .items;
  }

  async listEvents(namespace: string, involvedName: string): Promise<CoreV1Event[]> {
    const fieldSelector = `involvedObject.name=${involvedName}`;
    return (await this.call(`list events of ${namespace}/${involvedName}`, () => this.core.listNamespacedEvent({ namespace, fieldSelector }))).items;
  }

  podLog(namespace: string, pod: string): Promise<string> {
    return this.call(`read the log of pod ${namespace}/${pod}`, () => this.core.readNamespacedPodLog({ name: pod, namespace, container: TRAINING_CONTAINER }));
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    await this.call(`delete Job ${namespace}/${name}`, () => this.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Foreground' }), {
      value: undefined,
    });
  }

  async deleteConfigMap(namespace: string, name: string): Promise<void> {
    await this.call(`delete ConfigMap ${namespace}/${name}`, () => this.core.deleteNamespacedConfigMap({ namespace, name }), { value: undefined });
  }
}

export interface KubeTrainingRunnerOptions {
  /** The API and namespace for a run's options (kubeconfig, context, namespace). */
  connect(o: KubeTrainingOptions): Promise<{ api: TrainingKubeApi; namespace: string }>;
  clock: Clock;
  /** Unique part of object names (default random). */
  runId?: () => string;
  /** Longest pause between polls (default 5 s). */
  pollMaxMs?: number;
}

interface Observation {
  job?: V1Job;
  pod?: V1Pod;
  fatal?: { reason: string; hint?: string };
  aborted: boolean;
}

function condition(job: V1Job | undefined, type: string): { reason?: string; message?: string } | undefined {
  return job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** A Kubernetes Job runner for `TrainingJob`s with `target: 'kubernetes'`. */
export class KubeTrainingRunner implements TrainingRunner {
  constructor(private readonly o: KubeTrainingRunnerOptions) {}

  async train(job: TrainingJob, io: TrainingIo): Promise<TrainingOutcome> {
    const { clock } = this.o;
    const what = `training of ${job.description.metadata.name}@${job.version}`;
    const data = await readFile(job.dataFile, 'utf8');
    const { api, namespace } = await this.o.connect(job.kube ?? {});
    const runId = this.o.runId?.() ?? Math.random().toString(36).slice(2, 10);
    const name = trainingObjectName(job.description.metadata.name, job.version, runId);
    const input = {
      name,
      namespace,
      description: job.description,
      version: job.version,
      data,
      timeoutSeconds: job.timeoutMs / 1000,
      ...(job.kube?.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: job.kube.ttlSecondsAfterFinished } : {}),
      ...(job.kube?.imagePullPolicy ? { imagePullPolicy: job.kube.imagePullPolicy } : {}),
    };
    // Both built before anything is created: a missing image or oversized data creates nothing.
    const configMap = buildTrainingConfigMap(input);
    const jobObject = buildTrainingJob(input);
    if (io.signal?.aborted) throw new MaasError('INTERRUPTED', `${what} was interrupted before it started`);

    const tail = new LogTail(TRAINING_LOG_TAIL);
    let emitted = 0;
    const stream = (log: string) => {
      const { output } = parseReturnedFiles(log);
      for (const line of output.slice(emitted)) {
        tail.push(line);
        io.onOutput(line, 'stdout');
      }
      emitted = Math.max(emitted, output.length);
    };
    const started = clock.now();
    const seconds = () => Math.round((clock.now() - started) / 10) / 100;
    const where = `Job ${namespace}/${name}`;
    try {
      await api.createConfigMap(configMap);
      await api.createJob(jobObject);
      const observe = async (): Promise<Observation> => {
        const aborted = io.signal?.aborted ?? false;
        const current = await api.readJob(namespace, name);
        const pods = await api.listJobPods(namespace, name);
        const pod = pods[pods.length - 1];
        const running = pod?.status?.containerStatuses?.some((c) => c.state?.running || c.state?.terminated);
        if (pod?.metadata?.name && running) stream(await api.podLog(namespace, pod.metadata.name).catch(() => ''));
        let fatal: Observation['fatal'];
        if (pod?.metadata?.name && !condition(current, 'Complete') && !condition(current, 'Failed')) {
          const events = (await api.listEvents(namespace, pod.metadata.name)) as EventLike[];
          const ex = explainRollout({ deployment: { metadata: { name }, spec: { replicas: 1 }, status: {} }, pods: [pod], events });
          if (ex.fatal && (ex.category === 'ImagePull' || ex.category === 'ContainerConfig')) {
            fatal = { reason: ex.reason, ...(ex.hint ? { hint: ex.hint } : {}) };
          }
        }
        return { ...(current ? { job: current } : {}), ...(pod ? { pod } : {}), ...(fatal ? { fatal } : {}), aborted };
      };
      const { value: obs, timedOut } = await pollUntil(
        observe,
        (x) => x.aborted || x.fatal !== undefined || !x.job || condition(x.job, 'Complete') !== undefined || condition(x.job, 'Failed') !== undefined,
        // A little past activeDeadlineSeconds, so that the Job's own DeadlineExceeded is what reports it.
        { clock, deadline: started + job.timeoutMs + 30_000, initialMs: 500, maxMs: this.o.pollMaxMs ?? 5_000 },
      );
      const details = () => ({ job: where, seconds: seconds(), logTail: tail.get() });
      if (obs.aborted) throw new MaasError('INTERRUPTED', `${what} was interrupted; ${where} is deleted, nothing was registered`, { details: details() });
      if (!obs.job) throw new MaasError('FAILURE', `${where} disappeared while it ran (deleted by someone else?)`, { details: details() });
      if (obs.fatal)
        throw new MaasError('FAILURE', `${what} cannot run: ${obs.fatal.reason}`, { ...(obs.fatal.hint ? { hint: obs.fatal.hint } : {}), details: details() });
      const failed = condition(obs.job, 'Failed');
      if (timedOut || failed?.reason === 'DeadlineExceeded') {
        throw new MaasError(
          'TIMEOUT',
          `${what} did not finish within ${Math.round(job.timeoutMs / 1000)} s (${where}); last lines:\n${formatTail(tail.get())}`,
          {
            hint: 'raise the timeout, or train on less data',
            details: details(),
          },
        );
      }
      const terminated = obs.pod?.status?.containerStatuses?.find((c) => c.name === TRAINING_CONTAINER)?.state?.terminated;
      if (failed) {
        if (terminated?.reason === 'OOMKilled') {
          throw new MaasError('FAILURE', `${what} ran out of memory (OOMKilled, ${where}); last lines:\n${formatTail(tail.get())}`, {
            hint: 'raise spec.resources.training.memory (and register the description as a new version), or train on less data',
            details: { ...details(), exitCode: terminated.exitCode },
          });
        }
        const code = terminated?.exitCode;
        throw new MaasError(
          'FAILURE',
          `${what} failed (${where}: ${failed.reason ?? 'Failed'}${code !== undefined ? `, exit code ${code}` : ''}${failed.message ? `: ${failed.message}` : ''}); last ${tail.get().length} lines:\n${formatTail(tail.get())}`,
          {
            hint: 'fix the training program; run it locally with the same data to debug',
            details: { ...details(), ...(code !== undefined ? { exitCode: code } : {}) },
          },
        );
      }
      // Complete: the whole log holds the produced files.
      const podName = obs.pod?.metadata?.name;
      if (!podName) throw new MaasError('FAILURE', `${where} completed but its pod is gone, so its output cannot be read`);
      const log = await api.podLog(namespace, podName);
      stream(log);
      const returned = parseReturnedFiles(log);
      if (!returned.complete) {
        throw new MaasError('FAILURE', `${what} finished, but the produced files could not be read back from the pod log (it was cut off)`, {
          hint: `the produced files travel base64-encoded in the pod log and must total at most ${Math.floor(RETURNED_FILES_LIMIT / 1024 / 1024)} MiB; write less into $OUT (no copy of the data)`,
          details: details(),
        });
      }
      await mkdir(job.outDir, { recursive: true });
      for (const [file, bytes] of returned.files) {
        const safe = basename(file);
        if (!safe || safe === '.' || safe === '..') continue;
        await writeFile(join(job.outDir, safe), bytes);
      }
      return { exitCode: 0, seconds: seconds(), logTail: tail.get(), outDir: job.outDir };
    } finally {
      // Always: nothing of a run stays in the cluster (the TTL is the fallback if this fails).
      await api.deleteJob(namespace, name).catch(() => undefined);
      await api.deleteConfigMap(namespace, name).catch(() => undefined);
    }
  }
}

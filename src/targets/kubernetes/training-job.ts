// Training as a Kubernetes Job: create the data ConfigMap and the Job (job-objects.ts), follow the
// Job by polling (the injected clock paces it) while streaming its pod's log, explain a failure
// the way rollouts are explained (image pull, OOMKilled, deadline, exit code with the log tail),
// recover the produced files from the pod log, and always delete the Job (foreground) and the
// ConfigMap at the end.
//
// A strict deployment's retraining (`job.inCluster`) runs as one Job on the deployment's node
// (see retrain/in-cluster.ts): the runner reads the live Deployment (its image, model volumes and
// node), creates the labelled-rows token Secret its server then accepts, the data ConfigMap and
// the Job, streams the logs of the steps in order, reads the files and the step results from
// the `evaluate` log, and deletes the Secret, the Job and the ConfigMap at the end (without the
// Secret the server refuses labelled requests again).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type V1ContainerStatus,
  type V1Deployment,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import { MaasError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import {
  TRAINING_LOG_TAIL,
  type InClusterTraining,
  type KubeTrainingOptions,
  type TrainingIo,
  type TrainingJob,
  type TrainingOutcome,
  type TrainingRunner,
} from '../../domain/training.js';
import { parseStepResults, RESULT_MARKER, type StepResult } from '../../retrain/in-cluster.js';
import { formatTail, LogTail } from '../local/training-process.js';
import { withDeadline, API_CALL_TIMEOUT_MS } from './client-node-api.js';
import { kubeError } from './kube-errors.js';
import { readRuntime } from './kube-runtime.js';
import {
  ASSEMBLE_CONTAINER,
  buildInClusterTrainingJob,
  buildLabelledTokenSecret,
  buildTrainingConfigMap,
  buildTrainingJob,
  EVALUATE_CONTAINER,
  inClusterPlan,
  parseReturnedFiles,
  RETURNED_FILES_LIMIT,
  strictServerPod,
  TRAINING_CONTAINER,
  trainingObjectName,
  type JobObject,
  type SecretObject,
  type TrainingObjectsInput,
} from './job-objects.js';
import { LABEL, labelledSecretName } from './names.js';
import { DOWNLOAD_CONTAINER } from './objects.js';
import { explainRollout, type EventLike } from './rollout-explain.js';
import type { ConfigMapObject } from './types.js';

/** The calls a training run makes. Reads of one object answer undefined for 404. */
export interface TrainingKubeApi {
  readonly server: string;
  /** The live Deployment of a strict deployment (in-cluster retraining). */
  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
  /** Creates the Secret; one of that name left by a crashed run is deleted and created anew. */
  createOrReplaceSecret(obj: SecretObject): Promise<void>;
  /** Absent is fine. */
  deleteSecret(namespace: string, name: string): Promise<void>;
  createConfigMap(obj: ConfigMapObject): Promise<void>;
  createJob(obj: JobObject): Promise<void>;
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** Pods of the Job (label `job-name`). */
  listJobPods(namespace: string, job: string): Promise<V1Pod[]>;
  listEvents(namespace: string, involvedName: string): Promise<CoreV1Event[]>;
  /** The whole log of one container of the pod (init containers included). */
  podLog(namespace: string, pod: string, container: string): Promise<string>;
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
  private readonly apps: AppsV1Api;

  constructor(
    kc: KubeConfig,
    private readonly contextName: string,
  ) {
    this.server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
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

  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    return this.call<V1Deployment | undefined>(`read Deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ namespace, name }), {
      value: undefined,
    });
  }

  async createOrReplaceSecret(obj: SecretObject): Promise<void> {
    const { namespace, name } = obj.metadata;
    const action = `create Secret ${namespace}/${name}`;
    const create = () => this.core.createNamespacedSecret({ namespace, body: obj });
    try {
      await withDeadline(create(), API_CALL_TIMEOUT_MS, action, this.server);
      return;
    } catch (e) {
      if (e instanceof MaasError) throw e;
      if (statusOf(e) !== 409) throw kubeError(e, { server: this.server, context: this.contextName, action });
    }
    // Left by a run that could not clean up: its token must not stay valid, so replace it.
    await this.deleteSecret(namespace, name);
    await this.call(action, create);
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    await this.call(`delete Secret ${namespace}/${name}`, () => this.core.deleteNamespacedSecret({ namespace, name }), { value: undefined });
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

  podLog(namespace: string, pod: string, container: string): Promise<string> {
    return this.call(`read the log of container ${container} of pod ${namespace}/${pod}`, () =>
      this.core.readNamespacedPodLog({ name: pod, namespace, container }),
    );
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
  /** The labelled-rows token of an in-cluster run (default 32 random bytes, base64url). */
  newToken?: () => string;
}

/** A fresh labelled-rows token: 32 random bytes, base64url. */
export function newLabelledToken(): string {
  return randomBytes(32).toString('base64url');
}

interface Observation {
  job?: V1Job;
  pod?: V1Pod;
  fatal?: { reason: string; hint?: string };
  /** Why the pod does not start yet (not fatal by itself: unschedulable for now). */
  pending?: string;
  aborted: boolean;
}

/** How one run is carried out and explained. */
interface RunSpec {
  what: string;
  namespace: string;
  name: string;
  where: string;
  /** The containers in the order they run (init containers first); their logs stream in this order. */
  steps: string[];
  /** The container whose log carries the produced files. */
  filesFrom: string;
  /** The containers whose logs carry step results (`--- maas-result`). */
  resultsFrom: string[];
  /** What to do about a failure of a step, and about a step running out of memory. */
  hint(step: string | undefined): string;
  memoryHint(step: string | undefined): string;
  /** Creates the objects, in order. */
  create(): Promise<void>;
  /** Deletes every object of the run; absent objects are fine, errors are ignored. */
  cleanup(): Promise<void>;
}

function condition(job: V1Job | undefined, type: string): { reason?: string; message?: string } | undefined {
  return job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function statusesOf(pod: V1Pod | undefined): V1ContainerStatus[] {
  return [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
}

const TRAINING_HINT = 'fix the training program; run it locally with the same data to debug';
const TRAINING_MEMORY_HINT = 'raise spec.resources.training.memory (and register the description as a new version), or train on less data';

/** A Kubernetes Job runner for `TrainingJob`s with `target: 'kubernetes'`. */
export class KubeTrainingRunner implements TrainingRunner {
  constructor(private readonly o: KubeTrainingRunnerOptions) {}

  train(job: TrainingJob, io: TrainingIo): Promise<TrainingOutcome> {
    return job.inCluster ? this.trainInCluster(job, job.inCluster, io) : this.trainPlain(job, io);
  }

  private objectsInput(job: TrainingJob, name: string, namespace: string, data: string): TrainingObjectsInput {
    return {
      name,
      namespace,
      description: job.description,
      version: job.version,
      data,
      timeoutSeconds: job.timeoutMs / 1000,
      ...(job.kube?.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: job.kube.ttlSecondsAfterFinished } : {}),
      ...(job.kube?.imagePullPolicy ? { imagePullPolicy: job.kube.imagePullPolicy } : {}),
    };
  }

  private objectName(job: TrainingJob): string {
    const runId = this.o.runId?.() ?? Math.random().toString(36).slice(2, 10);
    return trainingObjectName(job.description.metadata.name, job.version, runId);
  }

  private async trainPlain(job: TrainingJob, io: TrainingIo): Promise<TrainingOutcome> {
    const what = `training of ${job.description.metadata.name}@${job.version}`;
    const data = await readFile(job.dataFile, 'utf8');
    const { api, namespace } = await this.o.connect(job.kube ?? {});
    const name = this.objectName(job);
    const input = this.objectsInput(job, name, namespace, data);
    // Both built before anything is created: a missing image or oversized data creates nothing.
    const configMap = buildTrainingConfigMap(input);
    const jobObject = buildTrainingJob(input);
    return this.run(api, job, io, {
      what,
      namespace,
      name,
      where: `Job ${namespace}/${name}`,
      steps: [TRAINING_CONTAINER],
      filesFrom: TRAINING_CONTAINER,
      resultsFrom: [],
      hint: () => TRAINING_HINT,
      memoryHint: () => TRAINING_MEMORY_HINT,
      create: async () => {
        await api.createConfigMap(configMap);
        await api.createJob(jobObject);
      },
      cleanup: async () => {
        await api.deleteJob(namespace, name).catch(() => undefined);
        await api.deleteConfigMap(namespace, name).catch(() => undefined);
      },
    });
  }

  private async trainInCluster(job: TrainingJob, ic: InClusterTraining, io: TrainingIo): Promise<TrainingOutcome> {
    const d = ic.deployment;
    const what = `training of ${job.description.metadata.name}@${job.version} on the node of deployment ${d.id}`;
    if (d.target !== 'kubernetes') {
      throw new MaasError('USAGE', `deployment ${d.id} runs on target ${d.target}: training on a deployment's node needs a kubernetes deployment`);
    }
    const rt = readRuntime(d.runtime);
    if (!rt.name) {
      throw new MaasError('CONFLICT', `the record of deployment ${d.id} names no Kubernetes objects, so its Deployment cannot be found`, {
        hint: `deploy ${d.model}@${d.version} again (--strict --node <node>), then retrain`,
      });
    }
    const objectName = rt.name;
    const data = await readFile(job.dataFile, 'utf8');
    // The deployment's cluster and namespace: the Secret its server reads must be in its namespace,
    // and so must the Job that mounts it. Explicit --kubeconfig / --context still win.
    const deploymentNamespace = d.namespace ?? rt.namespace;
    const kube: KubeTrainingOptions = {
      ...(rt.kubeconfig ? { kubeconfig: rt.kubeconfig } : {}),
      ...(rt.context ? { context: rt.context } : {}),
      ...Object.fromEntries(Object.entries(job.kube ?? {}).filter(([, v]) => v !== undefined)),
      ...(deploymentNamespace ? { namespace: deploymentNamespace } : {}),
    };
    const { api, namespace } = await this.o.connect(kube);
    const live = await api.readDeployment(namespace, objectName);
    if (!live) {
      throw new MaasError('NOT_FOUND', `the Deployment ${namespace}/${objectName} of deployment ${d.id} is not on the cluster ${api.server}`, {
        hint: `if it was decommissioned, deploy ${d.model}@${d.version} again (--strict --node <node>) and retrain; if it lives on another cluster, pass --context`,
      });
    }
    const secretName = labelledSecretName(objectName);
    const server = strictServerPod(live, { secretName, ...(d.node ? { node: d.node } : {}), what: `deployment ${d.id}` });
    const plan = inClusterPlan(ic.plan, server, { name: objectName, namespace });
    const name = this.objectName(job);
    const input = { ...this.objectsInput(job, name, namespace, data), server, plan, secretName };
    // All built before anything is created.
    const configMap = buildTrainingConfigMap(input);
    const jobObject = buildInClusterTrainingJob(input);
    const secret = buildLabelledTokenSecret({
      name: secretName,
      namespace,
      token: (this.o.newToken ?? newLabelledToken)(),
      labels: { ...jobObject.metadata.labels, [LABEL.component]: 'labelled-token' },
      annotations: { 'maas.dev/training-job': name },
    });
    const steps = [...(server.fetchArtifact ? [DOWNLOAD_CONTAINER] : []), ASSEMBLE_CONTAINER, TRAINING_CONTAINER, EVALUATE_CONTAINER];
    const serverMemory = `the retraining steps of maas run with the model server's resources: raise spec.resources.serving.memory and deploy ${d.model}@${d.version} again`;
    return this.run(api, job, io, {
      what,
      namespace,
      name,
      where: `Job ${namespace}/${name} on node ${server.node}`,
      steps,
      filesFrom: EVALUATE_CONTAINER,
      resultsFrom: [ASSEMBLE_CONTAINER, EVALUATE_CONTAINER],
      hint: (step) => {
        switch (step) {
          case DOWNLOAD_CONTAINER:
            return "the champion's artifact could not be downloaded on the node: check that its URI is reachable from the cluster and that its sha256 matches the registered digest";
          case ASSEMBLE_CONTAINER:
            return `the training set could not be assembled from the labelled rows of deployment ${d.id}; see the step's output (is it serving? \`maas status ${d.id}\`)`;
          case EVALUATE_CONTAINER:
            return "the champion and the challenger could not be compared on the held-out rows; see the step's output";
          default:
            return 'fix the training program (on the node, $DATA holds the base data joined by the labelled rows); run it locally on the base data to debug';
        }
      },
      memoryHint: (step) => (step === TRAINING_CONTAINER ? TRAINING_MEMORY_HINT : serverMemory),
      create: async () => {
        await api.createOrReplaceSecret(secret);
        await api.createConfigMap(configMap);
        await api.createJob(jobObject);
      },
      cleanup: async () => {
        // The Secret first: its absence closes the server to labelled requests again.
        await api.deleteSecret(namespace, secretName).catch(() => undefined);
        await api.deleteJob(namespace, name).catch(() => undefined);
        await api.deleteConfigMap(namespace, name).catch(() => undefined);
      },
    });
  }

  /** Creates the objects, follows the Job to its end, explains a failure, recovers the files; always cleans up. */
  private async run(api: TrainingKubeApi, job: TrainingJob, io: TrainingIo, r: RunSpec): Promise<TrainingOutcome> {
    const { clock } = this.o;
    const { what, namespace, name, where } = r;
    if (io.signal?.aborted) throw new MaasError('INTERRUPTED', `${what} was interrupted before it started`);

    const tail = new LogTail(TRAINING_LOG_TAIL);
    const logs = new Map<string, string>();
    const emitted = new Map<string, number>();
    const done = new Set<string>();
    /** Emits the lines of a container's log not emitted yet; an unfinished last line waits unless the container ended. */
    const emit = (container: string, log: string, final: boolean) => {
      logs.set(container, log);
      const returned = parseReturnedFiles(log);
      let lines = returned.output;
      if (!final && !log.endsWith('\n') && returned.files.size === 0 && !returned.complete) lines = lines.slice(0, -1);
      const shown = lines.filter((l) => !l.startsWith(RESULT_MARKER));
      const from = emitted.get(container) ?? 0;
      for (const line of shown.slice(from)) {
        tail.push(line);
        io.onOutput(line, 'stdout');
      }
      emitted.set(container, Math.max(from, shown.length));
    };
    /** Streams every container that runs or ran, in step order; a finished one is read a last time. */
    const stream = async (pod: V1Pod | undefined) => {
      const podName = pod?.metadata?.name;
      if (!podName) return;
      const statuses = statusesOf(pod);
      for (const step of r.steps) {
        if (done.has(step)) continue;
        const state = statuses.find((s) => s.name === step)?.state;
        if (!state?.running && !state?.terminated) continue;
        const log = await api.podLog(namespace, podName, step).catch(() => undefined);
        if (log === undefined) continue;
        emit(step, log, Boolean(state.terminated));
        if (state.terminated) done.add(step);
      }
    };
    const started = clock.now();
    const seconds = () => Math.round((clock.now() - started) / 10) / 100;
    try {
      await r.create();
      const observe = async (): Promise<Observation> => {
        const aborted = io.signal?.aborted ?? false;
        const current = await api.readJob(namespace, name);
        const pods = await api.listJobPods(namespace, name);
        const pod = pods[pods.length - 1];
        await stream(pod);
        let fatal: Observation['fatal'];
        let pending: string | undefined;
        if (pod?.metadata?.name && !condition(current, 'Complete') && !condition(current, 'Failed')) {
          const events = (await api.listEvents(namespace, pod.metadata.name)) as EventLike[];
          const ex = explainRollout({ deployment: { metadata: { name }, spec: { replicas: 1 }, status: {} }, pods: [pod], events });
          if (ex.fatal && (ex.category === 'ImagePull' || ex.category === 'ContainerConfig')) {
            fatal = { reason: ex.reason, ...(ex.hint ? { hint: ex.hint } : {}) };
          } else if (ex.category === 'Unschedulable') {
            pending = ex.reason;
          }
        }
        return { ...(current ? { job: current } : {}), ...(pod ? { pod } : {}), ...(fatal ? { fatal } : {}), ...(pending ? { pending } : {}), aborted };
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
          `${what} did not finish within ${Math.round(job.timeoutMs / 1000)} s (${where}${obs.pending ? `; ${obs.pending}` : ''}); last lines:\n${formatTail(tail.get())}`,
          {
            hint: 'raise the timeout, or train on less data',
            details: details(),
          },
        );
      }
      if (failed) {
        // The last lines of the step that failed, if the last poll did not read them yet.
        await stream(obs.pod);
        const statuses = statusesOf(obs.pod);
        const ofStep = (s: string) => statuses.find((c) => c.name === s);
        // The first step that exited non-zero (init containers run in order and stop the pod).
        const failing =
          r.steps.map(ofStep).find((c) => c?.state?.terminated && c.state.terminated.exitCode !== 0) ??
          (r.steps.length === 1 ? ofStep(r.steps[0]!) : undefined);
        const terminated = failing?.state?.terminated;
        const step = r.steps.length > 1 && failing ? ` in step "${failing.name}"` : '';
        if (terminated?.reason === 'OOMKilled') {
          throw new MaasError('FAILURE', `${what} ran out of memory${step} (OOMKilled, ${where}); last lines:\n${formatTail(tail.get())}`, {
            hint: r.memoryHint(failing?.name),
            details: { ...details(), exitCode: terminated.exitCode, ...(failing ? { step: failing.name } : {}) },
          });
        }
        const code = terminated?.exitCode;
        throw new MaasError(
          'FAILURE',
          `${what} failed${step} (${where}: ${failed.reason ?? 'Failed'}${code !== undefined ? `, exit code ${code}` : ''}${failed.message ? `: ${failed.message}` : ''}); last ${tail.get().length} lines:\n${formatTail(tail.get())}`,
          {
            hint: r.hint(failing?.name),
            details: { ...details(), ...(code !== undefined ? { exitCode: code } : {}), ...(r.steps.length > 1 && failing ? { step: failing.name } : {}) },
          },
        );
      }
      // Complete: the whole log of filesFrom holds the produced files.
      const podName = obs.pod?.metadata?.name;
      if (!podName) throw new MaasError('FAILURE', `${where} completed but its pod is gone, so its output cannot be read`);
      await stream(obs.pod);
      const log = done.has(r.filesFrom) ? logs.get(r.filesFrom)! : await api.podLog(namespace, podName, r.filesFrom);
      emit(r.filesFrom, log, true);
      const returned = parseReturnedFiles(log);
      if (!returned.complete) {
        throw new MaasError('FAILURE', `${what} finished, but the produced files could not be read back from the pod log (it was cut off)`, {
          hint: `the produced files travel base64-encoded in the pod log and must total at most ${Math.floor(RETURNED_FILES_LIMIT / 1024 / 1024)} MiB; write less into $OUT (no copy of the data)`,
          details: details(),
        });
      }
      let results: StepResult[] | undefined;
      if (r.resultsFrom.length > 0) {
        results = [];
        for (const c of r.resultsFrom) results.push(...parseStepResults(logs.get(c) ?? (await api.podLog(namespace, podName, c))));
      }
      await mkdir(job.outDir, { recursive: true });
      for (const [file, bytes] of returned.files) {
        const safe = basename(file);
        if (!safe || safe === '.' || safe === '..') continue;
        await writeFile(join(job.outDir, safe), bytes);
      }
      return { exitCode: 0, seconds: seconds(), logTail: tail.get(), outDir: job.outDir, ...(results ? { results } : {}) };
    } finally {
      // Always: nothing of a run stays in the cluster (the TTL is the fallback for the Job if this fails).
      await r.cleanup();
    }
  }
}

// Rollout, rollback and retrain as jobs of the control plane's queue: the request is checked and
// queued here (the server answers at once with the job), a worker carries it out. Payloads are
// plain JSON naming the deployment by its full ID; the runner resolves it again, so the record
// the worker sees is the one of now, not of when the job was queued. The use cases load when a
// job runs (every queue is built with these runners, most never run one).
import { isAbsolute, relative, resolve } from 'node:path';
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord, VersionChangeReason } from '../domain/deployment.js';
import type { JobProgress, JobRunner } from '../queue/port.js';
import type { DatasetReader } from '../registry/ports.js';
import { resolveFileUri, uriScheme } from '../spec/artifact-uri.js';
import { requireModelServer, resolveDeployment } from './lookup.js';
import type { RetrainRequest, RetrainResult } from './retrain.js';
import type { RolloutOutcome } from './rollout.js';
import type { Services } from './services.js';

export const ROLLOUT_JOB = 'rollout';
export const ROLLBACK_JOB = 'rollback';
export const RETRAIN_JOB = 'retrain';

export interface RolloutJob {
  deploymentId: string;
  /** As `maas rollout --to` takes it: NAME@VERSION, @VERSION or VERSION. */
  to: string;
  reason: VersionChangeReason;
  timeoutMs: number;
}

export interface RollbackJob {
  deploymentId: string;
  /** The version to go back to, fixed when the rollback was asked for (a rerun does not undo it). */
  version: string;
  timeoutMs: number;
}

/** A retrain on the deployment's labelled feedback (the only data a server trains on). */
export type RetrainJob = Pick<RetrainRequest, 'onDrift' | 'version' | 'target' | 'timeoutMs' | 'dryRun' | 'weighting' | 'holdout' | 'promote' | 'margin'> & {
  deploymentId: string;
};

/** What the server answers when it queued one of them. */
export interface QueuedLifecycleJob {
  job: string;
  /** The deployment as it was when the job was queued. */
  deployment: DeploymentRecord;
}

/** The model deployment a handle names, for a change of what it serves. */
async function modelDeployment(s: Services, handle: string, action: string): Promise<DeploymentRecord> {
  return requireModelServer(await resolveDeployment(s, handle), action);
}

export async function queueRollout(s: Services, req: Omit<RolloutJob, 'deploymentId'> & { deployment: string }): Promise<QueuedLifecycleJob> {
  const d = await modelDeployment(s, req.deployment, 'a rollout');
  const payload: RolloutJob = { deploymentId: d.id, to: req.to, reason: req.reason, timeoutMs: req.timeoutMs };
  return { job: (await s.queue.enqueue(ROLLOUT_JOB, payload)).id, deployment: d };
}

export async function queueRollback(s: Services, req: { deployment: string; timeoutMs: number }): Promise<QueuedLifecycleJob> {
  const d = await modelDeployment(s, req.deployment, 'a rollback');
  const { previousVersion } = await import('./rollout.js');
  const version = previousVersion(d);
  if (version === undefined) {
    throw new MaasError('NOT_FOUND', `deployment ${d.id} has only ever served ${d.model}@${d.version}; there is nothing to roll back to`, {
      hint: `\`maas rollout ${d.id} --to ${d.model}@VERSION\` switches it to another version`,
    });
  }
  const payload: RollbackJob = { deploymentId: d.id, version, timeoutMs: req.timeoutMs };
  return { job: (await s.queue.enqueue(ROLLBACK_JOB, payload)).id, deployment: d };
}

export async function queueRetrain(s: Services, req: Omit<RetrainJob, 'deploymentId'> & { deployment: string }): Promise<QueuedLifecycleJob> {
  const { deployment, ...rest } = req;
  const d = await modelDeployment(s, deployment, 'retraining');
  const payload: RetrainJob = { deploymentId: d.id, ...rest };
  // One attempt: a run that died after registering its challenger would register another one
  // (the next free version) if it ran again. A failed retrain is rerun by whoever asked for it.
  return { job: (await s.queue.enqueue(RETRAIN_JOB, payload, undefined, { maxAttempts: 1 })).id, deployment: d };
}

const isObject = (p: unknown): p is Record<string, unknown> => typeof p === 'object' && p !== null;

function payloadOf<T>(kind: string, p: unknown, ok: (x: Record<string, unknown>) => boolean): T {
  if (!isObject(p) || typeof p.deploymentId !== 'string' || typeof p.timeoutMs !== 'number' || !ok(p))
    throw new MaasError('INTERNAL', `a ${kind} job without a valid payload`);
  return p as T;
}

/** Lines of a training program's output kept in the job's log (the result has the last ones). */
const TRAINING_OUTPUT_LINES = 500;

/**
 * The services of a retrain on the server: data sets are read only inside the scratch
 * directories of this run (the assembled training set, what the program produced). A description
 * names its training data, and a description is a client's: the server reads no file it names.
 */
function confinedToWorkspace(s: Services): Services {
  const roots: string[] = [];
  const inside = (path: string): boolean =>
    roots.some((root) => {
      const r = relative(root, path);
      return r !== '' && !r.startsWith('..') && !isAbsolute(r);
    });
  const datasets: DatasetReader = {
    open(uri, options) {
      const path = uriScheme(uri) === undefined ? resolve(options.baseDir, uri) : resolveFileUri(uri, options.baseDir);
      if (path === undefined || !inside(path))
        return Promise.reject(
          new MaasError('FORBIDDEN', `the server reads no data named by a description (${uri})`, {
            hint: "retraining on a server trains on the deployment's labelled feedback only",
          }),
        );
      return s.datasets.open(uri, options);
    },
  };
  return {
    ...s,
    datasets,
    workspace: {
      async create(prefix) {
        const dir = await s.workspace.create(prefix);
        roots.push(resolve(dir.path));
        return dir;
      },
    },
  };
}

export function retrainRequestOf(p: RetrainJob, cwd: string): RetrainRequest {
  return {
    subject: p.deploymentId,
    data: [],
    feedback: true,
    descriptionData: false,
    onDrift: p.onDrift,
    ...(p.version !== undefined ? { version: p.version } : {}),
    target: p.target,
    timeoutMs: p.timeoutMs,
    dryRun: p.dryRun,
    weighting: p.weighting,
    ...(p.holdout !== undefined ? { holdout: p.holdout } : {}),
    promote: p.promote,
    ...(p.margin !== undefined ? { margin: p.margin } : {}),
    cwd,
  };
}

async function runRetrain(s: Services, payload: unknown, progress: JobProgress): Promise<RetrainResult> {
  const p = payloadOf<RetrainJob>(RETRAIN_JOB, payload, (x) => isObject(x.weighting) && typeof x.promote === 'string' && typeof x.target === 'string');
  const { retrain } = await import('./retrain.js');
  let lines = 0;
  // The training program runs from the worker's directory (relative commands resolve there).
  return retrain(confinedToWorkspace(s), retrainRequestOf(p, process.cwd()), progress, {
    onOutput: (line) => {
      lines++;
      if (lines <= TRAINING_OUTPUT_LINES) progress(`| ${line}`);
      else if (lines === TRAINING_OUTPUT_LINES + 1) progress('| (more training output; the result keeps its last lines)');
    },
  });
}

/** What the queue's workers do for rollouts, rollbacks and retrains. */
export function lifecycleJobRunners(s: Services): Record<string, JobRunner> {
  return {
    [ROLLOUT_JOB]: async (payload, progress): Promise<RolloutOutcome> => {
      const p = payloadOf<RolloutJob>(ROLLOUT_JOB, payload, (x) => typeof x.to === 'string' && typeof x.reason === 'string');
      const { rollout } = await import('./rollout.js');
      // Converges when run again: a deployment that already serves `to` is left as it is.
      return rollout(s, { deployment: p.deploymentId, to: p.to, reason: p.reason, timeoutMs: p.timeoutMs }, progress);
    },
    [ROLLBACK_JOB]: async (payload, progress): Promise<RolloutOutcome> => {
      const p = payloadOf<RollbackJob>(ROLLBACK_JOB, payload, (x) => typeof x.version === 'string');
      const { rollout } = await import('./rollout.js');
      return rollout(s, { deployment: p.deploymentId, to: `@${p.version}`, reason: 'rollback', timeoutMs: p.timeoutMs }, progress);
    },
    [RETRAIN_JOB]: (payload, progress) => runRetrain(s, payload, progress),
  };
}

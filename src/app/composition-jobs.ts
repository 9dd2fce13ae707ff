// Compositions as jobs of the control plane's queue: `compose-apply` brings a composition to the
// description a client sent, `compose-adapt` recomposes a running one. Payloads and results are
// plain JSON; the routes check what they can before queueing, the runners do the work to the end
// (members and router ready), as `maas compose apply` and `maas compose NAME --adapt` do locally.
// The use cases load when a job runs (every queue is built with these runners, most never run one).
import { isoNow } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { AssessmentMethod, StrategyName } from '../adapt/types.js';
import { DEFAULT_MAX_ATTEMPTS, type JobQueue, type JobRunner } from '../queue/port.js';
import type { TargetOptions } from '../targets/target.js';
import type { AdaptResult } from './compose-adapt.js';
import type { ComposeApplyResult } from './compose.js';
import type { Services } from './services.js';

export const COMPOSE_APPLY_JOB = 'compose-apply';
export const COMPOSE_ADAPT_JOB = 'compose-adapt';

/** The job's result is a ComposeApplyResult. */
export interface ComposeApplyJob {
  /** The description as the client sent it (YAML or JSON text), parsed again here to locate problems in it. */
  text: string;
  /** What problems call the text (the client's file name); only a label, nothing is read from it. */
  source: string;
  target: string;
  targetOptions?: TargetOptions;
  timeoutMs: number;
  /** Who asked (`token:NAME`): recorded in the composition's history; the first apply's is its owner. */
  by?: string;
}

/** The job's result is an AdaptResult. */
export interface ComposeAdaptJob {
  name: string;
  dryRun: boolean;
  strategy: StrategyName;
  seed: number;
  timeoutMs: number;
  by?: string;
}

/** POST /v1/compositions answers this (202): the composition the description names and its job. */
export interface ComposeApplyAccepted {
  composition: string;
  version: string;
  job: string;
}

/** POST /v1/compositions/{name}/adapt answers this (202); `members` bounds how long a client waits. */
export interface ComposeAdaptAccepted {
  composition: string;
  version: string;
  members: number;
  job: string;
}

/** What a client sends for POST /v1/compositions (the CLI: the file's text and its name). */
export interface RemoteComposeApplyRequest {
  description: string | Record<string, unknown>;
  source?: string;
  target?: string;
  targetOptions?: Record<string, string | boolean>;
  timeoutMs?: number;
}

export interface RemoteAssessRequest {
  method?: AssessmentMethod;
  seed?: number;
  timeoutMs?: number;
}

export interface RemoteAdaptRequest {
  dryRun?: boolean;
  strategy?: StrategyName;
  seed?: number;
  timeoutMs?: number;
}

/**
 * Retries. An apply converges when run again: members already deployed are joined (one slot, the
 * consumer recorded once), the recorded router is reused, and an unchanged description answers
 * `unchanged`; so transient failures and lost workers are retried (what a lost worker left
 * half launched is started again, see reviveInterrupted). An adaptation does not converge: a
 * re-run after a crash that already swapped members would assess the new composition and could
 * adapt it a second time, so it runs once (a dry run changes nothing and may be retried).
 */
export const COMPOSE_APPLY_MAX_ATTEMPTS = DEFAULT_MAX_ATTEMPTS;
export const composeAdaptMaxAttempts = (dryRun: boolean): number => (dryRun ? DEFAULT_MAX_ATTEMPTS : 1);

function isApplyJob(p: unknown): p is ComposeApplyJob {
  const x = p as Partial<ComposeApplyJob> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.text === 'string' &&
    typeof x.source === 'string' &&
    typeof x.target === 'string' &&
    typeof x.timeoutMs === 'number'
  );
}

function isAdaptJob(p: unknown): p is ComposeAdaptJob {
  const x = p as Partial<ComposeAdaptJob> | null;
  return typeof x === 'object' && x !== null && typeof x.name === 'string' && typeof x.strategy === 'string' && typeof x.timeoutMs === 'number';
}

/**
 * The services a composition job runs with: the launches of its members and router run inside
 * the job, on a queue of its own that runs them in this process (`launches`, from the composition
 * root), rather than as jobs of the shared queue. A job that waits for other jobs of its own queue
 * holds a worker slot while it waits; with every slot held by composition jobs (one worker, or two
 * applies at once on the default two) the launches they wait for would never be claimed.
 */
function launchingInline(s: Services, launches: (s: Services) => JobQueue): Services {
  const inner: Services = { ...s };
  inner.queue = launches(inner);
  return inner;
}

/**
 * Before a re-run: a deployment only this composition holds that is still queued (or deploying
 * with nothing started) had its launch in the attempt that died, since those launches run inside
 * the job. Recorded as failed, the re-apply starts it again instead of waiting for it forever or
 * calling the composition unchanged.
 */
async function reviveInterrupted(s: Services, consumer: string, progress: (m: string) => void): Promise<void> {
  for (const d of await s.deployments.listDeployments()) {
    if (d.consumers.length !== 1 || d.consumers[0] !== consumer) continue;
    if (d.state !== 'queued' && !(d.state === 'deploying' && Object.keys(d.runtime).length === 0)) continue;
    await s.deployments.setDeploymentState(d.id, 'failed', isoNow(s.clock), { reason: 'its launch was interrupted' });
    progress(`${d.id} (${d.model}@${d.version}) was left ${d.state} by the interrupted attempt; starting it again`);
  }
}

/**
 * The runners of the composition jobs, over the services of the worker; `launches` makes the
 * in-process queue a job's deploy launches run on (given the services they run with).
 */
export function compositionJobRunners(services: Services, launches: (s: Services) => JobQueue): Record<string, JobRunner> {
  return {
    [COMPOSE_APPLY_JOB]: async (payload, progress, job): Promise<ComposeApplyResult> => {
      if (!isApplyJob(payload)) throw new MaasError('INTERNAL', 'a compose-apply job without a description');
      const [{ parseCompositionText }, { composeApply, compositionConsumer }] = await Promise.all([
        import('../spec/composition-text.js'),
        import('./compose.js'),
      ]);
      const { description, locate } = parseCompositionText(payload.text, payload.source);
      const s = launchingInline(services, launches);
      if (job.attempt > 1) await reviveInterrupted(s, compositionConsumer(description.metadata.name), progress);
      return composeApply(
        s,
        {
          description,
          locate,
          target: payload.target,
          ...(payload.targetOptions ? { targetOptions: payload.targetOptions } : {}),
          async: false,
          timeoutMs: payload.timeoutMs,
          ...(payload.by !== undefined ? { by: payload.by } : {}),
        },
        progress,
      );
    },
    [COMPOSE_ADAPT_JOB]: async (payload, progress): Promise<AdaptResult> => {
      if (!isAdaptJob(payload)) throw new MaasError('INTERNAL', 'a compose-adapt job without a composition');
      const { adaptComposition } = await import('./compose-adapt.js');
      return adaptComposition(
        launchingInline(services, launches),
        {
          name: payload.name,
          dryRun: payload.dryRun,
          strategy: payload.strategy,
          timeoutMs: payload.timeoutMs,
          seed: payload.seed,
          ...(payload.by !== undefined ? { by: payload.by } : {}),
        },
        progress,
      );
    },
  };
}

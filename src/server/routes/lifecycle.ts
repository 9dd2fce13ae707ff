// A deployment's life after deploy: rollout, rollback and retrain (queued jobs: the ID comes back
// at once, GET /v1/jobs/{id} follows them), its version history, and the comparison of two
// versions on labelled rows. A retrain on the server trains on the deployment's labelled
// feedback only: the server reads no data files named by a client.
import { Type } from '@sinclair/typebox';
import { compareVersions, type CompareSource } from '../../app/compare.js';
import type { RemoteCompareRequest } from '../../app/control-plane-api.js';
import { resolveSince } from '../../app/feedback-export.js';
import { queueRetrain, queueRollback, queueRollout, type RetrainJob } from '../../app/lifecycle-jobs.js';
import { deploymentHistory } from '../../app/rollout.js';
import type { Services } from '../../app/services.js';
import { grants } from '../../auth/scopes.js';
import { MaasError } from '../../core/errors.js';
import { VERSION_CHANGE_REASONS, type VersionChangeReason } from '../../domain/deployment.js';
import type { ServerDeps } from '../deps.js';
import type { Route, RouteRequest } from '../route.js';
import { DeploymentId, ModelVersion, Result, Strict, TimeoutMs } from '../schemas.js';
import { ownedQueue } from '../services-for.js';

const Id = Strict({ id: DeploymentId });

const ROLLOUT_TIMEOUT_MS = 120_000;
const RETRAIN_TIMEOUT_MS = 30 * 60_000;

const Queued = Result('{job, deployment}: the queued job (GET /v1/jobs/{job}) and the deployment as it is now');

/**
 * The services of a request that queues a job: the token owns the job, and its Idempotency-Key
 * (already checked by the server) keys the job too, so a retry after a lost answer joins it.
 */
function jobServices(deps: ServerDeps, req: RouteRequest): Services {
  const key = req.headers['idempotency-key'];
  return { ...deps.services, queue: ownedQueue(deps.queue, req.principal.name, typeof key === 'string' ? key : undefined) };
}

const ModelRef = Type.String({
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?@[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'A registered version, NAME@VERSION.',
});

const CELL_CHARS = 4096;
/** One cell of a labelled row: a feature value or the truth. Checked by `checkCells`: a union here would be coerced (null to ""). */
const Cell = Type.Unknown({ description: `A string (up to ${CELL_CHARS} characters), number, boolean, or null for a missing value.` });

function checkCells(rows: readonly (readonly unknown[])[]): void {
  for (let i = 0; i < rows.length; i++)
    for (let j = 0; j < rows[i]!.length; j++) {
      const v = rows[i]![j];
      if (v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= CELL_CHARS)) continue;
      throw new MaasError('VALIDATION', `body/rows/rows/${i}/${j} must be a string (up to ${CELL_CHARS} characters), a number, a boolean or null`);
    }
}

export const lifecycleRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/deployments/:id/rollout',
    operationId: 'rollout',
    summary: 'Switches a deployment to another version of its model without dropping requests; answers at once with the queued job.',
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.rollout',
    idempotent: true,
    params: Id,
    body: Strict({
      to: Type.String({ pattern: '^[A-Za-z0-9@._-]{1,200}$', description: 'NAME@VERSION, @VERSION or VERSION.' }),
      reason: Type.Optional(Type.String({ enum: [...VERSION_CHANGE_REASONS] })),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 202: { description: 'queued: the job (kind rollout) ends with the RolloutOutcome', schema: Queued } },
    async handler(req, deps) {
      const b = req.body as { to: string; reason?: VersionChangeReason; timeoutMs?: number };
      const queued = await queueRollout(jobServices(deps, req), {
        deployment: req.params.id!,
        to: b.to,
        reason: b.reason ?? 'manual',
        timeoutMs: b.timeoutMs ?? ROLLOUT_TIMEOUT_MS,
      });
      return { status: 202, body: queued };
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/rollback',
    operationId: 'rollback',
    summary: 'Switches a deployment back to the version it served before; answers at once with the queued job.',
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.rollback',
    idempotent: true,
    params: Id,
    body: Strict({ timeoutMs: Type.Optional(TimeoutMs) }),
    responses: { 202: { description: 'queued: the job (kind rollback) ends with the RolloutOutcome', schema: Queued } },
    async handler(req, deps) {
      const b = (req.body ?? {}) as { timeoutMs?: number };
      return { status: 202, body: await queueRollback(jobServices(deps, req), { deployment: req.params.id!, timeoutMs: b.timeoutMs ?? ROLLOUT_TIMEOUT_MS }) };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments/:id/history',
    operationId: 'deploymentHistory',
    summary: 'The versions a deployment served over time: when, why, and on what evidence.',
    tag: 'deployments',
    scope: 'read',
    params: Id,
    responses: { 200: { description: 'the history, oldest first', schema: Result('DeploymentHistory: deployment, model, version, entries') } },
    async handler(req, deps) {
      return { body: await deploymentHistory(deps.services, req.params.id!) };
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/retrain',
    operationId: 'retrain',
    summary:
      "Trains a new version on the deployment's labelled feedback (the server reads no data files named by a client: `data` is refused), compares it with the serving one and rolls it out when it is better; a queued job. Training on the server's own machine (target local) needs admin.",
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.retrain',
    idempotent: true,
    params: Id,
    body: Strict({
      onDrift: Type.Optional(Type.Boolean({ description: 'Check drift first; retrain only when there is some.' })),
      version: Type.Optional(ModelVersion),
      weighting: Type.Optional(
        Strict({
          mode: Type.Optional(Type.String({ enum: ['auto', 'all', 'weighted', 'feedback-only'] })),
          feedbackWeight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          since: Type.Optional(Type.String({ maxLength: 64, description: 'Only feedback since this ISO time or duration back (24h, 7d).' })),
        }),
      ),
      holdout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
      promote: Type.Optional(Type.String({ enum: ['auto', 'never', 'always'] })),
      margin: Type.Optional(Type.Number({ minimum: 0 })),
      dryRun: Type.Optional(Type.Boolean({ description: 'Assemble the training set and plan; train nothing (still a job: it reads the feedback).' })),
      target: Type.Optional(Type.String({ enum: ['local', 'kubernetes'] })),
      timeoutMs: Type.Optional(TimeoutMs),
      data: Type.Optional(Type.Unknown({ description: 'Refused: the server reads no data files named by a client.' })),
    }),
    responses: { 202: { description: 'queued: the job (kind retrain) ends with the RetrainResult', schema: Queued } },
    async handler(req, deps) {
      const b = req.body as {
        onDrift?: boolean;
        version?: string;
        weighting?: { mode?: RetrainJob['weighting']['mode']; feedbackWeight?: number; since?: string };
        holdout?: number;
        promote?: RetrainJob['promote'];
        margin?: number;
        dryRun?: boolean;
        target?: RetrainJob['target'];
        timeoutMs?: number;
        data?: unknown;
      };
      if (b.data !== undefined)
        throw new MaasError('USAGE', 'the server reads no data files named by a client: a retrain here trains on the labelled feedback of the deployment', {
          hint: 'leave out data (send ground truth with POST /v1/deployments/{id}/feedback), or retrain on your own machine with the file',
        });
      const target = b.target ?? 'local';
      const dryRun = b.dryRun === true;
      // The model's training program runs as a process of the worker: code on the server's machine.
      if (target === 'local' && !dryRun && !grants(req.principal.scopes, 'admin'))
        throw new MaasError(
          'FORBIDDEN',
          `training on the server's own machine (target local) needs a token with the admin scope; "${req.principal.name}" has ${req.principal.scopes.join(', ')}`,
          {
            hint: 'use target kubernetes (a Job in the cluster), or ask an admin',
          },
        );
      const w = b.weighting ?? {};
      const since = w.since === undefined ? undefined : resolveSince(w.since, deps.services.clock.now());
      const queued = await queueRetrain(jobServices(deps, req), {
        deployment: req.params.id!,
        onDrift: b.onDrift === true,
        ...(b.version !== undefined ? { version: b.version } : {}),
        target,
        timeoutMs: b.timeoutMs ?? RETRAIN_TIMEOUT_MS,
        dryRun,
        weighting: {
          mode: w.mode ?? 'auto',
          ...(w.feedbackWeight !== undefined ? { feedbackWeight: w.feedbackWeight } : {}),
          ...(since !== undefined ? { since } : {}),
        },
        ...(b.holdout !== undefined ? { holdout: b.holdout } : {}),
        promote: b.promote ?? 'auto',
        ...(b.margin !== undefined ? { margin: b.margin } : {}),
      });
      return { status: 202, body: queued };
    },
  },
  {
    method: 'POST',
    path: '/v1/compare',
    operationId: 'compare',
    summary:
      "Evaluates two registered versions (A the champion, B the challenger) on the same labelled rows: a deployment's labelled feedback, or rows sent in the body; metrics, a paired test and whether B is better.",
    tag: 'models',
    scope: 'read',
    body: Strict({
      a: ModelRef,
      b: ModelRef,
      deployment: Type.Optional(DeploymentId),
      since: Type.Optional(Type.String({ maxLength: 64, description: 'With deployment: only predictions since this ISO time or duration back.' })),
      rows: Type.Optional(
        Strict(
          {
            features: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 1000 }),
            target: Type.String({ minLength: 1, maxLength: 256 }),
            rows: Type.Array(Type.Array(Cell, { maxItems: 1001 }), { minItems: 1, maxItems: 100_000 }),
          },
          'Labelled rows: the feature values in `features` order, then the truth.',
        ),
      ),
      margin: Type.Optional(Type.Number({ minimum: 0 })),
      alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
      seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 200: { description: 'the comparison', schema: Result('Comparison: a, b, primary, test, verdict, rows, reason, source, target') } },
    async handler(req, deps) {
      const b = req.body as RemoteCompareRequest;
      if ((b.deployment === undefined) === (b.rows === undefined))
        throw new MaasError('USAGE', 'send either deployment or rows', { hint: '{"a": "m@1", "b": "m@2", "deployment": "d-..."}' });
      if (b.since !== undefined && b.deployment === undefined) throw new MaasError('USAGE', 'since applies to deployment');
      if (b.rows) checkCells(b.rows.rows);
      // Synchronous: read-only, bounded by the body limit or the upstream timeout, and cheap to repeat.
      const rows: CompareSource =
        b.deployment !== undefined
          ? {
              kind: 'deployment',
              deployment: b.deployment,
              timeoutMs: Math.min(b.timeoutMs ?? deps.limits.upstreamTimeoutMs, deps.limits.upstreamTimeoutMs),
              ...(b.since !== undefined ? { since: b.since } : {}),
            }
          : { kind: 'rows', what: 'the rows of the request', ...b.rows! };
      return {
        body: await compareVersions(deps.services, {
          a: b.a,
          b: b.b,
          rows,
          ...(b.margin !== undefined ? { margin: b.margin } : {}),
          ...(b.alpha !== undefined ? { alpha: b.alpha } : {}),
          ...(b.seed !== undefined ? { seed: b.seed } : {}),
        }),
      };
    },
  },
];

// Deployments: deploy (a queued job; the ID comes back at once), list, status, predict and
// feedback (proxied to the model server), drift, decommission. The consumer a deployment is held
// for comes from the token, so one token can never release another's hold.
import { Type } from '@sinclair/typebox';
import { decommission } from '../../app/decommission.js';
import { deploy } from '../../app/deploy.js';
import { checkDrift } from '../../app/drift.js';
import { sendFeedback } from '../../app/feedback.js';
import { predict } from '../../app/predict.js';
import { grants } from '../../auth/scopes.js';
import type { Principal } from '../../app/tokens.js';
import { MaasError } from '../../core/errors.js';
import type { PlacementMode } from '../../domain/deployment.js';
import type { FeedbackItem } from '../../protocol/feedback.js';
import type { DataFormat } from '../../protocol/formats.js';
import { deploymentStatusReply, deploymentsView } from '../cached-reads.js';
import type { Route } from '../route.js';
import { DeploymentId, ModelName, ModelVersion, Result, Strict, TimeoutMs } from '../schemas.js';
import { servicesFor } from '../services-for.js';

/** The consumer recorded for a token: its name, optionally with a sub-name it chose. */
export function consumerOf(p: Principal, sub?: string): string {
  return sub === undefined || sub === '' ? `token:${p.name}` : `token:${p.name}/${sub}`;
}

const Consumer = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,127}$',
  description: 'A name under the token, e.g. a pipeline (recorded as token:NAME/SUB).',
});

const Id = Strict({ id: DeploymentId });

export const deploymentRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/deployments',
    operationId: 'deploy',
    summary: 'Deploys a model version; answers at once with the deployment ID and the queued job.',
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.create',
    idempotent: true,
    body: Strict({
      model: ModelName,
      version: Type.Optional(ModelVersion),
      target: Type.Optional(Type.String({ enum: ['local', 'kubernetes'] })),
      mode: Type.Optional(Type.String({ enum: ['open', 'strict'] })),
      node: Type.Optional(Type.String({ maxLength: 253 })),
      consumer: Type.Optional(Consumer),
      targetOptions: Type.Optional(
        Type.Record(Type.String({ pattern: '^[a-z][a-zA-Z0-9-]{0,63}$' }), Type.Union([Type.String({ maxLength: 1024 }), Type.Boolean()]), {
          maxProperties: 16,
        }),
      ),
    }),
    responses: { 202: { description: 'recorded and queued (or joined / reused)', schema: Result('DeployResult: deployment, outcome, job') } },
    async handler(req, deps) {
      const b = req.body as {
        model: string;
        version?: string;
        target?: string;
        mode?: PlacementMode;
        node?: string;
        consumer?: string;
        targetOptions?: Record<string, string>;
      };
      const result = await deploy(
        servicesFor(deps, req.principal),
        {
          model: b.model,
          ...(b.version !== undefined ? { version: b.version } : {}),
          target: b.target ?? 'local',
          mode: b.mode ?? (b.node !== undefined ? 'strict' : 'open'),
          ...(b.node !== undefined ? { node: b.node } : {}),
          ...(b.targetOptions ? { targetOptions: b.targetOptions } : {}),
          consumer: consumerOf(req.principal, b.consumer),
          wait: false,
          timeoutMs: deps.limits.upstreamTimeoutMs,
        },
        () => {},
      );
      return { status: 202, body: result };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments',
    operationId: 'listDeployments',
    summary: "Deployments with their observed state (observations up to the server's --status-max-age old, each with observedAt).",
    tag: 'deployments',
    scope: 'read',
    query: Strict({ model: Type.Optional(ModelName) }),
    responses: { 200: { description: 'deployments', schema: Type.Object({ deployments: Type.Array(Result('DeploymentRecord')) }) } },
    async handler(req, deps) {
      const model = req.query.model as string | undefined;
      return { body: { deployments: await deploymentsView(deps, model !== undefined ? { model } : {}) } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments/:id',
    operationId: 'deploymentStatus',
    summary: "One deployment as its target was observed at most the server's --status-max-age ago (observedAt says when).",
    tag: 'deployments',
    scope: 'read',
    params: Id,
    responses: { 200: { description: 'the deployment', schema: Result('DeploymentRecord') } },
    async handler(req, deps) {
      return deploymentStatusReply(deps, req.params.id!);
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/predict',
    operationId: 'predict',
    summary: 'Predictions for rows (JSON rows, or CSV / NDJSON / JSON text), through the model server.',
    tag: 'deployments',
    scope: 'read',
    params: Id,
    body: Strict({
      rows: Type.Optional(Type.Array(Type.Record(Type.String({ maxLength: 256 }), Type.Unknown()), { maxItems: 100_000 })),
      text: Type.Optional(Type.String({ maxLength: 4_000_000 })),
      format: Type.Optional(Type.String({ enum: ['csv', 'json', 'ndjson'] })),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 200: { description: 'predictions', schema: Result('PredictResult: response (OIP), rows, requests, ignoredColumns') } },
    async handler(req, deps) {
      const b = req.body as { rows?: unknown[]; text?: string; format?: DataFormat; timeoutMs?: number };
      if ((b.rows === undefined) === (b.text === undefined)) throw new MaasError('USAGE', 'send either rows or text', { hint: '{"rows": [{"feature": 1.0}]}' });
      const input =
        b.rows !== undefined
          ? { kind: 'text' as const, text: JSON.stringify(b.rows), format: 'json' as const }
          : { kind: 'text' as const, text: b.text!, ...(b.format ? { format: b.format } : {}) };
      const result = await predict(deps.services, {
        deployment: req.params.id!,
        input,
        requestId: req.requestId,
        timeoutMs: Math.min(b.timeoutMs ?? deps.limits.upstreamTimeoutMs, deps.limits.upstreamTimeoutMs),
      });
      return { body: result };
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/feedback',
    operationId: 'feedback',
    summary: 'Ground truth for earlier predictions, by prediction ID.',
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.feedback',
    params: Id,
    body: Strict({
      items: Type.Array(
        Type.Union([
          Strict({ id: Type.String({ minLength: 1, maxLength: 200 }), label: Type.String({ maxLength: 256 }) }),
          Strict({ id: Type.String({ minLength: 1, maxLength: 200 }), value: Type.Number() }),
        ]),
        { minItems: 1, maxItems: 100_000 },
      ),
    }),
    responses: { 200: { description: 'per item: applied, unchanged or rejected', schema: Result('FeedbackReport') } },
    async handler(req, deps) {
      const b = req.body as { items: FeedbackItem[] };
      return { body: await sendFeedback(deps.services, { deployment: req.params.id!, items: b.items, timeoutMs: deps.limits.upstreamTimeoutMs }) };
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/drift',
    operationId: 'driftCheck',
    summary: 'Data and concept drift of a deployment: its served inputs against the reference profile.',
    tag: 'deployments',
    scope: 'read',
    params: Id,
    body: Strict({
      test: Type.Optional(Type.String({ maxLength: 32 })),
      threshold: Type.Optional(Type.Number()),
      datasetShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    }),
    responses: { 200: { description: 'drift report', schema: Result('DriftReport') } },
    async handler(req, deps) {
      const b = (req.body ?? {}) as { test?: string; threshold?: number; datasetShare?: number };
      const flags = {
        ...(b.test !== undefined ? { test: b.test } : {}),
        ...(b.threshold !== undefined ? { threshold: b.threshold } : {}),
        ...(b.datasetShare !== undefined ? { datasetShare: b.datasetShare } : {}),
      };
      // Only the deployment form: the server reads no data files named by a client.
      const report = await checkDrift(deps.services, {
        subject: { kind: 'deployment', id: req.params.id! },
        ...(Object.keys(flags).length > 0 ? { flags: flags as never } : {}),
        timeoutMs: deps.limits.upstreamTimeoutMs,
        cwd: '/',
      });
      return { body: report };
    },
  },
  {
    method: 'POST',
    path: '/v1/deployments/:id/decommission',
    operationId: 'decommission',
    summary: "Releases the token's hold; the last consumer scales it to zero (cached). Purge and force need admin.",
    tag: 'deployments',
    scope: 'deploy',
    audit: 'deployment.decommission',
    params: Id,
    body: Strict({
      consumer: Type.Optional(Consumer),
      purge: Type.Optional(Type.Boolean()),
      force: Type.Optional(Type.Boolean()),
      ignoreNotFound: Type.Optional(Type.Boolean()),
    }),
    responses: { 200: { description: 'what happened', schema: Result('DecommissionResult') } },
    async handler(req, deps) {
      const b = (req.body ?? {}) as { consumer?: string; purge?: boolean; force?: boolean; ignoreNotFound?: boolean };
      const admin = grants(req.principal.scopes, 'admin');
      if ((b.purge === true || b.force === true) && !admin)
        throw new MaasError(
          'FORBIDDEN',
          `${b.purge ? 'purge' : 'force'} needs a token with the admin scope; "${req.principal.name}" has ${req.principal.scopes.join(', ')}`,
          {
            hint: 'release your own hold without it; an admin purges',
          },
        );
      return {
        body: await decommission(deps.services, {
          id: req.params.id!,
          consumer: consumerOf(req.principal, b.consumer),
          purge: b.purge === true,
          force: b.force === true,
          ...(b.ignoreNotFound === true ? { ignoreNotFound: true } : {}),
        }),
      };
    },
  },
];

// Compositions: apply a description (a queued job; what can be checked is checked before it is
// queued, with the problems the CLI reports), list, status, describe, history, assess, adapt (a
// queued job) and delete. The description comes as text or an object; it names registered
// models and deployments only, so nothing a client names is read from the server's disk.
import { Type } from '@sinclair/typebox';
import { STRATEGY_NAMES } from '../../adapt/strategies.js';
import type { AssessmentMethod, StrategyName } from '../../adapt/types.js';
import { assessComposition, compositionHistory } from '../../app/compose-adapt.js';
import { composeDelete, compositionStatus, listCompositions, requireComposition } from '../../app/compose-status.js';
import { checkComposition } from '../../app/compose.js';
import {
  COMPOSE_ADAPT_JOB,
  COMPOSE_APPLY_JOB,
  COMPOSE_APPLY_MAX_ATTEMPTS,
  composeAdaptMaxAttempts,
  type ComposeAdaptAccepted,
  type ComposeAdaptJob,
  type ComposeApplyAccepted,
  type ComposeApplyJob,
} from '../../app/composition-jobs.js';
import { checkTargetRequest } from '../../app/deploy.js';
import type { Principal } from '../../app/tokens.js';
import { grants } from '../../auth/scopes.js';
import { MaasError } from '../../core/errors.js';
import { compositionOwner, type CompositionRecord } from '../../domain/composition.js';
import { parseCompositionText } from '../../spec/composition-text.js';
import type { TargetOptions } from '../../targets/target.js';
import type { Route, RouteRequest } from '../route.js';
import { Result, Strict, TimeoutMs } from '../schemas.js';
import { ownedQueue } from '../services-for.js';
import { consumerOf } from './deployments.js';

/** The CLI's defaults: `compose apply --timeout`, `compose status|history --timeout`, `compose assess --timeout`. */
const APPLY_TIMEOUT_MS = 180_000;
const STATUS_TIMEOUT_MS = 10_000;
const ASSESS_TIMEOUT_MS = 30_000;

// Looser than a composition name, so that a name that cannot exist is NOT_FOUND, as in the CLI.
const Name = Strict({ name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: 'Composition name.' }) });
const Seed = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Seed of the randomised steps.' });

const idempotencyKey = (req: RouteRequest): string | undefined => {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' ? key : undefined;
};

/**
 * A composition created through the server belongs to the token that created it: another token
 * may read it but not change, adapt or delete it (an admin may). One created locally on the
 * server's home has no owner and stays open to every deploy token.
 */
function requireOwner(record: CompositionRecord, principal: Principal, doing: string): void {
  const owner = compositionOwner(record);
  if (owner === undefined || owner === consumerOf(principal) || grants(principal.scopes, 'admin')) return;
  throw new MaasError('FORBIDDEN', `composition ${record.name} belongs to ${owner}; "${principal.name}" cannot ${doing} it`, {
    hint: 'use the token that created it, or an admin token',
  });
}

/** A wait on the router made on behalf of a request: at most the server's upstream limit. */
const upstream = (asked: number | undefined, fallback: number, limit: number): number => Math.min(asked ?? fallback, limit);

export const compositionRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/compositions',
    operationId: 'composeApply',
    summary: 'Creates or updates a composition from its description; checked now, carried out by a queued job (result: ComposeApplyResult).',
    tag: 'compositions',
    scope: 'deploy',
    audit: 'composition.apply',
    idempotent: true,
    body: Strict({
      description: Type.Union([Type.String({ minLength: 1, maxLength: 1_048_576 }), Type.Object({}, { additionalProperties: true })], {
        description: 'The `kind: Composition` description: YAML or JSON text, or the object.',
      }),
      source: Type.Optional(
        Type.String({ pattern: '^[^\\u0000-\\u001f]{1,1024}$', description: 'What problems call the description (the client file name); never read.' }),
      ),
      target: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'Where members and router run (default local).' })),
      targetOptions: Type.Optional(
        Type.Record(Type.String({ pattern: '^[a-z][a-zA-Z0-9-]{0,63}$' }), Type.Union([Type.String({ maxLength: 1024 }), Type.Boolean()]), {
          maxProperties: 16,
        }),
      ),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 202: { description: 'checked and queued', schema: Result('ComposeApplyAccepted: composition, version, job') } },
    async handler(req, deps) {
      const b = req.body as {
        description: string | Record<string, unknown>;
        source?: string;
        target?: string;
        targetOptions?: TargetOptions;
        timeoutMs?: number;
      };
      const text = typeof b.description === 'string' ? b.description : JSON.stringify(b.description, null, 2);
      const source = b.source ?? 'request';
      const target = b.target ?? 'local';
      // Everything the job would refuse before changing anything is refused here, before it is queued.
      const { description, locate } = parseCompositionText(text, source);
      checkTargetRequest(deps.services.targets.plugins, { target, mode: 'open', ...(b.targetOptions ? { targetOptions: b.targetOptions } : {}) });
      const existing = await deps.services.compositions.getComposition(description.metadata.name);
      if (existing) requireOwner(existing, req.principal, 'change');
      await checkComposition(deps.services, description, locate);
      const payload: ComposeApplyJob = {
        text,
        source,
        target,
        by: consumerOf(req.principal),
        ...(b.targetOptions && Object.keys(b.targetOptions).length > 0 ? { targetOptions: b.targetOptions } : {}),
        timeoutMs: b.timeoutMs ?? APPLY_TIMEOUT_MS,
      };
      const job = await ownedQueue(deps.queue, req.principal.name, idempotencyKey(req)).enqueue(COMPOSE_APPLY_JOB, payload, undefined, {
        maxAttempts: COMPOSE_APPLY_MAX_ATTEMPTS,
      });
      const body: ComposeApplyAccepted = { composition: description.metadata.name, version: description.metadata.version, job: job.id };
      return { status: 202, body };
    },
  },
  {
    method: 'GET',
    path: '/v1/compositions',
    operationId: 'listCompositions',
    summary: 'Compositions with their router state and endpoint.',
    tag: 'compositions',
    scope: 'read',
    responses: { 200: { description: 'compositions', schema: Type.Object({ compositions: Type.Array(Result('CompositionSummary')) }) } },
    async handler(_req, deps) {
      return { body: { compositions: await listCompositions(deps.services) } };
    },
  },
  {
    method: 'GET',
    path: '/v1/compositions/:name',
    operationId: 'compositionStatus',
    summary: "The composition as stored, its router and members as observed now, and (measure) the router's live measurements.",
    tag: 'compositions',
    scope: 'read',
    params: Name,
    query: Strict({ timeoutMs: Type.Optional(TimeoutMs), measure: Type.Optional(Type.Boolean({ description: 'Ask the router (default true).' })) }),
    responses: { 200: { description: 'the status', schema: Result('CompositionStatus: composition, router, members, measurements, unavailable') } },
    async handler(req, deps) {
      const q = req.query as { timeoutMs?: number; measure?: boolean };
      return {
        body: await compositionStatus(deps.services, req.params.name!, {
          timeoutMs: upstream(q.timeoutMs, STATUS_TIMEOUT_MS, deps.limits.upstreamTimeoutMs),
          measure: q.measure !== false,
        }),
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/compositions/:name/history',
    operationId: 'compositionHistory',
    summary: 'Applies, updates and adaptations, with the accuracy before and since each adaptation.',
    tag: 'compositions',
    scope: 'read',
    params: Name,
    query: Strict({ timeoutMs: Type.Optional(TimeoutMs) }),
    responses: { 200: { description: 'the history', schema: Result('composition, events') } },
    async handler(req, deps) {
      const q = req.query as { timeoutMs?: number };
      return { body: await compositionHistory(deps.services, req.params.name!, upstream(q.timeoutMs, STATUS_TIMEOUT_MS, deps.limits.upstreamTimeoutMs)) };
    },
  },
  {
    method: 'POST',
    path: '/v1/compositions/:name/assess',
    operationId: 'assessComposition',
    summary: "Each member's contribution on the recorded labelled predictions; which members underperform.",
    tag: 'compositions',
    scope: 'read',
    params: Name,
    body: Strict({
      method: Type.Optional(Type.String({ enum: ['scs', 'loo', 'ncs', 'shapley'] })),
      seed: Type.Optional(Seed),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 200: { description: 'the assessment', schema: Result('AssessReport') } },
    async handler(req, deps) {
      const b = (req.body ?? {}) as { method?: AssessmentMethod; seed?: number; timeoutMs?: number };
      return {
        body: await assessComposition(deps.services, {
          name: req.params.name!,
          method: b.method ?? 'scs',
          timeoutMs: upstream(b.timeoutMs, ASSESS_TIMEOUT_MS, deps.limits.upstreamTimeoutMs),
          seed: b.seed ?? 0,
        }),
      };
    },
  },
  {
    method: 'POST',
    path: '/v1/compositions/:name/adapt',
    operationId: 'adaptComposition',
    summary: 'Replaces underperforming members from the registry (or, dryRun, plans it); a queued job (result: AdaptResult).',
    tag: 'compositions',
    scope: 'deploy',
    audit: 'composition.adapt',
    idempotent: true,
    params: Name,
    body: Strict({
      dryRun: Type.Optional(Type.Boolean()),
      strategy: Type.Optional(Type.String({ enum: [...STRATEGY_NAMES] })),
      seed: Type.Optional(Seed),
      timeoutMs: Type.Optional(TimeoutMs),
    }),
    responses: { 202: { description: 'queued', schema: Result('ComposeAdaptAccepted: composition, version, members, job') } },
    async handler(req, deps) {
      const b = (req.body ?? {}) as { dryRun?: boolean; strategy?: StrategyName; seed?: number; timeoutMs?: number };
      const record = await requireComposition(deps.services, req.params.name!);
      const dryRun = b.dryRun === true;
      // A dry run changes nothing: anyone who may read may ask what an adaptation would do.
      if (!dryRun) requireOwner(record, req.principal, 'adapt');
      const payload: ComposeAdaptJob = {
        name: record.name,
        by: consumerOf(req.principal),
        dryRun,
        strategy: b.strategy ?? 'linucb',
        seed: b.seed ?? 0,
        timeoutMs: b.timeoutMs ?? APPLY_TIMEOUT_MS,
      };
      const job = await ownedQueue(deps.queue, req.principal.name, idempotencyKey(req)).enqueue(COMPOSE_ADAPT_JOB, payload, undefined, {
        maxAttempts: composeAdaptMaxAttempts(dryRun),
      });
      const body: ComposeAdaptAccepted = { composition: record.name, version: record.version, members: record.members.length, job: job.id };
      return { status: 202, body };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/compositions/:name',
    operationId: 'deleteComposition',
    summary: 'Removes the router and releases every member (one nobody else uses is cached; purge, with admin: destroyed).',
    tag: 'compositions',
    scope: 'deploy',
    audit: 'composition.delete',
    params: Name,
    query: Strict({ purge: Type.Optional(Type.Boolean()) }),
    responses: { 200: { description: 'what happened to the router and each member', schema: Result('ComposeDeleteResult') } },
    async handler(req, deps) {
      const purge = (req.query as { purge?: boolean }).purge === true;
      // As for a deployment's decommission: destroying rather than caching is an admin's call.
      if (purge && !grants(req.principal.scopes, 'admin'))
        throw new MaasError('FORBIDDEN', `purge needs a token with the admin scope; "${req.principal.name}" has ${req.principal.scopes.join(', ')}`, {
          hint: 'delete without it (members nobody else uses are cached); an admin purges',
        });
      const record = await deps.services.compositions.getComposition(req.params.name!);
      if (record) requireOwner(record, req.principal, 'delete');
      return { body: await composeDelete(deps.services, req.params.name!, { purge }) };
    },
  },
];

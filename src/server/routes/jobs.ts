// Jobs: long operations carried out by the queue's workers. A job is shown to the token that
// caused it and to admins; to anyone else it does not exist (404, not 403: no probing for IDs).
import { Type } from '@sinclair/typebox';
import { grants } from '../../auth/scopes.js';
import { MaasError } from '../../core/errors.js';
import type { JobState } from '../../queue/port.js';
import type { Route } from '../route.js';
import { JobId, Result, Strict } from '../schemas.js';

export const jobRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/jobs/:id',
    operationId: 'getJob',
    summary: 'A job: state, attempts, progress, logs, result or error.',
    tag: 'jobs',
    scope: 'read',
    params: Strict({ id: JobId }),
    responses: { 200: { description: 'the job', schema: Result('JobRecord') } },
    async handler(req, deps) {
      const job = await deps.queue.get(req.params.id!);
      if (!job || (job.owner !== req.principal.name && !grants(req.principal.scopes, 'admin'))) {
        throw new MaasError('NOT_FOUND', `no job ${req.params.id!}`, { hint: 'GET /v1/jobs lists the jobs of your token' });
      }
      return { body: job };
    },
  },
  {
    method: 'GET',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: "The token's jobs (an admin's: everyone's), newest first.",
    tag: 'jobs',
    scope: 'read',
    query: Strict({
      state: Type.Optional(Type.String({ enum: ['queued', 'running', 'succeeded', 'failed'] })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    }),
    responses: { 200: { description: 'jobs', schema: Type.Object({ jobs: Type.Array(Result('JobRecord')) }) } },
    async handler(req, deps) {
      const admin = grants(req.principal.scopes, 'admin');
      const state = req.query.state as JobState | undefined;
      const jobs = await deps.queue.list({
        ...(state !== undefined ? { state } : {}),
        ...(admin ? {} : { owner: req.principal.name }),
        limit: (req.query.limit as number | undefined) ?? 100,
      });
      return { body: { jobs } };
    },
  },
];

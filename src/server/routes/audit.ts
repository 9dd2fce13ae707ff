// The audit log, for admins: who did what, when, to what, with which result.
import { Type } from '@sinclair/typebox';
import { listAudit } from '../../app/audit.js';
import type { Route } from '../route.js';
import { Result, Strict } from '../schemas.js';

export const auditRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/audit',
    operationId: 'listAudit',
    summary: 'Audit log entries (mutating calls), oldest first: the newest `limit` of those that match.',
    tag: 'tokens',
    scope: 'admin',
    query: Strict({
      since: Type.Optional(Type.String({ maxLength: 40, description: 'A duration back from now (24h) or an ISO time.' })),
      token: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only the calls of the token with this name.' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    }),
    responses: { 200: { description: 'entries', schema: Type.Object({ entries: Type.Array(Result('AuditRecord')) }) } },
    async handler(req, deps) {
      const q = req.query as { since?: string; token?: string; limit?: number };
      const entries = await listAudit(deps.services, {
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.token !== undefined ? { tokenName: q.token } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      return { body: { entries } };
    },
  },
];

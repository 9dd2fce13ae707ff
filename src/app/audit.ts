// The control plane's audit log as its admins read it, and the retention that keeps the log and
// the idempotency keys from growing without end (the server prunes both on a timer).
import type { AuditLog, AuditQuery, AuditRecord } from '../auth/ports.js';
import type { Clock } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { IdempotencyStore } from '../domain/idempotency.js';
import { resolveSince } from './feedback-export.js';
import type { Services } from './services.js';

export interface AuditRequest {
  /** A duration back from now (`24h`) or an ISO time. */
  since?: string;
  tokenName?: string;
  limit?: number;
}

function requireAudit(s: Pick<Services, 'audit'>): AuditLog {
  if (!s.audit)
    throw new MaasError('USAGE', 'this home keeps no audit log', { hint: 'the audit log lives in the embedded registry that `maas server` serves' });
  return s.audit;
}

export async function listAudit(s: Pick<Services, 'audit'> & { clock: Pick<Clock, 'now'> }, req: AuditRequest): Promise<AuditRecord[]> {
  const query: AuditQuery = {
    ...(req.since !== undefined ? { since: resolveSince(req.since, s.clock.now()) } : {}),
    ...(req.tokenName !== undefined ? { tokenName: req.tokenName } : {}),
    limit: req.limit ?? 100,
  };
  return requireAudit(s).list(query);
}

export interface Retention {
  /** How long audit entries are kept. */
  auditMs: number;
  /** How long an Idempotency-Key is remembered (after that, a repeat is a new request). */
  idempotencyMs: number;
}

export interface Pruned {
  audit: number;
  idempotency: number;
}

/** Deletes audit entries and idempotency keys older than their retention. */
export async function pruneControlPlane(
  s: { audit?: AuditLog; idempotency?: IdempotencyStore; clock: Pick<Clock, 'now'> },
  retention: Retention,
): Promise<Pruned> {
  const now = s.clock.now();
  const before = (ms: number): string => new Date(now - ms).toISOString();
  return {
    audit: s.audit ? await s.audit.prune(before(retention.auditMs)) : 0,
    idempotency: s.idempotency ? await s.idempotency.prune(before(retention.idempotencyMs)) : 0,
  };
}

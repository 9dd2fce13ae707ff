// Feedback export: the labelled rows of a deployment's request log (each logged prediction's
// input joined with its ground truth), fetched from its model server, ready to train on.
import { parseDuration } from '../core/duration.js';
import { MaasError } from '../core/errors.js';
import { parseIsoTime, type LabelledQuery, type LabelledWire } from '../protocol/labelled.js';
import { connect } from './connect.js';
import type { Services } from './services.js';

export interface FeedbackExportRequest {
  deployment: string;
  /** An ISO 8601 time, or a duration back from now (`24h`, `7d`): only predictions since then. */
  since?: string;
  /** Only the most recent N labelled rows. */
  limit?: number;
  timeoutMs: number;
}

/** The server's answer, with the deployment it came from. */
export type LabelledExport = LabelledWire & { deployment: string };

/** `since` as an ISO time: an ISO time as given (normalized), or now minus a duration. */
export function resolveSince(text: string, now: number): string {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) return new Date(parseIsoTime(t, '--since')).toISOString();
  try {
    return new Date(now - parseDuration(t, '--since')).toISOString();
  } catch {
    throw new MaasError('USAGE', `--since must be an ISO 8601 time (2026-01-31T12:00:00Z) or a duration back from now (24h, 7d); got ${JSON.stringify(text)}`);
  }
}

/**
 * The labelled rows of the deployment's request log, oldest first. FORBIDDEN from a strict
 * deployment: its rows go only to the retraining Job on its node (`maas retrain DEPLOYMENT
 * --feedback --target kubernetes`); the server's refusal says so, no hint is added here.
 */
export async function exportFeedback(s: Services, req: FeedbackExportRequest): Promise<LabelledExport> {
  const query: LabelledQuery = {};
  if (req.since !== undefined) query.since = resolveSince(req.since, s.clock.now());
  if (req.limit !== undefined) {
    if (!Number.isSafeInteger(req.limit) || req.limit < 1) throw new MaasError('USAGE', `--limit must be a whole number >= 1; got ${req.limit}`);
    query.limit = req.limit;
  }
  const { deployment, api } = await connect(s, req.deployment, req.timeoutMs);
  return { deployment: deployment.id, ...(await api.labelled(query)) };
}

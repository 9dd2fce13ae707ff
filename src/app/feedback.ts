// Feedback: ground truth for logged predictions, sent to the deployment's model server.
import { MaasError } from '../core/errors.js';
import type { FeedbackItem, FeedbackResponse } from '../protocol/feedback.js';
import { connect } from './connect.js';
import type { Services } from './services.js';

export interface FeedbackRequest {
  deployment: string;
  items: FeedbackItem[];
  timeoutMs: number;
}

/** The server's answer with every per-item field present. */
export type FeedbackReport = Required<FeedbackResponse>;

/** Servers from before per-item answers send only `accepted` and `ids`: all of them applied. */
function complete(r: FeedbackResponse): FeedbackReport {
  return { ...r, applied: r.applied ?? r.accepted, unchanged: r.unchanged ?? 0, unchangedIds: r.unchangedIds ?? [], rejected: r.rejected ?? [] };
}

/**
 * Sends the items; the answer says per item whether it was applied, already recorded, or rejected.
 * When nothing could be recorded at all the server refuses: NOT_FOUND or CONFLICT naming them.
 */
export async function sendFeedback(s: Services, req: FeedbackRequest): Promise<FeedbackReport> {
  if (req.items.length === 0) throw new MaasError('USAGE', 'no feedback to send');
  const { api } = await connect(s, req.deployment, req.timeoutMs);
  return complete(await api.feedback(req.items));
}

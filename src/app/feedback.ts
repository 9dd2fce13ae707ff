// Feedback: ground truth for logged predictions, sent to the deployment's model server.
import { MaasError } from '../core/errors.js';
import type { FeedbackItem } from '../protocol/feedback.js';
import { connect } from './connect.js';
import type { Services } from './services.js';

export interface FeedbackRequest {
  deployment: string;
  items: FeedbackItem[];
  timeoutMs: number;
}

export async function sendFeedback(s: Services, req: FeedbackRequest): Promise<{ accepted: number; [key: string]: unknown }> {
  if (req.items.length === 0) throw new MaasError('USAGE', 'no feedback to send');
  const { api } = await connect(s, req.deployment, req.timeoutMs);
  return api.feedback(req.items);
}

// Feedback against the served model: the protocol's body parser and item validator, plus what
// only the model knows (classification wants a label it has, regression a value), and the error
// for a request of which nothing could be recorded.
import { parseFeedbackBody, type FeedbackItem, type FeedbackRejection, type FeedbackResponse } from '../protocol/feedback.js';
import { ServingError, badRequest, listSome } from './errors.js';
import type { ServedModel } from './dataplane/model.js';
import { closest } from '../spec/suggest.js';

function checkForModel(model: ServedModel, item: FeedbackItem, where: string): void {
  if (model.classification) {
    if (!('label' in item)) throw badRequest(`${where}: "label" is required (a string; this is a classification model)`);
    if (model.labels.length > 0 && !model.labels.includes(item.label)) {
      const near = closest(item.label, model.labels);
      throw badRequest(
        `${where}: label ${JSON.stringify(item.label)} is not one of the model's labels (${model.labels.join(', ')})${near ? `; did you mean ${JSON.stringify(near)}?` : ''}`,
      );
    }
  } else if (!('value' in item)) throw badRequest(`${where}: "value" is required (a finite number; this is a regression model)`);
}

/** `{id, label|value}` or `{feedback: [...]}` for `model`; protocol errors are MaasErrors (400). */
export function parseModelFeedback(model: ServedModel, body: unknown): FeedbackItem[] {
  return parseFeedbackBody(body, (item, where) => checkForModel(model, item, where));
}

/**
 * The answer to a feedback request: what was applied, unchanged or rejected, in request order;
 * throws (see nothingRecorded) when no item was recorded at all.
 */
export function feedbackOutcome(
  items: readonly { id: string }[],
  r: { applied: readonly unknown[]; unchanged: string[]; rejected: FeedbackRejection[] },
): Required<Omit<FeedbackResponse, 'id'>> {
  if (r.applied.length + r.unchanged.length === 0) throw nothingRecorded(r.rejected);
  const refused = new Set(r.rejected.map((x) => x.id));
  return {
    accepted: r.applied.length + r.unchanged.length,
    ids: items.filter((i) => !refused.has(i.id)).map((i) => i.id),
    applied: r.applied.length,
    unchanged: r.unchanged.length,
    unchangedIds: r.unchanged,
    rejected: r.rejected,
  };
}

/**
 * The answer when no item was applied or unchanged: 409 when some conflict with recorded truth,
 * else 404, naming the items and why (a lone item keeps the status it always had).
 */
export function nothingRecorded(rejected: readonly FeedbackRejection[]): ServingError {
  const unknown = rejected.filter((r) => r.reason === 'unknown');
  const conflicts = rejected.filter((r) => r.reason === 'conflict');
  const parts: string[] = [];
  if (conflicts.length > 0) parts.push(listSome(conflicts.map((c) => `${JSON.stringify(c.id)} ${c.message}`)));
  if (unknown.length > 0) {
    parts.push(`unknown prediction id${unknown.length > 1 ? 's' : ''} ${listSome(unknown.map((u) => `${JSON.stringify(u.id)} (${u.message})`))}`);
  }
  return new ServingError(conflicts.length > 0 ? 409 : 404, `${parts.join('; ')}; no feedback was recorded`);
}

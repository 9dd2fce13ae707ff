// Feedback requests: ground truth for logged predictions, one (`{id, label}` / `{id, value}`) or
// a batch (`{feedback: [...]}`). Validated against the model before anything is written.
import { badRequest } from './errors.js';
import { MAX_ID_LENGTH } from './dataplane/infer-request.js';
import type { ServedModel } from './dataplane/model.js';
import type { FeedbackItem } from './request-log.js';

export const MAX_FEEDBACK_BATCH = 100_000;

function parseItem(model: ServedModel, raw: unknown, where: string): FeedbackItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest(`${where} must be an object with id and ${model.classification ? 'label' : 'value'}`);
  const { id, label, value } = raw as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) throw badRequest(`${where}.id is required (the prediction id from the infer response)`);
  if (model.classification) {
    if (typeof label !== 'string') throw badRequest(`${where}.label is required (a string; this is a classification model)`);
    if (model.labels.length > 0 && !model.labels.includes(label)) throw badRequest(`${where}.label ${JSON.stringify(label)} is not one of the model's labels (${model.labels.join(', ')})`);
    return { id, label };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(`${where}.value is required (a finite number; this is a regression model)`);
  return { id, value };
}

/** `{id, label|value}` or `{feedback: [{id, label|value}, ...]}`; duplicate ids are refused. */
export function parseFeedback(model: ServedModel, body: unknown): FeedbackItem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the feedback body must be a JSON object: {"id", "label"|"value"} or {"feedback": [...]}');
  const batch = (body as Record<string, unknown>).feedback;
  let items: FeedbackItem[];
  if (batch !== undefined) {
    if (!Array.isArray(batch) || batch.length === 0) throw badRequest('feedback must be a non-empty array');
    if (batch.length > MAX_FEEDBACK_BATCH) throw badRequest(`a feedback batch holds at most ${MAX_FEEDBACK_BATCH} items`);
    items = batch.map((b, i) => parseItem(model, b, `feedback[${i}]`));
  } else items = [parseItem(model, body, 'feedback')];
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw badRequest(`id ${JSON.stringify(it.id)} appears more than once in the batch`);
    seen.add(it.id);
  }
  return items;
}

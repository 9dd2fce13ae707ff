// Feedback against the served model: the protocol's body parser and item validator, plus what
// only the model knows (classification wants a label it has, regression a value).
import { parseFeedbackBody, type FeedbackItem } from '../protocol/feedback.js';
import { badRequest } from './errors.js';
import type { ServedModel } from './dataplane/model.js';

function checkForModel(model: ServedModel, item: FeedbackItem, where: string): void {
  if (model.classification) {
    if (!('label' in item)) throw badRequest(`${where}: "label" is required (a string; this is a classification model)`);
    if (model.labels.length > 0 && !model.labels.includes(item.label)) {
      throw badRequest(`${where}: label ${JSON.stringify(item.label)} is not one of the model's labels (${model.labels.join(', ')})`);
    }
  } else if (!('value' in item)) throw badRequest(`${where}: "value" is required (a finite number; this is a regression model)`);
}

/** `{id, label|value}` or `{feedback: [...]}` for `model`; protocol errors are MaasErrors (400). */
export function parseModelFeedback(model: ServedModel, body: unknown): FeedbackItem[] {
  return parseFeedbackBody(body, (item, where) => checkForModel(model, item, where));
}

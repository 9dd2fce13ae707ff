// Feedback files (JSON array, NDJSON, CSV with `id` and `label` or `value`) to feedback items.
import { MaasError } from '../core/errors.js';
import { parseInputText } from './rows.js';
import type { FeedbackItem } from './inference-client.js';

export function parseFeedback(text: string, format: 'json' | 'ndjson' | 'csv' | undefined): FeedbackItem[] {
  const parsed = parseInputText(text, format);
  const rows = parsed.rows ?? [];
  if (rows.length === 0) throw new MaasError('USAGE', 'the feedback file has no rows');
  return rows.map((r, i): FeedbackItem => {
    const id = r.id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new MaasError('USAGE', `feedback row ${i + 1} has no "id"`, { hint: 'each row needs id and label (or value)' });
    if (typeof r.label === 'string' || typeof r.label === 'number' || typeof r.label === 'boolean') {
      if (r.label !== '') return { id: String(id), label: String(r.label) };
    }
    if (typeof r.value === 'number') return { id: String(id), value: r.value };
    throw new MaasError('USAGE', `feedback row ${i + 1} (${String(id)}) has neither "label" nor a numeric "value"`);
  });
}

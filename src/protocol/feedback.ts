// Feedback: ground truth for logged predictions, `{id, label}` (classification) or `{id, value}`
// (regression). One item validator serves the server's body parser and the client's reading of
// feedback files, so both refuse the same things with the same words.
import { MaasError } from '../core/errors.js';
import { parseCsv } from './csv.js';
import { sniffFormat, type DataFormat } from './formats.js';
import { MAX_ID_LENGTH } from './oip.js';

export type FeedbackItem = { id: string; label: string } | { id: string; value: number };

/** The truth a prediction already has. */
export type RecordedTruth = { label: string } | { value: number };

/**
 * An item the server did not take: `unknown` (no such prediction id; `message` says why, e.g.
 * that a multi-row request's rows are `<id>:N`), or `conflict` (the prediction already has other
 * ground truth, which stays as `recorded`).
 */
export type FeedbackRejection =
  { id: string; reason: 'unknown'; message: string } | { id: string; reason: 'conflict'; message: string; recorded: RecordedTruth };

/**
 * What the server answers: the request's id, and per item what happened. `accepted` (applied +
 * unchanged) and `ids` (theirs, in request order) are what servers answered before per-item
 * results; those servers send none of the other fields.
 */
export type FeedbackResponse = {
  id: string;
  accepted: number;
  ids: string[];
  /** Items recorded now. */
  applied?: number;
  /** Items that repeat the recorded truth: a no-op. */
  unchanged?: number;
  /** The ids of the unchanged items. */
  unchangedIds?: string[];
  rejected?: FeedbackRejection[];
};

/** Most items in one feedback request. */
export const MAX_FEEDBACK_BATCH = 100_000;

/** Checks an item beyond its shape (the server: label or value as the model needs). */
export type FeedbackCheck = (item: FeedbackItem, where: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const invalid = (message: string): MaasError => new MaasError('VALIDATION', message);

/**
 * The one item validator. `where` names the item in messages (`feedback[3]`, `feedback row 4`).
 * An item has a non-empty string id and exactly one of a non-empty string label or a finite
 * number value.
 */
export function feedbackItem(raw: unknown, where: string): FeedbackItem {
  if (!isObject(raw)) throw invalid(`${where} must be an object with "id" and "label" (classification) or "value" (regression)`);
  const { id, label, value } = raw;
  if (typeof id !== 'string' || id === '') throw invalid(`${where}: "id" is required (the prediction id from the infer response)`);
  if (id.length > MAX_ID_LENGTH) throw invalid(`${where}: "id" is longer than ${MAX_ID_LENGTH} characters; it is not a prediction id`);
  if (label !== undefined && value !== undefined) throw invalid(`${where}: give "label" or "value", not both`);
  if (label !== undefined) {
    if (typeof label !== 'string' || label === '') throw invalid(`${where}: "label" must be a non-empty string (the true class)`);
    return { id, label };
  }
  if (value !== undefined) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalid(`${where}: "value" must be a finite number (the true value), not ${JSON.stringify(value)}`);
    return { id, value };
  }
  throw invalid(`${where}: "label" (classification) or "value" (regression) is required`);
}

/** Refuses an id given twice: one prediction has one truth. */
function checkUnique(items: readonly FeedbackItem[]): void {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw invalid(`id ${JSON.stringify(it.id)} appears more than once in the batch; send one feedback per prediction`);
    seen.add(it.id);
  }
}

/** A feedback request body: `{id, label|value}` or `{feedback: [{id, label|value}, ...]}`. */
export function parseFeedbackBody(body: unknown, check?: FeedbackCheck): FeedbackItem[] {
  if (!isObject(body)) throw new MaasError('USAGE', 'the feedback body must be a JSON object: {"id", "label"|"value"} or {"feedback": [...]}');
  const batch = body.feedback;
  const one = (raw: unknown, where: string): FeedbackItem => {
    const item = feedbackItem(raw, where);
    check?.(item, where);
    return item;
  };
  if (batch === undefined) return [one(body, 'feedback')];
  if (!Array.isArray(batch) || batch.length === 0) throw new MaasError('USAGE', 'feedback must be a non-empty array of {"id", "label"|"value"}');
  if (batch.length > MAX_FEEDBACK_BATCH) throw new MaasError('USAGE', `a feedback batch holds at most ${MAX_FEEDBACK_BATCH} items; send several batches`);
  const items = batch.map((raw, i) => one(raw, `feedback[${i}]`));
  checkUnique(items);
  return items;
}

/** The body that carries `items` (a single item bare, several as a batch). */
export function feedbackBody(items: readonly FeedbackItem[]): FeedbackItem | { feedback: FeedbackItem[] } {
  return items.length === 1 ? items[0]! : { feedback: [...items] };
}

/** A file row as the validator reads it: empty cells are absent, ids and labels are text. */
function fileRow(raw: unknown, fromCsv: boolean): unknown {
  if (!isObject(raw)) return raw;
  const absent = (v: unknown): boolean => v === undefined || v === null || v === '';
  const out: Record<string, unknown> = {};
  const { id, label, value } = raw;
  if (!absent(id)) out.id = typeof id === 'number' ? String(id) : id;
  if (!absent(label)) out.label = typeof label === 'number' || typeof label === 'boolean' ? String(label) : label;
  if (!absent(value)) {
    // CSV cells are text; a cell that is not a number is left for the validator to name.
    const x = fromCsv && typeof value === 'string' ? Number(value.trim()) : value;
    out.value = typeof x === 'number' && Number.isFinite(x) ? x : value;
  }
  return out;
}

function jsonRows(text: string, format: 'json' | 'ndjson'): unknown[] {
  const parse = (s: string, where: string): unknown => {
    try {
      return JSON.parse(s) as unknown;
    } catch (e) {
      throw new MaasError('USAGE', `the feedback file is not valid ${where}: ${(e as Error).message}`, { cause: e });
    }
  };
  if (format === 'ndjson') {
    const rows: unknown[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() !== '') rows.push(parse(line, `NDJSON (line ${i + 1})`));
    });
    return rows;
  }
  const doc = parse(text, 'JSON');
  if (Array.isArray(doc)) return doc;
  if (isObject(doc) && Array.isArray(doc.feedback)) return doc.feedback as unknown[];
  return [doc];
}

/**
 * Feedback rows from a file: a JSON array (or one object, or `{feedback: [...]}`), NDJSON, or
 * CSV with columns `id` and `label` or `value` (other columns are ignored). `format` defaults to
 * sniffing the content. Rows are numbered from 1 in messages; an id given twice is refused.
 */
export function parseFeedbackRows(text: string, format?: DataFormat): FeedbackItem[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new MaasError('USAGE', 'the feedback file is empty', { hint: 'give rows with id and label (or value) as JSON, NDJSON or CSV' });
  const fmt = format ?? sniffFormat(trimmed);
  let rows: unknown[];
  if (fmt === 'csv') {
    const { header, rows: records } = parseCsv(text, 'the feedback CSV');
    if (!header.includes('id') || !(header.includes('label') || header.includes('value'))) {
      throw new MaasError('USAGE', `the feedback CSV needs columns "id" and "label" or "value"; it has ${header.map((h) => `"${h}"`).join(', ')}`);
    }
    rows = records.map((cells) => Object.fromEntries(header.map((h, j) => [h, cells[j]!.trim()])));
  } else rows = jsonRows(fmt === 'ndjson' ? text.replace(/^\uFEFF/, '') : trimmed, fmt);
  if (rows.length === 0) throw new MaasError('USAGE', 'the feedback file has no rows');
  const items = rows.map((r, i) => feedbackItem(fileRow(r, fmt === 'csv'), `feedback row ${i + 1}`));
  checkUnique(items);
  return items;
}

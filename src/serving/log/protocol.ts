// Messages between the serving thread and the request log's writer thread.
import type { ServingStatus } from '../errors.js';
import type { FeedbackItem, LabelledSelection, StoredBatch } from './store.js';

/** Requests that get an answer (matched by `id`). */
export type Question =
  { op: 'feedback'; items: FeedbackItem[]; now: number } | { op: 'labelled'; selection: LabelledSelection } | { op: 'count' } | { op: 'close' };

export type ToWorker = { op: 'write'; batches: StoredBatch[]; now: number } | (Question & { id: number });

export type FromWorker =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string; status?: ServingStatus } | { op: 'error'; message: string };

// What a composition router answers at `GET /v2/models/{composition}/records`: the rows it
// answered, each with the composition's answer, every member's own answer and the ground truth once
// feedback came, newest last. Leave-one-out assessment re-aggregates these without a member.
import { MaasError } from '../core/errors.js';
import type { RecordedTruth } from './feedback.js';
import { parseIsoTime } from './labelled.js';

export interface MemberAnswerWire {
  role: 'member' | 'primary' | 'shadow';
  /** Whether the answer counted for the composition's (shadows never do). */
  counted: boolean;
  outcome: 'answered' | 'error' | 'timeout';
  /** The member's own prediction id for the row (answered only): where its feedback went. */
  memberId?: string;
  label?: string;
  value?: number;
  /** Class probabilities in the composition's label order, when the member sent them. */
  probabilities?: number[];
  latencyMs?: number;
}

export interface CompositionRecordWire {
  /** The composition's prediction id (what feedback names). */
  id: string;
  /** When it was answered (ISO 8601). */
  time: string;
  /** `NAME@VERSION` of the composition that answered. */
  composition: string;
  mode: string;
  answer: { label?: string; value?: number };
  /** Per member key (`NAME@VERSION`). */
  members: Record<string, MemberAnswerWire>;
  truth: RecordedTruth | null;
}

export interface CompositionRecordsWire {
  composition: string;
  task: 'classification' | 'regression';
  /** The composition's labels (classification): the order of every `probabilities`. */
  labels?: string[];
  aggregation?: string;
  records: CompositionRecordWire[];
}

export interface RecordsQuery {
  /** The most recent N rows (default 1000). */
  limit?: number;
  /** Only rows with ground truth. */
  labelled?: boolean;
  /** Only rows answered at or after this time (ms since the epoch). */
  since?: number;
}

export const DEFAULT_RECORDS_LIMIT = 1000;
export const MAX_RECORDS_LIMIT = 100_000;

/** `limit=N&labelled=true&since=ISO` from a query string. */
export function parseRecordsQuery(search: string): RecordsQuery {
  const params = new URLSearchParams(search);
  const query: RecordsQuery = { limit: DEFAULT_RECORDS_LIMIT };
  const limit = params.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_RECORDS_LIMIT)
      throw new MaasError('USAGE', `limit must be an integer 1..${MAX_RECORDS_LIMIT}, got ${JSON.stringify(limit)}`);
    query.limit = n;
  }
  const labelled = params.get('labelled');
  if (labelled !== null) {
    if (labelled !== 'true' && labelled !== 'false') throw new MaasError('USAGE', `labelled must be true or false, got ${JSON.stringify(labelled)}`);
    query.labelled = labelled === 'true';
  }
  const since = params.get('since');
  if (since !== null) query.since = parseIsoTime(since, 'since');
  return query;
}

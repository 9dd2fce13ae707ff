// What `GET /v2/models/{name}[/versions/{v}]/labelled` answers: the request log's predictions that
// have ground truth, as training rows (the features as clients sent them, then the truth), oldest
// first. Shared by the server (answers it), the client (asks for it) and `maas feedback export`.
import { MaasError } from '../core/errors.js';
import type { ModelSpec } from '../spec/schema.js';

/** A feature value as a client sends it (category value, boolean, number; null = missing), or the truth. */
export type LabelledCell = string | number | boolean | null;

export interface LabelledWire {
  model_name: string;
  model_version: string;
  /** Feature names in description order. */
  features: string[];
  /** The truth column's name: `spec.training.data.target`, else `spec.outputs.name`, else `label` / `value`. */
  target: string;
  /** One per labelled prediction: the feature values in `features` order, then the truth. */
  rows: LabelledCell[][];
  /** The prediction id of each row (the id feedback named). */
  ids: string[];
  /** When each prediction was logged (ISO 8601). */
  times: string[];
  /** The model version that made each prediction. */
  versions: string[];
}

export interface LabelledQuery {
  /** Only predictions logged at or after this time (ISO 8601). */
  since?: string;
  /** Only the most recent N of them. */
  limit?: number;
}

/** The query as the server reads it: `since` in ms since the epoch. */
export interface ParsedLabelledQuery {
  since?: number;
  limit?: number;
}

/**
 * What a strict server answers (403) to any request without the labelled-rows token: raw rows do
 * not leave the node; only the in-cluster retraining Job on that node holds the token.
 */
export const STRICT_LABELLED_REFUSAL =
  'strict placement keeps raw rows on the node: labelled rows go only to the retraining Job that maas runs on this node; ' +
  'retrain with `maas retrain DEPLOYMENT --feedback --target kubernetes`';

/** The truth column of a model: the training target, else the output name, else `label` (classification) or `value`. */
export function labelledTarget(spec: Pick<ModelSpec, 'training' | 'outputs'>, classification: boolean): string {
  return spec.training?.data?.target ?? spec.outputs?.name ?? (classification ? 'label' : 'value');
}

/** Parses an ISO 8601 time strictly enough that `nonsense` or `12` is refused; ms since the epoch. */
export function parseIsoTime(text: string, what: string): number {
  const t = text.trim();
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t) ? Date.parse(t) : NaN;
  if (!Number.isFinite(ms)) throw new MaasError('USAGE', `${what} must be an ISO 8601 time (2026-01-31T12:00:00Z); got ${JSON.stringify(text)}`);
  return ms;
}

/** The query string of a LabelledQuery (empty for none). */
export function labelledQueryString(q: LabelledQuery = {}): string {
  const s = new URLSearchParams();
  if (q.since !== undefined) s.set('since', q.since);
  if (q.limit !== undefined) s.set('limit', String(q.limit));
  const text = s.toString();
  return text ? `?${text}` : '';
}

/** Reads `since` and `limit`; anything else, a repeated parameter or a bad value is a USAGE error (400). */
export function parseLabelledQuery(search: string): ParsedLabelledQuery {
  const out: ParsedLabelledQuery = {};
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(search)) {
    if (seen.has(key)) throw new MaasError('USAGE', `query parameter "${key}" is given more than once`);
    seen.add(key);
    if (key === 'since') out.since = parseIsoTime(value, 'since');
    else if (key === 'limit') {
      if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
        throw new MaasError('USAGE', `limit must be a whole number >= 1; got ${JSON.stringify(value)}`);
      out.limit = Number(value);
    } else throw new MaasError('USAGE', `unknown query parameter "${key}"; labelled takes since and limit`);
  }
  return out;
}

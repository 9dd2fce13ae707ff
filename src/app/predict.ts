// Predict: rows to a deployment's model server over the Open Inference Protocol, and the answer
// read back per row.
import type { DataFormat } from '../protocol/formats.js';
import type { InferenceApi } from '../protocol/inference-api.js';
import type { InferRequest, InferResponse, ResponseOutput } from '../protocol/oip.js';
import { rowIds } from '../protocol/row-id.js';
import { parseInputText, rowsToRequest, unusedColumns, type Row } from '../protocol/rows.js';
import type { FeatureSpec } from '../spec/schema.js';
import { connect } from './connect.js';
import type { Services } from './services.js';

export type PredictInput =
  /** Rows as text (JSON, NDJSON, CSV, or a whole OIP request). */
  | { kind: 'text'; text: string; format?: DataFormat }
  /** A URI the model server fetches itself (absolute; the server has its own working directory). */
  | { kind: 'reference'; uri: string; format?: DataFormat };

export interface PredictRequest {
  deployment: string;
  input: PredictInput;
  requestId?: string;
  timeoutMs: number;
}

/** One prediction, as a table shows it; `id` is what feedback refers to. */
export interface PredictionRow {
  row: number;
  id: string;
  label?: string;
  confidence?: number;
  value?: number;
}

export interface PredictResult {
  response: InferResponse;
  rows: PredictionRow[];
  /** Requests sent: more than one when the rows exceed the model's maxBatchSize. */
  requests: number;
  /** Input columns no feature reads (left out of the request; worth a warning). */
  ignoredColumns: string[];
}

export async function predict(s: Services, req: PredictRequest): Promise<PredictResult> {
  const { api, features, maxBatchSize } = await connect(s, req.deployment, req.timeoutMs);
  let request: InferRequest;
  let ignoredColumns: string[] = [];
  if (req.input.kind === 'text') {
    const parsed = parseInputText(req.input.text, req.input.format);
    ignoredColumns = unusedColumns(parsed.rows ?? [], features);
    const max = maxBatchSize;
    if (parsed.rows && max !== undefined && parsed.rows.length > max) {
      return { ...(await inBatches(api, parsed.rows, max, features, req.requestId ?? s.newId('p'))), ignoredColumns };
    }
    request = parsed.request ?? rowsToRequest(parsed.rows ?? [], features);
  } else {
    request = { parameters: { data_ref: req.input.uri, ...(req.input.format ? { format: req.input.format } : {}) } };
  }
  if (req.requestId !== undefined) request.id = req.requestId;
  const response = await api.infer(request);
  return { response, rows: predictionRows(response), requests: 1, ignoredColumns };
}

/**
 * More rows than the model takes in one request: send them in batches of `max` (request ids
 * `<id>.0`, `<id>.1`, ...; each row keeps the id feedback refers to) and join the answers.
 */
async function inBatches(
  api: InferenceApi,
  rows: readonly Row[],
  max: number,
  features: readonly FeatureSpec[],
  id: string,
): Promise<Omit<PredictResult, 'ignoredColumns'>> {
  const out: PredictionRow[] = [];
  const outputs = new Map<string, ResponseOutput>();
  let first: InferResponse | undefined;
  let batches = 0;
  for (let start = 0; start < rows.length; start += max, batches++) {
    const request = rowsToRequest(rows.slice(start, start + max), features);
    request.id = `${id}.${batches}`;
    const response = await api.infer(request);
    first ??= response;
    for (const r of predictionRows(response)) out.push({ ...r, row: r.row + start });
    for (const o of response.outputs) {
      const joined = outputs.get(o.name);
      if (!joined) outputs.set(o.name, { ...o, shape: [...o.shape], data: o.data.slice() });
      else {
        joined.shape[0] = (joined.shape[0] ?? 0) + (o.shape[0] ?? 0);
        for (const v of o.data) joined.data.push(v);
      }
    }
  }
  const response: InferResponse = { ...(first as InferResponse), id, outputs: [...outputs.values()] };
  return { response, rows: out, requests: batches };
}

/** Reads labels, top probabilities or values per row out of an infer response. */
export function predictionRows(response: InferResponse): PredictionRow[] {
  const label = response.outputs.find((o) => o.name === 'label');
  const probs = response.outputs.find((o) => o.name === 'probabilities');
  const value = response.outputs.find((o) => o.name === 'value');
  const n = (label ?? value ?? probs)?.shape[0] ?? 0;
  const c = probs?.shape[1] ?? 0;
  const ids = rowIds(response.id, n);
  const rows: PredictionRow[] = new Array<PredictionRow>(n);
  for (let i = 0; i < n; i++) {
    const r: PredictionRow = { row: i, id: ids[i] ?? response.id };
    if (label) r.label = String(label.data[i]);
    if (probs && c > 0) {
      let best = -Infinity;
      for (let j = i * c; j < (i + 1) * c; j++) best = Math.max(best, Number(probs.data[j]));
      r.confidence = best;
    }
    if (value) r.value = Number(value.data[i]);
    rows[i] = r;
  }
  return rows;
}

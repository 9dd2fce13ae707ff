// Predict: rows to a deployment's model server over the Open Inference Protocol, and the answer
// read back per row.
import type { DataFormat } from '../protocol/formats.js';
import type { InferRequest, InferResponse } from '../protocol/oip.js';
import { rowIds } from '../protocol/row-id.js';
import { parseInputText, rowsToRequest } from '../protocol/rows.js';
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
}

export async function predict(s: Services, req: PredictRequest): Promise<PredictResult> {
  const { api, model } = await connect(s, req.deployment, req.timeoutMs);
  let request: InferRequest;
  if (req.input.kind === 'text') {
    const parsed = parseInputText(req.input.text, req.input.format);
    request = parsed.request ?? rowsToRequest(parsed.rows ?? [], model.description.spec.features);
  } else {
    request = { parameters: { data_ref: req.input.uri, ...(req.input.format ? { format: req.input.format } : {}) } };
  }
  if (req.requestId !== undefined) request.id = req.requestId;
  const response = await api.infer(request);
  return { response, rows: predictionRows(response) };
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

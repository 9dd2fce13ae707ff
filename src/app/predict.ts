// Predict and feedback: reach a deployment's model server over the Open Inference Protocol.
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { FeedbackItem } from '../protocol/feedback.js';
import type { InferenceApi } from '../protocol/inference-api.js';
import type { DataFormat } from '../protocol/formats.js';
import type { InferRequest, InferResponse } from '../protocol/oip.js';
import { rowIds } from '../protocol/row-id.js';
import { parseInputText, rowsToRequest } from '../protocol/rows.js';
import { requireDeployment, requireModel } from './lookup.js';
import { observeDeployment } from './observe.js';
import type { Services } from './services.js';

export interface Connection {
  deployment: DeploymentRecord;
  model: ModelVersionRecord;
  api: InferenceApi;
}

/** The deployment as observed now, its model, and a client of its model server. */
export async function connect(s: Services, id: string, timeoutMs: number): Promise<Connection> {
  const record = await requireDeployment(s, id);
  const { deployment } = await observeDeployment(s, record);
  const target = await s.targets.get(deployment.target);
  const endpoint = await target.endpoint(deployment);
  let model: ModelVersionRecord;
  try {
    model = await requireModel(s, deployment.model, deployment.version);
  } catch (e) {
    throw new MaasError('NOT_FOUND', `model ${deployment.model}@${deployment.version} of deployment ${id} is no longer registered`, { cause: e });
  }
  return { deployment, model, api: await s.inference(endpoint, deployment.model, timeoutMs) };
}

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

export interface FeedbackRequest {
  deployment: string;
  items: FeedbackItem[];
  timeoutMs: number;
}

export async function sendFeedback(s: Services, req: FeedbackRequest): Promise<{ accepted: number; [key: string]: unknown }> {
  if (req.items.length === 0) throw new MaasError('USAGE', 'no feedback to send');
  const { api } = await connect(s, req.deployment, req.timeoutMs);
  return api.feedback(req.items);
}

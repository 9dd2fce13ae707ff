// An Open Inference Protocol client for a deployment's model server (axios), used by `maas
// predict`, `maas feedback` and drift checks. Server errors (`{"error": ...}`) become MaasErrors.
import type { AxiosInstance } from 'axios';
import { fromHttpStatus, toMaasError } from '../core/errors.js';
import type { HttpEndpoint } from '../protocol/endpoint.js';
import { feedbackBody, type FeedbackItem, type FeedbackResponse } from '../protocol/feedback.js';
import type { DriftReport } from '../drift/report.js';
import type { DriftQuery, InferenceApi, InferenceConnector } from '../protocol/inference-api.js';
import type { InferRequest, InferResponse, ModelMetadata } from '../protocol/oip.js';
import type { StatsWire } from '../protocol/stats.js';
import type { CompositionStatsWire } from '../protocol/composition-stats.js';
import type { CompositionRecordsWire } from '../protocol/composition-records.js';
import { labelledQueryString, type LabelledQuery, type LabelledWire } from '../protocol/labelled.js';

export class InferenceClient implements InferenceApi {
  private constructor(
    private readonly http: AxiosInstance,
    private readonly model: string,
  ) {}

  static async create(endpoint: HttpEndpoint, model: string, timeoutMs = 60_000): Promise<InferenceClient> {
    const { default: axios } = await import('axios');
    const http = axios.create({
      baseURL: endpoint.baseUrl.replace(/\/$/, ''),
      timeout: timeoutMs,
      headers: { 'content-type': 'application/json', ...endpoint.headers },
      ...(endpoint.httpsAgent ? { httpsAgent: endpoint.httpsAgent } : {}),
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      // Every status is inspected here so the server's own error message reaches the user.
      validateStatus: () => true,
    });
    return new InferenceClient(http, model);
  }

  private get base(): string {
    return `/v2/models/${encodeURIComponent(this.model)}`;
  }

  private async call<T>(method: 'get' | 'post', path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = method === 'get' ? await this.http.get(path) : await this.http.post(path, body);
    } catch (e) {
      throw toMaasError(e);
    }
    if (res.status >= 400) {
      const data = res.data as { error?: unknown; message?: unknown } | string | undefined;
      const detail = typeof data === 'string' ? data : (data?.error ?? data?.message);
      const message = typeof detail === 'string' ? detail.slice(0, 500) : detail === undefined ? `HTTP ${res.status}` : JSON.stringify(detail);
      throw fromHttpStatus(res.status, message, undefined, 'model-server', this.model);
    }
    return res.data as T;
  }

  infer(request: InferRequest): Promise<InferResponse> {
    return this.call<InferResponse>('post', `${this.base}/infer`, request);
  }

  feedback(items: FeedbackItem[]): Promise<FeedbackResponse> {
    return this.call<FeedbackResponse>('post', `${this.base}/feedback`, feedbackBody(items));
  }

  stats(): Promise<StatsWire> {
    return this.call<StatsWire>('get', `${this.base}/stats`);
  }

  metadata(): Promise<ModelMetadata> {
    return this.call<ModelMetadata>('get', this.base);
  }

  drift(query: DriftQuery = {}): Promise<DriftReport> {
    const q = new URLSearchParams();
    if (query.test !== undefined) q.set('test', query.test);
    if (query.threshold !== undefined) q.set('threshold', String(query.threshold));
    if (query.share !== undefined) q.set('share', String(query.share));
    const s = q.toString();
    return this.call<DriftReport>('get', `${this.base}/drift${s ? `?${s}` : ''}`);
  }

  members(): Promise<CompositionStatsWire> {
    return this.call<CompositionStatsWire>('get', `${this.base}/members`);
  }

  records(query: { limit?: number; labelled?: boolean; since?: string } = {}): Promise<CompositionRecordsWire> {
    const q = new URLSearchParams();
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    if (query.labelled !== undefined) q.set('labelled', String(query.labelled));
    if (query.since !== undefined) q.set('since', query.since);
    const s = q.toString();
    return this.call<CompositionRecordsWire>('get', `${this.base}/records${s ? `?${s}` : ''}`);
  }

  labelled(query: LabelledQuery = {}): Promise<LabelledWire> {
    return this.call<LabelledWire>('get', `${this.base}/labelled${labelledQueryString(query)}`);
  }
}

/** The connector the composition root injects into the application. */
export const connectInference: InferenceConnector = (endpoint, model, timeoutMs) => InferenceClient.create(endpoint, model, timeoutMs);

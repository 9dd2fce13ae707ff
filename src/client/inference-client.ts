// An Open Inference Protocol client for a deployment's model server (axios), used by `maas
// predict`, `maas feedback` and drift checks. Server errors (`{"error": ...}`) become MaasErrors.
import type { AxiosInstance } from 'axios';
import type { HttpEndpoint } from '../targets/target.js';
import { fromHttpStatus, toMaasError } from '../core/errors.js';
import type { OipRequest } from './rows.js';

export interface OipOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface OipResponse {
  model_name: string;
  model_version?: string;
  id: string;
  outputs: OipOutput[];
  parameters?: Record<string, unknown>;
}

export type { FeedbackItem } from '../serving/log/store.js';
import type { FeedbackItem } from '../serving/log/store.js';

export interface FeedbackResponse {
  accepted: number;
  [key: string]: unknown;
}

export class InferenceClient {
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
      throw fromHttpStatus(res.status, message, undefined, 'model-server');
    }
    return res.data as T;
  }

  infer(request: OipRequest): Promise<OipResponse> {
    return this.call<OipResponse>('post', `/v2/models/${encodeURIComponent(this.model)}/infer`, request);
  }

  feedback(items: FeedbackItem[]): Promise<FeedbackResponse> {
    const body = items.length === 1 ? items[0] : { feedback: items };
    return this.call<FeedbackResponse>('post', `/v2/models/${encodeURIComponent(this.model)}/feedback`, body);
  }

  stats(): Promise<unknown> {
    return this.call<unknown>('get', `/v2/models/${encodeURIComponent(this.model)}/stats`);
  }

  metadata(): Promise<unknown> {
    return this.call<unknown>('get', `/v2/models/${encodeURIComponent(this.model)}`);
  }
}

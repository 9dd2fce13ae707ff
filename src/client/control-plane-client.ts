// The CLI's HTTP client for a `maas server` (axios): bearer token, timeouts, and retries with
// backoff for calls that are safe to repeat (GET, PUT of content-addressed bytes, and POSTs that
// carry an Idempotency-Key) when the server is unreachable, busy (503) or rate limits (429,
// honouring Retry-After). The server's `{"error": {code, message, hint}}` becomes the same
// MaasError the local command would raise, so output and exit codes match.
import type { Readable } from 'node:stream';
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import type { ControlPlaneApi, RemoteDeployRequest } from '../app/control-plane-api.js';
import { isErrorCode, MaasError, toMaasError } from '../core/errors.js';

const RETRIES = 3;

/** The server's error body as a MaasError (its code, message and hint). */
function fromBody(status: number, body: unknown, url: string): MaasError {
  const e = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown; details?: unknown } } | undefined)?.error;
  if (e && isErrorCode(e.code) && typeof e.message === 'string')
    return new MaasError(e.code, e.message, {
      ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    });
  return toMaasError(Object.assign(new Error(`the server at ${url} answered ${status}`), { response: { status, data: body } }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ControlPlaneClient implements ControlPlaneApi {
  private constructor(
    readonly url: string,
    private readonly http: AxiosInstance,
  ) {}

  static async create(url: string, token: string | undefined, o: { timeoutMs?: number; userAgent?: string } = {}): Promise<ControlPlaneClient> {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new MaasError('USAGE', `not a server URL: ${url}`, { hint: 'e.g. https://maas.example.com or http://127.0.0.1:8080' });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new MaasError('USAGE', `not an http(s) URL: ${url}`);
    const { default: axios } = await import('axios');
    const http = axios.create({
      baseURL: url.replace(/\/+$/, ''),
      timeout: o.timeoutMs ?? 60_000,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(o.userAgent ? { 'user-agent': o.userAgent } : {}) },
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      validateStatus: () => true,
    });
    return new ControlPlaneClient(url.replace(/\/+$/, ''), http);
  }

  /** One call; `retry` when repeating it cannot do anything twice. */
  private async call<T>(config: AxiosRequestConfig & { retry: boolean }): Promise<T> {
    const { retry, ...request } = config;
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let data: unknown;
      let headers: Record<string, unknown>;
      try {
        const res = await this.http.request<unknown>(request);
        status = res.status;
        data = res.data;
        headers = res.headers;
      } catch (e) {
        const err = toMaasError(e);
        if (retry && attempt < RETRIES && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw new MaasError(err.code, `${err.message} (server ${this.url})`, { ...(err.hint ? { hint: err.hint } : {}), cause: e });
      }
      if (status < 400) return data as T;
      if (retry && attempt < RETRIES && (status === 429 || status === 503)) {
        const after = Number(headers['retry-after']);
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 250 * 2 ** attempt);
        continue;
      }
      throw fromBody(status, data, this.url);
    }
  }

  whoami() {
    return this.call<{ name: string; id: string; scopes: string[] }>({ method: 'GET', url: '/v1/whoami', retry: true });
  }

  uploadArtifact(bytes: () => Readable, digest: string, size: number) {
    // Content-addressed: sending the same bytes again is harmless, so it is retried (a fresh stream each time).
    return this.callUpload(bytes, digest, size);
  }

  private async callUpload(bytes: () => Readable, digest: string, size: number): Promise<{ digest: string; size: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call<{ digest: string; size: number }>({
          method: 'PUT',
          url: `/v1/artifacts/${digest}`,
          data: bytes(),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          retry: false,
        });
      } catch (e) {
        if (attempt < RETRIES && e instanceof MaasError && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT')) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw e;
      }
    }
  }

  async registerModel(body: { description: string; artifact?: string; profile?: unknown }) {
    return (
      await this.call<{ registered: Awaited<ReturnType<ControlPlaneApi['registerModel']>> }>({ method: 'POST', url: '/v1/models', data: body, retry: false })
    ).registered;
  }

  searchModels(req: Parameters<ControlPlaneApi['searchModels']>[0]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['searchModels']>>>({ method: 'POST', url: '/v1/models/search', data: req, retry: true });
  }

  async listModels() {
    return (await this.call<{ models: Awaited<ReturnType<ControlPlaneApi['listModels']>> }>({ method: 'GET', url: '/v1/models', retry: true })).models;
  }

  async listVersions(name: string) {
    return (
      await this.call<{ versions: Awaited<ReturnType<ControlPlaneApi['listVersions']>> }>({
        method: 'GET',
        url: `/v1/models/${encodeURIComponent(name)}/versions`,
        retry: true,
      })
    ).versions;
  }

  getModel(name: string, version?: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['getModel']>>>({
      method: 'GET',
      url: `/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version ?? 'latest')}`,
      retry: true,
    });
  }

  deploy(req: RemoteDeployRequest, idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['deploy']>>>({
      method: 'POST',
      url: '/v1/deployments',
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  async listDeployments(filter: { model?: string }) {
    return (
      await this.call<{ deployments: Awaited<ReturnType<ControlPlaneApi['listDeployments']>> }>({
        method: 'GET',
        url: '/v1/deployments',
        params: filter,
        retry: true,
      })
    ).deployments;
  }

  deploymentStatus(id: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['deploymentStatus']>>>({
      method: 'GET',
      url: `/v1/deployments/${encodeURIComponent(id)}`,
      retry: true,
    });
  }

  predict(id: string, input: { text: string; format?: 'csv' | 'json' | 'ndjson' }, timeoutMs: number) {
    // Not retried: a prediction is logged by the model server each time it is made.
    return this.call<Awaited<ReturnType<ControlPlaneApi['predict']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/predict`,
      data: { ...input, timeoutMs },
      retry: false,
    });
  }

  feedback(id: string, items: Parameters<ControlPlaneApi['feedback']>[1]) {
    // Feedback by prediction ID is idempotent on the model server (the same truth again is "unchanged").
    return this.call<Awaited<ReturnType<ControlPlaneApi['feedback']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/feedback`,
      data: { items },
      retry: true,
    });
  }

  driftCheck(id: string, flags: Parameters<ControlPlaneApi['driftCheck']>[1]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['driftCheck']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/drift`,
      data: flags,
      retry: true,
    });
  }

  decommission(id: string, o: Parameters<ControlPlaneApi['decommission']>[1]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['decommission']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/decommission`,
      data: { ...(o.consumer !== undefined ? { consumer: o.consumer } : {}), purge: o.purge, force: o.force, ignoreNotFound: o.ignoreNotFound },
      retry: false,
    });
  }

  // Rollout, rollback and retrain queue a job; their Idempotency-Key makes a repeat join it.
  rollout(id: string, req: Parameters<ControlPlaneApi['rollout']>[1], idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['rollout']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/rollout`,
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  rollback(id: string, req: Parameters<ControlPlaneApi['rollback']>[1], idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['rollback']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/rollback`,
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  deploymentHistory(id: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['deploymentHistory']>>>({
      method: 'GET',
      url: `/v1/deployments/${encodeURIComponent(id)}/history`,
      retry: true,
    });
  }

  retrain(id: string, req: Parameters<ControlPlaneApi['retrain']>[1], idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['retrain']>>>({
      method: 'POST',
      url: `/v1/deployments/${encodeURIComponent(id)}/retrain`,
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  compare(req: Parameters<ControlPlaneApi['compare']>[0]) {
    // A read: the same comparison again changes nothing.
    return this.call<Awaited<ReturnType<ControlPlaneApi['compare']>>>({ method: 'POST', url: '/v1/compare', data: req, retry: true });
  }

  // Compositions. Apply and adapt queue a job; their Idempotency-Key makes a repeat join it.
  applyComposition(req: Parameters<ControlPlaneApi['applyComposition']>[0], idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['applyComposition']>>>({
      method: 'POST',
      url: '/v1/compositions',
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  async listCompositions() {
    return (
      await this.call<{ compositions: Awaited<ReturnType<ControlPlaneApi['listCompositions']>> }>({ method: 'GET', url: '/v1/compositions', retry: true })
    ).compositions;
  }

  compositionStatus(name: string, o: Parameters<ControlPlaneApi['compositionStatus']>[1]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['compositionStatus']>>>({
      method: 'GET',
      url: `/v1/compositions/${encodeURIComponent(name)}`,
      params: o,
      retry: true,
    });
  }

  compositionHistory(name: string, o: Parameters<ControlPlaneApi['compositionHistory']>[1]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['compositionHistory']>>>({
      method: 'GET',
      url: `/v1/compositions/${encodeURIComponent(name)}/history`,
      params: o,
      retry: true,
    });
  }

  assessComposition(name: string, req: Parameters<ControlPlaneApi['assessComposition']>[1]) {
    // A read: assessing again changes nothing.
    return this.call<Awaited<ReturnType<ControlPlaneApi['assessComposition']>>>({
      method: 'POST',
      url: `/v1/compositions/${encodeURIComponent(name)}/assess`,
      data: req,
      retry: true,
    });
  }

  adaptComposition(name: string, req: Parameters<ControlPlaneApi['adaptComposition']>[1], idempotencyKey: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['adaptComposition']>>>({
      method: 'POST',
      url: `/v1/compositions/${encodeURIComponent(name)}/adapt`,
      data: req,
      headers: { 'idempotency-key': idempotencyKey },
      retry: true,
    });
  }

  deleteComposition(name: string, o: Parameters<ControlPlaneApi['deleteComposition']>[1]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['deleteComposition']>>>({
      method: 'DELETE',
      url: `/v1/compositions/${encodeURIComponent(name)}`,
      params: o.purge ? { purge: true } : {},
      retry: false,
    });
  }

  getJob(id: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['getJob']>>>({ method: 'GET', url: `/v1/jobs/${encodeURIComponent(id)}`, retry: true });
  }

  async listJobs(filter: Parameters<ControlPlaneApi['listJobs']>[0]) {
    return (await this.call<{ jobs: Awaited<ReturnType<ControlPlaneApi['listJobs']>> }>({ method: 'GET', url: '/v1/jobs', params: filter, retry: true })).jobs;
  }

  createToken(req: Parameters<ControlPlaneApi['createToken']>[0]) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['createToken']>>>({ method: 'POST', url: '/v1/tokens', data: req, retry: false });
  }

  async listTokens() {
    return (await this.call<{ tokens: Awaited<ReturnType<ControlPlaneApi['listTokens']>> }>({ method: 'GET', url: '/v1/tokens', retry: true })).tokens;
  }

  revokeToken(idOrName: string) {
    return this.call<Awaited<ReturnType<ControlPlaneApi['revokeToken']>>>({ method: 'DELETE', url: `/v1/tokens/${encodeURIComponent(idOrName)}`, retry: true });
  }

  async listAudit(query: { since?: string; token?: string; limit?: number }) {
    return (await this.call<{ entries: Awaited<ReturnType<ControlPlaneApi['listAudit']>> }>({ method: 'GET', url: '/v1/audit', params: query, retry: true }))
      .entries;
  }
}

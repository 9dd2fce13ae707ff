// One member as the router talks to it: where it answers (a fixed URL, or the endpoint file its
// local server writes, re-read when it changes so a rollout is followed), a keep-alive agent of
// its own, infer calls under a deadline (the HTTP request is aborted when it passes) and feedback
// forwarding with a bounded retry. A member dropped by a reload is retired: its agent is destroyed
// once its last request ended.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { RouterMember } from '../../domain/composition.js';

/** How often, at most, an endpoint file's mtime is checked. */
export const ENDPOINT_CHECK_MS = 250;
export const DEFAULT_MAX_SOCKETS = 64;
/** Largest member answer read (a member answering more is broken). */
const MAX_ANSWER_BYTES = 64 * 2 ** 20;

export type CallOutcome = 'answered' | 'error' | 'timeout';

/** How one call to a member ended: the answer's body, or why there is none. */
export type CallResult = { outcome: 'answered'; ms: number; status: number; body: string } | { outcome: 'error' | 'timeout'; ms: number; message: string };

/** A failure before any answer came (refused, reset, unreachable): the request may be sent again. */
class ConnectionError extends Error {}

class TimeoutError extends Error {}

/**
 * Where a member answers now. A fixed endpoint never changes; an endpoint file is stat'ed at most
 * every ENDPOINT_CHECK_MS (and at once when asked to after a connection error) and read again when
 * its mtime changed.
 */
export class MemberEndpoint {
  private url: string | undefined;
  private mtimeMs = -1;
  private checkedAt = -Infinity;
  private refreshing: Promise<string> | undefined;
  private problem: string | undefined;

  constructor(
    readonly endpoint: string | undefined,
    readonly endpointFile: string | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.url = endpoint;
  }

  /** The base URL; `fresh`: check the endpoint file now rather than within ENDPOINT_CHECK_MS. */
  resolve(fresh = false): Promise<string> {
    if (this.endpointFile === undefined) return Promise.resolve(this.url!);
    if (!fresh && this.url !== undefined && this.now() - this.checkedAt < ENDPOINT_CHECK_MS) return Promise.resolve(this.url);
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    const file = this.endpointFile!;
    this.checkedAt = this.now();
    try {
      const s = await stat(file);
      if (s.mtimeMs !== this.mtimeMs || this.url === undefined) {
        const info = JSON.parse(await readFile(file, 'utf8')) as { url?: unknown };
        if (typeof info.url !== 'string' || info.url === '') throw new Error('it names no url');
        this.url = info.url.replace(/\/+$/, '');
        this.mtimeMs = s.mtimeMs;
      }
      this.problem = undefined;
    } catch (e) {
      // A file being replaced (or not written yet): keep the last URL when there is one.
      this.problem = `endpoint file ${file}: ${(e as Error).message}`;
      this.checkedAt = -Infinity;
      if (this.url === undefined) throw new ConnectionError(this.problem);
    }
    return this.url;
  }

  /** Why the last read of the endpoint file failed, if it did. */
  get lastProblem(): string | undefined {
    return this.problem;
  }
}

function post(agent: http.Agent, url: string, body: string, timeoutMs: number, method: 'POST' | 'GET' = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    let answered = false;
    const req = http.request(url, {
      method,
      agent,
      headers: method === 'POST' ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
    });
    const timer = setTimeout(
      () => {
        finish(() => reject(new TimeoutError(`no answer within ${timeoutMs} ms`)));
        req.destroy();
      },
      Math.max(1, timeoutMs),
    );
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) {
          finish(() => reject(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`)));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (e) => finish(() => reject(new Error(`the answer broke off: ${e.message}`))));
      res.on('aborted', () => finish(() => reject(new Error('the answer broke off'))));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code ? `${e.code}` : e.message;
      finish(() => reject(answered ? new Error(`the answer broke off: ${reason}`) : new ConnectionError(`cannot reach ${new URL(url).host}: ${reason}`)));
    });
    req.end(body);
  });
}

function errorText(status: number, body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof e === 'string') return `HTTP ${status}: ${e}`;
  } catch {
    // not JSON
  }
  return `HTTP ${status}`;
}

export class MemberClient {
  readonly endpoint: MemberEndpoint;
  private readonly agent: http.Agent;
  private active = 0;
  private retired = false;
  private destroyed = false;

  constructor(
    public spec: RouterMember,
    opts: { maxSockets?: number } = {},
  ) {
    this.endpoint = new MemberEndpoint(spec.endpoint, spec.endpointFile);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? DEFAULT_MAX_SOCKETS, keepAliveMsecs: 1000 });
  }

  /** Whether another member spec reaches the same server (so this client can serve it). */
  sameEndpoint(other: RouterMember): boolean {
    return other.endpoint === this.spec.endpoint && other.endpointFile === this.spec.endpointFile;
  }

  private path(action: string): string {
    return `/v2/models/${encodeURIComponent(this.spec.model)}/versions/${encodeURIComponent(this.spec.version)}/${action}`;
  }

  /** Calls in flight (infer and feedback). */
  get inFlight(): number {
    return this.active;
  }

  /**
   * POSTs `body` to the member's `action` within `timeoutMs`. A connection failure (refused, reset
   * before any answer) re-reads the endpoint file at once and tries once more while time is left:
   * a member that just moved (rollout) answers there.
   */
  async call(action: string, body: string, timeoutMs: number, method: 'POST' | 'GET' = 'POST'): Promise<CallResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    this.active++;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const base = await this.endpoint.resolve(attempt > 0);
          const left = timeoutMs - elapsed();
          if (left <= 0) throw new TimeoutError(`no answer within ${timeoutMs} ms`);
          const res = await post(this.agent, `${base}${this.path(action)}`, body, left, method);
          if (res.status === 200) return { outcome: 'answered', ms: elapsed(), status: res.status, body: res.body };
          return { outcome: 'error', ms: elapsed(), message: errorText(res.status, res.body) };
        } catch (e) {
          if (e instanceof TimeoutError) return { outcome: 'timeout', ms: elapsed(), message: e.message };
          if (e instanceof ConnectionError && attempt === 0 && !this.destroyed && elapsed() < timeoutMs) continue;
          return { outcome: 'error', ms: elapsed(), message: (e as Error).message };
        }
      }
    } finally {
      this.active--;
      if (this.retired && this.active === 0) this.destroy();
    }
  }

  /** No new calls will come: the agent is destroyed once the calls in flight ended. */
  retire(): void {
    this.retired = true;
    if (this.active === 0) this.destroy();
  }

  /** Closes every connection now. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.agent.destroy();
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

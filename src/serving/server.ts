// Starts a model server in this process: HTTP on host:port, the runtime loading behind it
// (ready only once loaded), and a graceful close (stop accepting, drain, flush the log).
// `maas serve` wraps it with signals and an endpoint file; tests call it directly.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelDescription } from '../spec/schema.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import type { Runtime } from './runtime.js';
import { compileModel } from './dataplane/model.js';
import { RequestLog, DEFAULT_RETENTION_ROWS, type RetentionOptions } from './request-log.js';
import { ServingStats } from './stats.js';
import { ServingMetrics } from './metrics.js';
import { createIdSource } from './ids.js';
import { ModelService } from './service.js';
import { createRequestHandler } from './http/handler.js';
import { referencePolicy, type ReferencePolicy } from './reference/policy.js';
import { createReferenceFetcher } from './reference/fetch-ref.js';
import { errorMessage, noEvents, type EventSink } from './event-log.js';
import { ServingError } from './errors.js';

export type RuntimeLoader = (description: ModelDescription, artifactPath: string, opts?: { threads?: number }) => Promise<Runtime>;

export interface ModelServerOptions {
  description: ModelDescription;
  artifactPath: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** SQLite request log; `:memory:` (the default) keeps it only while the process runs. */
  logDb?: string;
  retention?: RetentionOptions;
  maxBodyBytes?: number;
  threads?: number;
  reference?: Partial<ReferencePolicy>;
  stats?: { windowRows?: number; reservoirSize?: number; bins?: number };
  accessLog?: boolean;
  /** How long close() waits for in-flight requests before cutting connections. */
  drainTimeoutMs?: number;
  /** Reported by GET /v2. */
  serverVersion?: string;
  /** Defaults to the runtimes module (ONNX). */
  loadRuntime?: RuntimeLoader;
  events?: EventSink;
  clock?: Clock;
  random?: Random;
}

export interface ModelServer {
  url: string;
  host: string;
  port: number;
  /** Resolves once the runtime is loaded (the server reports ready); rejects if loading fails. */
  ready: Promise<void>;
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 2 ** 20;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

const defaultLoader: RuntimeLoader = async (description, artifactPath, opts) => {
  const { loadRuntime } = await import('./runtimes/index.js');
  return loadRuntime(description, artifactPath, opts);
};

function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}

export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const events = opts.events ?? noEvents;
  const clock = opts.clock ?? systemClock;
  const model = compileModel(opts.description);
  const ids = createIdSource();
  const metrics = new ServingMetrics({ model: model.name, version: model.version });
  const log = new RequestLog({
    path: opts.logDb ?? ':memory:',
    features: model.features,
    modelVersion: model.version,
    retention: opts.retention ?? { maxRows: DEFAULT_RETENTION_ROWS },
    clock,
    onError: (e) => events({ level: 'error', event: 'log_write_failed', error: errorMessage(e) }),
  });
  const stats = new ServingStats(model, { ...opts.stats, random: opts.random ?? systemRandom, clock });
  const service = new ModelService({
    model,
    log,
    stats,
    fetchReference: createReferenceFetcher(referencePolicy(opts.reference)),
    ids,
    clock,
    serverVersion: opts.serverVersion ?? '0.0.0',
    metrics,
  });
  const handler = createRequestHandler({
    service,
    metrics,
    ids,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    accessLog: opts.accessLog ? (entry) => events({ level: 'info', event: 'request', ...entry }) : undefined,
    onError: (e, route) =>
      events({ level: 'error', event: e instanceof ServingError ? 'request_failed' : 'internal_error', route, ...(e instanceof ServingError ? { status: e.status } : {}), error: errorMessage(e) }),
  });
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 300_000 }, handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP: answer 400 if the socket can still take it; never crash.
    if (socket.writable && err.code !== 'ECONNRESET') {
      const body = JSON.stringify({ error: `bad HTTP request: ${err.code ?? err.message}` });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    await log.close();
    throw e;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(address.address)}:${address.port}`;

  let runtimeLoad: Promise<Runtime> | undefined;
  const ready = (async () => {
    const started = clock.now();
    runtimeLoad = (opts.loadRuntime ?? defaultLoader)(opts.description, opts.artifactPath, opts.threads === undefined ? {} : { threads: opts.threads });
    const runtime = await runtimeLoad;
    service.setRuntime(runtime);
    events({ level: 'info', event: 'ready', model: model.name, version: model.version, runtime: runtime.info.name, loadMs: clock.now() - started });
  })();
  // Callers that never await `ready` must not see an unhandled rejection.
  ready.catch(() => {});

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      handler.drain();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        handler.idle().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadline))),
      ]);
      clearTimeout(timer);
      if (timedOut) events({ level: 'warn', event: 'drain_timeout', inFlight: handler.inFlight, timeoutMs: deadline });
      server.closeAllConnections();
      await stopped;
      // A runtime still loading is released once it arrives.
      await runtimeLoad?.catch(() => undefined);
      await service.close();
    })();
    return closing;
  };

  return { url, host: address.address, port: address.port, ready, close };
}

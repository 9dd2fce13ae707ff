// Starts a model server in this process: HTTP on host:port in front of an inference backend that
// loads behind it (ready only once loaded), and a graceful close (stop accepting, drain, close the
// backend). `maas serve` wraps it with signals and an endpoint file; tests call it directly.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../core/clock.js';
import type { InferenceBackend } from './backend.js';
import { ServingMetrics } from './metrics.js';
import { createIdSource, type IdSource } from './ids.js';
import { createRequestHandler } from './http/handler.js';
import { createModelBackend, type ModelBackendOptions } from './model-backend.js';
import { errorMessage, noEvents, type EventSink } from './event-log.js';
import { ServingError } from './errors.js';

export type { RuntimeLoader } from './model-backend.js';

/** How the HTTP side runs, whatever it serves. */
export interface HttpServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  maxBodyBytes?: number;
  accessLog?: boolean;
  /** How long close() waits for in-flight requests before cutting connections. */
  drainTimeoutMs?: number;
  events?: EventSink;
  clock?: Pick<Clock, 'now'>;
}

/** Serves a backend built elsewhere; the server owns it from here on and closes it. */
export interface BackendServerOptions extends HttpServerOptions {
  backend: InferenceBackend;
  /** Request metrics; by default a registry labelled with the model when the backend serves one. */
  metrics?: ServingMetrics;
}

/** Serves one model from its description and artifact (the single-model backend, built here). */
export interface ModelServerOptions extends HttpServerOptions, ModelBackendOptions {}

export type StartServerOptions = BackendServerOptions | ModelServerOptions;

export interface ModelServer {
  url: string;
  host: string;
  port: number;
  /** Resolves once the backend is loaded (the server reports ready); rejects if loading fails. */
  ready: Promise<void>;
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 2 ** 20;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}

function defaultMetrics(backend: InferenceBackend): ServingMetrics {
  const models = backend.models();
  return new ServingMetrics(models.length === 1 ? { model: models[0]!.name, version: models[0]!.version } : {});
}

interface Wiring {
  backend: InferenceBackend;
  metrics: ServingMetrics;
  ids: IdSource;
  /** What the `ready` event says about what was loaded. */
  readyFacts: () => Record<string, unknown>;
}

/**
 * `{ backend, ... }` serves that backend; `{ description, artifactPath, ... }` builds the
 * single-model backend (request log, stats, runtime loader) and serves it.
 */
export async function startModelServer(opts: StartServerOptions): Promise<ModelServer> {
  if ('backend' in opts) {
    const { backend } = opts;
    return serve(opts, {
      backend,
      metrics: opts.metrics ?? defaultMetrics(backend),
      ids: createIdSource(),
      readyFacts: () => ({ models: backend.models().map((m) => `${m.name}@${m.version}`) }),
    });
  }
  const { service, metrics, ids } = createModelBackend(opts);
  return serve(opts, {
    backend: service,
    metrics,
    ids,
    readyFacts: () => ({ model: service.model.name, version: service.model.version, runtime: service.runtimeInfo?.name }),
  });
}

async function serve(opts: HttpServerOptions, { backend, metrics, ids, readyFacts }: Wiring): Promise<ModelServer> {
  const events = opts.events ?? noEvents;
  const clock = opts.clock ?? systemClock;
  const handler = createRequestHandler({
    backend,
    metrics,
    ids,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    accessLog: opts.accessLog ? (entry) => events({ level: 'info', event: 'request', ...entry }) : undefined,
    onError: (e, route) =>
      events({
        level: 'error',
        event: e instanceof ServingError ? 'request_failed' : 'internal_error',
        route,
        ...(e instanceof ServingError ? { status: e.status } : {}),
        error: errorMessage(e),
      }),
  });
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 300_000 }, handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP: answer 400 if the socket can still take it; never crash.
    if (socket.writable && err.code !== 'ECONNRESET') {
      const body = JSON.stringify({ error: `bad HTTP request: ${err.code ?? err.message}` });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    await backend.close();
    throw e;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(address.address)}:${address.port}`;

  const ready = (async () => {
    const started = clock.now();
    await backend.start();
    events({ level: 'info', event: 'ready', ...readyFacts(), loadMs: clock.now() - started });
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
      // The backend releases a model still loading once it arrives.
      await backend.close();
    })();
    return closing;
  };

  return { url, host: address.address, port: address.port, ready, close };
}

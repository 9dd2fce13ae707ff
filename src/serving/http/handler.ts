// The HTTP face of an inference backend: routes, bodies, the request id on every answer, errors
// as {"error": ...} with the right status, metrics and the optional access log. Model names and
// versions are checked against what the backend serves, so it may serve any number of models.
// Any bad request gets an answer and leaves the server serving.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { MAX_ID_LENGTH } from '../../protocol/oip.js';
import { ServingError, listSome, servingErrorOf } from '../errors.js';
import type { IdSource } from '../ids.js';
import type { ServingMetrics } from '../metrics.js';
import type { InferenceBackend, InferOutcome, ModelTarget } from '../backend.js';
import { BINARY_HEADER, binaryHeaderLength, decodeBinaryRequest } from '../dataplane/binary-tensors.js';
import { BodyAborted, readBody } from './body.js';
import { matchRoute, type RouteName } from './router.js';
import { parseDriftQuery } from '../drift-check.js';
import { parseLabelledQuery } from '../../protocol/labelled.js';
import { parseRecordsQuery } from '../../protocol/composition-records.js';

const JSON_TYPE = 'application/json';
const BINARY_TYPE = 'application/octet-stream';
const SAFE_HEADER = /^[\x21-\x7e][\x20-\x7e]*$/;

export interface AccessEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  id: string;
}

export interface HandlerOptions {
  backend: InferenceBackend;
  metrics: ServingMetrics;
  ids: IdSource;
  maxBodyBytes: number;
  /** Called once per answered request when access logging is on. */
  accessLog?: ((entry: AccessEntry) => void) | undefined;
  /** Unexpected failures (answered with 500). */
  onError?: (e: unknown, route: string) => void;
}

export interface RequestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /** From now on: not ready, and every answer closes its connection. */
  drain(): void;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
}

function headerId(req: IncomingMessage): string | undefined {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && h !== '' && h.length <= MAX_ID_LENGTH ? h : undefined;
}

function bodyId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' && id.length <= MAX_ID_LENGTH ? id : undefined;
}

function parseJson(body: Buffer, req: IncomingMessage): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw new ServingError(400, 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // A binary tensor body sent without its header: say what is missing rather than "malformed".
    if (req.headers['content-type']?.startsWith('application/octet-stream') || text.includes('"binary_data_size"'))
      throw new ServingError(400, `a binary tensor body needs the Inference-Header-Content-Length header (the length of its JSON part)`);
    throw new ServingError(400, `malformed JSON: ${(e as Error).message}`);
  }
}

/** The request body: JSON, or with the binary tensor header a JSON header and raw tensors. */
function parseBody(body: Buffer, req: IncomingMessage, route: RouteName): unknown {
  const header = req.headers[BINARY_HEADER];
  if (header === undefined) return parseJson(body, req);
  if (route !== 'infer') throw new ServingError(400, 'Inference-Header-Content-Length is only for infer requests; send feedback as JSON');
  return decodeBinaryRequest(body, binaryHeaderLength(header, body.length));
}

export function createRequestHandler(opts: HandlerOptions): RequestHandler {
  const { backend, metrics, ids, maxBodyBytes } = opts;
  let inFlight = 0;
  let draining = false;
  let waiters: (() => void)[] = [];

  function done(): void {
    inFlight--;
    if (inFlight === 0 && waiters.length > 0) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    started: number,
    status: number,
    body: string | Buffer,
    id: string,
    contentType = JSON_TYPE,
    extra?: string[],
  ): void {
    const headers = [
      'content-type',
      contentType,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-request-id',
      SAFE_HEADER.test(id) ? id : encodeURIComponent(id),
    ];
    if (draining) headers.push('connection', 'close');
    if (extra) headers.push(...extra);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, headers);
      res.end(body);
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.finished(route, status, seconds);
    opts.accessLog?.({ method: req.method ?? '', path: req.url ?? '', status, ms: Math.round(seconds * 1e6) / 1e3, id });
    done();
  }

  function answerInfer(req: IncomingMessage, res: ServerResponse, started: number, out: InferOutcome): void {
    if (!out.binary) {
      send(req, res, 'infer', started, 200, out.body, out.id);
      return;
    }
    const header = Buffer.from(out.body, 'utf8');
    send(req, res, 'infer', started, 200, Buffer.concat([header, out.binary]), out.id, BINARY_TYPE, ['Inference-Header-Content-Length', String(header.length)]);
  }

  function fail(req: IncomingMessage, res: ServerResponse, route: string, started: number, e: unknown, id: string): void {
    if (e instanceof BodyAborted) {
      // The client went away: nobody to answer.
      metrics.finished(route, 499, (performance.now() - started) / 1000);
      done();
      return;
    }
    let status = 500;
    let message: string;
    const known = servingErrorOf(e);
    if (known) {
      status = known.status;
      message = known.message;
      // Server-side failures (runtime errors, unreachable data hosts) belong in the server log.
      if (status >= 500 && status !== 503) opts.onError?.(known, route);
    } else {
      message = `internal error: ${(e as Error)?.message ?? String(e)}`;
      opts.onError?.(e, route);
    }
    send(req, res, route, started, status, JSON.stringify({ error: message, id }), id);
  }

  /** The served model a path names; 404 for names and versions the backend does not serve. */
  function resolve(name: string | undefined, version: string | undefined): ModelTarget {
    const served = backend.models();
    let only: string | undefined;
    let count = 0;
    for (const m of served) {
      if (m.name !== name) continue;
      if (version !== undefined && m.version === version) return { name, version };
      only = m.version;
      count++;
    }
    if (count === 0) {
      const names = [...new Set(served.map((m) => `"${m.name}"`))];
      throw new ServingError(404, `unknown model "${name}"; this server serves ${names.length > 0 ? listSome(names) : 'no models'}`);
    }
    if (version !== undefined) {
      const versions = served.filter((m) => m.name === name).map((m) => m.version);
      throw new ServingError(
        404,
        `unknown version "${version}" of model ${name}; this server serves version${versions.length > 1 ? 's' : ''} ${listSome(versions)}`,
      );
    }
    return { name: name!, version: count === 1 ? only : undefined };
  }

  function post(req: IncomingMessage, res: ServerResponse, route: RouteName, target: ModelTarget, started: number, hid: string | undefined): void {
    readBody(req, maxBodyBytes, (error, raw) => {
      let id = hid ?? '';
      try {
        if (error) throw error;
        const body = parseBody(raw, req, route);
        // A feedback body's `id` names a prediction, not this request.
        const requestId = (route === 'infer' ? bodyId(body) : undefined) ?? hid ?? ids.next();
        id = requestId;
        const answered =
          route === 'infer'
            ? backend.infer(target, body, requestId, (out) => answerInfer(req, res, started, out))
            : backend.feedback(target, body).then((out) => send(req, res, route, started, 200, JSON.stringify({ id: requestId, ...out }), requestId));
        answered.catch((e: unknown) => fail(req, res, route, started, e, requestId));
      } catch (e) {
        fail(req, res, route, started, e, id || ids.next());
      }
    });
  }

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    inFlight++;
    metrics.started();
    const match = matchRoute(req.method ?? 'GET', req.url ?? '/');
    const hid = headerId(req);
    if (match.kind === 'not_found') {
      const id = hid ?? ids.next();
      send(req, res, 'not_found', started, 404, JSON.stringify({ error: `no such endpoint: ${req.method} ${req.url}`, id }), id);
      return;
    }
    if (match.kind === 'method_not_allowed') {
      const id = hid ?? ids.next();
      send(
        req,
        res,
        match.route,
        started,
        405,
        JSON.stringify({ error: `method ${req.method} is not allowed on ${req.url} (use ${match.allow})`, id }),
        id,
        JSON_TYPE,
        ['allow', match.allow],
      );
      return;
    }
    const route = match.route;
    try {
      if (route === 'infer' || route === 'feedback') {
        post(req, res, route, resolve(match.model, match.version), started, hid);
        return;
      }
      const id = hid ?? ids.next();
      switch (route) {
        case 'health_live':
          send(req, res, route, started, 200, '{"live":true}', id);
          return;
        case 'health_ready':
          if (backend.ready() && !draining) send(req, res, route, started, 200, '{"ready":true}', id);
          else
            send(
              req,
              res,
              route,
              started,
              503,
              JSON.stringify({
                error: draining ? 'shutting down' : backend.models().length === 1 ? 'the model is not loaded yet' : 'not every model is loaded yet',
                ready: false,
                id,
              }),
              id,
            );
          return;
        case 'server_metadata':
          send(req, res, route, started, 200, JSON.stringify(backend.serverMetadata()), id);
          return;
        case 'model_metadata':
          send(req, res, route, started, 200, JSON.stringify(backend.modelMetadata(resolve(match.model, match.version))), id);
          return;
        case 'model_ready': {
          const target = resolve(match.model, match.version);
          if (backend.modelReady(target) && !draining)
            send(req, res, route, started, 200, JSON.stringify({ name: target.name, version: target.version, ready: true }), id);
          else send(req, res, route, started, 503, JSON.stringify({ error: `model ${target.name} is not ready`, name: target.name, ready: false, id }), id);
          return;
        }
        case 'stats':
          backend.stats(resolve(match.model, match.version)).then(
            (stats) => send(req, res, route, started, 200, JSON.stringify(stats), id),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        case 'drift': {
          const target = resolve(match.model, match.version);
          const url = req.url ?? '';
          const q = url.indexOf('?');
          const query = parseDriftQuery(q < 0 ? '' : url.slice(q + 1));
          if (!backend.drift) throw new ServingError(404, `model ${target.name} is served without drift checks`);
          backend.drift(target, query).then(
            (report) => send(req, res, route, started, 200, JSON.stringify(report), id),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        }
        case 'labelled': {
          const target = resolve(match.model, match.version);
          const url = req.url ?? '';
          const q = url.indexOf('?');
          const query = parseLabelledQuery(q < 0 ? '' : url.slice(q + 1));
          if (!backend.labelled) throw new ServingError(404, `model ${target.name} is served without a request log to read labelled rows from`);
          // Only a strict server with a token file reads the header; it never reaches a log.
          backend.labelled(target, query, { authorization: req.headers.authorization }).then(
            (answer) => send(req, res, route, started, 200, JSON.stringify(answer), id),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        }
        case 'members': {
          const target = resolve(match.model, match.version);
          if (!backend.members) throw new ServingError(404, `model ${target.name} is not a composition; it has no members`);
          backend.members(target).then(
            (answer) => send(req, res, route, started, 200, JSON.stringify(answer), id),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        }
        case 'records': {
          const target = resolve(match.model, match.version);
          const url = req.url ?? '';
          const q = url.indexOf('?');
          const query = parseRecordsQuery(q < 0 ? '' : url.slice(q + 1));
          if (!backend.records) throw new ServingError(404, `model ${target.name} is not a composition; it keeps no member records`);
          backend.records(target, query).then(
            (answer) => send(req, res, route, started, 200, JSON.stringify(answer), id),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        }
        case 'metrics':
          metrics.text().then(
            (text) => send(req, res, route, started, 200, text, id, metrics.contentType),
            (e: unknown) => fail(req, res, route, started, e, id),
          );
          return;
        default:
          return;
      }
    } catch (e) {
      fail(req, res, route, started, e, hid ?? ids.next());
    }
  }) as RequestHandler;

  Object.defineProperty(handler, 'inFlight', { get: () => inFlight });
  handler.drain = () => {
    draining = true;
  };
  handler.idle = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));
  return handler;
}

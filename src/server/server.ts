// The control plane's HTTP face: Fastify with the route list, bearer-token authentication and
// scopes, per-token rate limits, body and time limits, idempotency keys, an audit log of every
// mutating call, one error shape, request IDs and JSON logs. Routes stay thin: they parse, call a
// use case and return its data.
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate, requireScope, type Principal } from '../app/tokens.js';
import { rateLimitHeaders } from '../auth/rate-limit.js';
import { MaasError, toMaasError } from '../core/errors.js';
import { isoNow } from '../core/clock.js';
import type { ServerDeps } from './deps.js';
import { IDEMPOTENCY_KEY } from './idempotency.js';
import { serverMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { Route, RouteReply } from './route.js';
import { auditRoutes } from './routes/audit.js';
import { compositionRoutes } from './routes/compositions.js';
import { deploymentRoutes } from './routes/deployments.js';
import { jobRoutes } from './routes/jobs.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { modelRoutes } from './routes/models.js';
import { systemRoutes } from './routes/system.js';
import { tokenRoutes } from './routes/tokens.js';

export interface ControlPlaneOptions {
  /** Fastify's logger: true for JSON lines on stdout, false for none, or pino options. */
  logger?: boolean | Record<string, unknown>;
  tls?: { key: Buffer; cert: Buffer };
  /** Extra routes (tests). */
  routes?: Route[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    maasRoute?: Route;
    startedAt?: bigint;
    errorCode?: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Who a request without a token is under --insecure-local (loopback only). */
const LOCAL_ADMIN: Principal = { tokenId: 'local', name: 'local', scopes: ['admin'] };

export function errorBody(e: MaasError): { error: { code: string; message: string; hint?: string; details?: unknown } } {
  return { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.details !== undefined ? { details: e.details } : {}) } };
}

/** Fastify's own errors (validation, body parsing and size) as maas errors. */
function fromFastify(err: Error & { code?: string; statusCode?: number; validation?: unknown; validationContext?: string }): MaasError {
  if (err.validation)
    return new MaasError('VALIDATION', `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|params|querystring)\/?\s*/, '')}`.trim(), {
      hint: 'GET /openapi.json describes every route',
    });
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MaasError('TOO_LARGE', 'the request body is larger than the server accepts', {
        hint: 'send less per request (split the rows), or ask the operator to raise --max-body',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MaasError('USAGE', `unsupported content type: ${err.message}`, { hint: 'send application/json (uploads: application/octet-stream)' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MaasError('USAGE', `the body is not valid JSON: ${err.message}`);
    default:
      break;
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 && !(err instanceof MaasError)) return new MaasError('USAGE', err.message);
  return toMaasError(err);
}

/**
 * What a client is told about an error. A MaasError a use case raised on purpose is told as it is;
 * anything else (a bug, a system error) and every INTERNAL error says only what kind of failure it
 * was and the request ID: its message may hold paths, addresses or data, and stays in the log.
 */
function publicError(err: unknown, requestId: string): MaasError {
  const x = err as { validation?: unknown; statusCode?: unknown };
  // Fastify's refusals of a request (validation, parsing, size, media type) carry a 4xx status.
  const refused = err instanceof Error && (x.validation !== undefined || (typeof x.statusCode === 'number' && x.statusCode >= 400 && x.statusCode < 500));
  if (err instanceof MaasError || refused) {
    const e = fromFastify(err);
    if (e.code !== 'INTERNAL') return e;
  }
  const hint = `the server log has the details under request ID ${requestId}`;
  const kind = toMaasError(err).code;
  if (kind === 'UNAVAILABLE' || kind === 'TIMEOUT')
    return new MaasError(kind, kind === 'TIMEOUT' ? 'a dependency of the server timed out' : 'a dependency of the server is unavailable', {
      hint: `retry in a moment; ${hint}`,
    });
  return new MaasError('INTERNAL', 'internal error', { hint });
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(h);
  return m?.[1];
}

export async function createControlPlane(deps: ServerDeps, o: ControlPlaneOptions = {}): Promise<{ app: FastifyInstance; routes: Route[] }> {
  const common = {
    logger: o.logger ?? false,
    bodyLimit: deps.limits.bodyBytes,
    requestTimeout: deps.limits.requestTimeoutMs,
    return503OnClosing: true,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }): string => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Unknown fields are refused, not silently dropped (mass assignment); query strings coerce.
    ajv: { customOptions: { removeAdditional: false as const, coerceTypes: 'array' as const, useDefaults: false, allErrors: false } },
  };
  const app = (o.tls ? Fastify({ ...common, https: { key: o.tls.key, cert: o.tls.cert } }) : Fastify(common)) as unknown as FastifyInstance;

  const metrics = serverMetrics(deps.queue);
  const routes: Route[] = [];
  routes.push(
    ...systemRoutes({ metrics: () => metrics.text(), openapi: () => document }),
    ...tokenRoutes,
    ...auditRoutes,
    ...modelRoutes,
    ...deploymentRoutes,
    ...lifecycleRoutes,
    ...compositionRoutes,
    ...jobRoutes,
    ...(o.routes ?? []),
  );
  const document = openApiDocument(routes, { version: deps.version });

  // Uploads: the body stays a stream for the handler, which checks size and digest as it reads.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.addHook('onRequest', async (req, reply) => {
    req.startedAt = process.hrtime.bigint();
    void reply.header('x-request-id', req.id);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.maasRoute;
    const seconds = req.startedAt !== undefined ? Number(process.hrtime.bigint() - req.startedAt) / 1e9 : 0;
    metrics.observe(req.method, route?.path ?? 'unmatched', reply.statusCode, seconds);
    if (route?.audit && deps.services.audit) {
      const target = req.params && typeof req.params === 'object' ? Object.values(req.params as Record<string, string>)[0] : undefined;
      await deps.services.audit
        .append({
          at: isoNow(deps.services.clock),
          requestId: req.id,
          ...(req.principal ? { tokenId: req.principal.tokenId, tokenName: req.principal.name } : {}),
          method: req.method,
          path: req.url.split('?')[0]!,
          action: route.audit,
          ...(target !== undefined ? { target } : {}),
          status: reply.statusCode,
          ...(req.errorCode ? { code: req.errorCode } : {}),
          ip: req.ip,
        })
        .catch((e: unknown) => req.log.error({ err: e }, 'audit log append failed'));
    }
  });

  app.setErrorHandler((err: Error, req, reply) => {
    const e = publicError(err, req.id);
    req.errorCode = e.code;
    // The details of an unanticipated failure stay here: message, stack and cause.
    if (e !== err && e.httpStatus >= 500) req.log.error({ err }, err.message);
    else if (e.httpStatus >= 500) req.log.warn({ code: e.code }, e.message);
    return reply.status(e.httpStatus).send(errorBody(e));
  });

  // A request whose body was not read to its end (an upload refused before or while reading it):
  // the rest is discarded and the connection closed after the answer, so that it does not linger
  // holding unread bytes (and keep close() waiting for it).
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete) {
      void reply.header('connection', 'close');
      req.raw.resume();
    }
    return payload;
  });

  app.setNotFoundHandler((req, reply) => {
    req.errorCode = 'NOT_FOUND';
    return reply
      .status(404)
      .send(errorBody(new MaasError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { hint: 'GET /openapi.json lists the routes' })));
  });

  const authenticated = async (req: FastifyRequest, reply: FastifyReply, route: Route): Promise<void> => {
    // An Authorization header that is not a bearer token is checked like a bad token: the same refusal.
    const text = bearer(req) ?? (req.headers.authorization !== undefined ? '' : undefined);
    let principal: Principal;
    if (text === undefined && deps.insecureLocal) {
      req.principal = LOCAL_ADMIN;
      return;
    }
    try {
      if (text === undefined)
        throw new MaasError('UNAUTHORIZED', 'this route needs a token', {
          hint: 'send Authorization: Bearer <token> (`maas token create` on the server makes one; `maas login URL --token T`)',
        });
      principal = await authenticate(deps.services, text, deps.tokens, ...(deps.hash ? [deps.hash] : []));
    } catch (e) {
      // Guessing tokens from one address: refused for a while after repeated failures.
      const strike = deps.authFailures.take(req.ip);
      if (!strike.allowed) {
        for (const [k, v] of Object.entries(rateLimitHeaders(strike))) void reply.header(k, v);
        throw new MaasError('RATE_LIMITED', 'too many failed authentications from this address', {
          hint: `retry in ${strike.retryAfterSeconds ?? 1} s with a valid token`,
        });
      }
      throw e;
    }
    req.principal = principal;
    requireScope(principal, route.scope as Exclude<Route['scope'], 'public'>);
    const limit = deps.limiter.take(principal.tokenId);
    for (const [k, v] of Object.entries(rateLimitHeaders(limit))) void reply.header(k, v);
    if (!limit.allowed)
      throw new MaasError('RATE_LIMITED', `rate limit of token "${principal.name}" exceeded`, { hint: `retry in ${limit.retryAfterSeconds ?? 1} s` });
  };

  const send = (reply: FastifyReply, out: RouteReply): FastifyReply => {
    for (const [k, v] of Object.entries(out.headers ?? {})) void reply.header(k, v);
    if (out.text)
      return reply
        .status(out.status ?? 200)
        .type(out.text.contentType)
        .send(out.text.body);
    return reply.status(out.status ?? 200).send(out.body);
  };

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      schema: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { querystring: route.query } : {}),
        ...(route.body ? { body: route.body } : {}),
      },
      // Authentication, scope and rate limit come first: the body of a request that is refused is
      // never read or parsed (an unauthenticated client cannot make the server parse megabytes).
      onRequest: async (req, reply) => {
        req.maasRoute = route;
        if (route.scope !== 'public') await authenticated(req, reply, route);
      },
      // A body whose fields are all optional may be left out: no body means the empty object.
      preValidation: async (req) => {
        const required = (route.body as { required?: unknown[] } | undefined)?.required;
        if (req.body === undefined && route.body && !route.stream && (required === undefined || required.length === 0)) req.body = {};
      },
      handler: async (req, reply) => {
        if (route.stream && req.headers['content-type']?.split(';')[0]?.trim() !== route.stream.contentType)
          throw new MaasError('USAGE', `send the bytes as ${route.stream.contentType}`);
        const request = {
          params: (req.params ?? {}) as Record<string, string>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          headers: req.headers,
          principal: req.principal!,
          requestId: req.id,
          raw: req.raw,
        };
        const key = route.idempotent ? req.headers['idempotency-key'] : undefined;
        if (typeof key !== 'string') return send(reply, await route.handler(request, deps));
        if (!IDEMPOTENCY_KEY.test(key)) throw new MaasError('USAGE', 'Idempotency-Key must be 1-200 printable characters');
        const owner = req.principal!.tokenId;
        const fingerprint = createHash('sha256')
          .update(`${route.method} ${req.url.split('?')[0]}\n${JSON.stringify(req.body ?? null)}`)
          .digest('hex');
        const begun = await deps.idempotency.begin(owner, key, fingerprint, isoNow(deps.services.clock));
        if (begun.state === 'done') return reply.header('idempotent-replayed', 'true').status(begun.status).send(begun.body);
        if (begun.state === 'pending')
          throw new MaasError('CONFLICT', 'the first request with this Idempotency-Key is still running', { hint: 'retry in a moment' });
        if (begun.state === 'mismatch')
          throw new MaasError('VALIDATION', 'this Idempotency-Key was used for a different request', { hint: 'use a new key for a new request' });
        try {
          const out = await route.handler(request, deps);
          await deps.idempotency.finish(owner, key, out.status ?? 200, out.body);
          return send(reply, out);
        } catch (err) {
          const e = publicError(err, req.id);
          // A final refusal is part of the answer; a failure worth retrying frees the key.
          if (e.httpStatus < 500) await deps.idempotency.finish(owner, key, e.httpStatus, errorBody(e));
          else await deps.idempotency.release(owner, key);
          throw err;
        }
      },
    });
  }
  return { app, routes };
}

/** Drains a request body a route did not read (uploads refused before reading). */
export function discard(body: unknown): void {
  if (body && typeof (body as Readable).resume === 'function') (body as Readable).resume();
}

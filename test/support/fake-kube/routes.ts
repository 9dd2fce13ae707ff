// Request routing: authentication, discovery, the answer rules of the test, authorization, then
// the resource handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discovery } from './discovery.js';
import { apply, create, get, list, remove, removeCollection, type Call, type Reply } from './handlers.js';
import { podLog } from './pod-log.js';
import { forward, parseServiceRef, servicePortMatches } from './proxy.js';
import { allowedByPolicy, forbiddenReason, type Attributes, type Policy } from './rbac.js';
import { findResource, type ResourceDef } from './resources.js';
import type { Controllers } from './rollout.js';
import { KubeError, errors } from './status.js';
import type { Store } from './store.js';

/**
 * The one way tests make the API server misbehave: matching requests get the Status the real
 * API server sends for `status` (or a dropped connection) instead of being served.
 */
export interface Answer {
  method?: string;
  /** Exact request path (no query), or a pattern. */
  path: string | RegExp;
  /** How many matching requests get it (default 1; Infinity for all). */
  times?: number;
  /** 401, 403, 404, 409, 422, 429, 500 or 503; ignored with `drop`. */
  status?: number;
  /** Replaces the message of the Status. */
  message?: string;
  /** Close the connection without an answer instead. */
  drop?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType: string;
  /** What was sent, for requests with a body. */
  body?: string;
  verb?: string;
  resource?: string;
  user?: string;
  status?: number;
  /** Answered by a rule of the test rather than served. */
  answered?: boolean;
}

export interface ServerContext {
  store: Store;
  controllers: Controllers;
  /** Bearer token -> user; empty means no authentication. */
  tokens: Map<string, string>;
  policy?: Policy;
  answers: Array<Answer & { left: number }>;
  requests: RequestRecord[];
  backends: Map<string, string>;
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', PATCH: 'patch', DELETE: 'delete' };

function send(res: ServerResponse, r: Reply): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.code, {
    'content-type': r.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: KubeError): void {
  const text = JSON.stringify(e.body);
  res.writeHead(e.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(e.code === 429 ? { 'retry-after': '1' } : {}) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Route {
  def: ResourceDef;
  ns?: string | undefined;
  name?: string | undefined;
  sub?: string | undefined;
  rest: string[];
}

function parseRoute(group: string, version: string, segs: string[]): Route | undefined {
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const def = findResource(group, version, segs[2]!);
    if (def?.namespaced) return { def, ns: segs[1], name: segs[3], sub: segs[4], rest: segs.slice(5) };
  }
  const def = findResource(group, version, segs[0] ?? '');
  // A namespaced resource without a namespace: list across all namespaces only.
  if (!def || (def.namespaced && segs.length > 1)) return undefined;
  return { def, name: segs[1], sub: segs[2], rest: segs.slice(3) };
}

/** The Status kube-apiserver writes for `code` on this request. */
function statusFor(code: number, a: Attributes, def: ResourceDef, message: string | undefined): KubeError {
  const name = a.name ?? '';
  const e = (() => {
    switch (code) {
      case 401:
        return errors.unauthorized();
      case 403:
        return errors.forbidden(def, a.name, forbiddenReason(a));
      case 404:
        return errors.notFound(def, name);
      case 409:
        return errors.conflict(def, name);
      case 422:
        return errors.invalid(def, name, []);
      case 429:
        return errors.tooManyRequests();
      case 503:
        return errors.serviceUnavailable('the server is currently unable to handle the request');
      default:
        return errors.internal('an error on the server ("") has prevented the request from succeeding');
    }
  })();
  if (message !== undefined) e.body.message = message;
  return e;
}

function takeAnswer(ctx: ServerContext, method: string, path: string): (Answer & { left: number }) | undefined {
  const a = ctx.answers.find((x) => x.left > 0 && (!x.method || x.method === method) && (typeof x.path === 'string' ? x.path === path : x.path.test(path)));
  if (a) a.left--;
  return a;
}

export async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const record: RequestRecord = { method, path: url.pathname, query: url.search, contentType: String(req.headers['content-type'] ?? '') };
  ctx.requests.push(record);
  res.on('finish', () => (record.status = res.statusCode));
  try {
    let user = 'system:anonymous';
    if (ctx.tokens.size > 0) {
      const m = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
      const u = m ? ctx.tokens.get(m[1]!.trim()) : undefined;
      if (!u) throw errors.unauthorized();
      user = u;
    }
    record.user = user;
    const body = method === 'GET' ? Buffer.alloc(0) : await readBody(req);
    if (body.length > 0) record.body = body.toString();
    const segs = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));

    // Discovery: what KubernetesObjectApi and kubectl read to find the path of a kind.
    const found = method === 'GET' ? discovery(segs) : undefined;
    if (found) return send(res, { code: 200, body: found });
    let route: Route | undefined;
    if (segs[0] === 'api' && segs[1] === 'v1') route = parseRoute('', 'v1', segs.slice(2));
    else if (segs[0] === 'apis' && segs.length >= 3) route = parseRoute(segs[1]!, segs[2]!, segs.slice(3));
    if (!route || (route.sub !== undefined && !(route.sub in route.def.subresources))) throw errors.notFoundPath();

    const { def, ns, name, sub } = route;
    let verb = VERBS[method];
    if (!verb) throw errors.methodNotAllowed(method);
    if (name === undefined) {
      if (method === 'GET') verb = 'list';
      else if (method === 'DELETE') verb = 'deletecollection';
      else if (method !== 'POST') throw errors.methodNotAllowed(method);
    } else if (method === 'POST' && sub !== 'proxy') throw errors.methodNotAllowed(method);
    // For the proxy, the RBAC name is the Service without scheme and port.
    const authName = sub === 'proxy' && name ? parseServiceRef(name).name : name;
    const attrs: Attributes = {
      user,
      verb,
      group: def.group,
      resource: def.plural,
      ...(sub ? { subresource: sub } : {}),
      ...(ns ? { namespace: ns } : {}),
      ...(authName ? { name: authName } : {}),
    };
    record.verb = verb;
    record.resource = sub ? `${def.plural}/${sub}` : def.plural;

    const answer = takeAnswer(ctx, method, url.pathname);
    if (answer) {
      record.answered = true;
      if (answer.drop) {
        req.socket.destroy();
        return;
      }
      throw statusFor(answer.status ?? 500, attrs, def, answer.message);
    }
    const authorize = (v: string) => {
      const a = { ...attrs, verb: v };
      if (ctx.policy && !allowedByPolicy(ctx.policy, a)) throw errors.forbidden(def, a.name, forbiddenReason(a));
    };
    authorize(verb);

    const call: Call = {
      def,
      ...(ns !== undefined ? { ns } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(sub !== undefined ? { sub } : {}),
      query: url.searchParams,
      body,
      contentType: String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase(),
      agent: String(req.headers['user-agent'] ?? '')
        .split('/')[0]!
        .trim(),
      authorize,
    };
    if (sub === 'proxy') return await proxy(ctx, req, res, route, url.search, body);
    if (sub === 'log') return send(res, podLog(ctx.store, ctx.controllers, call));
    if (name === undefined) {
      if (method === 'GET') return send(res, list(ctx.store, call));
      if (method === 'POST') return send(res, create(ctx.store, call));
      return send(res, removeCollection(ctx.store, call));
    }
    if (method === 'GET') return send(res, get(ctx.store, call));
    if (method === 'PATCH') return send(res, apply(ctx.store, call));
    return send(res, remove(ctx.store, call));
  } catch (e) {
    if (res.headersSent || req.socket.destroyed) return;
    sendError(res, e instanceof KubeError ? e : errors.internal((e as Error).message));
  }
}

async function proxy(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, route: Route, query: string, body: Buffer): Promise<void> {
  const ref = parseServiceRef(route.name!);
  const svc = ctx.store.get(route.def, route.ns, ref.name);
  if (!svc) throw errors.notFound(route.def, ref.name);
  const endpoints = servicePortMatches(svc.obj, ref.port) ? ctx.controllers.readyEndpoints(svc.obj) : [];
  if (endpoints.length === 0) throw errors.serviceUnavailable(`no endpoints available for service "${route.name!}"`);
  const backend = ctx.backends.get(`${route.ns!}/${ref.name}`);
  if (!backend) {
    const target = (svc.obj.spec?.ports?.[0]?.targetPort ?? 8080) as string | number;
    throw errors.serviceUnavailable(
      `error trying to reach service: dial tcp ${String(endpoints[0]!.status?.podIP)}:${String(target)}: connect: connection refused`,
    );
  }
  await forward(req, res, backend, encodeURI(`/${route.rest.join('/')}`), query, body);
}

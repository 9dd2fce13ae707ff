// Request routing: faults, authentication, discovery, authorization, then the resource handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, get, list, patch, remove, removeCollection, update, type Call, type Reply } from './handlers.js';
import { forward, parseServiceRef, servicePortMatches } from './proxy.js';
import { allowedByPolicy, denialMatches, forbiddenReason, type Attributes, type Denial, type Policy } from './rbac.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, byPlural, findResource, type ResourceDef } from './resources.js';
import type { Controllers } from './rollout.js';
import { KubeError, errors } from './status.js';
import type { Store } from './store.js';
import { podLog, scale } from './subresources.js';
import type { Obj } from './types.js';

export interface Fault {
  /** Exact request path (no query), or a pattern. */
  path: string | RegExp;
  method?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** HTTP status of the failure (default 503); ignored with `close`. */
  status?: number;
  /** Drop the connection without an answer instead. */
  close?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType: string;
  verb?: string;
  resource?: string;
  user?: string;
  status?: number;
  fault?: boolean;
}

export interface ServerContext {
  store: Store;
  controllers: Controllers;
  /** Bearer tokens accepted, mapped to user names; empty means no authentication. */
  tokens: Map<string, string>;
  defaultUser: string;
  denials: Array<Denial & { left?: number }>;
  policy?: Policy;
  faults: Array<Fault & { left: number }>;
  requests: RequestRecord[];
  backends: Map<string, string>;
  version: Obj;
  maxBody: number;
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function send(res: ServerResponse, r: Reply): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.code, {
    'content-type': r.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
    'x-kubernetes-pf-flowschema-uid': 'fake',
    'audit-id': Math.random().toString(16).slice(2),
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: KubeError): void {
  const headers: Record<string, string> = {};
  if (e.code === 429) headers['retry-after'] = '1';
  const text = JSON.stringify(e.body);
  res.writeHead(e.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(errors.tooLarge(max));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Route {
  def: ResourceDef;
  ns?: string;
  name?: string;
  sub?: string;
  rest: string[];
}

function parseRoute(group: string, version: string, segs: string[]): Route | undefined {
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const def = findResource(group, version, segs[2]!);
    if (def?.namespaced) return { def, ns: segs[1], name: segs[3], sub: segs[4], rest: segs.slice(5) };
  }
  const def = findResource(group, version, segs[0] ?? '');
  if (!def) return undefined;
  // A namespaced resource without a namespace: list across all namespaces only.
  if (def.namespaced && segs.length > 1) return undefined;
  return { def, name: segs[1], sub: segs[2], rest: segs.slice(3) };
}

function authorize(ctx: ServerContext, a: Attributes, def: Pick<ResourceDef, 'plural' | 'group'>): void {
  const denial = ctx.denials.find((d) => denialMatches(d, a) && (d.left === undefined || d.left > 0));
  const allowed = denial === undefined && (ctx.policy === undefined || allowedByPolicy(ctx.policy, a));
  if (denial?.left !== undefined) denial.left--;
  if (!allowed) throw errors.forbidden(def, a.name, forbiddenReason(a));
}

function takeFault(ctx: ServerContext, method: string, path: string): (Fault & { left: number }) | undefined {
  const f = ctx.faults.find((x) => x.left > 0 && (!x.method || x.method === method) && (typeof x.path === 'string' ? x.path === path : x.path.test(path)));
  if (f) f.left--;
  return f;
}

export async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const record: RequestRecord = { method, path: url.pathname, query: url.search, contentType: String(req.headers['content-type'] ?? '') };
  ctx.requests.push(record);
  res.on('finish', () => (record.status = res.statusCode));
  try {
    const fault = takeFault(ctx, method, url.pathname);
    if (fault) {
      record.fault = true;
      if (fault.close) {
        req.socket.destroy();
        return;
      }
      const code = fault.status ?? 503;
      throw code === 429 ? errors.tooManyRequests() : code === 503 ? errors.serviceUnavailable('the server is currently unable to handle the request') : errors.internal('injected fault');
    }
    if (url.pathname === '/version') return send(res, { code: 200, body: ctx.version });
    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) return send(res, { code: 200, body: 'ok', contentType: 'text/plain' });

    let user = ctx.defaultUser;
    if (ctx.tokens.size > 0) {
      const m = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
      const u = m ? ctx.tokens.get(m[1]!.trim()) : undefined;
      if (!u) throw errors.unauthorized();
      user = u;
    }
    record.user = user;

    const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, ctx.maxBody);
    const segs = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));

    if (method === 'GET') {
      if (segs.length === 1 && segs[0] === 'api') return send(res, { code: 200, body: apiVersions(String(req.headers.host)) });
      if (segs.length === 2 && segs[0] === 'api' && segs[1] === 'v1') return send(res, { code: 200, body: apiResourceList('', 'v1')! });
      if (segs.length === 1 && segs[0] === 'apis') return send(res, { code: 200, body: apiGroupList() });
      if (segs.length === 2 && segs[0] === 'apis') {
        const g = apiGroupDoc(segs[1]!);
        if (g) return send(res, { code: 200, body: g });
      }
      if (segs.length === 3 && segs[0] === 'apis') {
        const l = apiResourceList(segs[1]!, segs[2]!);
        if (l) return send(res, { code: 200, body: l });
      }
    }

    let route: Route | undefined;
    if (segs[0] === 'api' && segs[1] === 'v1') route = parseRoute('', 'v1', segs.slice(2));
    else if (segs[0] === 'apis' && segs.length >= 3) route = parseRoute(segs[1]!, segs[2]!, segs.slice(3));
    if (!route) throw errors.notFoundPath();

    const { def, ns, name, sub } = route;
    if (sub !== undefined && !(sub in def.subresources)) throw errors.notFoundPath();
    let verb = VERBS[method];
    if (!verb) throw errors.methodNotAllowed(method);
    if (name === undefined) {
      if (method === 'GET') verb = url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
      else if (method === 'DELETE') verb = 'deletecollection';
      else if (method !== 'POST') throw errors.methodNotAllowed(method);
    } else if (method === 'POST' && sub !== 'proxy') throw errors.methodNotAllowed(method);
    // For the proxy, the RBAC name is the Service without scheme and port.
    const authName = sub === 'proxy' && name ? parseServiceRef(name).name : name;
    const attrs: Attributes = { user, verb, group: def.group, resource: def.plural, ...(sub ? { subresource: sub } : {}), ...(ns ? { namespace: ns } : {}), ...(authName ? { name: authName } : {}) };
    record.verb = verb;
    record.resource = sub ? `${def.plural}/${sub}` : def.plural;
    authorize(ctx, attrs, def);

    const call: Call = {
      def,
      ...(ns !== undefined ? { ns } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(sub !== undefined ? { sub } : {}),
      query: url.searchParams,
      body,
      contentType: String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
      agent: String(req.headers['user-agent'] ?? '').split('/')[0]!.trim(),
      authorize: (v) => authorize(ctx, { ...attrs, verb: v }, def),
    };
    const store = ctx.store;

    if (sub === 'proxy') return await proxy(ctx, req, res, route, url.search, body);
    if (sub === 'scale') return send(res, scale(store, call, method));
    if (sub === 'log') {
      if (method !== 'GET') throw errors.methodNotAllowed(method);
      return send(res, podLog(store, ctx.controllers, call));
    }
    if (name === undefined) {
      if (method === 'GET') return send(res, list(store, call));
      if (method === 'POST') return send(res, create(store, call));
      return send(res, removeCollection(store, call));
    }
    switch (method) {
      case 'GET':
        return send(res, get(store, call));
      case 'PUT':
        return send(res, update(store, call));
      case 'PATCH':
        return send(res, patch(store, call));
      case 'DELETE':
        return send(res, remove(store, call, (gone) => cascadeNamespace(store, gone)));
      default:
        throw errors.methodNotAllowed(method);
    }
  } catch (e) {
    if (res.headersSent || req.socket.destroyed) return;
    sendError(res, e instanceof KubeError ? e : errors.internal((e as Error).message));
  }
}

function cascadeNamespace(store: Store, ns: string): void {
  for (const plural of ['pods', 'services', 'configmaps', 'events', 'deployments', 'horizontalpodautoscalers']) {
    const def = byPlural(plural);
    for (const e of store.list(def, ns)) store.remove(def, ns, e.obj.metadata.name);
  }
}

async function proxy(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, route: Route, query: string, body: Buffer): Promise<void> {
  const ref = parseServiceRef(route.name!);
  const svc = ctx.store.get(route.def, route.ns, ref.name);
  if (!svc) throw errors.notFound(route.def, ref.name);
  const endpoints = servicePortMatches(svc.obj, ref.port) ? ctx.controllers.readyEndpoints(svc.obj) : [];
  if (endpoints.length === 0) throw errors.serviceUnavailable(`no endpoints available for service "${route.name!}"`);
  const backend = ctx.backends.get(`${route.ns!}/${ref.name}`);
  const path = encodeURI(`/${route.rest.join("/")}`);
  if (!backend) {
    const target = ((svc.obj.spec?.ports ?? []) as Obj[])[0]?.targetPort ?? 8080;
    throw errors.serviceUnavailable(`error trying to reach service: dial tcp ${String(endpoints[0]!.status?.podIP)}:${String(target)}: connect: connection refused`);
  }
  await forward(req, res, backend, path, query, body);
}

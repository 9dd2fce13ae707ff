// The OpenAPI 3.1 document of the control plane, generated from the route list: the request
// schemas are the ones Fastify validates with, so the document cannot describe another API.
import type { TSchema } from '@sinclair/typebox';
import type { Route } from './route.js';
import { ErrorBody } from './schemas.js';

/** The errors every authenticated route may answer, beside its own. */
const ERRORS: Record<number, string> = {
  400: 'bad request (USAGE)',
  401: 'no token, or an invalid, expired or revoked one (UNAUTHORIZED)',
  403: 'the token lacks the scope (FORBIDDEN)',
  404: 'no such object (NOT_FOUND)',
  409: 'conflict with the current state (CONFLICT, IN_USE)',
  413: 'body or upload above the limit (TOO_LARGE)',
  422: 'the input does not validate (VALIDATION)',
  429: 'rate limit exceeded: see Retry-After (RATE_LIMITED)',
  500: 'internal error (INTERNAL, FAILURE)',
  503: 'a dependency is unavailable (UNAVAILABLE)',
  504: 'a dependency timed out (TIMEOUT)',
};

/** A plain JSON copy of a TypeBox schema (its symbol keys dropped, no $id). */
function plain(schema: TSchema): Record<string, unknown> {
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return rest;
}

function parameters(schema: TSchema | undefined, where: 'path' | 'query'): unknown[] {
  const s = schema ? plain(schema) : undefined;
  const props = (s?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((s?.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
    schema: p,
  }));
}

export function openApiDocument(routes: readonly Route[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const type = res.contentType ?? 'application/json';
      responses[status] = { description: res.description, content: { [type]: { schema: res.schema ? plain(res.schema) : { type: 'string' } } } };
    }
    const errorCodes = r.scope === 'public' ? [500, 503] : Object.keys(ERRORS).map(Number);
    for (const code of errorCodes)
      responses[String(code)] ??= { description: ERRORS[code], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const params = [...parameters(r.params, 'path'), ...parameters(r.query, 'query')];
    if (r.idempotent)
      params.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Re-sending the request with the same key returns the first answer.',
        schema: { type: 'string', maxLength: 200 },
      });
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      security: r.scope === 'public' ? [] : [{ bearer: [] }],
      'x-maas-scope': r.scope,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(r.body) } } } } : {}),
      ...(r.stream
        ? { requestBody: { required: true, content: { [r.stream.contentType]: { schema: { type: 'string', contentMediaType: r.stream.contentType } } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'maas control plane',
      version: info.version,
      description:
        'Register, find, deploy, serve and watch models. Every route but health, readiness and this document needs a bearer token (`maas token create`).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'maas_<id>_<secret> from `maas token create`' } },
      schemas: { Error: plain(ErrorBody) },
    },
  };
}

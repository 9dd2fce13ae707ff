// Health, readiness, metrics, the OpenAPI document and who the caller is.
import { Type } from '@sinclair/typebox';
import type { Route } from '../route.js';
import { Result } from '../schemas.js';

/** `metrics` and `openapi` are filled in by the server (they need the registry and the route list). */
export function systemRoutes(o: { metrics: () => Promise<string>; openapi: () => unknown }): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: the process answers.',
      tag: 'system',
      scope: 'public',
      responses: { 200: { description: 'alive', schema: Type.Object({ status: Type.Literal('ok') }) } },
      handler: () => Promise.resolve({ body: { status: 'ok' } }),
    },
    {
      method: 'GET',
      path: '/readyz',
      operationId: 'ready',
      summary: 'Readiness: the registry answers and the server is not shutting down.',
      tag: 'system',
      scope: 'public',
      responses: { 200: { description: 'ready', schema: Type.Object({ status: Type.Literal('ready'), version: Type.String() }) } },
      async handler(_req, deps) {
        if (!deps.ready())
          return { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'the server is starting or shutting down', hint: 'retry in a moment' } } };
        await deps.services.models.listModels();
        return { body: { status: 'ready', version: deps.version } };
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document.',
      tag: 'system',
      scope: 'public',
      responses: { 200: { description: 'OpenAPI 3.1 document', schema: Result('OpenAPI 3.1 document') } },
      handler: () => Promise.resolve({ body: o.openapi() }),
    },
    {
      method: 'GET',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics: requests, latency, jobs by state, queue depth.',
      tag: 'system',
      scope: 'read',
      responses: { 200: { description: 'Prometheus text format 0.0.4', contentType: 'text/plain' } },
      async handler() {
        return { body: null, text: { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: await o.metrics() } };
      },
    },
    {
      method: 'GET',
      path: '/v1/whoami',
      operationId: 'whoami',
      summary: 'The token this request carries: its name and scopes.',
      tag: 'tokens',
      scope: 'read',
      responses: { 200: { description: 'the caller', schema: Type.Object({ name: Type.String(), id: Type.String(), scopes: Type.Array(Type.String()) }) } },
      handler: (req) => Promise.resolve({ body: { name: req.principal.name, id: req.principal.tokenId, scopes: req.principal.scopes } }),
    },
  ];
}

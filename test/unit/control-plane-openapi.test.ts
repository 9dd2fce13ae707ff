// The control plane's OpenAPI document (GET /openapi.json), generated from the route list: a
// valid OpenAPI 3.1 document (checked by @readme/openapi-parser against the official 3.1 schema,
// its schemas compiled as JSON Schema 2020-12), with every route, bearer security and the Error
// responses on every authenticated operation, request schemas that are the very objects Fastify
// validates with, and a server that refuses what the document says is invalid.
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../src/server/route.js';
import { ErrorBody } from '../../src/server/schemas.js';
import { samplePath, startControlPlane, type ControlPlane } from '../support/control-plane.js';

interface Operation {
  operationId: string;
  tags: string[];
  security: Record<string, string[]>[];
  'x-maas-scope': string;
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
}

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  tags: { name: string }[];
}

/** Route schemas Fastify compiled for each request, by `METHOD path`. */
const seen = new Map<string, { body?: unknown; params?: unknown; querystring?: unknown }>();

let cp: ControlPlane;
let doc: Doc;

beforeAll(async () => {
  cp = await startControlPlane({
    configure: (app) =>
      app.addHook('onRequest', async (req: FastifyRequest) => {
        const schema = req.routeOptions.schema as { body?: unknown; params?: unknown; querystring?: unknown } | undefined;
        if (req.routeOptions.url) seen.set(`${req.method} ${req.routeOptions.url}`, { ...schema });
      }),
  });
  const a = await cp.request('GET', '/openapi.json');
  expect(a.status).toBe(200);
  doc = a.json as Doc;
});
afterAll(async () => {
  await cp?.close();
});

const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operation = (r: Pick<Route, 'method' | 'path'>): Operation | undefined => doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
/** A TypeBox schema as JSON (symbol keys gone), without its $id: what the document holds. */
const plain = (schema: unknown): unknown => {
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return rest;
};

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
    // It would catch a broken document: a parameter in no valid place, an unknown operation field.
    const broken = structuredClone(doc);
    broken.paths['/v1/jobs']!.get!.parameters![0]!.in = 'body';
    expect((await validate(broken as never)).valid).toBe(false);
    const extra = structuredClone(doc);
    (extra.paths['/v1/whoami']!.get as unknown as Record<string, unknown>).scope = 'read';
    expect((await validate(extra as never)).valid).toBe(false);
  });

  it('holds schemas that compile as JSON Schema 2020-12, and unique operation IDs', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc.components.schemas.Error as object, '#/components/schemas/Error');
    const ids: string[] = [];
    for (const ops of Object.values(doc.paths))
      for (const op of Object.values(ops)) {
        ids.push(op.operationId);
        const schemas = [
          ...(op.parameters ?? []).map((p) => p.schema),
          ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
          ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
        ];
        for (const s of schemas) if (!('$ref' in s)) expect(() => ajv.compile(s), op.operationId).not.toThrow();
      }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has every route with its method, and nothing else', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(cp.routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
    for (const r of cp.routes) {
      const op = operation(r)!;
      expect(op.operationId).toBe(r.operationId);
      expect(op.tags).toEqual([r.tag]);
      expect(op['x-maas-scope']).toBe(r.scope);
      for (const status of Object.keys(r.responses)) expect(op.responses[status], `${r.operationId} ${status}`).toBeDefined();
    }
    expect(doc.tags.map((t) => t.name).sort()).toEqual([...new Set(cp.routes.map((r) => r.tag))].sort());
  });

  it('puts bearer security and the Error responses on every authenticated operation', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Error).toEqual(plain(ErrorBody));
    const errorRef = { $ref: '#/components/schemas/Error' };
    for (const r of cp.routes) {
      const op = operation(r)!;
      if (r.scope === 'public') {
        expect(op.security, r.operationId).toEqual([]);
        expect(op.responses['401']).toBeUndefined();
        continue;
      }
      expect(op.security, r.operationId).toEqual([{ bearer: [] }]);
      for (const status of ['400', '401', '403', '404', '413', '422', '429', '500'])
        expect(op.responses[status]?.content?.['application/json']?.schema, `${r.operationId} ${status}`).toEqual(errorRef);
    }
  });

  it('documents as request body the very schema Fastify validates with', async () => {
    // Send each route a request; the hook records the schema object Fastify compiled for it.
    for (const r of cp.routes) {
      const path = samplePath(r.path);
      await cp.request(r.method, path, { token: cp.tokens.admin, ...(r.body ? { body: {} } : {}) });
    }
    for (const r of cp.routes) {
      const compiled = seen.get(`${r.method} ${r.path}`);
      expect(compiled, `${r.method} ${r.path}`).toBeDefined();
      expect(compiled!.body).toBe(r.body);
      expect(compiled!.params).toBe(r.params);
      expect(compiled!.querystring).toBe(r.query);
      const op = operation(r)!;
      if (r.body) {
        expect(op.requestBody?.required).toBe(true);
        expect(op.requestBody?.content['application/json']?.schema, r.operationId).toEqual(plain(r.body));
      } else if (r.stream) {
        expect(Object.keys(op.requestBody?.content ?? {})).toEqual([r.stream.contentType]);
      } else {
        expect(op.requestBody, r.operationId).toBeUndefined();
      }
      const params = (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query');
      const expected = [
        ...Object.entries((plain(r.params ?? {}) as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({
          name,
          in: 'path',
          schema,
        })),
        ...Object.entries((plain(r.query ?? {}) as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({
          name,
          in: 'query',
          schema,
        })),
      ];
      expect(
        params.map((p) => ({ name: p.name, in: p.in, schema: p.schema })),
        r.operationId,
      ).toEqual(expected);
      if (r.idempotent) expect(op.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')).toBe(true);
    }
  });

  it('describes requests the server refuses when they violate it: one example per tag', async () => {
    const ajv = new Ajv2020({ strict: false });
    /** Per tag: an operation, a request the document's schema refuses, and one it accepts. */
    const examples: Record<
      string,
      { path: string; method: string; in: 'body' | 'query'; bad: unknown; good: unknown; send: (v: unknown) => [string, unknown?] }
    > = {
      tokens: {
        path: '/v1/tokens',
        method: 'post',
        in: 'body',
        bad: { name: 'ci', scopes: ['root'] },
        good: { name: 'ci', scopes: ['read'] },
        send: (b) => ['/v1/tokens', b],
      },
      models: {
        path: '/v1/models/search',
        method: 'post',
        in: 'body',
        bad: { task: 'classification', limit: 0 },
        good: { task: 'classification', limit: 5 },
        send: (b) => ['/v1/models/search', b],
      },
      deployments: {
        path: '/v1/deployments',
        method: 'post',
        in: 'body',
        bad: { model: 'har', mode: 'sideways' },
        good: { model: 'har', mode: 'open' },
        send: (b) => ['/v1/deployments', b],
      },
      compositions: {
        path: '/v1/compositions/{name}/assess',
        method: 'post',
        in: 'body',
        bad: { method: 'median' },
        good: { method: 'shapley' },
        send: (b) => ['/v1/compositions/none/assess', b],
      },
      jobs: {
        path: '/v1/jobs',
        method: 'get',
        in: 'query',
        bad: { state: 'done' },
        good: { state: 'failed' },
        send: (q) => [`/v1/jobs?${new URLSearchParams(q as Record<string, string>).toString()}`],
      },
    };
    for (const tag of doc.tags.map((t) => t.name)) {
      const ex = examples[tag];
      if (!ex) {
        // A tag without an example must have nothing to violate: no body, no parameters.
        const ops = Object.values(doc.paths).flatMap((o) => Object.values(o).filter((op) => op.tags.includes(tag)));
        for (const op of ops)
          expect(op.requestBody === undefined && (op.parameters ?? []).length === 0, `${tag}: ${op.operationId} needs an example`).toBe(true);
        continue;
      }
      const op = doc.paths[ex.path]![ex.method]!;
      expect(op.tags).toEqual([tag]);
      let check: (v: unknown) => boolean;
      if (ex.in === 'body') check = ajv.compile(op.requestBody!.content['application/json']!.schema);
      else {
        const props = Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema]));
        check = ajv.compile({ type: 'object', properties: props, additionalProperties: false });
      }
      expect(check(ex.bad), `${tag}: the bad example must violate the document`).toBe(false);
      expect(check(ex.good), `${tag}: the good example must fit the document`).toBe(true);
      const [path, body] = ex.send(ex.bad);
      const refused = await cp.request(ex.method.toUpperCase(), path, { token: cp.tokens.admin, ...(body !== undefined ? { body } : {}) });
      expect(refused.status, `${tag}: ${refused.text}`).toBe(422);
      expect(refused.json).toMatchObject({ error: { code: 'VALIDATION' } });
      const [goodPath, goodBody] = ex.send(ex.good);
      const accepted = await cp.request(ex.method.toUpperCase(), goodPath, { token: cp.tokens.admin, ...(goodBody !== undefined ? { body: goodBody } : {}) });
      expect(accepted.status, `${tag}: ${accepted.text}`).not.toBe(422);
    }
  });
});

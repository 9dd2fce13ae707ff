// One route of the control plane as data: method, path, the scope it needs, the schemas that
// validate its input (and document its output), and a handler that calls a use case. The same
// list registers the routes and generates the OpenAPI document, so the two cannot drift apart.
import type { IncomingMessage } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import type { Scope } from '../auth/scopes.js';
import type { Principal } from '../app/tokens.js';
import type { ServerDeps } from './deps.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Absent on public routes only. */
  principal: Principal;
  requestId: string;
  /** The raw request: streamed bodies (uploads) are read from it. */
  raw: IncomingMessage;
}

export interface RouteReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A text body sent as is (Prometheus metrics), with this content type. */
  text?: { contentType: string; body: string };
}

export interface Route {
  method: Method;
  /** Fastify path syntax: `/v1/models/:name`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** `public` needs no token (health, readiness, the OpenAPI document). */
  scope: Scope | 'public';
  /** Mutating routes name their action for the audit log (`model.register`). */
  audit?: string;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** The body is a raw byte stream of this content type (an upload), read by the handler. */
  stream?: { contentType: string };
  /** Success responses by status, for the OpenAPI document. */
  responses: Record<number, { description: string; schema?: TSchema; contentType?: string }>;
  /** Honours the Idempotency-Key header: a repeat gets the first answer again. */
  idempotent?: boolean;
  handler(req: RouteRequest, deps: ServerDeps): Promise<RouteReply>;
}

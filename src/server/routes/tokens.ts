// API tokens, managed remotely with an admin token (`maas token ...` against a server).
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { createToken, listTokens, revokeToken } from '../../app/tokens.js';
import type { Route } from '../route.js';
import { Result, Strict } from '../schemas.js';

export const tokenRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/tokens',
    operationId: 'createToken',
    summary: 'Creates an API token; its text is in this answer only.',
    tag: 'tokens',
    scope: 'admin',
    audit: 'token.create',
    body: Strict({
      name: Type.String({ minLength: 1, maxLength: 64 }),
      scopes: Type.Array(Type.String({ enum: ['read', 'deploy', 'admin'] }), { minItems: 1, maxItems: 3 }),
      expires: Type.Optional(Type.String({ maxLength: 16, description: 'Lifetime, e.g. 30d.' })),
    }),
    responses: { 201: { description: 'the token (shown once)', schema: Result('CreatedToken: token, id, name, scopes, createdAt, expiresAt') } },
    async handler(req, deps) {
      const b = req.body as { name: string; scopes: string[]; expires?: string };
      const created = await createToken(
        deps.services,
        { name: b.name, scopes: b.scopes, ...(b.expires !== undefined ? { expires: b.expires } : {}), createdBy: `token:${req.principal.name}` },
        randomBytes,
        ...(deps.hash ? [deps.hash] : []),
      );
      return { status: 201, body: created };
    },
  },
  {
    method: 'GET',
    path: '/v1/tokens',
    operationId: 'listTokens',
    summary: 'Lists API tokens (never their secrets).',
    tag: 'tokens',
    scope: 'admin',
    responses: { 200: { description: 'tokens', schema: Type.Object({ tokens: Type.Array(Result('TokenInfo')) }) } },
    async handler(_req, deps) {
      return { body: { tokens: await listTokens(deps.services) } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/tokens/:token',
    operationId: 'revokeToken',
    summary: 'Revokes a token by ID or name.',
    tag: 'tokens',
    scope: 'admin',
    audit: 'token.revoke',
    params: Strict({ token: Type.String({ minLength: 1, maxLength: 128 }) }),
    responses: { 200: { description: 'revoked', schema: Result('RevokeOutcome: tokens, alreadyRevoked') } },
    async handler(req, deps) {
      return { body: await revokeToken(deps.services, req.params.token!) };
    },
  },
];

// The control plane in-process on 127.0.0.1:0 over appHarness() services (in-memory stores, fake
// targets, fake inference, manual clock), with in-memory idempotency keys, a cheap secret hash
// (sha256, so scrypt does not slow every test), configurable limits and rate limiters, and one
// token per scope. Requests go over real HTTP with fetch.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createToken, VerifiedTokenCache, type CreatedToken } from '../../src/app/tokens.js';
import type { HashSecret } from '../../src/auth/password-hash.js';
import { TokenBucketLimiter } from '../../src/auth/rate-limit.js';
import { FsWorkspace } from '../../src/registry/fs-workspace.js';
import { DEFAULT_LIMITS, type ServerDeps, type ServerLimits } from '../../src/server/deps.js';
import type { ResolveHost } from '../../src/server/remote-reference.js';
import type { Route } from '../../src/server/route.js';
import { createControlPlane } from '../../src/server/server.js';
import { appHarness, type AppHarness } from './app.js';
import { MemoryIdempotencyStore } from './memory-stores.js';

/** sha256(salt || secret): the same contract as scrypt, at no cost. */
export const cheapHash: HashSecret = (secret, salt) => Promise.resolve(createHash('sha256').update(salt).update(secret).digest());

export interface BucketSettings {
  ratePerSecond: number;
  burst: number;
}

export interface ControlPlaneOptions {
  limits?: Partial<ServerLimits>;
  /** Per token (default: 1000 at once, 1000/s). */
  rateLimit?: BucketSettings;
  /** Failed authentications per client address (default: 1000 at once, 1000/s). */
  authFailures?: BucketSettings;
  /** The rate limiters' clock (default: the harness's manual clock). */
  limiterNow?: () => number;
  ready?: () => boolean;
  insecureLocal?: boolean;
  /** Extra routes (createControlPlane's `routes` option). */
  routes?: Route[];
  /** Fastify's logger (default off). */
  logger?: boolean | Record<string, unknown>;
  harness?: AppHarness;
  /** Resolves artifact URI hosts (default: none, so hosts are judged by their text only). */
  resolveHost?: ResolveHost;
  /** Called with the Fastify instance before it listens (hooks a test adds). */
  configure?: (app: FastifyInstance) => void;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON, unless it is a string or bytes (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ControlPlane {
  url: string;
  app: FastifyInstance;
  routes: Route[];
  harness: AppHarness;
  deps: ServerDeps;
  idempotency: MemoryIdempotencyStore;
  tokens: { admin: string; deploy: string; read: string };
  /** Makes another token through the use case (with the cheap hash). */
  token(name: string, scopes: string, expires?: string): Promise<CreatedToken>;
  request(method: string, path: string, o?: RequestOptions): Promise<Answer>;
  close(): Promise<void>;
}

export async function startControlPlane(o: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const harness = o.harness ?? (await appHarness());
  const scratch = mkdtempSync(join(tmpdir(), 'maas-control-plane-'));
  // The server registers an uploaded artifact from a local file: the in-memory store materialises
  // its blobs into the scratch directory on demand, as a remote artifact store would.
  const blobs = join(scratch, 'blobs');
  const artifacts = harness.stores.artifacts;
  artifacts.localPath = async (digest: string) => {
    const blob = artifacts.blobs.get(digest);
    if (!blob) throw new Error(`artifact ${digest} is not in the store`);
    await mkdir(blobs, { recursive: true });
    const file = join(blobs, digest.replace(/^sha256:/, ''));
    await writeFile(file, blob.bytes);
    return file;
  };
  const idempotency = new MemoryIdempotencyStore();
  // The same services object the queue's workers use (jobRunners closes over it).
  Object.assign(harness.services, { workspace: new FsWorkspace(join(scratch, 'work')), idempotency });
  const now = o.limiterNow ?? (() => harness.clock.now());
  const bucket = (b: BucketSettings | undefined): TokenBucketLimiter =>
    new TokenBucketLimiter({ ratePerSecond: b?.ratePerSecond ?? 1000, burst: b?.burst ?? 1000, now });
  const deps: ServerDeps = {
    services: harness.services,
    queue: harness.services.queue,
    tokens: new VerifiedTokenCache(),
    limiter: bucket(o.rateLimit),
    authFailures: bucket(o.authFailures),
    idempotency,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    hash: cheapHash,
    ready: o.ready ?? (() => true),
    version: '0.0.0-test',
    ...(o.insecureLocal ? { insecureLocal: true } : {}),
    ...(o.resolveHost ? { resolveHost: o.resolveHost } : {}),
  };
  const { app, routes } = await createControlPlane(deps, { logger: o.logger ?? false, ...(o.routes ? { routes: o.routes } : {}) });
  o.configure?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the control plane does not listen on TCP');
  const url = `http://127.0.0.1:${address.port}`;

  const token = (name: string, scopes: string, expires?: string): Promise<CreatedToken> =>
    createToken(harness.services, { name, scopes, createdBy: 'test', ...(expires !== undefined ? { expires } : {}) }, randomBytes, cheapHash);
  const [admin, deploy, read] = await Promise.all([token('admin', 'admin'), token('deployer', 'deploy'), token('reader', 'read')]);

  const request = async (method: string, path: string, r: RequestOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...(r.token !== undefined ? { authorization: `Bearer ${r.token}` } : {}) };
    let body: string | Uint8Array | undefined;
    if (typeof r.body === 'string' || r.body instanceof Uint8Array) body = r.body;
    else if (r.body !== undefined) {
      body = JSON.stringify(r.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...headers, ...r.headers },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };

  return {
    url,
    app,
    routes,
    harness,
    deps,
    idempotency,
    tokens: { admin: admin.token, deploy: deploy.token, read: read.token },
    token,
    request,
    async close() {
      try {
        await app.close();
        await harness.services.close();
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

/** A route's path with its parameters filled in with valid values. */
export function samplePath(path: string): string {
  const values: Record<string, string> = {
    digest: `sha256:${'0'.repeat(64)}`,
    name: 'har',
    version: '1',
    id: 'd-0001',
    token: 'someone',
  };
  return path.replace(/:([A-Za-z0-9_]+)/g, (_m, p: string) => encodeURIComponent(values[p] ?? 'x'));
}

// The control plane against the OWASP API Security Top 10 (2023), one test per item that applies,
// over real HTTP on 127.0.0.1. Each test names the code it guards: removing that protection makes
// the test fail. (API6 sensitive business flows, API9 inventory and API10 unsafe consumption of
// third-party APIs have no cheap, meaningful check here: the route list and OpenAPI tests cover
// the inventory.)
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import { NOT_PROFILED_ELSEWHERE } from '../../src/app/register.js';
import type { Route } from '../../src/server/route.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { tempDir } from '../support/cli.js';
import { startControlPlane, type Answer, type ControlPlane } from '../support/control-plane.js';
import { onnxFor } from '../support/onnx-models.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function errorOf(a: Answer, status: number, code: string): { code: string; message: string; hint?: string } {
  expect(a.status, a.text).toBe(status);
  const e = (a.json as { error: { code: string; message: string; hint?: string } }).error;
  expect(e.code).toBe(code);
  return e;
}

function upload(cp: ControlPlane, bytes: Uint8Array, token: string, digest = sha256(bytes)): Promise<Answer> {
  return cp.request('PUT', `/v1/artifacts/${digest}`, { token, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
}

async function register(cp: ControlPlane, d: ModelDescription, token: string): Promise<Answer> {
  const bytes = onnxFor(d);
  expect((await upload(cp, bytes, token)).status).toBe(201);
  return cp.request('POST', '/v1/models', { token, body: { description: stringify(d), artifact: sha256(bytes) } });
}

/** Registers har@1 and deploys it with `token`; returns the deployment ID. */
async function deployed(cp: ControlPlane, token: string): Promise<string> {
  if (!(await cp.harness.stores.models.getModel('har', '1')))
    expect((await register(cp, modelDescription({ name: 'har', version: '1' }), cp.tokens.admin)).status).toBe(201);
  const a = await cp.request('POST', '/v1/deployments', { token, body: { model: 'har', version: '1' } });
  expect(a.status, a.text).toBe(202);
  await cp.harness.services.queue.idle();
  return (a.json as { deployment: { id: string } }).deployment.id;
}

const connections = (cp: ControlPlane): Promise<number> =>
  new Promise((resolve, reject) => cp.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));

const consumersOf = (cp: ControlPlane, id: string): string[] => [...cp.harness.stores.deployments.records.get(id)!.consumers].sort();

const started: ControlPlane[] = [];
async function server(o: Parameters<typeof startControlPlane>[0] = {}): Promise<ControlPlane> {
  const cp = await startControlPlane(o);
  started.push(cp);
  return cp;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((cp) => cp.close()));
});

let shared: ControlPlane;
beforeAll(async () => {
  shared = await startControlPlane({ resolveHost: (host) => (DNS[host] ? Promise.resolve(DNS[host]) : Promise.reject(new Error(`ENOTFOUND ${host}`))) });
});
afterAll(async () => {
  await shared?.close();
});

describe('API1 broken object level authorization', () => {
  // Guards src/server/routes/jobs.ts: `job.owner !== req.principal.name && !grants(..., 'admin')` -> NOT_FOUND,
  // and src/server/routes/deployments.ts: `consumer: consumerOf(req.principal, b.consumer)` in decommission.
  it("hides token A's job from token B, and B cannot release A's hold on a deployment", async () => {
    const cp = await server();
    const a = cp.tokens.deploy;
    const b = (await cp.token('bob', 'deploy')).token;
    const first = await cp.request('POST', '/v1/deployments', { token: a, body: { model: 'har' } });
    expect(first.status).toBe(404); // nothing registered yet
    const id = await deployed(cp, a);
    const job = (await cp.harness.services.queue.list())[0]!.id;
    expect((await cp.request('GET', `/v1/jobs/${job}`, { token: a })).status).toBe(200);
    errorOf(await cp.request('GET', `/v1/jobs/${job}`, { token: b }), 404, 'NOT_FOUND');
    expect(((await cp.request('GET', '/v1/jobs', { token: b })).json as { jobs: unknown[] }).jobs).toEqual([]);

    // B tries every way to release A's hold: as itself, naming A's consumer, ignoring "not found".
    errorOf(await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: b, body: {} }), 400, 'USAGE');
    errorOf(await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: b, body: { consumer: 'token:deployer' } }), 400, 'USAGE');
    errorOf(await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: b, body: { consumer: 'deployer' } }), 400, 'USAGE');
    const quiet = await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: b, body: { ignoreNotFound: true } });
    expect(quiet.json).toMatchObject({ outcome: 'unchanged' });
    errorOf(await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: b, body: { force: true } }), 403, 'FORBIDDEN');
    expect(consumersOf(cp, id)).toEqual(['token:deployer']);
    expect(cp.harness.local.calls.filter((c) => /^(scaleToZero|destroy)/.test(c))).toEqual([]);
    // A can.
    expect((await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: a, body: {} })).json).toMatchObject({ outcome: 'cached' });
  });
});

describe('API2 broken authentication', () => {
  // Guards src/app/tokens.ts authenticate() (one unauthorized() for every bad token) as called by
  // src/server/server.ts `authenticated`, and `deps.authFailures.take(req.ip)` there.
  it('answers malformed, unknown, wrong-secret, revoked and expired tokens with the same 401 body', async () => {
    const cp = shared;
    const good = cp.tokens.read;
    const revoked = (await cp.token('gone', 'read')).token;
    expect((await cp.request('GET', '/v1/whoami', { token: revoked })).status).toBe(200);
    expect((await cp.request('DELETE', '/v1/tokens/gone', { token: cp.tokens.admin })).status).toBe(200);
    const expiring = (await cp.token('brief', 'read', '1h')).token;
    expect((await cp.request('GET', '/v1/whoami', { token: expiring })).status).toBe(200);
    cp.harness.clock.advance(2 * 3_600_000);
    const secret = good.slice(18);
    const wrongSecret = `${good.slice(0, 18)}${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
    const unknown = `maas_${'0'.repeat(12)}_${secret}`;
    const bad: Record<string, string> = {
      malformed: 'maas_not-a-token',
      'not maas': 'eyJhbGciOiJub25lIn0.e30.',
      overlong: `maas_${'a'.repeat(700)}`,
      unknown,
      'wrong secret': wrongSecret,
      revoked,
      expired: expiring,
    };
    const bodies = new Set<string>();
    for (const [what, token] of Object.entries(bad)) {
      const a = await cp.request('GET', '/v1/whoami', { token });
      expect(a.status, what).toBe(401);
      bodies.add(a.text);
    }
    // Another scheme than Bearer is no token either, and says the same.
    const basic = await cp.request('GET', '/v1/whoami', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(basic.status).toBe(401);
    bodies.add(basic.text);
    expect([...bodies]).toHaveLength(1);
    expect(JSON.parse([...bodies][0]!)).toEqual({ error: { code: 'UNAUTHORIZED', message: 'invalid or expired token', hint: expect.any(String) } });
    expect((await cp.request('GET', '/v1/whoami', { token: good })).status).toBe(200);
  });

  it('refuses an address with 429 and Retry-After after repeated failed authentications', async () => {
    const cp = await server({ authFailures: { burst: 5, ratePerSecond: 1 }, limiterNow: () => 0 });
    const wrong = `maas_${'0'.repeat(12)}_${'A'.repeat(43)}`;
    for (let i = 0; i < 5; i++) expect((await cp.request('GET', '/v1/models', { token: wrong })).status).toBe(401);
    const locked = await cp.request('GET', '/v1/models', { token: wrong });
    errorOf(locked, 429, 'RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // No token at all counts as a failure too, so probing routes is bounded as well.
    errorOf(await cp.request('GET', '/v1/models'), 429, 'RATE_LIMITED');
    // A valid token is not locked out by someone else's guessing from the same address.
    expect((await cp.request('GET', '/v1/models', { token: cp.tokens.read })).status).toBe(200);
  });
});

describe('API3 broken object property level authorization (mass assignment)', () => {
  // Guards the `Strict` (additionalProperties: false) body schemas of src/server/routes/*.ts, the
  // ajv option `removeAdditional: false` in src/server/server.ts, and consumerOf() in
  // src/server/routes/deployments.ts (the consumer always comes from the token).
  it('refuses smuggled fields and never lets a body choose whose consumer it is', async () => {
    const cp = shared;
    if (!(await cp.harness.stores.models.getModel('har', '1')))
      expect((await register(cp, modelDescription({ name: 'har', version: '1' }), cp.tokens.admin)).status).toBe(201);
    const smuggled: [string, string, unknown][] = [
      ['POST', '/v1/deployments', { model: 'har', owner: 'admin' }],
      ['POST', '/v1/deployments', { model: 'har', scopes: ['admin'] }],
      ['POST', '/v1/deployments', { model: 'har', consumers: ['token:admin'] }],
      ['POST', '/v1/deployments', { model: 'har', id: 'd-chosen' }],
      ['POST', '/v1/deployments', { model: 'har', state: 'ready' }],
      ['POST', '/v1/deployments', { model: 'har', consumer: '../admin' }],
      ['POST', '/v1/tokens', { name: 'x', scopes: ['read'], createdBy: 'someone-else' }],
      ['POST', '/v1/tokens', { name: 'x', scopes: ['root'] }],
      ['POST', '/v1/models', { description: 'x', registeredAt: '2000-01-01T00:00:00Z' }],
      ['POST', '/v1/deployments/d-0001/decommission', { consumer: 'x', consumers: [] }],
    ];
    for (const [method, path, body] of smuggled) {
      const a = await cp.request(method, path, { token: cp.tokens.admin, body });
      expect(a.status, `${path} ${JSON.stringify(body)}`).toBe(422);
    }
    // Prototype pollution through the JSON body is refused by the parser.
    const proto = await cp.request('POST', '/v1/deployments', {
      token: cp.tokens.deploy,
      body: '{"model":"har","__proto__":{"consumer":"token:admin"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(400);
    expect(cp.harness.stores.tokens.records.size).toBeGreaterThanOrEqual(3);
    expect([...cp.harness.stores.tokens.records.values()].some((t) => t.name === 'x')).toBe(false);

    // A consumer sub-name is recorded under the token, whatever it says.
    for (const consumer of ['token:admin', 'admin', 'token:reader/x']) {
      const a = await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body: { model: 'har', version: '1', consumer } });
      expect(a.status, a.text).toBe(202);
    }
    await cp.harness.services.queue.idle();
    const all = [...cp.harness.stores.deployments.records.values()].flatMap((d) => d.consumers);
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const c of all) expect(c).toMatch(/^token:[a-z0-9][a-z0-9._-]*(\/.+)?$/);
    expect(all).toEqual(expect.arrayContaining(['token:deployer/token:admin', 'token:deployer/admin', 'token:deployer/token:reader/x']));
    expect(all).not.toContain('token:admin');
  });
});

describe('API4 unrestricted resource consumption', () => {
  // Guards `bodyLimit: deps.limits.bodyBytes` and the TOO_LARGE mapping in src/server/server.ts.
  it('refuses a JSON body above the limit with 413 TOO_LARGE', async () => {
    const cp = await server({ limits: { bodyBytes: 4096 } });
    const rows = Array.from({ length: 500 }, (_, i) => ({ x: i }));
    const e = errorOf(await cp.request('POST', '/v1/deployments/d-0001/predict', { token: cp.tokens.read, body: { rows } }), 413, 'TOO_LARGE');
    expect(e.hint).toMatch(/max-body/);
    // Without Content-Length (chunked): still refused.
    const chunked = await fetch(`${cp.url}/v1/models/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cp.tokens.read}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(`{"text": "${'a'.repeat(8000)}"}`));
          c.close();
        },
      }),
      duplex: 'half',
    });
    expect(chunked.status).toBe(413);
  });

  // Guards limited() in src/server/routes/models.ts (uploadBytes) and the store's put (nothing kept).
  it('refuses an upload above the upload limit with 413 and stores nothing', async () => {
    const cp = await server({ limits: { uploadBytes: 64 * 1024 } });
    const big = Buffer.alloc(256 * 1024, 7);
    const refused = await upload(cp, big, cp.tokens.deploy);
    errorOf(refused, 413, 'TOO_LARGE');
    expect(cp.harness.stores.artifacts.blobs.size).toBe(0);
    // The connection with the unread rest of the upload is closed, not left holding it (the
    // onSend hook of src/server/server.ts): nothing stays open on the server.
    expect(refused.headers.get('connection')).toBe('close');
    await vi.waitFor(async () => expect(await connections(cp)).toBe(0), { timeout: 10_000, interval: 50 });
    // At the limit it is taken.
    const fits = Buffer.alloc(64 * 1024, 8);
    expect((await upload(cp, fits, cp.tokens.deploy)).status).toBe(201);
    expect(cp.harness.stores.artifacts.blobs.size).toBe(1);
  });

  // Guards `deps.limiter.take(principal.tokenId)` and rateLimitHeaders in src/server/server.ts.
  it('limits each token: 429 with RateLimit-* and Retry-After, another token unaffected', async () => {
    const cp = await server({ rateLimit: { burst: 3, ratePerSecond: 1 }, limiterNow: () => 0 });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await cp.request('GET', '/v1/whoami', { token: cp.tokens.read });
      expect(a.status).toBe(200);
      expect(a.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(a.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await cp.request('GET', '/v1/whoami', { token: cp.tokens.read });
    errorOf(limited, 429, 'RATE_LIMITED');
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('retry-after')).toBe('1');
    const other = await cp.request('GET', '/v1/whoami', { token: cp.tokens.deploy });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('2');
  });

  // Guards authentication in the route's onRequest hook (src/server/server.ts): a request without
  // a valid token, or over its rate limit, is refused before its body is read or parsed.
  it('refuses unauthenticated and rate-limited requests before reading their bodies', async () => {
    const cp = await server({ limits: { bodyBytes: 4096 }, rateLimit: { burst: 1, ratePerSecond: 1 }, limiterNow: () => 0 });
    const malformed = { body: '{"model": ', headers: { 'content-type': 'application/json' } };
    errorOf(await cp.request('POST', '/v1/deployments', malformed), 401, 'UNAUTHORIZED');
    errorOf(await cp.request('POST', '/v1/deployments', { body: { model: 'x'.repeat(10_000) } }), 401, 'UNAUTHORIZED');
    errorOf(await upload(cp, Buffer.alloc(1024), 'maas_bad'), 401, 'UNAUTHORIZED');
    expect((await cp.request('GET', '/v1/whoami', { token: cp.tokens.deploy })).status).toBe(200);
    errorOf(await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, ...malformed }), 429, 'RATE_LIMITED');
    expect(cp.harness.stores.artifacts.blobs.size).toBe(0);
  });
});

describe('API5 broken function level authorization', () => {
  // Guards requireScope(principal, route.scope) in src/server/server.ts and the admin check for
  // purge/force in src/server/routes/deployments.ts.
  it('keeps read tokens from deploying and registering, deploy tokens from tokens and purges; admins can', async () => {
    const cp = await server();
    const d = modelDescription({ name: 'har', version: '1' });
    const bytes = onnxFor(d);
    errorOf(await upload(cp, bytes, cp.tokens.read), 403, 'FORBIDDEN');
    errorOf(
      await cp.request('POST', '/v1/models', {
        token: cp.tokens.read,
        body: { description: stringify({ ...d, spec: { ...d.spec, artifact: { uri: 'https://example.com/m.onnx', format: 'onnx' } } }) },
      }),
      403,
      'FORBIDDEN',
    );
    expect(cp.harness.stores.models.versions.size).toBe(0);
    expect((await register(cp, d, cp.tokens.deploy)).status).toBe(201);
    errorOf(await cp.request('POST', '/v1/deployments', { token: cp.tokens.read, body: { model: 'har' } }), 403, 'FORBIDDEN');
    expect(cp.harness.stores.deployments.records.size).toBe(0);
    const id = await deployed(cp, cp.tokens.deploy);

    errorOf(await cp.request('POST', '/v1/tokens', { token: cp.tokens.deploy, body: { name: 'mine', scopes: ['admin'] } }), 403, 'FORBIDDEN');
    errorOf(await cp.request('GET', '/v1/tokens', { token: cp.tokens.deploy }), 403, 'FORBIDDEN');
    errorOf(await cp.request('DELETE', '/v1/tokens/admin', { token: cp.tokens.deploy }), 403, 'FORBIDDEN');
    const purge = errorOf(await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: cp.tokens.deploy, body: { purge: true } }), 403, 'FORBIDDEN');
    expect(purge.message).toMatch(/admin/);
    expect(cp.harness.stores.tokens.records.size).toBe(3);
    expect(cp.harness.stores.deployments.records.has(id)).toBe(true);
    expect((await cp.request('GET', '/v1/whoami', { token: cp.tokens.admin })).status).toBe(200);

    const made = await cp.request('POST', '/v1/tokens', { token: cp.tokens.admin, body: { name: 'mine', scopes: ['read'] } });
    expect(made.status).toBe(201);
    expect((await cp.request('GET', '/v1/whoami', { token: (made.json as { token: string }).token })).json).toMatchObject({ name: 'mine', scopes: ['read'] });
    const purged = await cp.request('POST', `/v1/deployments/${id}/decommission`, { token: cp.tokens.admin, body: { purge: true, force: true } });
    expect(purged.status, purged.text).toBe(200);
    expect(purged.json).toMatchObject({ outcome: 'purged' });
    expect(cp.harness.stores.deployments.records.has(id)).toBe(false);
  });
});

/** What the shared server's resolver answers (there is no DNS in tests). */
const DNS: Record<string, string[]> = {
  'models.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'rebind.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
  'metadata.example.com': ['::ffff:169.254.169.254'],
};

describe('API7 server side request forgery', () => {
  const withArtifact = (uri: string): string => {
    const d = modelDescription({ name: 'ssrf', version: '1' });
    return stringify({ ...d, spec: { ...d.spec, artifact: { uri, format: 'onnx' } } });
  };

  // Guards serverDescription() and requirePublicReference() in src/server/routes/models.ts and
  // src/server/remote-reference.ts.
  it('refuses artifact URIs that point at server files or internal addresses', async () => {
    const cp = shared;
    const refused = [
      'file:///etc/passwd',
      'FILE:///etc/passwd',
      './model.onnx',
      '/etc/passwd',
      'http://127.0.0.1/model.onnx',
      'http://127.0.0.1:8080/admin',
      'http://localhost/model.onnx',
      'http://localhost./model.onnx',
      'http://169.254.169.254/latest/meta-data',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://metadata.google.internal./computeMetadata/v1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/model.onnx',
      'http://[::ffff:169.254.169.254]/latest/meta-data',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://10.0.0.5/model.onnx',
      'http://192.168.1.1/model.onnx',
      'gopher://example.com/x',
    ];
    for (const uri of refused) {
      const a = await cp.request('POST', '/v1/models', { token: cp.tokens.deploy, body: { description: withArtifact(uri) } });
      expect(a.status, `${uri}: ${a.text}`).toBe(422);
    }
    expect(await cp.harness.stores.models.getModel('ssrf', '1')).toBeUndefined();
    // Names are resolved: any address that is not public, or no address at all, is refused.
    for (const [uri, why] of [
      ['https://rebind.example.com/m.onnx', /resolves to 127\.0\.0\.1/],
      ['https://mixed.example.com/m.onnx', /resolves to 10\.0\.0\.7/],
      ['http://metadata.example.com/latest', /resolves to ::ffff:169\.254\.169\.254/],
      ['https://nowhere.example.com/m.onnx', /does not resolve/],
    ] as const) {
      const a = await cp.request('POST', '/v1/models', { token: cp.tokens.deploy, body: { description: withArtifact(uri) } });
      expect(a.status, `${uri}: ${a.text}`).toBe(422);
      expect((a.json as { error: { message: string } }).error.message).toMatch(why);
    }
    // A public reference is accepted: the refusals above are about the address, not the field.
    const ok = await cp.request('POST', '/v1/models', { token: cp.tokens.deploy, body: { description: withArtifact('https://models.example.com/ssrf.onnx') } });
    expect(ok.status, ok.text).toBe(201);
  });

  // Guards `trainedElsewhere` in the register route (src/server/routes/models.ts): the server never
  // reads training data a client names.
  it('never reads training data named by the description, even a valid file on the server', async () => {
    const cp = shared;
    const dir = tempDir('maas-ssrf-data-');
    try {
      const csv = join(dir.path, 'train.csv');
      writeFileSync(csv, 'x,label\n1,yes\n2,no\n3,yes\n');
      for (const [version, uri] of [
        ['1', `file://${csv}`],
        ['2', 'file:///etc/passwd'],
      ] as const) {
        const d = modelDescription({ name: 'trained', version });
        const described = { ...d, spec: { ...d.spec, training: { data: { uri, format: 'csv' as const, target: 'label' } } } };
        const a = await register(cp, described, cp.tokens.deploy);
        expect(a.status, a.text).toBe(201);
        expect(a.json).toMatchObject({ registered: [{ name: 'trained', version, profile: NOT_PROFILED_ELSEWHERE }] });
        expect(await cp.harness.stores.models.getProfile('trained', version)).toBeUndefined();
      }
    } finally {
      dir.cleanup();
    }
  });

  // Guards the predict and drift body schemas (Strict: rows/text only, no data reference).
  it('predicts only from rows or text: a data reference is refused', async () => {
    const cp = shared;
    for (const body of [
      { reference: { uri: 'file:///etc/passwd' } },
      { rows: [{ x: 1 }], input: { kind: 'reference', uri: 'http://169.254.169.254/' } },
      { kind: 'reference', uri: 'file:///etc/passwd' },
      { dataRef: 'file:///etc/passwd' },
    ])
      errorOf(await cp.request('POST', '/v1/deployments/d-0001/predict', { token: cp.tokens.read, body }), 422, 'VALIDATION');
    errorOf(await cp.request('POST', '/v1/deployments/d-0001/drift', { token: cp.tokens.read, body: { data: 'file:///etc/passwd' } }), 422, 'VALIDATION');
    expect(cp.harness.inferred).toEqual([]);
  });
});

describe('API8 security misconfiguration', () => {
  // Guards the error handler of src/server/server.ts: an error nobody anticipated answers 500
  // INTERNAL with a generic message; its details (message, stack, paths) go to the log only.
  it('answers an internal error without its message, stack or paths, and logs the details', async () => {
    const lines: string[] = [];
    const boom = (path: string, make: () => Error): Route => ({
      method: 'GET',
      path,
      operationId: path.replace(/\W/g, ''),
      summary: 'fails',
      tag: 'test',
      scope: 'read',
      responses: { 200: { description: 'never' } },
      handler: () => Promise.reject(make()),
    });
    const cp = await server({
      logger: { level: 'error', stream: { write: (s: string) => lines.push(s) } },
      routes: [
        boom('/v1/test/plain', () => new Error('exploded reading /srv/maas/home/registry.db with secret s3cr3t')),
        boom('/v1/test/enoent', () =>
          Object.assign(new Error("ENOENT: no such file or directory, open '/srv/maas/home/private.key'"), {
            code: 'ENOENT',
            path: '/srv/maas/home/private.key',
          }),
        ),
        boom('/v1/test/type', () => new TypeError("Cannot read properties of undefined (reading 'consumers')")),
      ],
    });
    for (const path of ['/v1/test/plain', '/v1/test/enoent', '/v1/test/type']) {
      const a = await cp.request('GET', path, { token: cp.tokens.read, headers: { 'x-request-id': `boom-${path.slice(9)}` } });
      const e = errorOf(a, 500, 'INTERNAL');
      for (const leak of ['/srv', 'registry.db', 's3cr3t', 'exploded', 'ENOENT', 'private.key', 'consumers', 'at ', '.ts:', '.js:', 'MAAS_DEBUG'])
        expect(a.text, `${path} leaks ${leak}`).not.toContain(leak);
      expect(e.message).toMatch(/internal error/i);
      expect(e.hint).toContain(`boom-${path.slice(9)}`);
    }
    const log = lines.join('');
    expect(log).toContain('exploded reading /srv/maas/home/registry.db');
    expect(log).toContain('private.key');
    expect(log).toContain('"reqId":"boom-plain"');
    // No framework banner either.
    const health = await cp.request('GET', '/healthz');
    expect(health.headers.get('x-powered-by')).toBeNull();
    expect(health.headers.get('server')).toBeNull();
  });
});

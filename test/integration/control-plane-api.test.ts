// The control plane's REST API over real HTTP on 127.0.0.1, in-process over the use-case harness
// (in-memory stores, fake targets and inference): health and readiness, authentication and scopes
// on every route of the route list, request IDs, the error shape, registration with an uploaded
// artifact, search and describe, deploy with idempotency keys, job ownership, decommission, the
// audit log and the Prometheus metrics.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { samplePath, startControlPlane, type Answer, type ControlPlane } from '../support/control-plane.js';
import { onnxFor } from '../support/onnx-models.js';
import { parsePrometheus } from '../support/prometheus.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The one error shape of every refusal. */
function expectError(a: Answer, status: number, code: string): { code: string; message: string; hint?: string } {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  const body = a.json as { error: { code: string; message: string; hint?: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(Object.keys(body.error).every((k) => ['code', 'message', 'hint', 'details'].includes(k))).toBe(true);
  return body.error;
}

function upload(cp: ControlPlane, bytes: Uint8Array, o: { token?: string; digest?: string } = {}): Promise<Answer> {
  return cp.request('PUT', `/v1/artifacts/${o.digest ?? sha256(bytes)}`, {
    token: o.token ?? cp.tokens.deploy,
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
}

/** Uploads a real ONNX model for the description and registers it through the API. */
async function registerThroughApi(cp: ControlPlane, d: ModelDescription, token = cp.tokens.deploy): Promise<Answer> {
  const bytes = onnxFor(d);
  const up = await upload(cp, bytes, { token });
  expect(up.status, up.text).toBe(201);
  return cp.request('POST', '/v1/models', { token, body: { description: stringify(d), artifact: sha256(bytes) } });
}

/** A body that passes each route's schema, so a refusal can only come from authentication. */
function sampleBody(method: string, path: string): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  if (path === '/v1/tokens') return { name: 'x', scopes: ['read'] };
  if (path === '/v1/models') return { description: 'x' };
  if (path === '/v1/deployments') return { model: 'har' };
  if (path.endsWith('/predict')) return { rows: [{ x: 1 }] };
  if (path.endsWith('/feedback')) return { items: [{ id: 'p1', label: 'yes' }] };
  return {};
}

function call(cp: ControlPlane, route: { method: string; path: string; stream?: unknown }, token?: string): Promise<Answer> {
  const path = samplePath(route.path);
  if (route.stream)
    return cp.request(route.method, path, {
      ...(token ? { token } : {}),
      body: new Uint8Array([1, 2, 3]),
      headers: { 'content-type': 'application/octet-stream' },
    });
  const body = sampleBody(route.method, route.path);
  return cp.request(route.method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
}

let cp: ControlPlane;
let ready = true;

beforeAll(async () => {
  cp = await startControlPlane({ ready: () => ready });
});
afterAll(async () => {
  await cp?.close();
});

describe('health and readiness', () => {
  it('answers /healthz and /readyz without a token, and 503 from /readyz while not ready', async () => {
    const health = await cp.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const readyNow = await cp.request('GET', '/readyz');
    expect(readyNow.status).toBe(200);
    expect(readyNow.json).toEqual({ status: 'ready', version: '0.0.0-test' });
    ready = false;
    try {
      const notReady = await cp.request('GET', '/readyz');
      expectError(notReady, 503, 'UNAVAILABLE');
      // Liveness does not depend on readiness.
      expect((await cp.request('GET', '/healthz')).status).toBe(200);
    } finally {
      ready = true;
    }
    expect((await cp.request('GET', '/readyz')).status).toBe(200);
  });
});

describe('authentication and scopes, route by route', () => {
  it('lists public routes that are health, readiness and the OpenAPI document only', () => {
    expect(
      cp.routes
        .filter((r) => r.scope === 'public')
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual(['GET /healthz', 'GET /openapi.json', 'GET /readyz']);
    expect(cp.routes.length).toBeGreaterThan(15);
  });

  it('refuses every non-public route without a token: 401 UNAUTHORIZED with the error shape', async () => {
    const guarded = cp.routes.filter((r) => r.scope !== 'public');
    for (const route of guarded) {
      const a = await call(cp, route);
      const e = expectError(a, 401, 'UNAUTHORIZED');
      expect(e.hint, `${route.method} ${route.path}`).toMatch(/Authorization: Bearer/);
    }
    // The HEAD routes Fastify adds for GET routes are guarded the same way.
    for (const route of guarded.filter((r) => r.method === 'GET')) expect((await cp.request('HEAD', samplePath(route.path))).status, route.path).toBe(401);
    // Refused before anything ran: no model, deployment, job or token appeared.
    expect(cp.harness.stores.models.versions.size).toBe(0);
    expect(cp.harness.stores.deployments.records.size).toBe(0);
    expect(cp.harness.stores.artifacts.blobs.size).toBe(0);
    expect(cp.harness.stores.tokens.records.size).toBe(3);
  });

  it('answers public routes without a token', async () => {
    for (const route of cp.routes.filter((r) => r.scope === 'public')) expect((await call(cp, route)).status, route.path).toBe(200);
  });

  it('refuses a token without the route scope: 403 FORBIDDEN naming the scope', async () => {
    const cases: [string, string, 'deploy' | 'admin'][] = [];
    for (const r of cp.routes) {
      if (r.scope === 'deploy' || r.scope === 'admin') cases.push([cp.tokens.read, r.method + ' ' + r.path, r.scope]);
      if (r.scope === 'admin') cases.push([cp.tokens.deploy, r.method + ' ' + r.path, r.scope]);
    }
    expect(cases.length).toBeGreaterThan(5);
    for (const [token, what, scope] of cases) {
      const [method, path] = what.split(' ') as [string, string];
      const route = cp.routes.find((r) => r.method === method && r.path === path)!;
      const e = expectError(await call(cp, route, token), 403, 'FORBIDDEN');
      expect(e.message, what).toContain(`"${scope}"`);
    }
    expect(cp.harness.stores.tokens.records.size).toBe(3);
  });

  it('tells the caller who it is', async () => {
    const me = await cp.request('GET', '/v1/whoami', { token: cp.tokens.deploy });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ name: 'deployer', id: cp.tokens.deploy.slice(5, 17), scopes: ['deploy'] });
  });
});

describe('requests and errors', () => {
  it('echoes a valid x-request-id and generates one when absent or malformed', async () => {
    const given = await cp.request('GET', '/healthz', { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42.a:b');
    const generated = await cp.request('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const other = await cp.request('GET', '/healthz');
    expect(other.headers.get('x-request-id')).not.toBe(generated.headers.get('x-request-id'));
    // Not echoed into the headers as sent: a header-injection attempt or an overlong ID gets a fresh one.
    const hostile = await cp.request('GET', '/healthz', { headers: { 'x-request-id': 'a b<script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Errors carry it too.
    const refused = await cp.request('GET', '/v1/models', { headers: { 'x-request-id': 'req-401' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('req-401');
  });

  it('answers an unknown route with 404 NOT_FOUND in the error shape', async () => {
    expectError(await cp.request('GET', '/v1/nothing-here', { token: cp.tokens.admin }), 404, 'NOT_FOUND');
    expectError(await cp.request('DELETE', '/v1/models', { token: cp.tokens.admin }), 404, 'NOT_FOUND');
  });

  it('refuses malformed JSON with 400 USAGE', async () => {
    const e = expectError(
      await cp.request('POST', '/v1/models/search', { token: cp.tokens.read, body: '{"task": ', headers: { 'content-type': 'application/json' } }),
      400,
      'USAGE',
    );
    expect(e.message).toMatch(/JSON/);
  });

  it('refuses a schema violation with 422 VALIDATION naming the field', async () => {
    const unknown = expectError(
      await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body: { model: 'har', replicas: 3 } }),
      422,
      'VALIDATION',
    );
    expect(unknown.message).toMatch(/additional properties/);
    const badName = expectError(await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body: { model: 'Not A Name' } }), 422, 'VALIDATION');
    expect(badName.message).toMatch(/model/);
    const badQuery = expectError(await cp.request('GET', '/v1/jobs?limit=0', { token: cp.tokens.read }), 422, 'VALIDATION');
    expect(badQuery.message).toMatch(/limit/);
    expect(cp.harness.stores.deployments.records.size).toBe(0);
  });
});

describe('models', () => {
  it('registers a model version from an uploaded artifact and a description', async () => {
    const d = modelDescription({ name: 'har', version: '1', metrics: { accuracy: 0.93 }, labels: { team: 'vision' } });
    const bytes = onnxFor(d);
    const up = await upload(cp, bytes);
    expect(up.status, up.text).toBe(201);
    expect(up.json).toEqual({ digest: sha256(bytes), size: bytes.length });
    expect(await cp.harness.stores.artifacts.has(sha256(bytes))).toBe(true);

    const reg = await cp.request('POST', '/v1/models', { token: cp.tokens.deploy, body: { description: stringify(d), artifact: sha256(bytes) } });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.json).toMatchObject({ registered: [{ name: 'har', version: '1', status: 'created', artifactDigest: sha256(bytes), file: 'request' }] });
    const stored = await cp.harness.stores.models.getModel('har', '1');
    expect(stored?.artifact.digest).toBe(sha256(bytes));

    // The same again is a no-op success.
    const again = await cp.request('POST', '/v1/models', { token: cp.tokens.deploy, body: { description: stringify(d), artifact: sha256(bytes) } });
    expect(again.status).toBe(201);
    expect(again.json).toMatchObject({ registered: [{ status: 'unchanged' }] });

    // An artifact that was never uploaded is named.
    const missing = sha256(Buffer.from('never uploaded'));
    const e = expectError(
      await cp.request('POST', '/v1/models', {
        token: cp.tokens.deploy,
        body: { description: stringify(modelDescription({ name: 'har', version: '2' })), artifact: missing },
      }),
      404,
      'NOT_FOUND',
    );
    expect(e.message).toContain(missing);
    expect(cp.harness.stores.models.versions.size).toBe(1);
  });

  it('refuses an upload whose bytes do not match the digest, and stores nothing', async () => {
    const before = cp.harness.stores.artifacts.blobs.size;
    const bytes = Buffer.from('the real bytes');
    const claimed = sha256(Buffer.from('other bytes'));
    expectError(await upload(cp, bytes, { digest: claimed }), 422, 'VALIDATION');
    expect(await cp.harness.stores.artifacts.has(claimed)).toBe(false);
    expect(await cp.harness.stores.artifacts.has(sha256(bytes))).toBe(false);
    expect(cp.harness.stores.artifacts.blobs.size).toBe(before);
    // Not a digest at all: refused by the path schema.
    expectError(await upload(cp, bytes, { digest: 'md5:abc' }), 422, 'VALIDATION');
    // Not octet-stream.
    expectError(await cp.request('PUT', `/v1/artifacts/${sha256(bytes)}`, { token: cp.tokens.deploy, body: { bytes: 'x' } }), 400, 'USAGE');
    expect(cp.harness.stores.artifacts.blobs.size).toBe(before);
  });

  it('finds models by capability and describes a version', async () => {
    const found = await cp.request('POST', '/v1/models/search', { token: cp.tokens.read, body: { task: 'classification', text: 'har' } });
    expect(found.status, found.text).toBe(200);
    const hits = (found.json as { hits: { name: string; version: string; reasons: string[] }[] }).hits;
    expect(hits.map((h) => `${h.name}@${h.version}`)).toEqual(['har@1']);
    const none = await cp.request('POST', '/v1/models/search', { token: cp.tokens.read, body: { task: 'regression' } });
    expect((none.json as { hits: unknown[] }).hits).toEqual([]);

    const list = await cp.request('GET', '/v1/models', { token: cp.tokens.read });
    expect(list.json).toMatchObject({ models: [{ name: 'har', latest: '1', versions: 1 }] });
    const described = await cp.request('GET', '/v1/models/har/versions/latest', { token: cp.tokens.read });
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ name: 'har', version: '1', description: { metadata: { name: 'har', labels: { team: 'vision' } } } });
    const versions = await cp.request('GET', '/v1/models/har/versions', { token: cp.tokens.read });
    expect((versions.json as { versions: { version: string }[] }).versions.map((v) => v.version)).toEqual(['1']);
    expectError(await cp.request('GET', '/v1/models/har/versions/9', { token: cp.tokens.read }), 404, 'NOT_FOUND');
  });
});

describe('deployments and jobs', () => {
  let deploymentId: string;
  let jobId: string;

  it('deploys with 202, the deployment and its job; the same Idempotency-Key replays the answer with one deployment', async () => {
    const body = { model: 'har', version: '1' };
    const first = await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body, headers: { 'idempotency-key': 'deploy-har-1' } });
    expect(first.status, first.text).toBe(202);
    const result = first.json as { deployment: { id: string; consumers: string[] }; outcome: string; job: string };
    expect(result).toMatchObject({ outcome: 'created', deployment: { model: 'har', version: '1', consumers: ['token:deployer'] } });
    expect(result.job).toEqual(expect.any(String));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    deploymentId = result.deployment.id;
    jobId = result.job;

    const replay = await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body, headers: { 'idempotency-key': 'deploy-har-1' } });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
    expect(cp.harness.stores.deployments.records.size).toBe(1);
    expect(await cp.harness.services.queue.list()).toHaveLength(1);

    const other = expectError(
      await cp.request('POST', '/v1/deployments', {
        token: cp.tokens.deploy,
        body: { ...body, consumer: 'nightly' },
        headers: { 'idempotency-key': 'deploy-har-1' },
      }),
      422,
      'VALIDATION',
    );
    expect(other.message).toMatch(/Idempotency-Key/);
    expect(cp.harness.stores.deployments.records.size).toBe(1);
    expect(cp.harness.stores.deployments.records.get(deploymentId)!.consumers).toEqual(['token:deployer']);
  });

  it('shows a job to its owner and to admins, and to no other token (404)', async () => {
    await cp.harness.services.queue.idle();
    const mine = await cp.request('GET', `/v1/jobs/${jobId}`, { token: cp.tokens.deploy });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.json).toMatchObject({ id: jobId, kind: 'deploy', state: 'succeeded', owner: 'deployer' });
    expect((await cp.request('GET', `/v1/jobs/${jobId}`, { token: cp.tokens.admin })).status).toBe(200);
    const e = expectError(await cp.request('GET', `/v1/jobs/${jobId}`, { token: cp.tokens.read }), 404, 'NOT_FOUND');
    // The same answer as for a job that does not exist.
    const absent = expectError(await cp.request('GET', '/v1/jobs/job-999', { token: cp.tokens.read }), 404, 'NOT_FOUND');
    expect(e.message.replace(jobId, 'ID')).toBe(absent.message.replace('job-999', 'ID'));
    expect((await cp.request('GET', '/v1/jobs', { token: cp.tokens.read })).json).toEqual({ jobs: [] });
    expect((await cp.request('GET', '/v1/jobs', { token: cp.tokens.deploy })).json).toMatchObject({ jobs: [{ id: jobId }] });
    // The job started the server on the (fake) target; once it answers, the deployment is ready.
    expect(cp.harness.local.calls).toContain(`start ${deploymentId} har@1`);
    cp.harness.local.running.set(deploymentId, { state: 'ready', endpoint: `http://fake/${deploymentId}` });
    const status = await cp.request('GET', `/v1/deployments/${deploymentId}`, { token: cp.tokens.read });
    expect(status.json).toMatchObject({ id: deploymentId, state: 'ready' });
  });

  it("decommission releases the caller's hold only", async () => {
    // A second token deploys the same version: it joins the deployment.
    const other = await cp.token('pipeline', 'deploy');
    const joined = await cp.request('POST', '/v1/deployments', { token: other.token, body: { model: 'har', version: '1' } });
    expect(joined.status, joined.text).toBe(202);
    expect(joined.json).toMatchObject({ deployment: { id: deploymentId }, outcome: 'reused' });
    expect(cp.harness.stores.deployments.records.get(deploymentId)!.consumers.sort()).toEqual(['token:deployer', 'token:pipeline']);

    const released = await cp.request('POST', `/v1/deployments/${deploymentId}/decommission`, { token: other.token, body: {} });
    expect(released.status, released.text).toBe(200);
    expect(released.json).toMatchObject({ outcome: 'released', remainingConsumers: ['token:deployer'] });
    // Again: not a consumer any more; the other hold is untouched.
    expect((await cp.request('POST', `/v1/deployments/${deploymentId}/decommission`, { token: other.token, body: {} })).status).toBe(400);
    expect(cp.harness.stores.deployments.records.get(deploymentId)!.consumers).toEqual(['token:deployer']);
    expect(cp.harness.stores.deployments.records.get(deploymentId)!.state).toBe('ready');
    expect(cp.harness.local.calls.filter((c) => c.startsWith('scaleToZero'))).toEqual([]);

    const last = await cp.request('POST', `/v1/deployments/${deploymentId}/decommission`, { token: cp.tokens.deploy, body: {} });
    expect(last.json).toMatchObject({ outcome: 'cached', remainingConsumers: [] });
  });

  it('records one audit entry per mutating call with the token name, action and status', async () => {
    const audit = cp.harness.services.audit!;
    const before = (await audit.list()).length;
    const d = modelDescription({ name: 'audited', version: '1' });
    await registerThroughApi(cp, d, cp.tokens.admin);
    await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body: { model: 'audited' } });
    await cp.request('POST', '/v1/deployments', { token: cp.tokens.read, body: { model: 'audited' } });
    // Reads are not audited.
    await cp.request('GET', '/v1/models', { token: cp.tokens.read });
    await cp.request('POST', '/v1/models/search', { token: cp.tokens.read, body: {} });
    const created = await cp.request('POST', '/v1/tokens', { token: cp.tokens.admin, body: { name: 'ci', scopes: ['read'] } });
    expect(created.status).toBe(201);
    await cp.request('DELETE', '/v1/tokens/ci', { token: cp.tokens.admin, headers: { 'x-request-id': 'revoke-ci' } });
    const expected = [
      ['admin', 'artifact.upload', 201],
      ['admin', 'model.register', 201],
      ['deployer', 'deployment.create', 202],
      ['reader', 'deployment.create', 403],
      ['admin', 'token.create', 201],
      ['admin', 'token.revoke', 200],
    ];
    await vi.waitFor(async () => expect((await audit.list()).length).toBe(before + expected.length), { timeout: 5_000 });
    const entries = (await audit.list()).slice(before);
    expect(entries.map((e) => [e.tokenName, e.action, e.status])).toEqual(expected);
    const revoke = entries.at(-1)!;
    expect(revoke).toMatchObject({ method: 'DELETE', path: '/v1/tokens/ci', target: 'ci', requestId: 'revoke-ci', ip: '127.0.0.1' });
    expect(entries[3]).toMatchObject({ code: 'FORBIDDEN' });
    // Nothing secret in the log: not the created token's text.
    expect(JSON.stringify(entries)).not.toContain((created.json as { token: string }).token);
  });

  it('serves Prometheus metrics counting requests and jobs by state', async () => {
    await cp.harness.services.queue.idle();
    for (let i = 0; i < 3; i++) await cp.request('GET', '/v1/whoami', { token: cp.tokens.read });
    const a = await cp.request('GET', '/metrics', { token: cp.tokens.read });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parsePrometheus(a.text);
    expect(types.get('maas_server_requests_total')).toBe('counter');
    expect(types.get('maas_server_request_duration_seconds')).toBe('histogram');
    const count = (route: string, status: string, method = 'GET'): number =>
      samples.find((s) => s.name === 'maas_server_requests_total' && s.labels.route === route && s.labels.status === status && s.labels.method === method)
        ?.value ?? 0;
    expect(count('/v1/whoami', '200')).toBeGreaterThanOrEqual(4);
    expect(count('/v1/deployments', '202', 'POST')).toBeGreaterThanOrEqual(3);
    expect(count('/v1/deployments', '401', 'POST')).toBeGreaterThanOrEqual(1);
    expect(count('unmatched', '404')).toBeGreaterThanOrEqual(1);
    const jobs = Object.fromEntries(samples.filter((s) => s.name === 'maas_jobs').map((s) => [s.labels.state, s.value]));
    const queued = await cp.harness.services.queue.counts();
    expect(jobs).toEqual(queued);
    expect(jobs.succeeded).toBe(2);
    expect(samples.find((s) => s.name === 'maas_queue_depth')?.value).toBe(0);
  });
});

// `maas server` as a real process (the built CLI, bin/maas.js) on a free 127.0.0.1 port with a
// temporary MAAS_HOME: it refuses to start without an admin token (unless --insecure-local on a
// loopback address, never on 0.0.0.0), starts once `maas token create` made one, answers health
// and readiness, logs JSON lines that carry the request ID, and exits 0 on SIGTERM; a deploy job
// that is still running at SIGTERM (its Kubernetes API calls held back by a proxy in front of the
// API server substitute) goes back to the queue, and converges after a restart. With
// --tls-cert/--tls-key it serves HTTPS only: a client that trusts the certificate's CA gets
// answers (the CLI in remote mode too, through NODE_EXTRA_CA_CERTS), one that does not is
// refused, and plain HTTP to the port gets nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import { BIN, REPO_ROOT, tempDir } from '../support/cli.js';
import { startFakeKube } from '../support/fake-kube/index.js';
import { kubeconfigYaml } from '../support/kube-target.js';
import { onnxFor } from '../support/onnx-models.js';
import { slowProxy } from '../support/slow-proxy.js';

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

function start(args: string[], home: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', MAAS_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    // Could not start at all (e.g. a missing cwd): an exit code no CLI run has.
    child.on('error', (e) => {
      children.delete(child);
      err += String(e);
      resolve(-1);
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with the value, or rejects after `ms` saying what was awaited. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** Runs the CLI to its end (bounded). */
async function run(args: string[], home: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(args, home, env);
  const code = await within(r.exited, 30_000, `maas ${args.join(' ')}`);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (the server listens) or the process exits; bounded. */
async function waitUntilListening(r: Running, url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exitCode: number | null | undefined;
  void r.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the server exited (${exitCode}) before listening:\n${r.stderr()}\n${r.stdout()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not become ready:\n${r.stderr()}\n${r.stdout()}`);
}

/** SIGTERM, then the exit code (bounded). */
async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return within(r.exited, 20_000, 'exit after SIGTERM');
}

let home: { path: string; cleanup: () => void };

beforeAll(() => {
  if (!existsSync(join(REPO_ROOT, 'dist/src/server/server.js')) || !existsSync(join(REPO_ROOT, 'dist/src/cli/commands/server.js')))
    throw new Error('the built CLI is missing: build first (npx tsc -p tsconfig.build.json; npm test does)');
  home = tempDir('maas-server-process-');
});
afterEach(() => {
  // No process outlives its test, whatever happened.
  for (const c of children) c.kill('SIGKILL');
});
afterAll(() => home?.cleanup());

describe('maas server as a process', () => {
  it('refuses to start without an admin token: exit 2 and the hint on stderr', async () => {
    const port = await freePort();
    const r = await run(['server', '--listen', `127.0.0.1:${port}`], home.path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no admin token');
    expect(r.stderr).toContain('maas token create --name admin --scope admin');
  });

  it('refuses --insecure-local on 0.0.0.0 (exit 2), and starts with it on 127.0.0.1 acting as a local admin', async () => {
    const port = await freePort();
    const refused = await run(['server', '--listen', `0.0.0.0:${port}`, '--insecure-local'], home.path);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--insecure-local only works on a loopback address/);

    const url = `http://127.0.0.1:${port}`;
    const r = start(['server', '--listen', `127.0.0.1:${port}`, '--insecure-local', '--log-level', 'warn'], home.path);
    await waitUntilListening(r, url);
    const me = await fetch(`${url}/v1/whoami`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'local', scopes: ['admin'] });
    // A token that is sent is still checked.
    expect((await fetch(`${url}/v1/whoami`, { headers: { authorization: 'Bearer maas_wrong' } })).status).toBe(401);
    expect(await stop(r)).toBe(0);
  });

  it('starts with an admin token, answers health and readiness, logs request IDs, and exits 0 on SIGTERM', async () => {
    const created = await run(['token', 'create', '--name', 'admin', '--scope', 'admin', '-o', 'json'], home.path);
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    expect(token).toMatch(/^maas_[0-9a-f]{12}_/);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const r = start(['server', '--listen', `127.0.0.1:${port}`], home.path);
    await waitUntilListening(r, url);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', version: expect.any(String) });
    expect((await fetch(`${url}/v1/whoami`)).status).toBe(401);
    const me = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'process-test-42' } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'admin', scopes: ['admin'] });
    expect(me.headers.get('x-request-id')).toBe('process-test-42');

    expect(await stop(r)).toBe(0);
    // JSON lines on stdout, the request's among them with its ID; nothing secret.
    const lines = r
      .stdout()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { reqId?: string; msg?: string; level?: number });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.msg === 'control plane ready')).toBe(true);
    expect(lines.filter((l) => l.reqId === 'process-test-42').length).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
    expect(lines.at(-1)?.msg).toBe('stopped');
    expect(r.stdout()).not.toContain(token.slice(18));
  });
});

describe('a job running at SIGTERM', () => {
  it('goes back to the queue and converges after a restart', { timeout: 100_000 }, async () => {
    const dir = tempDir('maas-server-requeue-');
    const fake = await startFakeKube({ namespaces: ['maas'], nodes: [{ name: 'n1', cpu: '8', memory: '16Gi' }] });
    // The deploy job's first call to the cluster (does the namespace exist?) is slow, so that SIGTERM
    // comes while the job runs; its next one (applying the ConfigMap) is never answered. That call
    // starts after SIGTERM, so the server's grace period (--shutdown-grace 3s) ends before the
    // client's own request timeout (30 s) could fail the job: the job is still running then.
    const proxy = await slowProxy(fake.url, (req) =>
      req.method === 'GET' && /^\/api\/v1\/namespaces\/maas(\?|$)/.test(req.url ?? '')
        ? 3_000
        : req.method !== 'GET' && (req.url ?? '').includes('/configmaps')
          ? 'hold'
          : 'pass',
    );
    try {
      const kubeconfig = join(dir.path, 'kubeconfig.yaml');
      writeFileSync(kubeconfig, kubeconfigYaml({ server: proxy.url, namespace: 'maas' }));
      const home = join(dir.path, 'home');
      mkdirSync(home);
      const created = await run(['token', 'create', '--name', 'admin', '--scope', 'admin', '-o', 'json'], home);
      expect(created.code, created.stderr).toBe(0);
      const auth = { authorization: `Bearer ${(JSON.parse(created.stdout) as { token: string }).token}` };
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const serve = () => start(['server', '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', '--shutdown-grace', '3s'], home, { KUBECONFIG: kubeconfig });
      const api = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; json: unknown }> => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { ...auth, ...(body !== undefined ? { 'content-type': type } : {}) },
          ...(body !== undefined ? { body: type === 'application/json' ? JSON.stringify(body) : (body as Uint8Array) } : {}),
          signal: AbortSignal.timeout(20_000),
        });
        return { status: res.status, json: await res.json() };
      };

      let server = serve();
      await waitUntilListening(server, url);
      const d = modelDescription({ name: 'har', version: '1' });
      const bytes = onnxFor(d);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      expect((await api('PUT', `/v1/artifacts/${digest}`, bytes, 'application/octet-stream')).status).toBe(201);
      const registered = await api('POST', '/v1/models', { description: stringify(d), artifact: digest });
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      const deployed = await api('POST', '/v1/deployments', { model: 'har', version: '1', target: 'kubernetes' });
      expect(deployed.status, JSON.stringify(deployed.json)).toBe(202);
      const { deployment, job } = deployed.json as { deployment: { id: string }; job: string };

      // Running, waiting for the cluster.
      const deadline = Date.now() + 20_000;
      while (proxy.state.delayed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(proxy.state.delayed).toBe(1);
      expect((await api('GET', `/v1/jobs/${job}`)).json).toMatchObject({ state: 'running', attempts: 1 });

      // SIGTERM: the job gets the server's grace period (3 s), then goes back to the queue.
      server.child.kill('SIGTERM');
      expect(await within(server.exited, 45_000, 'exit after SIGTERM with a running job')).toBe(0);
      expect(proxy.state.held).toBe(1);
      proxy.release();

      server = serve();
      await waitUntilListening(server, url);
      let record: { state?: string; attempts?: number; logs?: { message: string }[] } = {};
      const converged = Date.now() + 20_000;
      while (Date.now() < converged) {
        record = (await api('GET', `/v1/jobs/${job}`)).json as typeof record;
        if (record.state === 'succeeded' || record.state === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(record.state, JSON.stringify(record)).toBe('succeeded');
      // Requeued, not failed: the interrupted run did not use up an attempt.
      expect(
        record.logs?.some((l) => /requeued at shutdown/.test(l.message)),
        JSON.stringify(record),
      ).toBe(true);
      expect(record.attempts).toBe(1);
      let state = '';
      const ready = Date.now() + 20_000;
      while (Date.now() < ready && state !== 'ready') {
        state = ((await api('GET', `/v1/deployments/${deployment.id}`)).json as { state: string }).state;
        if (state !== 'ready') await new Promise((r) => setTimeout(r, 100));
      }
      expect(state).toBe('ready');
      expect(await stop(server)).toBe(0);
    } finally {
      await proxy.close();
      await fake.close();
      dir.cleanup();
    }
  });
});

/** A self-signed certificate for 127.0.0.1 (its own CA), made by the openssl CLI, valid one day. */
function selfSignedCert(dir: string): { cert: string; key: string } {
  if (spawnSync('openssl', ['version']).error) throw new Error('the openssl CLI is not installed: apt-get install -y openssl (Debian package "openssl")');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate (${made.status}): ${made.stderr}`);
  return { cert, key };
}

/** One HTTPS GET with `ca` as the only trusted CA (none: the system's), bounded. */
function httpsGet(url: string, o: { ca?: Buffer; token?: string } = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'GET', timeout: 10_000, ...(o.ca ? { ca: o.ca } : {}), headers: o.token ? { authorization: `Bearer ${o.token}` } : {} },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('maas server with --tls-cert and --tls-key', () => {
  it('serves HTTPS to clients that trust its CA, the CLI in remote mode included, and nothing over plain HTTP', { timeout: 90_000 }, async () => {
    const dir = tempDir('maas-server-tls-');
    try {
      const { cert, key } = selfSignedCert(dir.path);
      const ca = readFileSync(cert);
      const home = join(dir.path, 'home');
      mkdirSync(home);
      const created = await run(['token', 'create', '--name', 'admin', '--scope', 'admin', '-o', 'json'], home);
      expect(created.code, created.stderr).toBe(0);
      const token = (JSON.parse(created.stdout) as { token: string }).token;
      const port = await freePort();
      const url = `https://127.0.0.1:${port}`;
      const server = start(['server', '--listen', `127.0.0.1:${port}`, '--tls-cert', cert, '--tls-key', key, '--log-level', 'warn'], home);

      const deadline = Date.now() + 30_000;
      let exitCode: number | null | undefined;
      void server.exited.then((c) => (exitCode = c));
      for (;;) {
        if (exitCode !== undefined) throw new Error(`the server exited (${exitCode}) before listening:\n${server.stderr()}`);
        const ready = await httpsGet(`${url}/readyz`, { ca }).catch(() => undefined);
        if (ready?.status === 200) {
          expect(ready.json).toMatchObject({ status: 'ready' });
          break;
        }
        if (Date.now() > deadline) throw new Error(`the server did not answer over HTTPS:\n${server.stderr()}\n${server.stdout()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await httpsGet(`${url}/v1/whoami`, { ca, token })).toMatchObject({ status: 200, json: { name: 'admin', scopes: ['admin'] } });
      // Without the CA the certificate is not trusted.
      await expect(httpsGet(`${url}/readyz`)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      // Plain HTTP to the TLS port: no HTTP answer at all.
      const plain = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
        (res) => `answered ${res.status}`,
        (e: unknown) => e,
      );
      expect(plain).toBeInstanceOf(TypeError);
      expect(String((plain as TypeError).cause)).not.toMatch(/timeout|abort/i);

      // The CLI in remote mode over HTTPS, trusting the CA through NODE_EXTRA_CA_CERTS.
      const remote = { MAAS_SERVER: url, MAAS_TOKEN: token };
      const cli = join(dir.path, 'client');
      mkdirSync(cli);
      const me = await run(['whoami', '-o', 'json'], cli, { ...remote, NODE_EXTRA_CA_CERTS: cert });
      expect(me.code, me.stderr).toBe(0);
      expect(JSON.parse(me.stdout)).toMatchObject({ name: 'admin', scopes: ['admin'] });
      const made = await run(['token', 'create', '--name', 'reader', '--scope', 'read', '-o', 'json'], cli, { ...remote, NODE_EXTRA_CA_CERTS: cert });
      expect(made.code, made.stderr).toBe(0);
      const listed = await run(['token', 'list', '-o', 'json'], cli, { ...remote, NODE_EXTRA_CA_CERTS: cert });
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((t) => t.name).sort()).toEqual(['admin', 'reader']);
      // Without it the CLI refuses the server's certificate.
      const untrusted = await run(['whoami', '-o', 'json'], cli, remote);
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.stderr).toMatch(/TLS verification failed/);

      expect(await stop(server)).toBe(0);
    } finally {
      dir.cleanup();
    }
  });
});

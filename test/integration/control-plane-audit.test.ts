// The audit log as admins read it: GET /v1/audit (admin only, filters), `maas audit` against a
// server with an admin token (and refused with a lesser one), and the retention that prunes old
// audit entries and idempotency keys.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pruneControlPlane } from '../../src/app/audit.js';
import type { AuditRecord } from '../../src/auth/ports.js';
import { startControlPlane, type ControlPlane } from '../support/control-plane.js';
import { runCli, tempDir } from '../support/cli.js';

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
  // Two refused deploys (no such model) by two tokens: audited like any mutating call.
  await cp.request('POST', '/v1/deployments', { token: cp.tokens.deploy, body: { model: 'nothing-here' } });
  await cp.request('POST', '/v1/tokens', { token: cp.tokens.admin, body: { name: 'pipeline', scopes: ['read'] } });
  await vi.waitFor(async () => expect((await cp.harness.services.audit!.list()).length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
});
afterAll(async () => cp.close());

describe('GET /v1/audit', () => {
  it('shows admins who did what, filtered by token name', async () => {
    const all = await cp.request('GET', '/v1/audit', { token: cp.tokens.admin });
    expect(all.status, all.text).toBe(200);
    const entries = (all.json as { entries: AuditRecord[] }).entries;
    expect(entries.map((e) => [e.action, e.status, e.code])).toEqual(
      expect.arrayContaining([
        ['deployment.create', 404, 'NOT_FOUND'],
        ['token.create', 201, undefined],
      ]),
    );
    const mine = await cp.request('GET', '/v1/audit?token=admin&limit=10', { token: cp.tokens.admin });
    const only = (mine.json as { entries: AuditRecord[] }).entries;
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((e) => e.tokenName === 'admin')).toBe(true);
  });

  it('is refused to a deploy token and to a bad query', async () => {
    expect((await cp.request('GET', '/v1/audit', { token: cp.tokens.deploy })).status).toBe(403);
    expect((await cp.request('GET', '/v1/audit?limit=0', { token: cp.tokens.admin })).status).toBe(422);
    expect((await cp.request('GET', '/v1/audit?since=yesterday', { token: cp.tokens.admin })).status).toBe(400);
  });
});

describe('maas audit against a server', () => {
  it('prints the entries as JSON with an admin token, and exits 8 (refused) without one', async () => {
    const home = tempDir('maas-audit-home-');
    try {
      const ok = await runCli(['audit', '--token', 'deployer', '-o', 'json'], { home: home.path, env: { MAAS_SERVER: cp.url, MAAS_TOKEN: cp.tokens.admin } });
      expect(ok.code, ok.stderr).toBe(0);
      const entries = JSON.parse(ok.stdout) as AuditRecord[];
      expect(entries.map((e) => e.action)).toContain('deployment.create');
      expect(entries.every((e) => e.tokenName === 'deployer')).toBe(true);
      const refused = await runCli(['audit'], { home: home.path, env: { MAAS_SERVER: cp.url, MAAS_TOKEN: cp.tokens.read } });
      expect(refused.code).toBe(8);
      expect(refused.stderr).toMatch(/admin/);
      const bad = await runCli(['audit', '--limit', 'many'], { home: home.path, env: { MAAS_SERVER: cp.url, MAAS_TOKEN: cp.tokens.admin } });
      expect(bad.code).toBe(2);
    } finally {
      home.cleanup();
    }
  });
});

describe('retention', () => {
  it('prunes audit entries and idempotency keys older than their retention', async () => {
    const s = cp.harness.services;
    const now = s.clock.now();
    await s.audit!.append({ at: new Date(now - 100 * 86_400_000).toISOString(), requestId: 'old', method: 'POST', path: '/v1/x', action: 'x', status: 200 });
    await cp.idempotency.begin('ci', 'old-key', 'f', new Date(now - 2 * 86_400_000).toISOString());
    await cp.idempotency.begin('ci', 'new-key', 'f', new Date(now).toISOString());
    const pruned = await pruneControlPlane(s, { auditMs: 90 * 86_400_000, idempotencyMs: 86_400_000 });
    expect(pruned).toEqual({ audit: 1, idempotency: 1 });
    expect((await s.audit!.list()).some((e) => e.requestId === 'old')).toBe(false);
    expect(await cp.idempotency.begin('ci', 'new-key', 'f', new Date(now).toISOString())).toEqual({ state: 'pending' });
    expect(await cp.idempotency.begin('ci', 'old-key', 'f', new Date(now).toISOString())).toEqual({ state: 'new' });
  });
});

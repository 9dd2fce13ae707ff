// `maas token create|list|revoke` in-process through main() against a real MAAS_HOME: the token is
// printed once (stdout) with a warning on stderr, json output, the list's table, revocation, and
// bad input with its exit codes.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { runCli, tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
let clock: ManualClock;
const cli = (...args: string[]) => runCli(args, { home: join(dir.path, 'home'), cwd: dir.path, env: { USER: 'alice' }, deps: { clock } });

beforeEach(() => {
  dir = tempDir('maas-token-cli-');
  clock = new ManualClock(Date.UTC(2026, 0, 1));
});
afterEach(() => dir.cleanup());

const TOKEN = /^maas_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

describe('maas token create', () => {
  it('prints only the token on stdout and says on stderr that it is not shown again', async () => {
    const r = await cli('token', 'create', '--name', 'ci', '--scope', 'read,deploy', '--expires', '30d');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toMatch(TOKEN);
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^created token ci \(id [0-9a-f]{12}\) with scopes read,deploy, expires 2026-01-31T00:00:00.000Z$/m);
    expect(r.stderr).toContain('it is not shown again');
    expect(r.stderr).not.toContain(r.stdout.trim());
  });

  it('-o json prints the token with its id, name, scopes and expiry, and nothing on stderr', async () => {
    const r = await cli('token', 'create', '--name', 'ops', '--scope', 'admin', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(data).toEqual({
      token: expect.stringMatching(TOKEN),
      id: (data.token as string).slice(5, 17),
      name: 'ops',
      scopes: ['admin'],
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
    });
    expect(r.stderr).toBe('');
  });

  it('refuses an unknown scope (exit 2) with the valid ones named', async () => {
    const r = await cli('token', 'create', '--name', 'ci', '--scope', 'read,write');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: unknown scope "write"');
    expect(r.stderr).toContain('hint: valid scopes: read, deploy, admin');
  });

  it('refuses a bad name, a bad expiry, a missing flag and a duplicate name', async () => {
    expect((await cli('token', 'create', '--name', 'no spaces', '--scope', 'read')).code).toBe(2);
    expect((await cli('token', 'create', '--name', 'ci', '--scope', 'read', '--expires', 'later')).code).toBe(2);
    const missing = await cli('token', 'create', '--name', 'ci');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--scope');
    expect((await cli('token', 'create', '--name', 'ci', '--scope', 'read')).code).toBe(0);
    const dup = await cli('token', 'create', '--name', 'ci', '--scope', 'read');
    expect(dup.code).toBe(5);
    expect(dup.stderr).toContain('an active token is already named "ci"');
    expect(dup.stderr).toContain('maas token revoke ci');
  });
});

describe('maas token list and revoke', () => {
  it('lists tokens as a table and json, revokes by name or id, and exits 4 for an unknown one', async () => {
    const empty = await cli('token', 'list');
    expect([empty.code, empty.stdout]).toEqual([0, '']);
    expect(empty.stderr).toContain('no tokens; create one with `maas token create');

    const ci = JSON.parse((await cli('token', 'create', '--name', 'ci', '--scope', 'deploy', '--expires', '2d', '-o', 'json')).stdout) as { id: string };
    clock.advance(3_600_000);
    const ops = JSON.parse((await cli('token', 'create', '--name', 'ops', '--scope', 'admin', '-o', 'json')).stdout) as { id: string };
    clock.advance(3_600_000);

    const table = await cli('token', 'list');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+SCOPES\s+STATE\s+CREATED\s+EXPIRES\s+LAST USED$/);
    expect(lines[1]).toMatch(new RegExp(`^${ci.id}\\s+ci\\s+deploy\\s+active\\s+2h ago\\s+in 46h\\s+never$`));
    expect(lines[2]).toMatch(new RegExp(`^${ops.id}\\s+ops\\s+admin\\s+active\\s+60m ago\\s+never\\s+never$`));
    expect(table.stdout).not.toMatch(/maas_/);

    const revoked = await cli('token', 'revoke', 'ci');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked: token ci (id ${ci.id})\n`);
    const again = await cli('token', 'revoke', ci.id, '-o', 'json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRevoked: true, revoked: [{ id: ci.id, state: 'revoked' }] });

    const json = await cli('token', 'list', '-o', 'json');
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(list.map((t) => [t.name, t.state])).toEqual([
      ['ci', 'revoked'],
      ['ops', 'active'],
    ]);
    expect(list[1]).toEqual({
      id: ops.id,
      name: 'ops',
      scopes: ['admin'],
      state: 'active',
      createdAt: '2026-01-01T01:00:00.000Z',
      createdBy: expect.stringMatching(/^alice@/),
    });
    expect(json.stdout).not.toMatch(/salt|hash/);

    const unknown = await cli('token', 'revoke', 'nobody');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('error: no token with id or name "nobody"');
    expect(unknown.stderr).toContain('hint: list tokens with `maas token list`');
  });
});

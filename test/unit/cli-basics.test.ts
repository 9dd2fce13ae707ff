import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, REPO_ROOT } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('the CLI shell', () => {
  let home: { path: string; cleanup: () => void };
  beforeEach(() => {
    home = tempDir();
  });
  afterEach(() => home.cleanup());

  it('prints its version on the fast path and through commander', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect(await runCli(['-q', '--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('answers `maas version` like kubectl and helm do', async () => {
    expect(await runCli(['version'])).toMatchObject({
      code: 0,
      stdout: `maas ${pkg.version} (node ${process.version}, ${process.platform}/${process.arch})\n`,
    });
    expect(JSON.parse((await runCli(['version', '-o', 'json'])).stdout)).toEqual({
      version: pkg.version,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
    });
  });

  it('fails, rather than spinning forever, for a home it cannot create', async () => {
    // Node's recursive mkdir never returns under /proc; maas must answer at once.
    const r = await runCli(['--home', '/proc/maas-no-such-home', 'list']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/proc/maas-no-such-home');
  });

  it("shows the global flags and examples in a command's help", async () => {
    const help = await runCli(['deploy', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Global Options:[\s\S]*-o, --output <format>/);
    expect(help.stdout).toMatch(/Examples:\n {2}maas deploy har-classifier@1\n/);
  });

  it('prints help with exit 0, and usage with exit 2 when called bare', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('deploy');
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
  });

  it('rejects unknown commands and options with exit 2 and a hint, no stack trace', async () => {
    const r = await runCli(['deplyo'], { home: home.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: unknown command 'deplyo'/);
    expect(r.stderr).toMatch(/deploy/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const o = await runCli(['ps', '--bogus'], { home: home.path });
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('rejects an unknown output format', async () => {
    const r = await runCli(['config', 'view', '-o', 'xml'], { home: home.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/xml/);
  });

  it('reads and writes the config file, keeping it valid YAML', async () => {
    // Unset keys show their default and say so.
    expect(JSON.parse((await runCli(['config', 'get', 'target', '-o', 'json'], { home: home.path })).stdout)).toEqual({
      key: 'target',
      value: 'local',
      source: 'default',
    });
    expect((await runCli(['config', 'set', 'target', 'kubernetes'], { home: home.path })).code).toBe(0);
    expect((await runCli(['config', 'set', 'kubernetes.namespace', 'ml'], { home: home.path })).code).toBe(0);
    const got = await runCli(['config', 'get', 'target', '-o', 'json'], { home: home.path });
    expect(JSON.parse(got.stdout)).toEqual({ key: 'target', value: 'kubernetes', source: 'config' });
    const view = await runCli(['config', 'view', '-o', 'json'], { home: home.path });
    const viewed = JSON.parse(view.stdout) as { config: unknown; settings: { key: string; value: string; source: string }[] };
    expect(viewed.config).toEqual({ target: 'kubernetes', kubernetes: { namespace: 'ml' } });
    expect(viewed.settings).toContainEqual({ key: 'local.cacheTtl', value: '24h', source: 'default' });
    expect(viewed.settings).toContainEqual({ key: 'kubernetes.namespace', value: 'ml', source: 'config' });
    // The human view is a table of every key, not `{}`.
    expect((await runCli(['config', 'view'], { home: home.path })).stdout).toMatch(/^KEY\s+VALUE\s+SOURCE\n/);
    const bad = await runCli(['config', 'set', 'nope', 'x'], { home: home.path });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/known keys/);
    expect((await runCli(['config', 'get', 'targt'], { home: home.path })).stderr).toContain('did you mean target?');
    // unset goes back to the default and leaves no empty section behind.
    expect(JSON.parse((await runCli(['config', 'unset', 'kubernetes.namespace', '-o', 'json'], { home: home.path })).stdout)).toMatchObject({
      removed: true,
      source: 'default',
    });
    expect(readFileSync(join(home.path, 'config.yaml'), 'utf8')).toBe('target: kubernetes\n');
    expect(JSON.parse((await runCli(['config', 'unset', 'kubernetes.namespace', '-o', 'json'], { home: home.path })).stdout)).toMatchObject({ removed: false });
  });

  it('refuses config values that would break later commands, and repairs a broken one', async () => {
    for (const [key, value] of [
      ['output', 'xml'],
      ['target', 'mars'],
      ['local.cacheTtl', 'soon'],
    ]) {
      const r = await runCli(['config', 'set', key!, value!], { home: home.path });
      expect(r.code, `${key}=${value}`).toBe(2);
    }
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(home.path, { recursive: true });
    writeFileSync(join(home.path, 'config.yaml'), 'output: xml\n');
    const broken = await runCli(['ps'], { home: home.path });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/"output" in .*config\.yaml/);
    expect(broken.stderr).toMatch(/maas config set output table/);
    expect((await runCli(['config', 'set', 'output', 'json'], { home: home.path })).code).toBe(0);
    const fixed = await runCli(['ps'], { home: home.path });
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout)).toEqual([]);
  });

  it('reports a broken config file instead of crashing', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(home.path, { recursive: true });
    writeFileSync(join(home.path, 'config.yaml'), 'target: [unclosed');
    const r = await runCli(['ps'], { home: home.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .* is not valid YAML/);
  });

  it('prints errors as JSON on stderr with -o json, and nothing on stdout', async () => {
    const r = await runCli(['status', 'd-missing', '-o', 'json'], { home: home.path });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it.each(['bash', 'zsh', 'fish'])('generates a %s completion script that asks maas itself for candidates', async (shell) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('maas __complete');
  });

  it('rejects an unknown completion shell', async () => {
    expect((await runCli(['completion', 'tcsh'])).code).toBe(2);
  });
});

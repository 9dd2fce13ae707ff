// main(argv, io, deps) in-process with in-memory stores, scriptable targets and a manual clock:
// the CLI face over the use cases, the one resolution of the output format (errors included),
// and cache expiry that needs a clock the test controls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ManualClock } from '../../src/core/clock.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { FakeTarget, fakePlugin } from '../support/fake-target.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
let clock: ManualClock;
let stores: MemoryStores;
let local: FakeTarget;
let cluster: FakeTarget;

function cli(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(argv, {
    home: dir.path,
    env: { USER: 'tester', ...env },
    deps: {
      clock,
      services: {
        stores,
        plugins: [
          fakePlugin(local),
          fakePlugin(cluster, { modes: ['open', 'strict'], dryRun: true, flags: [{ flags: '--image <ref>', key: 'image', description: 'image' }] }),
        ],
      },
    },
  });
}

beforeEach(async () => {
  dir = tempDir('maas-main-');
  clock = new ManualClock(Date.UTC(2026, 5, 1));
  stores = memoryStores(() => clock.now());
  local = new FakeTarget('local', clock);
  cluster = new FakeTarget('cluster', clock);
  await stores.models.registerModel(modelDescription({ name: 'har', version: '1' }), { digest: `sha256:${'a'.repeat(64)}`, size: 1, uri: 'file://./m.onnx' });
});
afterEach(() => dir.cleanup());

describe('main() with injected services and clock', () => {
  it('deploys, decommissions and lets gc purge only after the cache period on the manual clock', async () => {
    const d = JSON.parse((await cli(['deploy', 'har@1', '-o', 'json'])).stdout) as { id: string; state: string; outcome: string };
    expect(d).toMatchObject({ state: 'ready', outcome: 'created' });
    expect(JSON.parse((await cli(['decommission', d.id, '-o', 'json'])).stdout)).toMatchObject({ outcome: 'cached' });
    expect(JSON.parse((await cli(['gc', '-o', 'json'])).stdout)).toMatchObject({ destroyed: [] });
    clock.advance(24 * 3600 * 1000);
    expect(JSON.parse((await cli(['gc', '--dry-run', '-o', 'json'])).stdout)).toMatchObject({ dryRun: true, destroyed: [d.id] });
    expect(JSON.parse((await cli(['gc', '-o', 'json'])).stdout)).toMatchObject({ destroyed: [d.id] });
    expect(local.calls).toContain(`destroy ${d.id}`);
  });

  it('honours local.cacheTtl from the config file', async () => {
    expect((await cli(['config', 'set', 'local.cacheTtl', '1h'])).code).toBe(0);
    const d = JSON.parse((await cli(['deploy', 'har', '-o', 'json'])).stdout) as { id: string };
    await cli(['decommission', d.id]);
    clock.advance(3600 * 1000);
    expect(JSON.parse((await cli(['gc', '-o', 'json'])).stdout)).toMatchObject({ destroyed: [d.id] });
  });

  it('status and ps only read: no history is appended however often they look', async () => {
    const d = JSON.parse((await cli(['deploy', 'har@1', '-o', 'json'])).stdout) as { id: string };
    local.running.set(d.id, { state: 'failed', reason: 'gone' });
    const writes = stores.deployments.writes;
    for (let i = 0; i < 3; i++) {
      expect((await cli(['ps'])).code).toBe(0);
      expect((await cli(['status', d.id])).code).toBe(1);
    }
    expect(stores.deployments.writes).toBe(writes);
  });

  it('prints a dry run as a kind: List, and --dry-run does not swallow the model argument', async () => {
    const r = await cli(['deploy', '--dry-run', 'har@1', '--target', 'cluster', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Deployment', metadata: { name: 'har-v1' } }] });
    const server = await cli(['deploy', 'har@1', '--target', 'cluster', '--dry-run', 'server', '-o', 'json']);
    expect(JSON.parse(server.stdout)).toMatchObject({ kind: 'List' });
    expect(stores.deployments.records.size).toBe(0);
    const local = await cli(['deploy', 'har@1', '--dry-run']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('--dry-run applies to --target cluster');
  });

  it('derives --target choices and target flags from the plugins', async () => {
    const bad = await cli(['deploy', 'har', '--target', 'mars']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown target "mars"');
    expect(bad.stderr).toContain('use one of: local, cluster');
    const flag = await cli(['deploy', 'har', '--image', 'x:1']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--image applies to --target');
  });
});

describe('decommission as a CI step', () => {
  const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

  it('is retried safely with --ignore-not-found, and refuses empty or repeated consumers', async () => {
    const d = JSON.parse((await cli(['deploy', 'har@1', '--consumer', 'alice', '-o', 'json'])).stdout) as { id: string };
    await cli(['deploy', 'har@1', '--consumer', 'bob']);
    expect(json(await cli(['decommission', d.id, '--consumer', 'alice', '-o', 'json']))).toMatchObject({ outcome: 'released' });
    const again = await cli(['decommission', d.id, '--consumer', 'alice']);
    expect(again.code).toBe(2);
    const retried = await cli(['decommission', d.id, '--consumer', 'alice', '--ignore-not-found']);
    expect(retried).toMatchObject({ code: 0, stdout: `alice had already released ${d.id}\n` });
    expect(await cli(['decommission', 'd-gone', '--ignore-not-found'])).toMatchObject({ code: 0, stdout: 'd-gone does not exist (nothing to do)\n' });
    expect((await cli(['decommission', 'd-gone'])).code).toBe(4);

    const empty = await cli(['deploy', 'har@1', '--consumer', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('a consumer name cannot be empty');
    const twice = await cli(['decommission', d.id, '--consumer', 'bob', '--consumer', 'carol']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('given twice');
  });

  it('says a failed deployment was stopped, not "scaled to zero", and ps -o wide shows the whole reason', async () => {
    const d = JSON.parse((await cli(['deploy', 'har@1', '-o', 'json'])).stdout) as { id: string };
    local.running.set(d.id, { state: 'failed', reason: 'model server process 42 is not running; last log lines:\nerror: out of memory' });
    const wide = await cli(['ps', '-o', 'wide']);
    expect(wide.stdout).toContain('model server process 42 is not running; last log lines: | error: out of memory');
    await cli(['deploy', 'har@1', '--async']);
    const stores_ = stores.deployments;
    await stores_.setDeploymentState(d.id, 'failed', new Date(clock.now()).toISOString(), { reason: 'crashed' });
    const r = await cli(['decommission', d.id]);
    expect(r.stdout).toMatch(new RegExp(`^${d.id} had failed; stopped and cached until `));
  });
});

describe('-q', () => {
  it('leaves out progress and notes, and keeps the result', async () => {
    const loud = await cli(['deploy', 'har@1', '--dry-run', '--target', 'cluster']);
    expect(loud.stderr).toContain('dry run (client)');
    const quiet = await cli(['-q', 'deploy', 'har@1', '--dry-run', '--target', 'cluster']);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe(loud.stdout);
    expect((await cli(['-q', 'ps'])).stderr).toBe('');
  });
});

describe('purge', () => {
  it('asks before destroying on a terminal, naming the other consumers; --yes and no terminal do not ask', async () => {
    const d = JSON.parse((await cli(['deploy', 'har@1', '--consumer', 'alice', '-o', 'json'])).stdout) as { id: string };
    await cli(['deploy', 'har@1', '--consumer', 'bob']);
    const asked: string[] = [];
    const withAnswer = (answer: boolean) =>
      runCli(['decommission', d.id, '--purge', '--force', '--consumer', 'alice'], {
        home: dir.path,
        env: { USER: 'tester' },
        deps: { clock, services: { stores, plugins: [fakePlugin(local)] }, confirm: async (q) => (asked.push(q), answer) },
      });
    const no = await withAnswer(false);
    expect(no.code).toBe(130);
    expect(no.stderr).toContain(`${d.id} was not destroyed`);
    expect(asked[0]).toBe(`Destroy ${d.id} (har@1 on local)? Its logged predictions and feedback go with it; it is still used by bob.`);
    expect(stores.deployments.records.has(d.id)).toBe(true);
    expect((await withAnswer(true)).code).toBe(0);
    expect(stores.deployments.records.has(d.id)).toBe(false);
    // Without a terminal (CI) nobody is asked.
    const again = JSON.parse((await cli(['deploy', 'har@1', '-o', 'json'])).stdout) as { id: string };
    expect((await cli(['decommission', again.id, '--purge'])).code).toBe(0);
  });
});

describe('Ctrl-C', () => {
  it('stops at once, names the deployment that goes on in the background, and exits 130', async () => {
    let fire: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      local.start = async () => {
        resolve();
        return new Promise(() => {}); // a launch that does not come back before the user gives up
      };
    });
    const run = runCli(['deploy', 'har@1'], {
      home: dir.path,
      env: { USER: 'tester' },
      deps: { clock, services: { stores, plugins: [fakePlugin(local)] }, interrupts: (h) => ((fire = h), () => {}) },
    });
    await started;
    fire();
    const r = await run;
    expect(r.code).toBe(130);
    const id = [...stores.deployments.records.keys()][0]!;
    expect(r.stderr).toContain(`interrupted; deployment ${id} goes on in the background: \`maas status ${id} --wait\``);
  });
});

describe('one output resolution for results and errors', () => {
  const errorJson = (r: CliResult) => (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;

  it.each([
    [['get', 'nope'], { MAAS_OUTPUT: 'json' }],
    [['get', 'nope', '--output=yaml'], {}],
    [['get', 'nope', '-ojson'], {}],
    [['-o', 'json', 'get', 'nope'], {}],
  ])('%j with %j prints the error as JSON on stderr', async (argv, env) => {
    const r = await cli(argv, env);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(errorJson(r)).toMatchObject({ code: 'NOT_FOUND', message: 'model nope is not registered' });
  });

  it('uses the config file output for errors the parser raises, too', async () => {
    await cli(['config', 'set', 'output', 'json']);
    const r = await cli(['deploy', 'har', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(errorJson(r).code).toBe('USAGE');
  });

  it('prints words for human formats', async () => {
    const r = await cli(['get', 'nope']);
    expect(r.stderr).toMatch(/^error: model nope is not registered\nhint: /);
  });
});

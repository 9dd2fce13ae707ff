// Rollout and rollback on the local target with real detached `maas serve` processes: while
// clients send predictions in a loop, the deployment switches from version 1 to 2 and back,
// without a failed request; the shared request log says which version made each prediction.
// Prints the switch gap (the longest time without a successful answer). Needs `npm run build`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';
import { rowsToRequest } from '../../src/protocol/rows.js';
import { isAlive } from '../../src/targets/local/process.js';
import { runCli, tempDir } from '../support/cli.js';
import { switchGap, traffic as trafficLoops, type Answer } from '../support/traffic.js';

const dir = tempDir('maas-local-rollout-');
const home = join(dir.path, 'home');
let v1: HarModelFiles;
let id = '';
const cli = (args: string[]) => runCli(args, { home, cwd: dir.path });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

interface Dep {
  id: string;
  version: string;
  state: string;
  endpoint: string;
  consumers: string[];
  runtime: { pid: number };
  changed?: boolean;
  rollouts?: { from: string; to: string; reason: string }[];
}

const traffic = (clients: number) =>
  trafficLoops({
    endpointFile: join(home, 'deployments', id, 'endpoint.json'),
    model: 'har-classifier',
    body: JSON.stringify(rowsToRequest(v1.requests.slice(0, 2), v1.description.spec.features)),
    clients,
  });

/** Rolls with `args` while traffic flows; returns the answers and the window of the command. */
async function underTraffic(args: string[]): Promise<{ answers: Answer[]; from: number; to: number; result: Dep }> {
  const t = traffic(4);
  await new Promise((r) => setTimeout(r, 300));
  const from = performance.now();
  const result = await json<Dep>(args);
  const to = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  return { answers: await t.stop(), from, to, result };
}

/** The version the request log recorded for each request id. */
async function loggedVersions(): Promise<Map<string, string>> {
  const db = new Database(join(home, 'deployments', id, 'requests.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.prepare('SELECT request_id AS id, model_version AS version FROM batches').all() as { id: string; version: string }[];
    return new Map(rows.map((r) => [r.id, r.version]));
  } finally {
    db.close();
  }
}

/** Every answered request in the log with the version that answered it (the log commits within ms). */
async function expectLogged(answers: readonly Answer[]): Promise<void> {
  const ok = answers.filter((a) => a.ok);
  let logged = new Map<string, string>();
  for (let i = 0; i < 50; i++) {
    logged = await loggedVersions();
    if (ok.every((a) => logged.has(a.requestId ?? ''))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const mismatched = ok.filter((a) => logged.get(a.requestId ?? '') !== a.version);
  expect(mismatched).toEqual([]);
}

beforeAll(async () => {
  const v1dir = join(dir.path, 'v1');
  const v2dir = join(dir.path, 'v2');
  for (const d of [v1dir, v2dir]) mkdirSync(d, { recursive: true });
  v1 = writeHarModel(v1dir);
  writeHarModel(v2dir, { version: '2', seed: 7 });
  for (const file of [v1.descriptionFile, join(v2dir, 'model.yaml')]) {
    const r = await cli(['register', file]);
    expect(r.code, r.stderr).toBe(0);
  }
  const d = await json<Dep>(['deploy', 'har-classifier@1', '--consumer', 'alice']);
  id = d.id;
  expect(d.state).toBe('ready');
}, 120_000);

afterAll(async () => {
  if (id) await cli(['decommission', id, '--purge', '--force']);
  dir.cleanup();
});

describe('local rollout', () => {
  it('switches to version 2 under load without a failed request, logging which version answered', async () => {
    const before = await json<Dep>(['status', id]);
    const { answers, from, to, result } = await underTraffic(['rollout', id, '--to', 'har-classifier@2', '--reason', 'manual']);
    const failed = answers.filter((a) => !a.ok);
    const gap = switchGap(answers, from, to);
    console.log(`rollout 1 -> 2: ${answers.length} requests, ${failed.length} failed, took ${Math.round(to - from)} ms, switch gap ${gap.toFixed(1)} ms`);
    expect(failed).toEqual([]);
    expect(result).toMatchObject({ id, version: '2', state: 'ready', consumers: ['alice'], changed: true });
    expect(result.endpoint).not.toBe(before.endpoint);
    expect(result.rollouts).toEqual([expect.objectContaining({ from: '1', to: '2', reason: 'manual' })]);
    // Answers switch from version 1 to 2, and stay there.
    expect(answers[0]?.version).toBe('1');
    expect(answers.filter((a) => a.start > to).every((a) => a.version === '2')).toBe(true);
    const firstV2 = answers.findIndex((a) => a.version === '2');
    expect(firstV2).toBeGreaterThan(0);
    expect(answers.filter((a) => a.start > answers[firstV2]!.end).every((a) => a.version === '2')).toBe(true);
    // The old server drained and stopped; the new one is the deployment's.
    expect(isAlive(before.runtime.pid)).toBe(false);
    expect(result.runtime.pid).not.toBe(before.runtime.pid);
    expect(existsSync(join(home, 'deployments', id, 'endpoint.next.json'))).toBe(false);
    await expectLogged(answers);

    // Consumers see it through maas too.
    const p = await json<{ model_version: string }>(['predict', id, '--data', v1.requestsFile]);
    expect(p.model_version).toBe('2');
    const status = await json<Dep>(['status', id]);
    expect(status).toMatchObject({ version: '2', state: 'ready' });
  }, 120_000);

  it('rolling out the served version again is a no-op; another model is a usage error', async () => {
    const same = await cli(['rollout', id, '--to', '@2']);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/already serves har-classifier@2; nothing to do/);
    const other = await cli(['rollout', id, '--to', 'other-model@1']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/cannot roll out other-model/);
  });

  it('rolls back to version 1 under load, and the history tells the story', async () => {
    const { answers, from, to, result } = await underTraffic(['rollback', id]);
    const failed = answers.filter((a) => !a.ok);
    const gap = switchGap(answers, from, to);
    console.log(`rollback 2 -> 1: ${answers.length} requests, ${failed.length} failed, took ${Math.round(to - from)} ms, switch gap ${gap.toFixed(1)} ms`);
    expect(failed).toEqual([]);
    expect(result).toMatchObject({ id, version: '1', state: 'ready' });
    expect(answers.filter((a) => a.start > to).every((a) => a.version === '1')).toBe(true);
    await expectLogged(answers);
    const logged = [...(await loggedVersions()).values()];
    expect(new Set(logged)).toEqual(new Set(['1', '2']));

    const history = await json<{ entries: { version: string; reason: string; current: boolean }[] }>(['history', id]);
    expect(history.entries.map((e) => [e.version, e.reason, e.current])).toEqual([
      ['1', 'deployed', false],
      ['2', 'manual', false],
      ['1', 'rollback', true],
    ]);
    const table = await cli(['history', id]);
    expect(table.stdout).toMatch(/SINCE\s+VERSION\s+FROM\s+REASON/);
    expect(table.stdout).toMatch(/1 \(serving\)\s+2\s+rollback/);
  }, 120_000);
});

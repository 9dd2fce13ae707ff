// The control plane end to end with real processes: a `maas server` with its jobs on a real
// Redis, two `maas worker`s carrying them out, and two clients with different tokens driving the
// built CLI in remote mode (MAAS_SERVER / MAAS_TOKEN): register, search, deploy twice with one
// Idempotency-Key (one deployment), predict, feedback, drift check, decommission. A worker is
// killed with SIGKILL; the other carries on and nothing is lost (a worker killed in the middle of
// a job: control-plane-worker-kill.test.ts).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';
import { spawnCli, tempDir } from '../support/cli.js';
import { createAdminToken, ProcessGroup, startServerProcess, until } from '../support/process-group.js';
import { startRedis, waitForExit, type RedisServer } from '../support/redis.js';

const dir = tempDir('maas-cp-redis-');
const serverHome = join(dir.path, 'server-home');
const group = new ProcessGroup({ MAAS_HOME: serverHome });
let redis: RedisServer;
let url = '';
let workers: ChildProcess[] = [];
let model: HarModelFiles;
const tokens: Record<'admin' | 'alice' | 'bob', string> = { admin: '', alice: '', bob: '' };
const deployed: string[] = [];

/** The CLI as a client of the server, with its own (empty) home. */
async function as(who: 'alice' | 'bob' | 'admin', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return spawnCli(args, { home: join(dir.path, `client-${who}`), cwd: dir.path, env: { MAAS_SERVER: url, MAAS_TOKEN: tokens[who] } });
}

async function json<T>(who: 'alice' | 'bob' | 'admin', args: string[]): Promise<T> {
  const r = await as(who, [...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} (${who}) exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  model = writeHarModel(dir.path, { requestRows: 40 });
  redis = await startRedis();
  tokens.admin = await createAdminToken(serverHome);
  url = await startServerProcess(group, redis.url);
  workers = [group.start(['worker', '--queue', redis.url]), group.start(['worker', '--queue', redis.url])];
  await until('both workers', async () => (workers.every((w) => /"event":"ready"/.test(group.logs(w))) ? true : undefined));
  for (const who of ['alice', 'bob'] as const)
    tokens[who] = (await json<{ token: string }>('admin', ['token', 'create', '--name', who, '--scope', 'deploy'])).token;
}, 120_000);

afterAll(async () => {
  for (const id of deployed) await as('admin', ['decommission', id, '--purge', '--force', '--yes']).catch(() => undefined);
  await group.stopAll();
  await redis?.stop();
  dir.cleanup();
}, 120_000);

describe('the control plane with Redis and two workers', () => {
  it('knows who each client is', async () => {
    expect(await json<{ name: string; scopes: string[] }>('alice', ['whoami'])).toMatchObject({ name: 'alice', scopes: ['deploy'] });
    expect(await json<{ name: string }>('bob', ['whoami'])).toMatchObject({ name: 'bob' });
  });

  it('registers from one client and finds it from the other', async () => {
    const rows = await json<{ name: string; version: string; status: string; profile: unknown }[]>('alice', ['register', model.descriptionFile]);
    expect(rows).toEqual([expect.objectContaining({ name: 'har-classifier', version: '1', status: 'created' })]);
    // The profile was computed by the client from its own training data and stored with the version.
    expect(rows[0]!.profile).toMatchObject({ rows: expect.any(Number) as number });
    const found = await json<{ hits: { name: string }[] }>('bob', ['search', '--task', 'classification']);
    expect(found.hits.map((h) => h.name)).toContain('har-classifier');
  });

  let id = '';
  it('deploys through a worker; the same Idempotency-Key again is the same deployment', async () => {
    const first = await json<{ id: string; state: string; outcome: string; job: string }>('alice', [
      'deploy',
      'har-classifier@1',
      '--idempotency-key',
      'pipeline-42',
    ]);
    id = first.id;
    deployed.push(id);
    expect(first).toMatchObject({ state: 'ready', outcome: 'created' });
    const again = await json<{ id: string; outcome: string }>('alice', ['deploy', 'har-classifier@1', '--idempotency-key', 'pipeline-42']);
    expect(again.id).toBe(id);
    const all = await json<{ id: string }[]>('bob', ['ps']);
    expect(all.map((d) => d.id)).toEqual([id]);
    // The job ran on one of the workers, not in the server.
    const job = await json<{ state: string; kind: string; owner: string }>('alice', ['jobs', first.job]);
    expect(job).toMatchObject({ kind: 'deploy', state: 'succeeded', owner: 'alice' });
    // Bob does not see Alice's job.
    const hidden = await as('bob', ['jobs', first.job]);
    expect(hidden.code).toBe(4);
  });

  let predictionIds: string[] = [];
  it('predicts and takes feedback through the server', async () => {
    const p = await as('bob', ['predict', id, '--data', model.requestsFile, '-o', 'name']);
    expect(p.code, p.stderr).toBe(0);
    predictionIds = p.stdout.trim().split('\n');
    expect(predictionIds).toHaveLength(40);
    const fb = await json<{ applied: number }>('alice', ['feedback', id, '--id', predictionIds[0]!, '--label', model.labels[0]!]);
    expect(fb.applied).toBe(1);
  });

  it('checks drift of the deployment', async () => {
    const r = await as('bob', ['drift', 'check', id, '-o', 'json']);
    expect([0, 3], r.stderr).toContain(r.code);
    const report = JSON.parse(r.stdout) as { features: unknown[] };
    expect(report.features.length).toBe(model.description.spec.features.length);
  });

  it('keeps working when a worker is killed with SIGKILL', async () => {
    workers[0]!.kill('SIGKILL');
    await waitForExit(workers[0]!, 10_000);
    // Bob deploys too (his own hold on the same deployment: nothing to launch) and a second model.
    const secondDir = join(dir.path, 'second');
    mkdirSync(secondDir, { recursive: true });
    const second = writeHarModel(secondDir, { name: 'har-second', seed: 5 });
    await json('bob', ['register', second.descriptionFile]);
    const d = await json<{ id: string; state: string }>('bob', ['deploy', 'har-second@1', '--idempotency-key', 'bob-1']);
    deployed.push(d.id);
    expect(d.state).toBe('ready');
    const jobs = await json<{ state: string }[]>('admin', ['jobs']);
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
  });

  it('decommissions per consumer: one client cannot release the other', async () => {
    await json('bob', ['deploy', 'har-classifier@1']);
    const bobFirst = await json<{ outcome: string; remainingConsumers: string[] }>('bob', ['decommission', id]);
    expect(bobFirst.outcome).toBe('released');
    expect(bobFirst.remainingConsumers).toEqual(['token:alice']);
    const bobAgain = await as('bob', ['decommission', id]);
    expect(bobAgain.code).not.toBe(0);
    const alice = await json<{ outcome: string }>('alice', ['decommission', id]);
    expect(alice.outcome).toBe('cached');
  });
});

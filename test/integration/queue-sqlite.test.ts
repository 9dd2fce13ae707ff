// The embedded durable job queue on a real SQLite file: running, retrying and failing jobs,
// idempotency, several queues on one file, graceful shutdown, and a worker process killed with
// SIGKILL in the middle of a job.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MaasError } from '../../src/core/errors.js';
import { openDatabase, type Db } from '../../src/registry/sqlite/database.js';
import { migrate } from '../../src/registry/sqlite/migrations.js';
import type { JobRunner } from '../../src/queue/port.js';
import { SqliteJobQueue, type SqliteQueueOptions } from '../../src/queue/sqlite-queue.js';
import { builtModule } from '../support/built.js';
import { spawnQueueWorker } from '../support/queue-worker-process.js';

let dir: string;
let file: string;
const cleanups: (() => Promise<void> | void)[] = [];

function open(): Db {
  const db = openDatabase(file);
  migrate(db);
  cleanups.push(() => {
    db.close();
  });
  return db;
}

function queue(runners: Record<string, JobRunner>, options: SqliteQueueOptions = {}, db = open()): SqliteJobQueue {
  const q = new SqliteJobQueue(db, runners, { pollMs: 10, ...options });
  // Closed before the databases (cleanups run in reverse).
  cleanups.push(() => q.close());
  return q;
}

/** Polls `probe` until it returns something truthy; fails the test after `timeoutMs`. */
async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejection(p: Promise<unknown>): Promise<MaasError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MaasError);
  return e as MaasError;
}

function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'maas-queue-'));
  file = join(dir, 'registry.db');
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteJobQueue', () => {
  it('records a job as queued, runs it once started, and keeps its result, progress and logs', async () => {
    const q = queue({
      echo: async (payload, progress, job) => {
        progress('one');
        progress('two');
        return { echoed: payload, attempt: job.attempt };
      },
    });
    const seen: string[] = [];
    const h = await q.enqueue('echo', { x: 1 }, (m) => seen.push(m), { owner: 'alice' });
    expect(h.existing).toBeUndefined();

    const queued = await q.get(h.id);
    expect(queued).toMatchObject({ id: h.id, kind: 'echo', state: 'queued', payload: { x: 1 }, owner: 'alice', attempts: 0, maxAttempts: 3, logs: [] });
    expect(queued?.runAfter).toBe(queued?.createdAt);
    expect(await q.counts()).toEqual({ queued: 1, running: 0, succeeded: 0, failed: 0 });

    q.start();
    expect(await h.done).toEqual({ echoed: { x: 1 }, attempt: 1 });
    const r = await q.get(h.id);
    expect(r).toMatchObject({ state: 'succeeded', attempts: 1, result: { echoed: { x: 1 }, attempt: 1 }, progress: 'two' });
    expect(r?.logs.map((l) => l.message)).toEqual(['one', 'two']);
    expect(r?.error).toBeUndefined();
    expect(r?.runAfter).toBeUndefined();
    expect(r!.createdAt <= r!.startedAt! && r!.startedAt! <= r!.finishedAt!).toBe(true);
    for (const t of [r!.createdAt, r!.updatedAt, r!.startedAt!, r!.finishedAt!, ...r!.logs.map((l) => l.at)])
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(seen).toEqual(['one', 'two']);

    expect(await q.counts()).toEqual({ queued: 0, running: 0, succeeded: 1, failed: 0 });
    expect((await q.list({ state: 'succeeded' })).map((j) => j.id)).toEqual([h.id]);
    expect(await q.list({ owner: 'bob' })).toEqual([]);
    expect(await q.get('job-nope')).toBeUndefined();
  });

  it('refuses kinds it has no runner for', async () => {
    const q = queue({ echo: async () => 1 });
    expect((await rejection(q.enqueue('nope', {}))).code).toBe('INTERNAL');
  });

  it('lists newest first, and resolves a runner that returns nothing to undefined', async () => {
    const q = queue({ noop: async () => undefined });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await q.enqueue('noop', { i }, undefined, { owner: i % 2 ? 'odd' : 'even' })).id);
    q.start();
    const handles = await Promise.all(ids.map((id) => q.get(id)));
    expect(handles.every(Boolean)).toBe(true);
    await q.idle();
    expect((await q.list()).map((j) => j.id)).toEqual([...ids].reverse());
    expect((await q.list({ limit: 2 })).map((j) => j.id)).toEqual([ids[4], ids[3]]);
    expect((await q.list({ owner: 'odd' })).map((j) => j.id)).toEqual([ids[3], ids[1]]);
    const r = await q.get(ids[0]!);
    expect(r?.state).toBe('succeeded');
    expect('result' in r!).toBe(false);
  });

  it('returns the existing job for a repeated idempotency key, per owner, also from another connection', async () => {
    let runs = 0;
    const runners = {
      count: async () => {
        runs += 1;
        return runs;
      },
    };
    const q1 = queue(runners);
    const q2 = queue(runners);
    const [a, b] = await Promise.all([
      q1.enqueue('count', { n: 1 }, undefined, { idempotencyKey: 'k1', owner: 'alice' }),
      q2.enqueue('count', { n: 2 }, undefined, { idempotencyKey: 'k1', owner: 'alice' }),
    ]);
    expect(b.id).toBe(a.id);
    expect([a.existing, b.existing]).toEqual([undefined, true]);
    const again = await q1.enqueue('count', { n: 3 }, undefined, { idempotencyKey: 'k1', owner: 'alice' });
    expect(again).toMatchObject({ id: a.id, existing: true });
    const other = await q1.enqueue('count', { n: 4 }, undefined, { idempotencyKey: 'k1', owner: 'bob' });
    expect(other.id).not.toBe(a.id);
    expect(other.existing).toBeUndefined();

    expect(await q1.counts()).toEqual({ queued: 2, running: 0, succeeded: 0, failed: 0 });
    expect(await q1.get(a.id)).toMatchObject({ idempotencyKey: 'k1', owner: 'alice', payload: { n: 1 } });
    q1.start();
    await Promise.all([a.done, other.done]);
    // The existing job's handle settles with the same outcome; the job ran once.
    expect(await again.done).toBe(await a.done);
    expect(runs).toBe(2);
  });

  it('retries a transient failure with exponential backoff, then succeeds', async () => {
    const starts: number[] = [];
    const failures: number[] = [];
    const q = queue(
      {
        flaky: async (_p, _progress, job) => {
          starts.push(Date.now());
          if (job.attempt < 3) {
            failures.push(Date.now());
            throw new MaasError('UNAVAILABLE', `backend down (attempt ${job.attempt})`, { hint: 'wait' });
          }
          return 'ok';
        },
      },
      { backoff: { baseMs: 20, factor: 2, maxMs: 1000 }, random: () => 0.5 },
    );
    q.start();
    const seen: string[] = [];
    const h = await q.enqueue('flaky', {}, (m) => seen.push(m));
    expect(await h.done).toBe('ok');
    const r = await q.get(h.id);
    expect(r).toMatchObject({ state: 'succeeded', attempts: 3, result: 'ok' });
    expect(r?.error).toBeUndefined();
    // Equal jitter with random 0.5: 3/4 of 20 ms, then of 40 ms.
    expect(r?.logs.map((l) => l.message)).toEqual([
      'attempt 1 of 3 failed (UNAVAILABLE: backend down (attempt 1)); retrying in 15 ms',
      'attempt 2 of 3 failed (UNAVAILABLE: backend down (attempt 2)); retrying in 30 ms',
    ]);
    expect(seen).toEqual(r?.logs.map((l) => l.message));
    // A retry never runs before its backoff has passed.
    expect(starts[1]! - failures[0]!).toBeGreaterThanOrEqual(15);
    expect(starts[2]! - failures[1]!).toBeGreaterThanOrEqual(30);
  });

  it('records the pending retry of a queued job: its error and when it runs again', async () => {
    const q = queue(
      { down: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) },
      { backoff: { baseMs: 60_000 } },
    );
    q.start();
    const h = await q.enqueue('down', {});
    const r = await until('a scheduled retry', async () => {
      const j = await q.get(h.id);
      return j?.state === 'queued' && j.attempts === 1 ? j : undefined;
    });
    expect(r.error?.code).toBe('UNAVAILABLE');
    expect(Date.parse(r.runAfter!) - Date.parse(r.updatedAt)).toBeGreaterThanOrEqual(30_000);
  });

  it('fails a transient failure for good once its attempts are used', async () => {
    let runs = 0;
    const q = queue(
      {
        down: async () => {
          runs += 1;
          throw new MaasError('TIMEOUT', 'too slow');
        },
      },
      { backoff: { baseMs: 5 } },
    );
    q.start();
    const h = await q.enqueue('down', {}, undefined, { maxAttempts: 2 });
    const e = await rejection(h.done);
    expect([e.code, e.message]).toEqual(['TIMEOUT', 'too slow']);
    expect(await q.get(h.id)).toMatchObject({ state: 'failed', attempts: 2, error: { code: 'TIMEOUT', message: 'too slow' } });
    expect(runs).toBe(2);
  });

  it('fails a VALIDATION error at once, with its code, message and hint', async () => {
    let runs = 0;
    const q = queue({
      bad: async () => {
        runs += 1;
        throw new MaasError('VALIDATION', 'feature tenure is missing', { hint: 'add tenure to the rows' });
      },
    });
    q.start();
    const h = await q.enqueue('bad', {}, undefined, { maxAttempts: 5, idempotencyKey: 'v1' });
    const e = await rejection(h.done);
    expect([e.code, e.message, e.hint]).toEqual(['VALIDATION', 'feature tenure is missing', 'add tenure to the rows']);
    const r = await q.get(h.id);
    expect(r).toMatchObject({
      state: 'failed',
      attempts: 1,
      maxAttempts: 5,
      error: { code: 'VALIDATION', message: 'feature tenure is missing', hint: 'add tenure to the rows' },
    });
    expect(r?.finishedAt).toBeDefined();
    expect(r?.logs.at(-1)?.message).toBe('failed: VALIDATION: feature tenure is missing');
    expect(runs).toBe(1);
    // A handle asked for later (an idempotent repeat) settles the same way.
    const repeat = await q.enqueue('bad', {}, undefined, { idempotencyKey: 'v1' });
    expect(repeat.existing).toBe(true);
    expect((await rejection(repeat.done)).code).toBe('VALIDATION');
    expect(runs).toBe(1);
  });

  it('gives each of 50 jobs to exactly one of two queues working the same file', async () => {
    const runs = new Map<string, number>();
    const by = { a: 0, b: 0 };
    const runner =
      (name: 'a' | 'b'): JobRunner =>
      async (_p, _progress, job) => {
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
        by[name] += 1;
        await new Promise((r) => setTimeout(r, 1 + (job.id.charCodeAt(job.id.length - 1) % 4)));
        return name;
      };
    const a = queue({ work: runner('a') }, { concurrency: 3, pollMs: 5 });
    const b = queue({ work: runner('b') }, { concurrency: 3, pollMs: 5 });
    a.start();
    b.start();
    const handles = [];
    for (let i = 0; i < 50; i++) handles.push(await (i % 2 ? a : b).enqueue('work', { i }));
    const results = await Promise.all(handles.map((h) => h.done));
    expect(results.every((r) => r === 'a' || r === 'b')).toBe(true);
    expect(runs.size).toBe(50);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(by.a).toBeGreaterThan(0);
    expect(by.b).toBeGreaterThan(0);
    expect(await a.counts()).toEqual({ queued: 0, running: 0, succeeded: 50, failed: 0 });
    for (const h of handles) expect((await a.get(h.id))?.attempts).toBe(1);
  });

  it('lets a running job finish within the stop timeout', async () => {
    const q = queue({ short: async () => new Promise((r) => setTimeout(() => r('finished'), 50)) });
    q.start();
    const h = await q.enqueue('short', {});
    await until('the job to run', async () => (await q.get(h.id))?.state === 'running');
    await q.stop({ timeoutMs: 10_000 });
    expect(await q.get(h.id)).toMatchObject({ state: 'succeeded', result: 'finished' });
  });

  it('hands a job still running at the stop timeout back to the queue, and ignores what its old run does later', async () => {
    const stuck = gate();
    const db = open();
    const q = queue({ stuck: async () => stuck.wait.then(() => 'stale') }, {}, db);
    q.start();
    const h = await q.enqueue('stuck', { n: 1 });
    await until('the job to run', async () => (await q.get(h.id))?.state === 'running');
    await q.stop({ timeoutMs: 50 });

    const r = await q.get(h.id);
    expect(r).toMatchObject({ state: 'queued', attempts: 0 });
    expect(r?.startedAt).toBeUndefined();
    expect(r?.logs.at(-1)?.message).toMatch(/^requeued at shutdown/);
    expect(db.prepare('SELECT lease_owner, lease_until FROM jobs WHERE id = ?').get(h.id)).toEqual({ lease_owner: null, lease_until: null });

    stuck.open();
    await new Promise((r) => setTimeout(r, 20));
    expect((await q.get(h.id))?.state).toBe('queued');

    const next = queue({ stuck: async () => 'fresh' });
    next.start();
    expect(await h.done).toBe('fresh');
    expect(await next.get(h.id)).toMatchObject({ state: 'succeeded', attempts: 1, result: 'fresh' });
  });

  it('rejects waiting callers when closed, and refuses new jobs', async () => {
    const q = queue({ never: async () => 'x' });
    const h = await q.enqueue('never', {});
    const waiting = rejection(h.done);
    await q.close();
    expect((await waiting).code).toBe('UNAVAILABLE');
    expect((await rejection(q.enqueue('never', {}))).code).toBe('UNAVAILABLE');
  });

  describe('with worker processes', () => {
    beforeAll(() => {
      builtModule('queue/sqlite-queue.js');
    });

    async function startChild(leaseMs: number): Promise<ChildProcess> {
      const child = spawnQueueWorker(file, dir, leaseMs);
      let out = '';
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      });
      await until('the worker process to start', () => {
        if (child.exitCode !== null) throw new Error(`worker process exited:\n${out}`);
        return out.includes('ready');
      });
      return child;
    }

    it('gives each of 60 jobs to exactly one of two worker processes on the same file', async () => {
      open();
      const children = await Promise.all([startChild(5000), startChild(5000)]);
      // This queue only enqueues and waits: the two processes compete for every job.
      const q = queue({ count: async () => Promise.reject(new Error('not run here')) });
      const handles = [];
      for (let i = 0; i < 60; i++) handles.push(await q.enqueue('count', { i }));
      const results = await Promise.all(handles.map((h) => h.done));
      const lines = readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(60);
      const ran = new Map(lines.map((l) => l.split(' ') as [string, string]));
      expect([...ran.keys()].sort()).toEqual(handles.map((h) => h.id).sort());
      handles.forEach((h, i) => expect(String(results[i])).toBe(ran.get(h.id)));
      expect(new Set(ran.values())).toEqual(new Set(children.map((c) => String(c.pid))));
    });

    it('runs the job again in another worker once the lease expires: succeeded after 2 attempts', async () => {
      open();
      const child = await startChild(1000);
      let ranHere = 0;
      const q = queue(
        {
          slow: async (_p, progress, job) => {
            ranHere += 1;
            progress(`second run, attempt ${job.attempt}`);
            return { by: 'second' };
          },
        },
        { leaseMs: 1000 },
      );
      const retried = await q.enqueue('slow', { n: 1 });
      const lastChance = await q.enqueue('slow', { n: 2 }, undefined, { maxAttempts: 1 });
      await until('both jobs to start in the worker process', () => [retried.id, lastChance.id].every((id) => existsSync(join(dir, `started-${id}`))));
      expect(readFileSync(join(dir, `started-${retried.id}`), 'utf8')).toBe(String(child.pid));
      expect((await q.get(retried.id))?.state).toBe('running');

      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      q.start();

      expect(await retried.done).toEqual({ by: 'second' });
      const r = await q.get(retried.id);
      expect(r).toMatchObject({ state: 'succeeded', attempts: 2, result: { by: 'second' } });
      expect(r?.logs.map((l) => l.message)).toEqual([
        `started in process ${child.pid}`,
        `worker child-${child.pid} stopped answering; running again (attempt 2 of 3)`,
        'second run, attempt 2',
      ]);

      const e = await rejection(lastChance.done);
      expect(e.message).toMatch(/^worker lost: child-\d+ stopped answering/);
      expect(await q.get(lastChance.id)).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'UNAVAILABLE' } });
      expect(ranHere).toBe(1);
    });
  });
});

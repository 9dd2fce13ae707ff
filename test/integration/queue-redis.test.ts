// The Redis job queue (BullMQ) against a real redis-server: running jobs and mapping their
// states, idempotency, final and transient failures, counts, and a worker process killed with
// SIGKILL in the middle of a job whose lock then expires so that another worker finishes it.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MaasError } from '../../src/core/errors.js';
import type { JobRunner } from '../../src/queue/port.js';
import { idempotentJobId } from '../../src/queue/idempotency.js';
import { RedisJobQueue, type RedisQueueOptions } from '../../src/queue/redis-queue.js';
import { parseRedisUrl, redactRedisUrl } from '../../src/queue/redis-url.js';
import { builtModule } from '../support/built.js';
import { freePort, startRedis, waitForExit, type RedisServer } from '../support/redis.js';
import { spawnRedisWorker } from '../support/redis-worker-process.js';

let redis: RedisServer;
let prefixes = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function queue(options: RedisQueueOptions = {}): RedisJobQueue {
  const q = new RedisJobQueue(redis.url, { prefix: `t${++prefixes}`, pollMs: 20, backoff: { baseMs: 20 }, ...options });
  cleanups.push(() => q.close());
  return q;
}

/** A second queue object on the same Redis keys: another process's view. */
function sameQueue(q: RedisJobQueue, options: RedisQueueOptions = {}): RedisJobQueue {
  const other = new RedisJobQueue(redis.url, { prefix: `t${prefixes}`, pollMs: 20, backoff: { baseMs: 20 }, ...options });
  cleanups.push(() => other.close());
  expect(other.url).toBe(q.url);
  return other;
}

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
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

describe('parseRedisUrl', () => {
  it('reads host, port, database and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2, maxRetriesPerRequest: null });
    expect(parseRedisUrl('redis://cache.internal')).toEqual({ host: 'cache.internal', port: 6379, db: 0, maxRetriesPerRequest: null });
    expect(parseRedisUrl('redis://ops:p%40ss@cache:6379/0')).toMatchObject({ username: 'ops', password: 'p@ss', host: 'cache' });
    expect(parseRedisUrl('redis://:secret@cache:6379')).toMatchObject({ password: 'secret' });
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
    expect(parseRedisUrl('redis://:secret@cache:6379').username).toBeUndefined();
  });

  it('turns on TLS for rediss://', () => {
    expect(parseRedisUrl('rediss://cache.example:6380')).toMatchObject({ host: 'cache.example', port: 6380, tls: { servername: 'cache.example' } });
    expect(parseRedisUrl('redis://cache.example:6380').tls).toBeUndefined();
  });

  it.each(['', 'localhost:6379', 'http://cache:6379', 'redis://cache:6379/x', 'redis://cache:99999', 'redis://cache:6379/0?tls=1', 'redis://'])(
    'refuses %j with a usage error and a hint',
    (url) => {
      let e: unknown;
      try {
        parseRedisUrl(url);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(MaasError);
      expect((e as MaasError).code).toBe('USAGE');
      expect((e as MaasError).hint).toMatch(/redis:\/\//);
    },
  );

  it('never puts the password in a message', () => {
    expect(redactRedisUrl('redis://ops:hunter2@cache:6379/0')).toBe('redis://ops:***@cache:6379/0');
    expect(() => parseRedisUrl('redis://ops:hunter2@cache:6379/zero')).toThrow(/^(?!.*hunter2)/);
  });

  it('fails at construction, before connecting to anything', () => {
    expect(() => new RedisJobQueue('redis//nope')).toThrow(MaasError);
  });
});

describe('RedisJobQueue', () => {
  it('runs a job in a worker and maps its states, result, progress and logs', async () => {
    const q = queue();
    const proceed = gate();
    const seen: string[] = [];
    const h = await q.enqueue('echo', { x: 1 }, (m) => seen.push(m), { owner: 'alice' });
    expect(h.existing).toBeUndefined();

    // No worker yet: queued.
    const queued = await q.get(h.id);
    expect(queued).toMatchObject({ id: h.id, kind: 'echo', state: 'queued', payload: { x: 1 }, owner: 'alice', attempts: 0, maxAttempts: 3, logs: [] });
    expect(queued?.runAfter).toBe(queued?.createdAt);
    expect(await q.counts()).toEqual({ queued: 1, running: 0, succeeded: 0, failed: 0 });

    const runners: Record<string, JobRunner> = {
      echo: async (payload, progress, job) => {
        progress('one');
        await proceed.wait;
        progress('two');
        return { echoed: payload, attempt: job.attempt };
      },
    };
    q.startWorker(runners, { concurrency: 1, workerId: 'test-worker' });
    const running = await until('the job to run', async () => {
      const j = await q.get(h.id);
      return j?.state === 'running' && j.logs.length > 0 ? j : undefined;
    });
    expect(running).toMatchObject({ attempts: 1, progress: 'one' });
    expect(running.startedAt).toBeDefined();
    expect(await q.counts()).toEqual({ queued: 0, running: 1, succeeded: 0, failed: 0 });

    proceed.open();
    expect(await h.done).toEqual({ echoed: { x: 1 }, attempt: 1 });
    const r = await q.get(h.id);
    expect(r).toMatchObject({ state: 'succeeded', attempts: 1, result: { echoed: { x: 1 }, attempt: 1 }, progress: 'two' });
    expect(r?.logs.map((l) => l.message)).toEqual(['one', 'two']);
    expect(r?.error).toBeUndefined();
    expect(r?.runAfter).toBeUndefined();
    expect(r!.createdAt <= r!.startedAt! && r!.startedAt! <= r!.finishedAt! && r!.logs[0]!.at >= r!.startedAt!).toBe(true);
    expect(seen).toEqual(['one', 'two']);

    expect(await q.counts()).toEqual({ queued: 0, running: 0, succeeded: 1, failed: 0 });
    expect((await q.list({ state: 'succeeded' })).map((j) => j.id)).toEqual([h.id]);
    expect(await q.list({ state: 'failed' })).toEqual([]);
    expect((await q.list({ owner: 'alice' })).map((j) => j.id)).toEqual([h.id]);
    expect(await q.list({ owner: 'bob' })).toEqual([]);
    expect(await q.get('job-nope')).toBeUndefined();
  });

  it('lists newest first across states', async () => {
    const q = queue();
    const a = await q.enqueue('noop', { i: 0 });
    await new Promise((r) => setTimeout(r, 5));
    const b = await q.enqueue('noop', { i: 1 });
    q.startWorker({ noop: async () => undefined });
    await Promise.all([a.done, b.done]);
    await new Promise((r) => setTimeout(r, 5));
    const c = await q.enqueue('noop', { i: 2 }, undefined, { owner: 'carol' });
    await c.done;
    expect((await q.list()).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect((await q.list({ limit: 1 })).map((j) => j.id)).toEqual([c.id]);
    expect((await q.list({ owner: 'carol' })).map((j) => j.id)).toEqual([c.id]);
    const r = await q.get(a.id);
    expect(r?.state).toBe('succeeded');
    expect('result' in r!).toBe(false);
  });

  it('returns the existing job for a repeated idempotency key, per owner, also when two enqueue at once', async () => {
    const q1 = queue();
    const q2 = sameQueue(q1);
    const [a, b] = await Promise.all([
      q1.enqueue('count', { n: 1 }, undefined, { idempotencyKey: 'k1', owner: 'alice' }),
      q2.enqueue('count', { n: 2 }, undefined, { idempotencyKey: 'k1', owner: 'alice' }),
    ]);
    expect(b.id).toBe(a.id);
    expect(a.id).toBe(idempotentJobId('alice', 'k1'));
    expect([a.existing, b.existing].filter(Boolean)).toEqual([true]);
    const again = await q1.enqueue('count', { n: 3 }, undefined, { idempotencyKey: 'k1', owner: 'alice' });
    expect(again).toMatchObject({ id: a.id, existing: true });
    const other = await q1.enqueue('count', { n: 4 }, undefined, { idempotencyKey: 'k1', owner: 'bob' });
    expect(other.id).not.toBe(a.id);
    expect(other.existing).toBeUndefined();
    expect(await q1.counts()).toEqual({ queued: 2, running: 0, succeeded: 0, failed: 0 });
    expect(await q1.get(a.id)).toMatchObject({ idempotencyKey: 'k1', owner: 'alice' });

    let runs = 0;
    q1.startWorker({
      count: async () => {
        runs += 1;
        return runs;
      },
    });
    await Promise.all([a.done, other.done]);
    expect(await again.done).toBe(await a.done);
    expect(runs).toBe(2);
  });

  it('fails a final error at once, with its code, message and hint', async () => {
    const q = queue();
    let runs = 0;
    q.startWorker({
      bad: async () => {
        runs += 1;
        throw new MaasError('VALIDATION', 'feature tenure is missing', { hint: 'add tenure to the rows' });
      },
    });
    const h = await q.enqueue('bad', {}, undefined, { maxAttempts: 5 });
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
    expect(await q.counts()).toEqual({ queued: 0, running: 0, succeeded: 0, failed: 1 });
  });

  it('retries a transient failure with our backoff, then succeeds', async () => {
    const q = queue({ random: () => 0.5 });
    const starts: number[] = [];
    const failures: number[] = [];
    q.startWorker({
      flaky: async (_p, _progress, job) => {
        starts.push(Date.now());
        if (job.attempt < 3) {
          failures.push(Date.now());
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        }
        return 'ok';
      },
    });
    const h = await q.enqueue('flaky', {});
    expect(await h.done).toBe('ok');
    const r = await q.get(h.id);
    expect(r).toMatchObject({ state: 'succeeded', attempts: 3, result: 'ok' });
    expect(r?.logs.map((l) => l.message)).toEqual([
      expect.stringMatching(/^attempt 1 of 3 failed \(UNAVAILABLE: connection lost\); retrying in 15 ms$/),
      expect.stringMatching(/^attempt 2 of 3 failed \(UNAVAILABLE: connection lost\); retrying in 30 ms$/),
    ]);
    expect(starts[1]! - failures[0]!).toBeGreaterThanOrEqual(15);
    expect(starts[2]! - failures[1]!).toBeGreaterThanOrEqual(30);
  });

  it('records the pending retry of a queued job: its error and when it runs again', async () => {
    const q = queue({ backoff: { baseMs: 60_000 } });
    q.startWorker({ down: async () => Promise.reject(new MaasError('TIMEOUT', 'too slow')) });
    const h = await q.enqueue('down', {});
    const r = await until('a scheduled retry', async () => {
      const j = await q.get(h.id);
      return j?.state === 'queued' && j.attempts === 1 ? j : undefined;
    });
    expect(r.error).toEqual({ code: 'TIMEOUT', message: 'too slow' });
    expect(Date.parse(r.runAfter!) - Date.parse(r.startedAt!)).toBeGreaterThanOrEqual(30_000);
    expect(Date.parse(r.runAfter!) - Date.now()).toBeLessThanOrEqual(60_000);
    expect(await q.counts()).toEqual({ queued: 1, running: 0, succeeded: 0, failed: 0 });
  });

  it('fails a transient failure for good once its attempts are used', async () => {
    const q = queue();
    let runs = 0;
    q.startWorker({
      down: async () => {
        runs += 1;
        throw new MaasError('UNAVAILABLE', 'backend down', { hint: 'start it' });
      },
    });
    const h = await q.enqueue('down', {}, undefined, { maxAttempts: 2 });
    const e = await rejection(h.done);
    expect([e.code, e.message, e.hint]).toEqual(['UNAVAILABLE', 'backend down', 'start it']);
    expect(await q.get(h.id)).toMatchObject({ state: 'failed', attempts: 2, error: { code: 'UNAVAILABLE', message: 'backend down' } });
    expect(runs).toBe(2);
  });

  it('fails a job of a kind the worker cannot run, without retrying it', async () => {
    const q = queue();
    q.startWorker({ other: async () => 1 });
    const h = await q.enqueue('unknown-kind', {});
    const e = await rejection(h.done);
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toMatch(/no worker for jobs of kind "unknown-kind"/);
    expect((await q.get(h.id))?.attempts).toBe(1);
  });

  it('rejects waiting callers when closed, and refuses new jobs', async () => {
    const q = new RedisJobQueue(redis.url, { prefix: `t${++prefixes}`, pollMs: 20 });
    const h = await q.enqueue('never', {});
    const waiting = rejection(h.done);
    await q.close();
    expect((await waiting).code).toBe('UNAVAILABLE');
    expect((await rejection(q.enqueue('never', {}))).code).toBe('UNAVAILABLE');
  });

  it('fails as UNAVAILABLE, with a hint, while Redis does not answer, and still closes', async () => {
    const errors: unknown[] = [];
    const q = new RedisJobQueue(`redis://127.0.0.1:${await freePort()}`, { timeoutMs: 300, onError: (e) => errors.push(e) });
    try {
      const e = await rejection(q.enqueue('echo', {}));
      expect(e.code).toBe('UNAVAILABLE');
      expect(e.message).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms \(trying to enqueue a job\)$/);
      expect(e.hint).toMatch(/idempotency key/);
      expect((await rejection(q.counts())).code).toBe('UNAVAILABLE');
    } finally {
      await q.close();
    }
    expect(errors.length).toBeGreaterThan(0);
  });

  describe('with worker processes', () => {
    let dir: string;

    beforeAll(() => {
      builtModule('queue/redis-queue.js');
      dir = mkdtempSync(join(tmpdir(), 'maas-redis-queue-'));
    });

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function startWorkerProcess(prefix: string, lockMs: number): Promise<ChildProcess> {
      const child = spawnRedisWorker(redis.url, prefix, dir, lockMs);
      let out = '';
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await waitForExit(child, 5000);
      });
      await until('the worker process to connect', () => {
        if (child.exitCode !== null) throw new Error(`worker process exited:\n${out}`);
        return out.includes('ready');
      });
      return child;
    }

    it('hands the job of a worker killed with SIGKILL to the other worker once its lock expires', async () => {
      const q = queue({ lockMs: 2000 });
      const prefix = `t${prefixes}`;
      const workers = await Promise.all([startWorkerProcess(prefix, 2000), startWorkerProcess(prefix, 2000)]);
      const h = await q.enqueue('slow', { n: 1 });
      const marker = join(dir, `started-${h.id}`);
      await until('the job to start in a worker', () => existsSync(marker) && readFileSync(marker, 'utf8') !== '');
      const victimPid = Number(readFileSync(marker, 'utf8'));
      // The marker is written before the progress line reaches Redis: kill only once it has.
      await until('the job to log its start', async () => ((await q.get(h.id))?.logs.length ?? 0) > 0);
      const victim = workers.find((w) => w.pid === victimPid)!;
      const survivor = workers.find((w) => w.pid !== victimPid)!;
      expect(victim).toBeDefined();
      expect((await q.get(h.id))?.state).toBe('running');

      victim.kill('SIGKILL');
      await waitForExit(victim);

      expect(await h.done).toEqual({ by: survivor.pid });
      const r = await q.get(h.id);
      expect(r).toMatchObject({ state: 'succeeded', attempts: 2, result: { by: survivor.pid } });
      expect(r?.logs.map((l) => l.message)).toEqual([`started in process ${victimPid}`, `finished in process ${survivor.pid}, attempt 2`]);

      // The survivor shuts down cleanly when asked.
      survivor.kill('SIGTERM');
      await waitForExit(survivor);
      expect(survivor.exitCode).toBe(0);
    });
  });
});

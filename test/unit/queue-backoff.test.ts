import { describe, expect, it } from 'vitest';
import { ManualClock, seededRandom } from '../../src/core/clock.js';
import { MaasError } from '../../src/core/errors.js';
import { DEFAULT_BACKOFF, backoffDelay, backoffOptions } from '../../src/queue/backoff.js';
import { idempotentJobId, scopedKey, unscopedKey } from '../../src/queue/idempotency.js';
import { InProcessQueue } from '../../src/queue/in-process.js';
import { fromJobError, isTransient, parseJobError, toJobError } from '../../src/queue/transient.js';

function sys(code: string): Error {
  return Object.assign(new Error(`${code} happened`), { code });
}

describe('backoffDelay', () => {
  const o = { baseMs: 100, factor: 2, maxMs: 1000 };

  it('grows exponentially with the attempt, between half and all of the undithered delay', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, () => 0, o))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, () => 0.999_999, o))).toEqual([99, 199, 399, 799]);
  });

  it('never exceeds maxMs, however many attempts', () => {
    expect(backoffDelay(5, () => 0, o)).toBe(500);
    for (const attempt of [5, 10, 60, 1000]) expect(backoffDelay(attempt, () => 0.999_999, o)).toBeLessThanOrEqual(1000);
    expect(Number.isFinite(backoffDelay(10_000, () => 0.5, o))).toBe(true);
  });

  it('draws its jitter from the injected randomness, so a seed reproduces the delays', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, () => a.next(), o));
    const second = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, () => b.next(), o));
    expect(first).toEqual(second);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, () => a.next(), o)));
    expect(spread.size).toBeGreaterThan(10);
    for (const d of spread) expect(d).toBeGreaterThanOrEqual(200);
  });

  it('treats the first attempt (and nonsense below it) as the base delay', () => {
    expect(backoffDelay(0, () => 0, o)).toBe(50);
    expect(backoffDelay(-3, () => 0, o)).toBe(50);
  });

  it('fills in defaults and rejects impossible settings', () => {
    expect(backoffOptions()).toEqual(DEFAULT_BACKOFF);
    expect(backoffOptions({ baseMs: 20 })).toEqual({ ...DEFAULT_BACKOFF, baseMs: 20 });
    expect(() => backoffOptions({ factor: 0.5 })).toThrow(/invalid backoff/);
    expect(() => backoffOptions({ baseMs: -1 })).toThrow(/invalid backoff/);
  });
});

describe('isTransient', () => {
  it.each(['UNAVAILABLE', 'TIMEOUT'] as const)('retries MaasError %s', (code) => {
    expect(isTransient(new MaasError(code, 'x'))).toBe(true);
  });

  it.each(['VALIDATION', 'USAGE', 'NOT_FOUND', 'CONFLICT', 'INTERNAL', 'REJECTED', 'FAILURE'] as const)('does not retry MaasError %s', (code) => {
    expect(isTransient(new MaasError(code, 'x'))).toBe(false);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'SQLITE_BUSY'])('retries system error %s', (code) => {
    expect(isTransient(sys(code))).toBe(true);
  });

  it('does not retry other errors, or anything that is not an error', () => {
    for (const e of [sys('ENOENT'), sys('EACCES'), sys('SQLITE_CORRUPT'), new Error('boom'), new TypeError('x is undefined'), 'text', undefined, null, 42]) {
      expect(isTransient(e)).toBe(false);
    }
  });

  it('goes by the error itself: a final error caused by a network failure stays final', () => {
    expect(isTransient(new MaasError('VALIDATION', 'bad input', { cause: sys('ECONNRESET') }))).toBe(false);
  });
});

describe('job errors', () => {
  it('records code, message and hint of a MaasError', () => {
    expect(toJobError(new MaasError('VALIDATION', 'feature tenure is missing', { hint: 'add it' }))).toEqual({
      code: 'VALIDATION',
      message: 'feature tenure is missing',
      hint: 'add it',
    });
    expect(toJobError(new MaasError('CONFLICT', 'taken'))).toEqual({ code: 'CONFLICT', message: 'taken' });
  });

  it('maps system errors the way the CLI does', () => {
    const e = toJobError(sys('ECONNREFUSED'));
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.hint).toBeTruthy();
    expect(toJobError(new Error('boom')).code).toBe('INTERNAL');
  });

  it('round-trips through stored JSON to the error a waiting caller gets', () => {
    const stored = JSON.stringify(toJobError(new MaasError('TIMEOUT', 'too slow', { hint: 'raise --timeout' })));
    const back = fromJobError(parseJobError(stored));
    expect(back).toBeInstanceOf(MaasError);
    expect([back.code, back.message, back.hint]).toEqual(['TIMEOUT', 'too slow', 'raise --timeout']);
  });

  it('keeps foreign failure texts as the message of a FAILURE', () => {
    expect(parseJobError('job stalled more than allowable limit')).toEqual({ code: 'FAILURE', message: 'job stalled more than allowable limit' });
    expect(parseJobError('{"not":"ours"}')).toEqual({ code: 'FAILURE', message: '{"not":"ours"}' });
    expect(fromJobError({ code: 'SOMETHING_NEW', message: 'x' }).code).toBe('FAILURE');
  });
});

describe('idempotency keys', () => {
  it('scope a key to its owner, unambiguously, and give the key back', () => {
    expect(scopedKey('a:b', 'c')).not.toBe(scopedKey('a', 'b:c'));
    expect(scopedKey(undefined, 'k')).toBe(scopedKey('', 'k'));
    for (const [owner, key] of [
      ['alice', 'k1'],
      ['a:b', 'c:d'],
      [undefined, '12:x'],
      ['', ''],
    ] as const) {
      expect(unscopedKey(scopedKey(owner, key))).toBe(key);
    }
  });

  it('name one Redis job per owner and key', () => {
    expect(idempotentJobId('alice', 'k1')).toBe(idempotentJobId('alice', 'k1'));
    expect(idempotentJobId('alice', 'k1')).not.toBe(idempotentJobId('bob', 'k1'));
    expect(idempotentJobId('alice', 'k1')).toMatch(/^k-[0-9a-f]{32}$/);
  });
});

describe('InProcessQueue', () => {
  it('runs a job at once and keeps its record for get, list and counts', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 21));
    const q = new InProcessQueue(
      {
        echo: async (payload, progress, job) => {
          progress('working');
          return { payload, job };
        },
        bad: async () => Promise.reject(new MaasError('VALIDATION', 'no', { hint: 'fix it' })),
      },
      () => {},
      { clock },
    );
    const seen: string[] = [];
    const h = await q.enqueue('echo', { x: 1 }, (m) => seen.push(m), { owner: 'alice' });
    expect(await h.done).toEqual({ payload: { x: 1 }, job: { id: h.id, attempt: 1 } });
    expect(seen).toEqual(['working']);
    expect(await q.get(h.id)).toEqual({
      id: h.id,
      kind: 'echo',
      state: 'succeeded',
      payload: { x: 1 },
      owner: 'alice',
      attempts: 1,
      maxAttempts: 1,
      createdAt: '2026-11-30T21:00:00.000Z',
      updatedAt: '2026-11-30T21:00:00.000Z',
      startedAt: '2026-11-30T21:00:00.000Z',
      finishedAt: '2026-11-30T21:00:00.000Z',
      progress: 'working',
      logs: [{ at: '2026-11-30T21:00:00.000Z', message: 'working' }],
      result: { payload: { x: 1 }, job: { id: h.id, attempt: 1 } },
    });
    const failed = await q.enqueue('bad', {});
    await expect(failed.done).rejects.toMatchObject({ code: 'VALIDATION' });
    expect((await q.get(failed.id))?.error).toEqual({ code: 'VALIDATION', message: 'no', hint: 'fix it' });
    expect(await q.counts()).toEqual({ queued: 0, running: 0, succeeded: 1, failed: 1 });
    expect((await q.list()).map((j) => j.id)).toEqual([failed.id, h.id]);
    expect((await q.list({ owner: 'alice' })).map((j) => j.id)).toEqual([h.id]);
    await q.close();
  });

  it('returns the existing job for a repeated idempotency key of the same owner', async () => {
    let runs = 0;
    const q = new InProcessQueue({ count: async () => ++runs });
    const a = await q.enqueue('count', {}, undefined, { idempotencyKey: 'k', owner: 'alice' });
    const b = await q.enqueue('count', {}, undefined, { idempotencyKey: 'k', owner: 'alice' });
    const c = await q.enqueue('count', {}, undefined, { idempotencyKey: 'k', owner: 'bob' });
    expect(b).toMatchObject({ id: a.id, existing: true });
    expect(c.id).not.toBe(a.id);
    await q.idle();
    expect(await b.done).toBe(await a.done);
    expect(runs).toBe(2);
  });

  it('forgets the oldest finished jobs beyond what it retains', async () => {
    const q = new InProcessQueue({ noop: async () => undefined }, () => {}, { retain: 2 });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await q.enqueue('noop', {})).id);
    await q.idle();
    await q.enqueue('noop', {});
    await q.idle();
    expect(await q.get(ids[0]!)).toBeUndefined();
    expect((await q.counts()).succeeded).toBeLessThanOrEqual(3);
  });
});

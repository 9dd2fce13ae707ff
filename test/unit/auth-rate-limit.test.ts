// Token buckets per key on a manual clock: a burst then refusals with Retry-After from the rate,
// refill over time, keys isolated, memory bounded, and the RateLimit headers.
import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, TokenBucketLimiter } from '../../src/auth/rate-limit.js';
import { thrown } from '../support/assert.js';

function limiter(o: { ratePerSecond?: number; burst?: number; maxKeys?: number } = {}) {
  let t = 1_000_000;
  const l = new TokenBucketLimiter({ ratePerSecond: o.ratePerSecond ?? 2, burst: o.burst ?? 5, now: () => t, ...(o.maxKeys ? { maxKeys: o.maxKeys } : {}) });
  return { l, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refuses with Retry-After computed from the rate', () => {
    const { l } = limiter({ ratePerSecond: 0.5, burst: 3 });
    expect([1, 2, 3].map(() => l.take('a'))).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 2 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 4 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 6 },
    ]);
    // One token comes back every 2 s.
    expect(l.take('a')).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 6, retryAfterSeconds: 2 });
  });

  it('refills over time, never beyond the burst', () => {
    const { l, advance } = limiter({ ratePerSecond: 2, burst: 5 });
    for (let i = 0; i < 5; i++) expect(l.take('k').allowed).toBe(true);
    expect(l.take('k')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    advance(499);
    expect(l.take('k')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    advance(1);
    expect(l.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    advance(60_000);
    expect(l.take('k')).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 1 });
  });

  it('rounds Retry-After up and never below one second', () => {
    const { l } = limiter({ ratePerSecond: 10, burst: 1 });
    expect(l.take('k').allowed).toBe(true);
    expect(l.take('k').retryAfterSeconds).toBe(1);
    const slow = limiter({ ratePerSecond: 1 / 30, burst: 1 });
    slow.l.take('k');
    slow.advance(1000);
    expect(slow.l.take('k').retryAfterSeconds).toBe(29);
  });

  it('a refused request spends nothing; a cost takes several tokens', () => {
    const { l } = limiter({ ratePerSecond: 1, burst: 4 });
    expect(l.take('k', 3)).toMatchObject({ allowed: true, remaining: 1 });
    expect(l.take('k', 2)).toMatchObject({ allowed: false, remaining: 1, retryAfterSeconds: 1 });
    expect(l.take('k', 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(thrown(() => l.take('k', 5)).code).toBe('USAGE');
    expect(thrown(() => l.take('k', 0)).code).toBe('USAGE');
  });

  it('keeps keys apart', () => {
    const { l } = limiter({ ratePerSecond: 1, burst: 2 });
    l.take('a');
    l.take('a');
    expect(l.take('a').allowed).toBe(false);
    expect(l.take('b')).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('drops buckets that have refilled, and never holds more than maxKeys', () => {
    const { l, advance } = limiter({ ratePerSecond: 1, burst: 2, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) l.take(`key-${i}`);
    expect(l.size).toBe(100);
    // Two seconds refill every bucket: the next take sweeps them all.
    advance(2000);
    l.take('fresh');
    expect(l.size).toBe(1);
  });

  it('keeps a busy key over idle ones when it must evict', () => {
    const { l } = limiter({ ratePerSecond: 0.001, burst: 2, maxKeys: 3 });
    l.take('busy');
    l.take('busy');
    for (const k of ['x', 'y', 'busy', 'z']) l.take(k);
    expect(l.size).toBe(3);
    // 'busy' was used recently, so 'x' went; its bucket is still empty.
    expect(l.take('busy').allowed).toBe(false);
  });

  it('a clock stepping back refills nothing', () => {
    const { l, set } = limiter({ ratePerSecond: 1, burst: 1 });
    set(10_000);
    l.take('k');
    set(5_000);
    expect(l.take('k').allowed).toBe(false);
    set(11_000);
    expect(l.take('k').allowed).toBe(true);
  });

  it('refuses nonsense settings', () => {
    expect(thrown(() => new TokenBucketLimiter({ ratePerSecond: 0, burst: 1, now: () => 0 })).code).toBe('USAGE');
    expect(thrown(() => new TokenBucketLimiter({ ratePerSecond: 1, burst: 0.5, now: () => 0 })).code).toBe('USAGE');
    expect(thrown(() => new TokenBucketLimiter({ ratePerSecond: 1, burst: 1, now: () => 0, maxKeys: 0 })).code).toBe('USAGE');
  });
});

describe('rateLimitHeaders', () => {
  it('names limit, remaining and reset, and Retry-After only when refused', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 5, remaining: 4, resetSeconds: 1 })).toEqual({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '4',
      'RateLimit-Reset': '1',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 })).toEqual({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '3',
      'Retry-After': '1',
    });
  });
});

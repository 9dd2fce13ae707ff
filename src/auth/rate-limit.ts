// Per-key token buckets: each key (an API token) may spend `burst` requests at once and gets
// `ratePerSecond` back over time. Pure: the caller passes the clock. A bucket that has refilled
// is the same as no bucket, so idle keys are dropped and memory stays bounded by `maxKeys`.
import { MaasError } from '../core/errors.js';

export interface TokenBucketOptions {
  ratePerSecond: number;
  burst: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Most buckets kept; beyond it the least recently used is dropped (that key starts full again). */
  maxKeys?: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** The bucket's size (requests at once). */
  limit: number;
  /** Whole requests left after this one. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** When refused: whole seconds (at least 1) until the request would be allowed. */
  retryAfterSeconds?: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class TokenBucketLimiter {
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  /** In least-recently-used order: every take moves its key to the end. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(o: TokenBucketOptions) {
    if (!(Number.isFinite(o.ratePerSecond) && o.ratePerSecond > 0))
      throw new MaasError('USAGE', `rate limit must be a positive number; got ${o.ratePerSecond}`);
    if (!(Number.isFinite(o.burst) && o.burst >= 1)) throw new MaasError('USAGE', `rate limit burst must be at least 1; got ${o.burst}`);
    const maxKeys = o.maxKeys ?? 10_000;
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new MaasError('USAGE', `maxKeys must be a whole number of at least 1; got ${maxKeys}`);
    this.rate = o.ratePerSecond;
    this.burst = o.burst;
    this.now = o.now;
    this.maxKeys = maxKeys;
  }

  /** Buckets held now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends `cost` from `key`'s bucket if it holds that much; a refused request spends nothing. */
  take(key: string, cost = 1): RateLimitResult {
    if (!(Number.isFinite(cost) && cost > 0 && cost <= this.burst)) {
      throw new MaasError('USAGE', `a request's cost must be above 0 and at most the burst (${this.burst}); got ${cost}`);
    }
    const now = this.now();
    this.sweep(now);
    const bucket = this.refilled(this.buckets.get(key), now);
    this.buckets.delete(key);
    const allowed = bucket.tokens >= cost;
    if (allowed) bucket.tokens -= cost;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    const result: RateLimitResult = {
      allowed,
      limit: Math.floor(this.burst),
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((this.burst - bucket.tokens) / this.rate),
    };
    if (!allowed) result.retryAfterSeconds = Math.max(1, Math.ceil((cost - bucket.tokens) / this.rate));
    return result;
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.burst, updated: now };
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - bucket.updated) / 1000;
    return { tokens: Math.min(this.burst, bucket.tokens + elapsed * this.rate), updated: Math.max(now, bucket.updated) };
  }

  /** Drops least recently used buckets that have refilled: amortised O(1), each key once. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (this.refilled(b, now).tokens < this.burst) return;
      this.buckets.delete(key);
    }
  }
}

/**
 * The response headers of a rate-limited request (IETF httpapi draft RateLimit header fields),
 * plus Retry-After when it was refused.
 */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(result.limit),
    'RateLimit-Remaining': String(result.remaining),
    'RateLimit-Reset': String(result.resetSeconds),
  };
  if (!result.allowed && result.retryAfterSeconds !== undefined) headers['Retry-After'] = String(result.retryAfterSeconds);
  return headers;
}

// What the control plane's routes are given: the application services of the home it serves, its
// job queue, and the security state (token cache, rate limiters). Built once by `maas server`;
// tests build it from fakes.
import type { Services } from '../app/services.js';
import type { VerifiedTokenCache } from '../app/tokens.js';
import type { HashSecret } from '../auth/password-hash.js';
import type { TokenBucketLimiter } from '../auth/rate-limit.js';
import type { JobQueue } from '../queue/port.js';
import type { IdempotencyStore } from '../domain/idempotency.js';
import type { ResolveHost } from './remote-reference.js';

export interface ServerLimits {
  /** JSON request bodies (bytes). */
  bodyBytes: number;
  /** Artifact uploads (bytes). */
  uploadBytes: number;
  /** Whole request, headers to last byte (ms). */
  requestTimeoutMs: number;
  /** Calls to model servers and targets made on behalf of a request (ms). */
  upstreamTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  bodyBytes: 4 * 1024 * 1024,
  uploadBytes: 512 * 1024 * 1024,
  requestTimeoutMs: 120_000,
  upstreamTimeoutMs: 30_000,
};

export interface ServerDeps {
  services: Services;
  queue: JobQueue;
  tokens: VerifiedTokenCache;
  /** Per token. */
  limiter: TokenBucketLimiter;
  /** Per client address, for failed authentications (guessing tokens). */
  authFailures: TokenBucketLimiter;
  idempotency: IdempotencyStore;
  limits: ServerLimits;
  /** scrypt by default; tests may pass a cheaper one. */
  hash?: HashSecret;
  /** Resolves the host of an artifact URI a client gives, so a name for an internal address is refused. */
  resolveHost?: ResolveHost;
  /** Whether the server is ready to take requests (false while starting and shutting down). */
  ready(): boolean;
  version: string;
  /**
   * Requests without a token act as a local admin (`--insecure-local`, loopback only); a token
   * that is sent is still checked.
   */
  insecureLocal?: boolean;
  /**
   * How long an observation of a deployment's target answers status and list requests (ms;
   * `--status-max-age`); 0 observes on every request. Default 1000.
   */
  statusMaxAgeMs?: number;
}

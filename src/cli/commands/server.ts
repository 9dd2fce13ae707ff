// `maas server`: the control plane. Serves the home it runs on (MAAS_HOME) over a REST API with
// tokens, scopes, rate limits and an audit log; long operations are jobs on a durable queue (the
// embedded SQLite queue, worked by this process, or Redis for separate `maas worker`s). Runs in
// the foreground until SIGTERM/SIGINT, then stops taking requests, finishes the ones in flight
// and requeues running jobs.
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import type { Program, Run } from '../program.js';
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import { bytes, positiveInteger } from '../flags.js';
import { packageVersion } from '../main.js';
import { waitForSignal } from '../signals.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** `HOST:PORT` (IPv6 in brackets); a bare port listens on 127.0.0.1. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? (/^\d{1,5}$/.test(text) ? [text, undefined, '127.0.0.1', text] : null);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new MaasError('USAGE', `--listen expects HOST:PORT, got "${text}"`, { hint: 'e.g. --listen 127.0.0.1:8080 or --listen 0.0.0.0:8080' });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

interface ServerOptions {
  listen: string;
  queue?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureLocal?: boolean;
  workers?: string;
  rateLimit: string;
  burst: string;
  maxBody: string;
  maxUpload: string;
  logLevel: string;
  shutdownGrace: string;
  statusMaxAge: string;
  auditRetention: string;
  idempotencyRetention: string;
}

/** How often old audit entries and idempotency keys are pruned. */
const HOUSEKEEPING_MS = 3_600_000;

export function define(program: Program, run: Run): void {
  program
    .command('server')
    .description('run the control plane (REST API with tokens, rate limits, audit log and a job queue) on this home until SIGTERM/SIGINT')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--queue <url>', 'where jobs wait: sqlite (the embedded queue in MAAS_HOME) or redis://HOST:PORT (with `maas worker`s)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--insecure-local', 'on a loopback address only: requests without a token act as an admin (no admin token needed)')
    .option('--workers <n>', 'jobs this process runs at once (default 2 with the embedded queue, 0 with Redis)')
    .option('--rate-limit <n>', 'requests per second per token', '50')
    .option('--burst <n>', 'requests a token may send at once', '100')
    .option('--max-body <size>', 'largest JSON request body', '4Mi')
    .option('--max-upload <size>', 'largest artifact upload', '512Mi')
    .option('--shutdown-grace <duration>', 'at SIGTERM, how long running jobs may finish before they go back to the queue', '30s')
    .option('--status-max-age <duration>', 'how old an observation of a deployment may be when status and list answer with it (0: observe every time)', '1s')
    .option('--audit-retention <duration>', 'how long audit log entries are kept', '90d')
    .option('--idempotency-retention <duration>', 'how long an Idempotency-Key is remembered (a later repeat is a new request)', '24h')
    .option('--log-level <level>', 'JSON log level on stdout: fatal, error, warn, info, debug or silent', 'info')
    .action(
      run(async (ctx, o: ServerOptions) => {
        const listen = parseListen(o.listen);
        if (o.insecureLocal && !LOOPBACK.has(listen.host))
          throw new MaasError('USAGE', `--insecure-local only works on a loopback address, not ${listen.host}`, {
            hint: 'create an admin token with `maas token create --name admin --scope admin` instead',
          });
        if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new MaasError('USAGE', '--tls-cert and --tls-key go together');
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(o.logLevel))
          throw new MaasError('USAGE', `unknown --log-level ${o.logLevel}`);
        const tls = o.tlsCert !== undefined ? { cert: await readFile(ctx.resolvePath(o.tlsCert)), key: await readFile(ctx.resolvePath(o.tlsKey!)) } : undefined;
        const limits = {
          bodyBytes: await bytes(o.maxBody, '--max-body'),
          uploadBytes: await bytes(o.maxUpload, '--max-upload'),
          requestTimeoutMs: 120_000,
          upstreamTimeoutMs: 30_000,
        };
        const rate = positiveInteger(o.rateLimit, '--rate-limit');
        const graceMs = parseDuration(o.shutdownGrace, '--shutdown-grace');
        const statusMaxAgeMs = parseDuration(o.statusMaxAge, '--status-max-age');
        const burst = positiveInteger(o.burst, '--burst');
        const retention = {
          auditMs: parseDuration(o.auditRetention, '--audit-retention'),
          idempotencyMs: parseDuration(o.idempotencyRetention, '--idempotency-retention'),
        };

        const [
          { durableQueueFactory, queueLocation },
          { countAdminTokens, VerifiedTokenCache },
          { TokenBucketLimiter },
          { createControlPlane },
          { pruneControlPlane },
        ] = await Promise.all([
          import('../../app/composition-root.js'),
          import('../../app/tokens.js'),
          import('../../auth/rate-limit.js'),
          import('../../server/server.js'),
          import('../../app/audit.js'),
        ]);
        const location = queueLocation(o.queue);
        const workers = o.workers !== undefined ? positiveInteger(o.workers, '--workers', 0) : location.kind === 'sqlite' ? 2 : 0;
        const durable = await durableQueueFactory(location, { clock: ctx.clock, work: workers > 0, concurrency: Math.max(1, workers) });
        const services = await ctx.services({ queue: durable.factory, local: true });
        const queue = durable.queue();
        if (!services.tokens || !services.idempotency) throw new MaasError('USAGE', 'the control plane needs the embedded registry in MAAS_HOME');
        if (!o.insecureLocal && (await countAdminTokens(services)) === 0)
          throw new MaasError('USAGE', `no admin token on this home (${ctx.home.root}): the server would be unmanageable`, {
            hint: 'create one first: `maas token create --name admin --scope admin`; or, on a loopback address only, --insecure-local',
          });

        let ready = false;
        const now = () => ctx.clock.now();
        const { app } = await createControlPlane(
          {
            services,
            queue,
            tokens: new VerifiedTokenCache(),
            limiter: new TokenBucketLimiter({ ratePerSecond: rate, burst, now }),
            authFailures: new TokenBucketLimiter({ ratePerSecond: 1, burst: 20, now }),
            idempotency: services.idempotency,
            limits,
            ready: () => ready,
            resolveHost: async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address),
            version: packageVersion(),
            ...(o.insecureLocal ? { insecureLocal: true } : {}),
            statusMaxAgeMs,
          },
          { logger: { level: o.logLevel }, ...(tls ? { tls } : {}) },
        );
        const housekeeping = (): void => {
          pruneControlPlane(services, retention).then(
            (pruned) => {
              if (pruned.audit + pruned.idempotency > 0) app.log.info({ pruned }, 'pruned the audit log and idempotency keys');
            },
            (e: unknown) => app.log.warn({ err: e }, 'pruning the audit log and idempotency keys failed'),
          );
        };
        const timer = setInterval(housekeeping, HOUSEKEEPING_MS);
        timer.unref();
        housekeeping();
        const signals = waitForSignal((signal) => app.log.info({ signal }, 'shutting down'));
        try {
          await app.listen({ host: listen.host, port: listen.port });
          await queue.start();
          ready = true;
          app.log.info({ queue: location.kind, workers, insecureLocal: o.insecureLocal === true, version: packageVersion() }, 'control plane ready');
        } catch (e) {
          clearInterval(timer);
          signals.dispose();
          await app.close();
          await queue.stop(1_000);
          throw e;
        }
        await signals.stopped;
        // Readiness fails first so a load balancer stops sending; then in-flight requests finish,
        // then running jobs get their time and are requeued if they need more.
        ready = false;
        clearInterval(timer);
        await app.close();
        await queue.stop(graceMs);
        await queue.close();
        app.log.info('stopped');
        return { data: {}, text: () => '' };
      }),
    );
}

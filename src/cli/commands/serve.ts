// `maas serve [name[@version]] --description FILE`: runs a model server (Open Inference Protocol
// v2 over REST) in the foreground until SIGTERM/SIGINT. The local deployment target starts it as
// a detached process and learns the port from --endpoint-file.
import { MaasError } from '../../core/errors.js';
import type { ReferenceProfile } from '../../drift/profile.js';
import type { ModelDescription } from '../../spec/schema.js';
import type { Program, Run } from '../program.js';
import { waitForSignal } from '../signals.js';
import { bytes } from '../flags.js';

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** Reads and checks a reference profile file: a clear startup error when it is not one, or not this model's. */
async function readProfile(path: string, shown: string, description: ModelDescription): Promise<ReferenceProfile> {
  const [{ readFile }, { checkReferenceProfile }] = await Promise.all([import('node:fs/promises'), import('../../drift/profile-check.js')]);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new MaasError('USAGE', `cannot read the profile ${shown}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MaasError('USAGE', `the profile ${shown} is not JSON: ${(e as Error).message}`, { hint: 'a profile is the JSON that `maas profile` writes' });
  }
  return checkReferenceProfile(value, description.spec.features, shown, `${description.metadata.name}@${description.metadata.version}`);
}

export function define(program: Program, run: Run): void {
  program
    .command('serve')
    .argument('[model]')
    .description('run a model server (Open Inference Protocol v2 over HTTP) until SIGTERM/SIGINT')
    .option('--description <file>', 'model description (YAML or JSON) instead of a registered name[@version]')
    .option('--artifact <path>', "model file (default: the description's file:// artifact, or the registry's copy)")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--endpoint-file <file>', 'after listening, write {url, port, pid} here (atomically)')
    .option('--log-db <file>', 'SQLite request log (default: in memory, lost at exit)')
    .option('--retention <rows>', 'keep at most this many logged predictions (default 100000)')
    .option('--retention-age <duration>', 'drop logged predictions older than this (e.g. 7d)')
    .option('--max-body <bytes>', 'largest request body (e.g. 16Mi)', '16Mi')
    .option('--threads <n>', 'runtime threads per inference call (default 1)')
    .option('--allow-ref-scheme <scheme>', 'URI scheme a data_ref may use (repeatable; default file, http, https)', collect)
    .option('--allow-ref-host <host>', 'host a data_ref may name: name, name:port or *.domain (repeatable; default any)', collect)
    .option('--ref-root <dir>', 'directory file:// data references may read (default: the working directory)')
    .option('--max-ref-bytes <bytes>', 'largest referenced data file (e.g. 64Mi)', '64Mi')
    .option('--stats-window <rows>', 'rows in the live window (default: spec.monitoring.window.rows, else 10000)')
    .option('--reservoir <rows>', 'rows in the stats sample (default 1000)')
    .option('--profile <file>', 'reference profile (JSON) the server checks drift against (GET .../drift, drift metrics)')
    .option('--drift-interval <duration>', 'how often drift is recomputed for the metrics (default: spec.monitoring.schedule, else 1m; 0 disables)')
    .option('--strict', 'strict placement: keep no raw rows in memory (no stats sample; drift on histograms only)')
    .option('--labelled-token-file <file>', 'with --strict: answer GET .../labelled to requests bearing the token in this file (re-read on each)')
    .option('--drain-timeout <duration>', 'how long shutdown waits for in-flight requests', '10s')
    .option('--access-log', 'log every request as a JSON line on stderr')
    .option('--composition <file>', 'serve a composition router from its configuration (JSON, re-read when it changes) instead of a model')
    .action(
      run(async (ctx, ref, opts) => {
        const { parsePositiveInt } = await import('../../core/numbers.js');
        const { parseDuration } = await import('../../core/duration.js');
        const port = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || port > 65535) throw new MaasError('USAGE', `--port expects 0..65535, got "${opts.port}"`);
        if (opts.composition !== undefined) {
          if (ref !== undefined || opts.description !== undefined || opts.artifact !== undefined)
            throw new MaasError('USAGE', '--composition serves a composition router: give it without a model, --description or --artifact');
          const [{ serveComposition }, { packageVersion }] = await Promise.all([import('../../serving/composition/start.js'), import('../main.js')]);
          await serveComposition({
            configFile: ctx.resolvePath(opts.composition),
            host: opts.host,
            port,
            endpointFile: opts.endpointFile === undefined ? undefined : ctx.resolvePath(opts.endpointFile),
            logDb: opts.logDb === undefined ? undefined : ctx.resolvePath(opts.logDb),
            retentionRows: opts.retention === undefined ? undefined : parsePositiveInt(opts.retention, '--retention'),
            maxBodyBytes: await bytes(opts.maxBody ?? '16Mi', '--max-body'),
            windowRows: opts.statsWindow === undefined ? undefined : parsePositiveInt(opts.statsWindow, '--stats-window'),
            reservoirSize: opts.reservoir === undefined ? undefined : parsePositiveInt(opts.reservoir, '--reservoir'),
            drainTimeoutMs: parseDuration(opts.drainTimeout, '--drain-timeout'),
            accessLog: opts.accessLog === true,
            serverVersion: packageVersion(),
            stderr: ctx.io.stderr,
            clock: ctx.clock,
          });
          return { data: {}, text: () => '' };
        }
        const { resolveServedModel } = await import('../../app/serve-model.js');
        const { description, artifactPath } = await resolveServedModel(() => ctx.services({ local: true }), {
          ...(ref !== undefined ? { ref } : {}),
          ...(opts.description !== undefined ? { descriptionFile: opts.description } : {}),
          ...(opts.artifact !== undefined ? { artifactPath: ctx.resolvePath(opts.artifact) } : {}),
          cwd: ctx.io.cwd,
        });
        const [{ startModelServer }, { jsonLines, errorMessage }, { writeEndpointFile }, { packageVersion }] = await Promise.all([
          import('../../serving/server.js'),
          import('../../serving/event-log.js'),
          import('../../serving/endpoint-file.js'),
          import('../main.js'),
        ]);
        const events = jsonLines(ctx.io.stderr, ctx.clock);
        const profile = opts.profile ? await readProfile(ctx.resolvePath(opts.profile), opts.profile, description) : undefined;
        const driftInterval = opts.driftInterval === undefined ? undefined : parseDuration(opts.driftInterval, '--drift-interval');
        const retention: { maxRows?: number; maxAgeMs?: number } = {};
        if (opts.retention) retention.maxRows = parsePositiveInt(opts.retention, '--retention');
        if (opts.retentionAge) retention.maxAgeMs = parseDuration(opts.retentionAge, '--retention-age');
        if (!opts.retention && !opts.retentionAge) retention.maxRows = 100_000;
        const name = `${description.metadata.name}@${description.metadata.version}`;

        let signalled = false;
        const signals = waitForSignal((signal) => {
          signalled = true;
          events({ level: 'info', event: 'shutdown', signal, model: name });
        });
        let server;
        try {
          server = await startModelServer({
            description,
            artifactPath,
            host: opts.host,
            port,
            ...(opts.logDb ? { logDb: ctx.resolvePath(opts.logDb) } : {}),
            retention,
            maxBodyBytes: await bytes(opts.maxBody ?? '16Mi', '--max-body'),
            ...(opts.threads ? { threads: parsePositiveInt(opts.threads, '--threads') } : {}),
            reference: {
              schemes: opts.allowRefScheme ?? [],
              hosts: opts.allowRefHost ?? [],
              fileRoot: opts.refRoot ? ctx.resolvePath(opts.refRoot) : ctx.io.cwd,
              maxBytes: await bytes(opts.maxRefBytes ?? '64Mi', '--max-ref-bytes'),
            },
            stats: {
              ...(opts.statsWindow ? { windowRows: parsePositiveInt(opts.statsWindow, '--stats-window') } : {}),
              ...(opts.reservoir ? { reservoirSize: parsePositiveInt(opts.reservoir, '--reservoir') } : {}),
            },
            ...(profile ? { profile } : {}),
            ...(opts.strict ? { strict: true } : {}),
            ...(opts.labelledTokenFile !== undefined ? { labelledTokenFile: ctx.resolvePath(opts.labelledTokenFile) } : {}),
            ...(driftInterval !== undefined ? { driftIntervalMs: driftInterval } : {}),
            accessLog: opts.accessLog === true,
            drainTimeoutMs: parseDuration(opts.drainTimeout, '--drain-timeout'),
            serverVersion: packageVersion(),
            events,
          });
        } catch (e) {
          signals.dispose();
          const code = (e as { code?: unknown }).code;
          if (code === 'EADDRINUSE')
            throw new MaasError('CONFLICT', `port ${port} on ${opts.host} is in use`, { hint: 'pick another --port, or --port 0 for a free one' });
          throw e;
        }
        events({ level: 'info', event: 'listening', url: server.url, port: server.port, pid: process.pid, model: name });
        try {
          if (opts.endpointFile) {
            await writeEndpointFile(ctx.resolvePath(opts.endpointFile), {
              url: server.url,
              port: server.port,
              pid: process.pid,
              host: server.host,
              model: description.metadata.name,
              version: description.metadata.version,
              startedAt: new Date(ctx.clock.now()).toISOString(),
            });
          }
          await Promise.race([server.ready, signals.stopped]);
        } catch (e) {
          signals.dispose();
          events({ level: 'error', event: 'startup_failed', error: errorMessage(e), model: name });
          await server.close();
          throw e instanceof MaasError ? e : new MaasError('FAILURE', `cannot serve ${name}: ${errorMessage(e)}`, { cause: e });
        }
        if (!signalled) await signals.stopped;
        await server.close();
        events({ level: 'info', event: 'stopped', model: name });
        return { data: {}, text: () => '' };
      }),
    );
}

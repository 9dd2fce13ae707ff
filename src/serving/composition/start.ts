// Starts a composition router in this process: the router configuration file read and checked,
// the composition backend behind the same HTTP server a model uses, and the file watched (its
// mtime polled, and on SIGHUP when asked) so a re-apply swaps members without a restart. An invalid
// new file is logged and ignored: the members already serving keep serving.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { MaasError } from '../../core/errors.js';
import type { RouterConfig } from '../../domain/composition.js';
import { writeEndpointFile } from '../endpoint-file.js';
import { errorMessage, jsonLines, noEvents } from '../event-log.js';
import { ServingMetrics } from '../metrics.js';
import { startModelServer, type HttpServerOptions, type ModelServer } from '../server.js';
import { CompositionBackend, type CompositionBackendOptions } from './backend.js';
import { readRouterConfig } from './config.js';

export const DEFAULT_RELOAD_INTERVAL_MS = 500;

export interface CompositionServerOptions extends HttpServerOptions, Omit<CompositionBackendOptions, 'config' | 'metrics' | 'events' | 'clock'> {
  /** The router configuration (JSON, as `maas compose apply` writes it). */
  configFile: string;
  /** How often the file's mtime is checked (default 500 ms; 0: never). */
  reloadIntervalMs?: number;
  /** Also reload on SIGHUP (the CLI does; tests running several routers in one process do not). */
  reloadOnSighup?: boolean;
}

export interface CompositionServer extends ModelServer {
  backend: CompositionBackend;
  /** Reads the file now and swaps the members; false (and an event) when the file is refused. */
  reload(): Promise<boolean>;
}

/** What identifies a version of the file: a rename (atomic write) changes the inode, an edit the mtime or size. */
async function fingerprint(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return undefined;
  }
}

export async function startCompositionServer(opts: CompositionServerOptions): Promise<CompositionServer> {
  const events = opts.events ?? noEvents;
  const file = resolve(opts.configFile);
  let seen = await fingerprint(file);
  const config: RouterConfig = await readRouterConfig(file);
  const { name, version } = config.composition.metadata;
  const metrics = new ServingMetrics({ model: name, version });
  const { configFile: _file, reloadIntervalMs: _interval, reloadOnSighup: _sighup, ...rest } = opts;
  const backend = new CompositionBackend({
    ...rest,
    config,
    metrics,
    events,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const server = await startModelServer({ ...opts, backend, metrics });

  let reloading: Promise<boolean> | undefined;
  const reload = (): Promise<boolean> => {
    reloading ??= (async () => {
      seen = await fingerprint(file);
      try {
        const next = await readRouterConfig(file);
        const change = backend.reload(next);
        events({
          level: 'info',
          event: 'composition_reloaded',
          composition: `${next.composition.metadata.name}@${next.composition.metadata.version}`,
          ...change,
        });
        return true;
      } catch (e) {
        events({ level: 'error', event: 'composition_reload_refused', file, error: errorMessage(e) });
        return false;
      }
    })().finally(() => (reloading = undefined));
    return reloading;
  };

  const interval = opts.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  let polling = false;
  const timer =
    interval > 0
      ? setInterval(() => {
          if (polling) return;
          polling = true;
          void fingerprint(file)
            .then(async (now) => {
              if (now !== undefined && now !== seen) await reload();
            })
            .finally(() => (polling = false));
        }, interval)
      : undefined;
  timer?.unref();
  const onHup = (): void => void reload();
  if (opts.reloadOnSighup) process.on('SIGHUP', onHup);

  let closing: Promise<void> | undefined;
  return {
    ...server,
    backend,
    reload,
    close: () => {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        if (opts.reloadOnSighup) process.removeListener('SIGHUP', onHup);
        await reloading;
        await server.close();
      })();
      return closing;
    },
  };
}

/** What `maas serve --composition` passes on (paths already resolved, flags already parsed). */
export interface ServeCompositionOptions {
  configFile: string;
  host: string;
  port: number;
  endpointFile?: string | undefined;
  logDb?: string | undefined;
  retentionRows?: number | undefined;
  maxBodyBytes: number;
  windowRows?: number | undefined;
  reservoirSize?: number | undefined;
  drainTimeoutMs: number;
  accessLog: boolean;
  serverVersion: string;
  stderr: { write(chunk: string): unknown };
  clock: Clock;
}

/**
 * `maas serve --composition FILE`: serves the router until SIGTERM/SIGINT, with the endpoint file,
 * request records and shutdown of a model server; SIGHUP re-reads the file.
 */
export async function serveComposition(o: ServeCompositionOptions): Promise<void> {
  const events = jsonLines(o.stderr, o.clock);
  let signalled: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (signalled = resolve));
  const onSignal = (signal: NodeJS.Signals): void => signalled(signal);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const dispose = (): void => {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
  };
  let server: CompositionServer;
  try {
    server = await startCompositionServer({
      configFile: o.configFile,
      host: o.host,
      port: o.port,
      maxBodyBytes: o.maxBodyBytes,
      drainTimeoutMs: o.drainTimeoutMs,
      accessLog: o.accessLog,
      serverVersion: o.serverVersion,
      events,
      clock: o.clock,
      reloadOnSighup: true,
      ...(o.logDb !== undefined ? { recordDb: o.logDb } : {}),
      ...(o.retentionRows !== undefined ? { retentionRows: o.retentionRows } : {}),
      stats: {
        ...(o.windowRows !== undefined ? { windowRows: o.windowRows } : {}),
        ...(o.reservoirSize !== undefined ? { reservoirSize: o.reservoirSize } : {}),
      },
    });
  } catch (e) {
    dispose();
    if ((e as { code?: unknown }).code === 'EADDRINUSE')
      throw new MaasError('CONFLICT', `port ${o.port} on ${o.host} is in use`, { hint: 'pick another --port, or --port 0 for a free one' });
    throw e;
  }
  const config = server.backend.config.composition.metadata;
  const name = `${config.name}@${config.version}`;
  events({ level: 'info', event: 'listening', url: server.url, port: server.port, pid: process.pid, composition: name });
  try {
    if (o.endpointFile !== undefined) {
      await writeEndpointFile(o.endpointFile, {
        url: server.url,
        port: server.port,
        pid: process.pid,
        host: server.host,
        model: config.name,
        version: config.version,
        startedAt: new Date(o.clock.now()).toISOString(),
      });
    }
    await server.ready;
  } catch (e) {
    dispose();
    events({ level: 'error', event: 'startup_failed', error: errorMessage(e), composition: name });
    await server.close();
    throw e instanceof MaasError ? e : new MaasError('FAILURE', `cannot serve ${name}: ${errorMessage(e)}`, { cause: e });
  }
  const signal = await stopped;
  dispose();
  events({ level: 'info', event: 'shutdown', signal, composition: name });
  await server.close();
  events({ level: 'info', event: 'stopped', composition: name });
}

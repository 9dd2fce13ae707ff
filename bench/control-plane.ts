// The control plane: `maas server` answering search and status at 64 concurrent clients, side by
// side with a bare node:http floor answering the same JSON from memory (goal: at least half its
// requests/s), and the job queue's throughput (deploy-shaped jobs per second that reach a worker)
// on the embedded SQLite queue and on Redis. Real processes, real HTTP on loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveHome } from '../src/core/home.js';
import { openDatabase } from '../src/registry/sqlite/database.js';
import { migrate } from '../src/registry/sqlite/migrations.js';
import { SqliteRegistry } from '../src/registry/sqlite/sqlite-registry.js';
import { SqliteJobQueue } from '../src/queue/sqlite-queue.js';
import type { JobQueue, JobRunner } from '../src/queue/port.js';
import { writeHarModel } from '../examples/har/quick-model.js';
import { generateModels } from './model-fixtures.js';
import { load, median, type Result } from './serving.js';
import type { BenchContext, Benchmark, Goal, Table } from './report.js';

const CLIENTS = 64;
const MODELS = 2_000;
const QUEUE_JOBS = 2_000;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * CPU time (ms, user + system, all threads) a process has used so far, from /proc; undefined
 * where there is none. The machine may be shared: CPU per request does not depend on what else
 * runs, where requests/s does.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15) in clock ticks, 100 per second on Linux.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cli(ctx: BenchContext, args: string[], env: Record<string, string>, cwd?: string): string {
  const r = spawnSync(process.execPath, [join(ctx.repoRoot, 'bin', 'maas.js'), ...args], {
    env: { PATH: process.env.PATH, CI: '1', ...env },
    encoding: 'utf8',
    ...(cwd ? { cwd } : {}),
  });
  if (r.status !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

/** Jobs per second from the first enqueue to the last arrival at a runner. */
async function queueThroughput(queue: JobQueue, arrived: () => number, jobs: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < jobs; i++) await queue.enqueue('deploy', { deploymentId: `d-bench${i}`, targetOptions: {} });
  const deadline = Date.now() + 120_000;
  while (arrived() < jobs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (arrived() < jobs) throw new Error(`only ${arrived()} of ${jobs} jobs reached a worker`);
  return jobs / ((performance.now() - start) / 1000);
}

async function startRedis(): Promise<{ url: string; child: ChildProcess } | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  await until('redis', async () => {
    const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  });
  return { url, child };
}

export const controlPlane: Benchmark = {
  name: 'control-plane',
  description: `maas server: search and status at ${CLIENTS} clients vs a bare node:http floor; job queue throughput (embedded, Redis)`,
  async run(ctx) {
    const dir = join(ctx.outDir, 'control-plane');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    const registry = SqliteRegistry.open({ file: resolveHome({}, home, home).registryDb });
    registry.importModels(generateModels(MODELS));
    registry.close();
    const admin = (JSON.parse(cli(ctx, ['token', 'create', '--name', 'bench', '--scope', 'admin', '-o', 'json'], { MAAS_HOME: home })) as { token: string })
      .token;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${admin}` };
    let server: ChildProcess | undefined;
    let floor: ChildProcess | undefined;
    let deployment = '';
    const remote = { MAAS_HOME: join(dir, 'client'), MAAS_SERVER: url, MAAS_TOKEN: admin };
    const tables: Table[] = [];
    const goals: Goal[] = [];
    try {
      server = spawn(
        process.execPath,
        [
          // BENCH_CP_CPU_PROF=DIR writes the server's CPU profile there when it stops.
          ...(process.env.BENCH_CP_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CP_CPU_PROF] : []),
          join(ctx.repoRoot, 'bin', 'maas.js'),
          'server',
          '--listen',
          `127.0.0.1:${port}`,
          '--rate-limit',
          '1000000',
          '--burst',
          '1000000',
          '--log-level',
          'warn',
        ],
        { env: { PATH: process.env.PATH, MAAS_HOME: home, CI: '1' }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      await until('the server', async () => (await fetch(`${url}/readyz`)).ok);
      // A real deployment to ask the status of: the example model, registered and deployed through the server.
      const modelDir = join(dir, 'model');
      mkdirSync(modelDir, { recursive: true });
      const model = writeHarModel(modelDir);
      cli(ctx, ['register', model.descriptionFile], remote, modelDir);
      deployment = (JSON.parse(cli(ctx, ['deploy', 'har-classifier@1', '-o', 'json'], remote)) as { id: string }).id;

      const searchBody = Buffer.from(JSON.stringify({ task: 'classification', minMetrics: { accuracy: 0.8 }, limit: 20 }));
      const answers = {
        search: await (
          await fetch(`${url}/v1/models/search`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: searchBody })
        ).json(),
        status: await (await fetch(`${url}/v1/deployments/${deployment}`, { headers })).json(),
      };
      const answersFile = join(dir, 'answers.json');
      writeFileSync(answersFile, JSON.stringify(answers));
      floor = spawn(process.execPath, [join(ctx.repoRoot, 'dist', 'bench', 'control-plane-floor.js'), answersFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      const floorPort = await new Promise<number>((resolve, reject) => {
        floor!.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port));
        floor!.once('exit', (code) => reject(new Error(`floor exited ${code}`)));
      });
      const floorUrl = `http://127.0.0.1:${floorPort}`;

      const requests = Number(process.env.BENCH_CP_REQUESTS ?? 4_000);
      const rounds = 3;
      const rows: string[][] = [];
      for (const [name, path, method, body] of [
        ['search', '/v1/models/search', 'POST', searchBody],
        ['status', `/v1/deployments/${deployment}`, 'GET', undefined],
      ] as const) {
        const runs = { server: [] as Result[], floor: [] as Result[] };
        const cpu = { server: 0, floor: 0 };
        const measured = async (side: 'server' | 'floor'): Promise<void> => {
          const pid = side === 'server' ? server!.pid : floor!.pid;
          const before = cpuMs(pid);
          runs[side].push(await load(`${side === 'server' ? url : floorUrl}${path}`, body, CLIENTS, requests, { method, headers }));
          const after = cpuMs(pid);
          cpu[side] += before !== undefined && after !== undefined ? after - before : NaN;
        };
        const once = (base: string) => load(`${base}${path}`, body, CLIENTS, requests, { method, headers });
        await once(url);
        await once(floorUrl);
        for (let r = 0; r < rounds; r++) {
          // Alternating order, so load from elsewhere on the machine hits both alike.
          for (const side of r % 2 === 0 ? (['server', 'floor'] as const) : (['floor', 'server'] as const)) await measured(side);
        }
        const s = median(runs.server);
        const f = median(runs.floor);
        const perRequest = (ms: number): string => (Number.isFinite(ms) ? ((ms * 1000) / (rounds * requests)).toFixed(0) : '-');
        rows.push([
          name,
          s.rps.toFixed(0),
          f.rps.toFixed(0),
          (s.rps / f.rps).toFixed(2),
          s.p99.toFixed(1),
          f.p99.toFixed(1),
          perRequest(cpu.server),
          perRequest(cpu.floor),
          String(s.errors),
        ]);
        goals.push({ what: `floor requests/s / server requests/s (${name}, ${CLIENTS} clients)`, value: f.rps / s.rps, limit: 2 });
      }
      tables.push({
        title: `maas server vs a bare node:http server answering the same JSON (${CLIENTS} clients, ${requests} requests per round, median of ${rounds} rounds; ${MODELS} models registered)`,
        headers: ['route', 'server req/s', 'floor req/s', 'ratio', 'server p99 ms', 'floor p99 ms', 'server CPU µs/req', 'floor CPU µs/req', 'errors'],
        rows,
      });
    } finally {
      if (deployment)
        spawnSync(process.execPath, [join(ctx.repoRoot, 'bin', 'maas.js'), 'decommission', deployment, '--purge', '--force', '--yes'], {
          env: { PATH: process.env.PATH, CI: '1', ...remote },
        });
      await stop(floor);
      await stop(server);
    }

    // Job queue throughput: deploy-shaped jobs whose runner only records that they arrived.
    const queueRows: string[][] = [];
    let arrived = 0;
    const runners: Record<string, JobRunner> = { deploy: () => ((arrived += 1), Promise.resolve()) };
    const db = openDatabase(join(dir, 'queue.db'));
    migrate(db);
    const embedded = new SqliteJobQueue(db, runners, { concurrency: 4, pollMs: 20 });
    embedded.start();
    arrived = 0;
    const embeddedRate = await queueThroughput(embedded, () => arrived, QUEUE_JOBS);
    await embedded.stop({ timeoutMs: 5_000 });
    db.close();
    queueRows.push(['embedded (SQLite, worker in process)', String(QUEUE_JOBS), embeddedRate.toFixed(0)]);
    const redis = await startRedis();
    if (redis) {
      try {
        const { RedisJobQueue } = await import('../src/queue/redis-queue.js');
        const q = new RedisJobQueue(redis.url);
        const worker = q.startWorker(runners, { concurrency: 4 });
        await worker.ready();
        arrived = 0;
        const rate = await queueThroughput(q, () => arrived, QUEUE_JOBS);
        await worker.close();
        await q.close();
        queueRows.push(['Redis (BullMQ, one worker)', String(QUEUE_JOBS), rate.toFixed(0)]);
      } finally {
        await stop(redis.child);
      }
    } else queueRows.push(['Redis (BullMQ)', '-', 'skipped: no redis-server']);
    tables.push({
      title: 'Job queue: deploy-shaped jobs per second from the first enqueue to the last arrival at a worker (4 at a time)',
      headers: ['queue', 'jobs', 'jobs/s'],
      rows: queueRows,
    });
    return { tables, goals };
  },
};

// Compositions: a `maas serve --composition` router (ensemble, majority vote, request records on
// disk, as the local target starts it) in front of three `maas serve` members (HAR classifiers of
// different sizes), against the members alone, with the serving bench's load generator.
// (a) Latency at 1 client, 1-row requests: the composition's p50 and p99 next to its slowest
//     member's (the member with the highest figure in the same round); the difference is what the
//     router adds. Goals on loopback: p50 overhead <= 1 ms, p99 overhead <= 3 ms.
//     The same router over one member only (har-c) shows what the hop alone costs, apart from the
//     fan-out to three processes.
// (b) Throughput at 64 clients: the composition's requests/s next to one member alone (the
//     slowest). Every composition request costs three member requests on the same machine, so the
//     ratio is reported, not held to a goal.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHar, harToCsv } from '../examples/har/generate.js';
import { harDescription, trainHar } from '../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../examples/lib/mlp.js';
import type { CompositionDescription, RouterConfig } from '../src/domain/composition.js';
import type { ModelDescription } from '../src/spec/schema.js';
import type { Benchmark, Goal, Table } from './report.js';
import { load, median, requestBody, startMaas, type Result, type Target } from './serving.js';

export const GOAL_OVERHEAD_P50_MS = 1;
export const GOAL_OVERHEAD_P99_MS = 3;
const ROUNDS = Number(process.env.BENCH_COMPOSE_ROUNDS ?? 5);
const SCALE = Number(process.env.BENCH_COMPOSE_SCALE ?? 1);
const COMPOSITION = 'har-ensemble';

/** Members: name, seed and hidden units (different sizes, so one is the slowest). */
const MEMBERS = [
  { name: 'har-a', seed: 1, hidden: 16 },
  { name: 'har-b', seed: 2, hidden: 32 },
  { name: 'har-c', seed: 3, hidden: 64 },
] as const;

interface Served extends Target {
  /** The OIP infer path of what it serves. */
  path: string;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ready = (url: string): Promise<number> =>
  new Promise((resolve) => http.get(`${url}/v2/health/ready`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', () => resolve(0)));

/** `maas serve --composition FILE` as the local target starts it (request records in a SQLite file). */
async function startRouter(repoRoot: string, dir: string, configFile: string, label: string): Promise<Target> {
  const endpoint = join(dir, `endpoint-${label}.json`);
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'maas.js'),
      'serve',
      '--composition',
      configFile,
      '--port',
      '0',
      '--endpoint-file',
      endpoint,
      '--log-db',
      join(dir, `records-${label}.db`),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MAAS_HOME: join(dir, `home-${label}`), CI: '1' } },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 400 && !existsSync(endpoint) && child.exitCode === null; i++) await wait(25);
  if (!existsSync(endpoint)) throw new Error(`the router did not start: ${err}`);
  const { url } = JSON.parse(readFileSync(endpoint, 'utf8')) as { url: string };
  for (let i = 0; i < 400 && child.exitCode === null; i++) {
    if ((await ready(url)) === 200) return { label, url, child };
    await wait(25);
  }
  throw new Error(`the router never became ready: ${err}`);
}

/**
 * Warms every target, then measures them in rounds whose order alternates (reversed every other
 * round) so that load from elsewhere on the machine hits all alike. Results per label.
 */
async function rounds(targets: readonly Served[], body: Buffer, clients: number, requests: number, n: number): Promise<Map<string, Result[]>> {
  for (const t of targets) await load(`${t.url}${t.path}`, body, clients, Math.min(500, requests));
  const runs = new Map<string, Result[]>(targets.map((t) => [t.label, []]));
  for (let round = 0; round < n; round++)
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) runs.get(t.label)!.push(await load(`${t.url}${t.path}`, body, clients, requests));
  return runs;
}

/** User + system CPU time of a process so far (ms), from /proc (Linux, 100 ticks/s); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => x.toFixed(2);

export const compose: Benchmark = {
  name: 'compose',
  description: 'composition router over 3 `maas serve` members vs the slowest member alone: latency (1 client), requests/s (64 clients)',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'maas-bench-compose-'));
    const targets: Target[] = [];
    try {
      ctx.log('compose: training three HAR members');
      const csv = harToCsv(generateHar({ rows: 1500, seed: 11 }));
      const members: Served[] = [];
      const descriptions: ModelDescription[] = [];
      for (const m of MEMBERS) {
        const options = { ...DEFAULT_MLP_OPTIONS, epochs: 10, seed: m.seed, hidden: m.hidden, testFraction: 0.2 };
        const trained = trainHar(csv, options);
        const description = harDescription(trained, { name: m.name, version: '1', options });
        const model = join(dir, `${m.name}.onnx`);
        writeFileSync(model, trained.onnx);
        const descFile = join(dir, `${m.name}.json`);
        writeFileSync(descFile, JSON.stringify(description));
        descriptions.push(description);
        const t = await startMaas(ctx.repoRoot, dir, descFile, model, [], m.name);
        targets.push(t);
        members.push({ ...t, path: `/v2/models/${m.name}/versions/1/infer` });
      }

      const first = descriptions[0]!;
      const labels = first.spec.outputs!.labels!;
      /** The router configuration over members `indices` (an ensemble, majority vote), as `maas compose apply` writes it. */
      const routerConfig = (name: string, indices: number[]): RouterConfig => {
        const composition: CompositionDescription = {
          apiVersion: 'maas.dev/v1',
          kind: 'Composition',
          metadata: { name, version: '1' },
          spec: {
            task: 'classification',
            features: first.spec.features.map((f) => f.name),
            outputs: { labels },
            mode: 'ensemble',
            aggregation: 'majority',
            members: indices.map((i) => ({ model: `${MEMBERS[i]!.name}@1` })),
          },
        };
        return {
          composition,
          features: first.spec.features,
          labels,
          members: indices.map((i) => ({
            key: `${MEMBERS[i]!.name}@1`,
            deployment: `bench-${MEMBERS[i]!.name}`,
            model: MEMBERS[i]!.name,
            version: '1',
            endpoint: members[i]!.url,
            weight: 1,
            role: 'member' as const,
            timeoutMs: 2000,
            labels: descriptions[i]!.spec.outputs!.labels!,
          })),
          timeoutMs: 2000,
        };
      };
      const start = async (name: string, label: string, indices: number[]): Promise<Served> => {
        const file = join(dir, `${label}.json`);
        writeFileSync(file, JSON.stringify(routerConfig(name, indices)));
        const t = await startRouter(ctx.repoRoot, dir, file, label);
        targets.push(t);
        return { ...t, path: `/v2/models/${name}/infer` };
      };
      const router = await start(COMPOSITION, 'composition', [0, 1, 2]);
      const single = await start('har-single', 'composition-1', [2]);

      const ranges = first.spec.features.map((f) => f.range!);
      const row = generateHar({ rows: 1, seed: 12 }).rows[0]!.map((v, j) => Math.min(ranges[j]!.max!, Math.max(ranges[j]!.min!, v)));
      const body = requestBody([row]);
      let errors = 0;

      // (a) Latency at 1 client.
      const latencyRequests = Math.round(2000 * SCALE);
      ctx.log(`compose: latency, 1 client, ${ROUNDS} rounds of ${latencyRequests} requests per target`);
      const lat = await rounds([router, single, ...members], body, 1, latencyRequests, ROUNDS);
      for (const rs of lat.values()) for (const r of rs) errors += r.errors;
      const comp = lat.get('composition')!;
      const perRound = comp.map((c, i) => {
        const alone = members.map((m) => lat.get(m.label)![i]!);
        const p50 = Math.max(...alone.map((r) => r.p50));
        const p99 = Math.max(...alone.map((r) => r.p99));
        return { c, p50, p99, overheadP50: c.p50 - p50, overheadP99: c.p99 - p99 };
      });
      const slowest = { p50: mid(perRound.map((r) => r.p50)), p99: mid(perRound.map((r) => r.p99)) };
      const c1 = median(comp);
      const overhead = { p50: mid(perRound.map((r) => r.overheadP50)), p99: mid(perRound.map((r) => r.overheadP99)) };
      // The hop alone: the router over har-c against har-c, per round.
      const hop = lat
        .get('composition-1')!
        .map((c, i) => ({ p50: c.p50 - lat.get(members[2]!.label)![i]!.p50, p99: c.p99 - lat.get(members[2]!.label)![i]!.p99 }));
      const s1 = median(lat.get('composition-1')!);
      const m3 = median(lat.get(members[2]!.label)!);
      const latencyTable: Table = {
        title: `Latency at 1 client, ${latencyRequests} 1-row requests per round (ms; medians of ${ROUNDS} alternating rounds; member and overhead taken per round)`,
        headers: ['composition', 'composition p50', 'member p50', 'overhead p50', 'composition p99', 'member p99', 'overhead p99'],
        rows: [
          ['3 members vs slowest', ms(c1.p50), ms(slowest.p50), ms(overhead.p50), ms(c1.p99), ms(slowest.p99), ms(overhead.p99)],
          [`1 member vs ${members[2]!.label}`, ms(s1.p50), ms(m3.p50), ms(mid(hop.map((h) => h.p50))), ms(s1.p99), ms(m3.p99), ms(mid(hop.map((h) => h.p99)))],
        ],
      };
      const memberTable: Table = {
        title: 'Each target alone at 1 client (ms; medians)',
        headers: ['target', 'hidden units', 'rps', 'p50', 'p99'],
        rows: [
          ['composition (3 members)', '', c1.rps.toFixed(0), ms(c1.p50), ms(c1.p99)],
          [`composition (1 member: ${members[2]!.label})`, '', s1.rps.toFixed(0), ms(s1.p50), ms(s1.p99)],
          ...members.map((m, i) => {
            const r = median(lat.get(m.label)!);
            return [m.label, String(MEMBERS[i]!.hidden), r.rps.toFixed(0), ms(r.p50), ms(r.p99)];
          }),
        ],
      };

      //     The same router over one member only (har-c) shows what the hop alone costs, apart from the
      //     fan-out to three processes.
      // (b) Throughput at 64 clients: the composition and its slowest member alone.
      const slowestMember = members.reduce((a, b) => (median(lat.get(b.label)!).p50 > median(lat.get(a.label)!).p50 ? b : a));
      const clients = 64;
      const tputRequests = Math.round(6000 * SCALE);
      ctx.log(`compose: throughput, ${clients} clients, ${ROUNDS} rounds of ${tputRequests} requests (composition and ${slowestMember.label})`);
      const tput = await rounds([router, slowestMember], body, clients, tputRequests, ROUNDS);
      for (const rs of tput.values()) for (const r of rs) errors += r.errors;
      const tc = median(tput.get('composition')!);
      const tm = median(tput.get(slowestMember.label)!);
      const ratios = tput.get('composition')!.map((r, i) => r.rps / tput.get(slowestMember.label)![i]!.rps);
      const throughputTable: Table = {
        title: `Throughput at ${clients} clients, 1-row requests (requests/s and ms; medians of ${ROUNDS} alternating rounds; ratio = median of per-round ratios)`,
        headers: ['requests', 'composition rps', `${slowestMember.label} rps`, 'rps ratio', 'composition p50', 'member p50', 'composition p99', 'member p99'],
        rows: [[String(tputRequests), tc.rps.toFixed(0), tm.rps.toFixed(0), mid(ratios).toFixed(2), ms(tc.p50), ms(tm.p50), ms(tc.p99), ms(tm.p99)]],
      };

      // Where the CPU goes at 64 clients: one more pass per side, CPU time per request of each process.
      const processes = [router, ...members];
      const cpuPerRequest = async (t: Served): Promise<(number | undefined)[]> => {
        const before = processes.map((p) => cpuMs(p.child.pid));
        await load(`${t.url}${t.path}`, body, clients, tputRequests);
        return processes.map((p, i) => {
          const a = cpuMs(p.child.pid);
          const b = before[i];
          return a === undefined || b === undefined ? undefined : (a - b) / tputRequests;
        });
      };
      const viaRouter = await cpuPerRequest(router);
      const alone = await cpuPerRequest(slowestMember);
      const cpu = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(3));
      const cpuTable: Table = {
        title: `CPU time per request at ${clients} clients (ms, user + system, from /proc; one pass of ${tputRequests} requests each)`,
        headers: ['load sent to', 'router', ...members.map((m) => m.label)],
        rows: [
          ['composition (3 members)', cpu(viaRouter[0]), ...viaRouter.slice(1).map(cpu)],
          [`${slowestMember.label} alone`, '', ...alone.slice(1).map((x, i) => (members[i] === slowestMember ? cpu(x) : ''))],
        ],
      };

      const goals: Goal[] = [
        { what: 'router overhead p50 at 1 client, ms (composition - slowest member)', value: overhead.p50, limit: GOAL_OVERHEAD_P50_MS },
        { what: 'router overhead p99 at 1 client, ms (composition - slowest member)', value: overhead.p99, limit: GOAL_OVERHEAD_P99_MS },
      ];
      return {
        tables: [latencyTable, memberTable, throughputTable, cpuTable],
        goals,
        notes: [
          `each composition request is 3 member requests; the members, the router and the load generator share ${availableParallelism()} CPU(s)`,
          `errors: ${errors}`,
        ],
      };
    } finally {
      for (const t of targets) t.child.kill('SIGTERM');
      await Promise.all(targets.map((t) => (t.child.exitCode === null ? new Promise((r) => t.child.once('exit', r)) : Promise.resolve())));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

// A composition on the local target, end to end through the CLI with real processes: three HAR
// classifiers (different seeds and hidden sizes) behind a mean-proba ensemble router. The router's
// answers equal the mean of the members' own answers; feedback reaches the composition and every
// member; a re-apply swaps a member while clients keep sending requests (none fails, the old member
// is cached, the new one takes traffic); a member killed with SIGKILL costs no client request and
// is counted; a re-apply that releases the only answering member (shadow mode) drops no request;
// `compose delete --purge` leaves no server running. Needs `npm run build`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateHar, harToCsv, harToRequests } from '../../examples/har/generate.js';
import type { CompositionStatsWire, MemberStatsWire } from '../../src/protocol/composition-stats.js';
import { rowsToRequest } from '../../src/protocol/rows.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { trainHarMember, type TrainedMember } from '../support/har-member.js';
import { isAlive } from '../../src/targets/local/process.js';
import { runCli, tempDir } from '../support/cli.js';
import { traffic } from '../support/traffic.js';

const dir = tempDir('maas-compose-local-');
const home = join(dir.path, 'home');
const cli = (args: string[]) => runCli(args, { home, cwd: dir.path });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NAME = 'har-ensemble';
/** Members: name, training seed, hidden units. har-d replaces har-c on the re-apply. */
const MEMBERS = [
  { name: 'har-a', seed: 1, hidden: 8 },
  { name: 'har-b', seed: 2, hidden: 16 },
  { name: 'har-c', seed: 3, hidden: 32 },
  { name: 'har-d', seed: 4, hidden: 12 },
] as const;

/** Trains one HAR member into `dir/models/name` and writes its description (artifact next to it). */
function trainMember(m: (typeof MEMBERS)[number], csv: string): TrainedMember {
  return trainHarMember(dir.path, m.name, csv, m);
}

interface Dep {
  id: string;
  kind?: string;
  model: string;
  version: string;
  state: string;
  endpoint?: string;
  consumers: string[];
  runtime: { pid?: number };
}

interface Applied {
  name: string;
  version: string;
  outcome: string;
  router: string;
  state: string;
  endpoint: string | null;
  members: { key: string; deployment: string; outcome: string }[];
  released: { key: string; deployment: string; outcome: string }[];
}

interface Status {
  name: string;
  version: string;
  router: { id: string; state: string; endpoint: string | null } | null;
  members: { key: string; deployment: string | null; state: string }[];
  measurements: CompositionStatsWire | null;
  unavailable?: string;
}

interface Answer {
  id: string;
  model_name: string;
  model_version?: string;
  outputs: { name: string; shape: number[]; data: (string | number)[] }[];
}

let features: ModelDescription['spec']['features'] = [];
/** The members' (and so the composition's) label order. */
let classes: string[] = [];
let rows: Record<string, number>[] = [];
let truth: string[] = [];
let requestsFile = '';
let routerId = '';
/** Deployment ID per member key, as applied. */
const deployments = new Map<string, string>();
/** Every server process the test saw (pid -> its deployment): checked at the end, killed in afterAll if one survived. */
const pids = new Map<number, string>();

type MemberSpec = { model: string; role?: 'primary' | 'shadow' };

/** The composition description, version `version`: an ensemble (mean-proba) or, with roles, shadow mode. */
function compositionFile(version: string, members: (string | MemberSpec)[]): string {
  const list = members.map((m): MemberSpec => (typeof m === 'string' ? { model: `${m}@1` } : { ...m, model: `${m.model}@1` }));
  const shadow = list.some((m) => m.role !== undefined);
  const file = join(dir.path, `composition-${version}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: NAME, version, description: 'HAR classifiers behind one endpoint' },
      spec: {
        task: 'classification',
        features: features.map((f) => f.name),
        ...(shadow ? { mode: 'shadow' } : { mode: 'ensemble', aggregation: 'mean-proba' }),
        timeout: '2s',
        members: list,
      },
    }),
  );
  return file;
}

const output = (a: Answer, name: string) => a.outputs.find((o) => o.name === name)!;

/** Probabilities per row of an answer ([rows, labels] flattened). */
function probabilityRows(a: Answer): number[][] {
  const o = output(a, 'probabilities');
  const [n, width] = o.shape as [number, number];
  return Array.from({ length: n }, (_, r) => (o.data as number[]).slice(r * width, (r + 1) * width));
}

/** Traffic through the router's own HTTP endpoint, resolved from its endpoint file like any consumer. */
const routerTraffic = () =>
  traffic({
    endpointFile: join(home, 'deployments', routerId, 'endpoint.json'),
    model: NAME,
    body: JSON.stringify(rowsToRequest(rows.slice(0, 2), features)),
    clients: 3,
    max: 3_000,
    pauseMs: 2,
  });

async function status(): Promise<Status> {
  return json<Status>(['compose', 'status', NAME]);
}

const measured = (st: Status, key: string): MemberStatsWire | undefined => st.measurements?.members.find((m) => m.key === key);

async function remember(id: string): Promise<Dep> {
  const d = await json<Dep>(['status', id]);
  if (d.runtime.pid !== undefined) pids.set(d.runtime.pid, d.id);
  return d;
}

beforeAll(async () => {
  const csv = harToCsv(generateHar({ rows: 600, seed: 11 }));
  for (const m of MEMBERS) {
    const { file, description } = trainMember(m, csv);
    features = description.spec.features;
    classes = description.spec.outputs?.labels ?? [];
    const r = await cli(['register', file]);
    expect(r.code, r.stderr).toBe(0);
  }
  const data = generateHar({ rows: 12, seed: 99 });
  rows = harToRequests(data);
  truth = data.labels;
  requestsFile = join(dir.path, 'requests.json');
  writeFileSync(requestsFile, JSON.stringify(rows));
}, 60_000);

afterAll(async () => {
  // Whatever is left (after a failed step, or members cached by re-applies): the composition, then every deployment.
  await cli(['compose', 'delete', NAME, '--purge']);
  const left = await json<Dep[]>(['ps']).catch(() => [] as Dep[]);
  for (const d of left) await cli(['decommission', d.id, '--purge', '--force', '--yes']);
  // A server that outlived all that is killed by its pid (the marker guards against a reused pid).
  for (const [pid, id] of pids) if (isAlive(pid, id)) process.kill(pid, 'SIGKILL');
  dir.cleanup();
}, 60_000);

describe('a composition on the local target', () => {
  it('applies: members deployed, router started, all of them running', async () => {
    const r = await json<Applied>(['compose', 'apply', compositionFile('1', ['har-a', 'har-b', 'har-c'])]);
    expect(r).toMatchObject({ name: NAME, version: '1', outcome: 'created', state: 'ready', released: [] });
    expect(r.router).toMatch(/^d-/);
    expect(r.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-a@1', 'deployed'],
      ['har-b@1', 'deployed'],
      ['har-c@1', 'deployed'],
    ]);
    routerId = r.router;
    for (const m of r.members) deployments.set(m.key, m.deployment);

    const ps = await json<Dep[]>(['ps']);
    expect(ps).toHaveLength(4);
    expect(ps.filter((d) => d.kind === 'composition').map((d) => [d.id, d.model, d.state])).toEqual([[routerId, NAME, 'ready']]);
    const members = ps.filter((d) => d.kind !== 'composition');
    expect(members.map((d) => [d.id, `${d.model}@${d.version}`, d.state, d.consumers]).sort()).toEqual(
      r.members.map((m) => [m.deployment, m.key, 'ready', [`composition:${NAME}`]]).sort(),
    );
    for (const d of ps) {
      expect(d.runtime.pid, d.id).toBeDefined();
      expect(isAlive(d.runtime.pid!, d.id), d.id).toBe(true);
      pids.set(d.runtime.pid!, d.id);
    }
  });

  it("answers the mean of the members' own probabilities, and its most probable label", async () => {
    const answer = await json<Answer>(['predict', NAME, '--data', requestsFile, '--request-id', 'ens-1']);
    expect(answer).toMatchObject({ id: 'ens-1', model_name: NAME, model_version: '1' });
    const labels = output(answer, 'label').data as string[];
    expect(labels).toHaveLength(rows.length);
    // Each member asked directly, through its own deployment.
    const own = await Promise.all(['har-a@1', 'har-b@1', 'har-c@1'].map((k) => json<Answer>(['predict', deployments.get(k)!, '--data', requestsFile])));
    expect(classes).toHaveLength(6);
    const memberProbs = own.map(probabilityRows);
    const mean = rows.map((_, r) => classes.map((_, j) => memberProbs.reduce((s, p) => s + p[r]![j]!, 0) / memberProbs.length));
    const expected = mean.map((p) => classes[p.indexOf(Math.max(...p))]!);
    expect(labels).toEqual(expected);
    const got = probabilityRows(answer);
    for (let r = 0; r < rows.length; r++) for (let j = 0; j < classes.length; j++) expect(got[r]![j]!).toBeCloseTo(mean[r]![j]!, 5);
    // The members do not all agree everywhere: the ensemble has something to decide.
    const memberLabels = own.map((a) => output(a, 'label').data as string[]);
    expect(rows.some((_, r) => new Set(memberLabels.map((l) => l[r])).size > 1)).toBe(true);
  });

  it('takes feedback: composition and every member scored, measured and agreeing', async () => {
    const file = join(dir.path, 'truth.csv');
    writeFileSync(file, `id,label\n${truth.map((l, i) => `ens-1:${i},${l}`).join('\n')}\n`);
    const fb = await cli(['feedback', NAME, '--file', file]);
    expect(fb.code, fb.stderr).toBe(0);
    expect(fb.stdout + fb.stderr).toMatch(new RegExp(`${rows.length} applied`));

    const st = await status();
    expect(st.router).toMatchObject({ id: routerId, state: 'ready' });
    const m = st.measurements!;
    expect(m).toMatchObject({ composition: `${NAME}@1`, mode: 'ensemble', aggregation: 'mean-proba', errors: 0 });
    expect(m.requests).toBeGreaterThanOrEqual(1);
    expect(m.quality.labelled).toBe(rows.length);
    expect(m.quality.accuracy).toBeGreaterThan(0);
    expect(m.latencyMs.p50).toBeGreaterThan(0);
    expect(m.members.map((x) => x.key)).toEqual(['har-a@1', 'har-b@1', 'har-c@1']);
    for (const x of m.members) {
      expect(x.deployment, x.key).toBe(deployments.get(x.key));
      expect(x.quality.labelled, x.key).toBe(rows.length);
      expect(x.quality.accuracy, x.key).toEqual(expect.any(Number));
      expect(x.reliability, x.key).toBe(1);
      expect(x.errors + x.timeouts, x.key).toBe(0);
      expect(x.latencyMs.p50, x.key).toBeGreaterThan(0);
      expect(x.agreement.compared, x.key).toBe(rows.length);
      expect(x.agreement.rate, x.key).toEqual(expect.any(Number));
    }
    // The truth reached each member under its own prediction ids.
    for (const [key, id] of deployments) {
      let labelled = 0;
      for (let i = 0; i < 40 && labelled < rows.length; i++) {
        labelled = (await json<{ traffic?: { feedback?: number } }>(['status', id])).traffic?.feedback ?? 0;
        if (labelled < rows.length) await sleep(100);
      }
      expect(labelled, key).toBe(rows.length);
    }
  });

  it('swaps har-c for har-d while clients send requests: none fails, har-c is cached, har-d takes traffic', async () => {
    const load = routerTraffic();
    await sleep(300);
    const r = await json<Applied>(['compose', 'apply', compositionFile('2', ['har-a', 'har-b', 'har-d'])]);
    await sleep(500);
    const answers = await load.stop();
    expect(r).toMatchObject({ outcome: 'updated', router: routerId, version: '2', state: 'ready' });
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-a@1', 'kept'],
      ['har-b@1', 'kept'],
      ['har-d@1', 'deployed'],
    ]);
    const harC = deployments.get('har-c@1')!;
    expect(r.released).toEqual([{ key: 'har-c@1', deployment: harC, outcome: 'cached' }]);
    deployments.delete('har-c@1');
    deployments.set('har-d@1', r.members[2]!.deployment);
    await remember(r.members[2]!.deployment);

    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    // Answers switched to version 2 and stayed there.
    expect(answers.at(-1)!.version).toBe('2');

    // Two-step decommission, step one: cached, no consumer, no process.
    const c = await json<Dep>(['status', harC]);
    expect(c).toMatchObject({ state: 'cached', consumers: [] });
    expect(isAlive(c.runtime.pid ?? -1, harC)).toBe(false);

    const st = await status();
    expect(st.members.map((m) => [m.key, m.state])).toEqual([
      ['har-a@1', 'ready'],
      ['har-b@1', 'ready'],
      ['har-d@1', 'ready'],
    ]);
    expect(measured(st, 'har-c@1')).toBeUndefined();
    const d = measured(st, 'har-d@1')!;
    expect(d.requests).toBeGreaterThan(0);
    expect(d.reliability).toBe(1);
    const a = measured(st, 'har-a@1')!;
    // Every answered request asked har-a, before and after the swap.
    expect(a.requests).toBeGreaterThanOrEqual(answers.length);
    expect(a.errors).toBe(0);
  });

  it('keeps answering every request when a member process is killed with SIGKILL, and counts its errors', async () => {
    const harA = await remember(deployments.get('har-a@1')!);
    const before = measured(await status(), 'har-a@1')!;
    const load = routerTraffic();
    await sleep(300);
    process.kill(harA.runtime.pid!, 'SIGKILL');
    // Enough requests after the kill, however slow the machine is (bounded).
    const enough = load.count() + 40;
    const deadline = Date.now() + 20_000;
    while (load.count() < Math.max(enough, 60) && Date.now() < deadline) await sleep(100);
    const answers = await load.stop();
    expect(isAlive(harA.runtime.pid!)).toBe(false);
    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((a) => !a.ok)).toEqual([]);

    const st = await status();
    expect(st.members.find((m) => m.key === 'har-a@1')?.state).toBe('failed');
    const a = measured(st, 'har-a@1')!;
    expect(a.errors).toBeGreaterThan(before.errors);
    expect(a.reliability).toBeLessThan(1);
    for (const key of ['har-b@1', 'har-d@1']) expect(measured(st, key)!.errors, key).toBe(0);
    expect(st.measurements!.errors).toBe(0);
  });

  it('releases the only answering member of a shadow composition without a failed request', async () => {
    // v3: har-d answers alone (har-b is its shadow); har-a, killed above, is released.
    const v3 = await json<Applied>([
      'compose',
      'apply',
      compositionFile('3', [
        { model: 'har-d', role: 'primary' },
        { model: 'har-b', role: 'shadow' },
      ]),
    ]);
    expect(v3.released).toEqual([{ key: 'har-a@1', deployment: deployments.get('har-a@1'), outcome: 'cached' }]);
    // v4: har-b answers, har-c (cached by the swap) comes back as its shadow, har-d goes. The
    // router must be serving v4 before har-d stops, or requests in between find no member.
    const load = routerTraffic();
    await sleep(300);
    const v4 = await json<Applied>([
      'compose',
      'apply',
      compositionFile('4', [
        { model: 'har-b', role: 'primary' },
        { model: 'har-c', role: 'shadow' },
      ]),
    ]);
    await sleep(300);
    const answers = await load.stop();
    expect(v4.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-b@1', 'kept'],
      ['har-c@1', 'restarted'],
    ]);
    expect(v4.released).toEqual([{ key: 'har-d@1', deployment: deployments.get('har-d@1'), outcome: 'cached' }]);
    await remember(v4.members[1]!.deployment);
    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(answers.at(-1)!.version).toBe('4');
    const st = await status();
    expect(st.measurements).toMatchObject({ mode: 'shadow', errors: 0 });
    expect(st.members.map((m) => [m.key, m.state])).toEqual([
      ['har-b@1', 'ready'],
      ['har-c@1', 'ready'],
    ]);
  });

  it('deletes with --purge: router and members gone, no server process left', async () => {
    const r = await json<{ router: { id: string; outcome: string }; members: { key: string; outcome: string }[] }>(['compose', 'delete', NAME, '--purge']);
    expect(r.router).toEqual({ id: routerId, outcome: 'purged' });
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['har-b@1', 'purged'],
      ['har-c@1', 'purged'],
    ]);
    const list = await json<unknown[]>(['compose', 'list']);
    expect(list).toEqual([]);
    // Only the members released by re-applies stay, cached (no process).
    const ps = await json<Dep[]>(['ps']);
    expect(ps.map((d) => [`${d.model}@${d.version}`, d.state]).sort()).toEqual([
      ['har-a@1', 'cached'],
      ['har-d@1', 'cached'],
    ]);
    // Stopping is done by the time delete returns; allow a moment for the kernel to reap them.
    let alive: number[] = [];
    for (let i = 0; i < 50; i++) {
      alive = [...pids].filter(([pid, id]) => isAlive(pid, id)).map(([pid]) => pid);
      if (alive.length === 0) break;
      await sleep(100);
    }
    expect(alive).toEqual([]);
  });
});

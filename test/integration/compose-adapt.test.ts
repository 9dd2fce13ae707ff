// Adaptive recomposition on the local target, end to end through the CLI with real processes: two
// good HAR classifiers and a broken one (trained on windows all labelled "laying", so it answers
// "laying" to everything) behind a mean-proba ensemble router, plus a good classifier registered
// but not in the composition. Predictions and their ground truth from one synthetic stream make the
// broken member measurably bad; `compose assess` flags it; `compose NAME --adapt` replaces it with
// the registered candidate while clients keep sending requests (none fails); fresh rows from the
// same stream are then answered better, and `compose history` shows the adaptation with the
// accuracy before and since. Needs `npm run build` (the servers run from dist).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateHar, harToCsv, harToRequests, type HarData } from '../../examples/har/generate.js';
import type { AdaptResult, AssessReport, HistoryEntry } from '../../src/app/compose-adapt.js';
import type { CompositionStatsWire } from '../../src/protocol/composition-stats.js';
import { rowsToRequest } from '../../src/protocol/rows.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { trainHarMember, type TrainedMember } from '../support/har-member.js';
import { isAlive } from '../../src/targets/local/process.js';
import { runCli, tempDir } from '../support/cli.js';
import { traffic } from '../support/traffic.js';

const dir = tempDir('maas-compose-adapt-');
const home = join(dir.path, 'home');
const cli = (args: string[]) => runCli(args, { home, cwd: dir.path });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

const NAME = 'har-ensemble';
/** Labelled rows sent before and after the adaptation (fresh rows from the same stream each time). */
const STREAM_ROWS = 300;

type Trained = TrainedMember;

/** Trains one HAR model on `csv` into `dir/models/name` and writes its description next to it. */
const train = (name: string, csv: string, seed: number, hidden: number): Trained => trainHarMember(dir.path, name, csv, { seed, hidden });

interface Answer {
  id: string;
  model_version?: string;
  outputs: { name: string; shape: number[]; data: (string | number)[] }[];
}

interface Applied {
  version: string;
  outcome: string;
  router: string;
  members: { key: string; deployment: string; outcome: string }[];
}

interface Dep {
  id: string;
  model: string;
  version: string;
  state: string;
  consumers: string[];
  runtime: { pid?: number };
}

let features: ModelDescription['spec']['features'] = [];
/** The candidate, registered once the composition's serving latency is known. */
let candidate: Trained;
let routerId = '';
/** Stream rows: the first STREAM_ROWS before the adaptation, the next after. */
let stream: HarData;
const pids = new Set<number>();

function compositionFile(): string {
  const file = join(dir.path, 'composition.yaml');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: NAME, version: '1', description: 'HAR classifiers behind one endpoint' },
      spec: {
        task: 'classification',
        features: features.map((f) => f.name),
        mode: 'ensemble',
        aggregation: 'mean-proba',
        timeout: '2s',
        members: [{ model: 'har-a@1' }, { model: 'har-b@1' }, { model: 'har-stuck@1' }],
      },
    }),
  );
  return file;
}

/**
 * Predicts stream rows [from, to) through the composition (request id `id`), sends their truth as
 * feedback, and returns the share the composition answered right.
 */
async function predictAndLabel(id: string, from: number, to: number): Promise<number> {
  const requests = harToRequests({ ...stream, rows: stream.rows.slice(from, to), labels: stream.labels.slice(from, to) });
  const truth = stream.labels.slice(from, to);
  const data = join(dir.path, `${id}.json`);
  writeFileSync(data, JSON.stringify(requests));
  const answer = await json<Answer>(['predict', NAME, '--data', data, '--request-id', id]);
  const labels = answer.outputs.find((o) => o.name === 'label')!.data as string[];
  expect(labels).toHaveLength(truth.length);
  const file = join(dir.path, `${id}-truth.csv`);
  writeFileSync(file, `id,label\n${truth.map((l, i) => `${id}:${i},${l}`).join('\n')}\n`);
  const fb = await cli(['feedback', NAME, '--file', file]);
  expect(fb.code, fb.stderr).toBe(0);
  expect(fb.stdout + fb.stderr).toMatch(new RegExp(`${truth.length} applied`));
  return labels.filter((l, i) => l === truth[i]).length / truth.length;
}

async function remember(id: string): Promise<Dep> {
  const d = await json<Dep>(['status', id]);
  if (d.runtime.pid !== undefined) pids.add(d.runtime.pid);
  return d;
}

beforeAll(async () => {
  const clean = generateHar({ rows: 600, seed: 11 });
  const csv = harToCsv(clean);
  // The broken member: every training window labelled "laying" (labels as always: the six activities).
  const stuck = harToCsv({ ...clean, labels: clean.labels.map(() => 'laying') });
  const models: Trained[] = [train('har-a', csv, 1, 8), train('har-b', csv, 2, 16), train('har-stuck', stuck, 3, 24)];
  // The candidate: a good classifier the composition does not use yet. Its declared accuracy is the
  // held-out accuracy the trainer measured.
  candidate = train('har-d', harToCsv(generateHar({ rows: 600, seed: 12 })), 4, 12);
  for (const m of models) {
    const r = await cli(['register', m.file]);
    expect(r.code, r.stderr).toBe(0);
  }
  features = models[0]!.description.spec.features;
  stream = generateHar({ rows: 2 * STREAM_ROWS, seed: 99 });
}, 60_000);

afterAll(async () => {
  await cli(['compose', 'delete', NAME, '--purge']);
  const left = await json<Dep[]>(['ps']).catch(() => [] as Dep[]);
  for (const d of left) await cli(['decommission', d.id, '--purge', '--force', '--yes']);
  for (const pid of pids) if (isAlive(pid, 'serve')) process.kill(pid, 'SIGKILL');
  dir.cleanup();
}, 60_000);

describe('adaptive recomposition on the local target', () => {
  let accuracyBefore = 0;

  it('finds the member that answers one class for everything, and replaces it without a failed request', async () => {
    const applied = await json<Applied>(['compose', 'apply', compositionFile()]);
    expect(applied).toMatchObject({ version: '1', outcome: 'created' });
    routerId = applied.router;
    for (const m of applied.members) await remember(m.deployment);
    await remember(routerId);

    accuracyBefore = await predictAndLabel('before', 0, STREAM_ROWS);

    const assess = await json<AssessReport>(['compose', 'assess', NAME]);
    expect(assess.assessment.rows).toBe(STREAM_ROWS);
    expect(assess.underperforming).toEqual(['har-stuck@1']);
    const stuck = assess.measured.find((m) => m.key === 'har-stuck@1')!;
    const good = assess.measured.filter((m) => m.key !== 'har-stuck@1');
    expect(stuck.labelled).toBe(STREAM_ROWS);
    for (const m of good) expect(m.accuracy!, m.key).toBeGreaterThan(stuck.accuracy! + 0.3);
    const declaredAccuracy = candidate.description.spec.performance!.accuracy!;
    expect(declaredAccuracy).toBeGreaterThan(stuck.accuracy!);

    // Clients keep predicting through the router while it is adapted.
    const load = traffic({
      endpointFile: join(home, 'deployments', routerId, 'endpoint.json'),
      model: NAME,
      body: JSON.stringify(rowsToRequest(harToRequests(stream).slice(0, 2), features)),
      clients: 3,
      max: 3_000,
      pauseMs: 2,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    // A candidate must not be slower than 1.5x the member it replaces (the member's p95 as the router
    // measures it, mostly these small requests by now). The candidate is the same kind of model on
    // the same server, so it declares the fastest p95 the router measures for a member now (a mean
    // of the others can exceed 1.5x the stuck member's on a loaded machine).
    const now = await json<{ measurements: CompositionStatsWire | null }>(['compose', 'status', NAME]);
    const p95 = now.measurements!.members.map((m) => m.latencyMs.p95!);
    candidate.description.spec.qos = { ...candidate.description.spec.qos, latencyMs: Number(Math.min(...p95).toFixed(1)) };
    writeFileSync(candidate.file, stringify(candidate.description));
    const registered = await cli(['register', candidate.file]);
    expect(registered.code, registered.stderr).toBe(0);
    let adapted: AdaptResult;
    try {
      adapted = await json<AdaptResult>(['compose', NAME, '--adapt']);
    } finally {
      await new Promise((r) => setTimeout(r, 300));
    }
    const answers = await load.stop();
    expect(adapted.candidates[0]?.excluded.find((x) => x.key === 'har-d@1')).toBeUndefined();
    expect(adapted.candidates[0]?.candidates).toMatchObject([{ key: 'har-d@1', accuracy: declaredAccuracy, measured: false }]);
    expect(adapted).toMatchObject({ status: 'applied', version: '2', strategy: 'linucb', reason: 'replaced har-stuck@1 -> har-d@1' });
    expect(adapted.accuracyBefore).toBeCloseTo(accuracyBefore, 9);
    expect(adapted.plan!.replacements).toEqual([
      { member: 'har-stuck@1', candidate: 'har-d@1', confidence: expect.any(Number), accuracyGain: expect.any(Number) },
    ]);
    expect(adapted.plan!.replacements[0]!.accuracyGain).toBeGreaterThan(0.3);
    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(answers.at(-1)!.version).toBe('2');

    const st = await json<{ members: { key: string; deployment: string; state: string }[]; measurements: CompositionStatsWire | null }>([
      'compose',
      'status',
      NAME,
    ]);
    expect(st.members.map((m) => [m.key, m.state])).toEqual([
      ['har-a@1', 'ready'],
      ['har-b@1', 'ready'],
      ['har-d@1', 'ready'],
    ]);
    await remember(st.members[2]!.deployment);
    const released = await json<Dep>(['status', applied.members[2]!.deployment]);
    expect(released).toMatchObject({ model: 'har-stuck', state: 'cached', consumers: [] });
  });

  it('answers fresh rows of the same stream better, and the history shows the adaptation with the accuracy before and since', async () => {
    const accuracyAfter = await predictAndLabel('after', STREAM_ROWS, 2 * STREAM_ROWS);
    expect(accuracyAfter).toBeGreaterThan(accuracyBefore + 0.05);

    const history = await json<{ composition: string; events: HistoryEntry[] }>(['compose', 'history', NAME]);
    expect(history.composition).toBe(`${NAME}@2`);
    expect(history.events.map((e) => [e.event, e.version])).toEqual([
      ['applied', '1'],
      ['adapted', '2'],
    ]);
    const event = history.events[1]!;
    expect(event.summary).toBe('replaced har-stuck@1 -> har-d@1');
    expect(event.detail).toMatchObject({ strategy: 'linucb', plan: { replacements: [{ member: 'har-stuck@1', candidate: 'har-d@1' }] } });
    expect(event.accuracyBefore).toBeCloseTo(accuracyBefore, 9);
    expect(event.labelledAfter).toBe(STREAM_ROWS);
    expect(event.accuracyAfter).toBeCloseTo(accuracyAfter, 9);
    const text = await cli(['compose', 'history', NAME]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/adapted/);
    expect(text.stdout).toMatch(/replaced har-stuck@1 -> har-d@1/);
  });

  it('leaves no server running after compose delete --purge', async () => {
    const r = await cli(['compose', 'delete', NAME, '--purge']);
    expect(r.code, r.stderr).toBe(0);
    for (const d of await json<Dep[]>(['ps'])) await cli(['decommission', d.id, '--purge', '--force', '--yes']);
    let alive: number[] = [];
    for (let i = 0; i < 50; i++) {
      alive = [...pids].filter((pid) => isAlive(pid, 'serve'));
      if (alive.length === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(alive).toEqual([]);
  });
});

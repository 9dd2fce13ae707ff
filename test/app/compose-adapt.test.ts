// Adaptive recomposition over in-memory stores and the scriptable target: the router's /members and
// /records are scripted (member c answers "yes" to everything, so it is wrong on most labelled
// rows), the registry holds one better candidate (d) and two that must be excluded (e: another
// task; f: declared accuracy below c's measured one). Assessment flags c with every method; a dry
// run plans c -> d; applying swaps it through the re-apply path with an `adapted` history event and
// releases c; a healthy composition and one without labelled rows are reported as such; every
// strategy picks the same (only) plan.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../../src/adapt/strategies.js';
import type { AssessmentMethod } from '../../src/adapt/types.js';
import { adaptComposition, assessComposition, compositionHistory } from '../../src/app/compose-adapt.js';
import { composeApply } from '../../src/app/compose.js';
import type { CompositionDescription } from '../../src/domain/composition.js';
import type { CompositionRecordWire, CompositionRecordsWire } from '../../src/protocol/composition-records.js';
import type { CompositionStatsWire } from '../../src/protocol/composition-stats.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { routerStats } from '../support/router-stats.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness;
const progress: string[] = [];
const say = (line: string): void => void progress.push(line);

const NAME = 'ens';
const ROWS = 40;
/** Truth of labelled row i: one in four is "yes". */
const truthOf = (i: number): 'no' | 'yes' => (i % 4 === 0 ? 'yes' : 'no');
const flip = (l: 'no' | 'yes'): 'no' | 'yes' => (l === 'no' ? 'yes' : 'no');

/** What each member answers on row i; replaced per test (c is the bad one by default). Healthy members are wrong on 5 of 40 "no" rows each. */
type Answerer = (i: number) => 'no' | 'yes';
let answerers: Record<string, Answerer>;
/** Whether records() carries ground truth. */
let labelled: boolean;
/** Accuracy the router reports per member instead of the one on the records. */
let measuredOverride: Record<string, number>;
let recordCalls: { limit?: number; labelled?: boolean; since?: string }[];
/** When the scripted records start (one row per second). */
let recordsFrom: number;

const healthy: Record<string, Answerer> = {
  'a@1': (i) => (i % 8 === 1 ? flip(truthOf(i)) : truthOf(i)),
  'b@1': (i) => (i % 8 === 2 ? flip(truthOf(i)) : truthOf(i)),
  'c@1': (i) => (i % 8 === 3 ? flip(truthOf(i)) : truthOf(i)),
  'd@1': (i) => truthOf(i),
};
/** c answers "yes" to everything: right on the quarter of rows that are "yes". */
const withBadC: Record<string, Answerer> = { ...healthy, 'c@1': () => 'yes' };

const LATENCY: Record<string, number> = { 'a@1': 10, 'b@1': 10, 'c@1': 20, 'd@1': 15 };

function accuracyOf(key: string): number {
  const f = answerers[key]!;
  let right = 0;
  for (let i = 0; i < ROWS; i++) if (f(i) === truthOf(i)) right++;
  return right / ROWS;
}

/** The router's /members as it would answer for the composition as stored now (its current members). */
async function members(): Promise<CompositionStatsWire> {
  const c = (await h.services.compositions.getComposition(NAME))!;
  return routerStats(c, {
    rows: ROWS,
    accuracy: (key) => (labelled ? (measuredOverride[key] ?? accuracyOf(key)) : null),
    latencyMs: (key) => LATENCY[key] ?? 10,
    overall: labelled ? 0.85 : null,
  });
}

/** The router's /records: ROWS rows, each with every current member's own answer. */
async function records(query: { limit?: number; labelled?: boolean; since?: string } = {}): Promise<CompositionRecordsWire> {
  recordCalls.push(query);
  const c = (await h.services.compositions.getComposition(NAME))!;
  const rows: CompositionRecordWire[] = Array.from({ length: ROWS }, (_, i) => ({
    id: `p-${i}`,
    time: new Date(recordsFrom + i * 1000).toISOString(),
    composition: `${c.name}@${c.version}`,
    mode: 'ensemble',
    answer: { label: truthOf(i) },
    members: Object.fromEntries(
      c.members.map((m) => [
        m.key,
        { role: 'member' as const, counted: true, outcome: 'answered' as const, label: answerers[m.key]!(i), latencyMs: LATENCY[m.key] ?? 10 },
      ]),
    ),
    truth: labelled ? { label: truthOf(i) } : null,
  }));
  return {
    composition: `${c.name}@${c.version}`,
    task: 'classification',
    labels: ['no', 'yes'],
    aggregation: 'majority',
    records: query.labelled ? rows.filter((r) => r.truth) : rows,
  };
}

function composition(): CompositionDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name: NAME, version: '1' },
    spec: {
      task: 'classification',
      features: ['x'],
      mode: 'ensemble',
      aggregation: 'majority',
      members: [{ model: 'a@1' }, { model: 'b@1' }, { model: 'c@1' }],
    },
  };
}

const perf = (accuracy: number) => ({ metrics: { accuracy }, latencyMs: 15 });

beforeEach(async () => {
  answerers = withBadC;
  labelled = true;
  measuredOverride = {};
  recordCalls = [];
  recordsFrom = Date.UTC(2026, 0, 1);
  progress.length = 0;
  h = await appHarness({ inference: { members, records } });
  for (const name of ['a', 'b', 'c']) await h.register(modelDescription({ name, version: '1', ...perf(0.9) }));
  // Candidates: d is compatible and declares more than c measures; e solves another task; f declares less.
  await h.register(modelDescription({ name: 'd', version: '1', ...perf(0.95) }));
  await h.register(modelDescription({ name: 'e', version: '1', task: 'regression', metrics: { r2: 0.99 }, latencyMs: 15 }));
  await h.register(modelDescription({ name: 'f', version: '1', ...perf(0.1) }));
  await composeApply(h.services, { description: composition(), target: 'local', async: false, timeoutMs: 10_000 }, say);
});
afterEach(() => h.services.close());

const adapt = (o: { dryRun?: boolean; strategy?: (typeof STRATEGY_NAMES)[number] } = {}) =>
  adaptComposition(h.services, { name: NAME, dryRun: o.dryRun ?? false, strategy: o.strategy ?? 'linucb', timeoutMs: 10_000 }, say);

describe('compose assess', () => {
  it('flags the member that is wrong on most labelled rows (SCS), with what the scores rest on', async () => {
    expect(accuracyOf('c@1')).toBe(0.25);
    const r = await assessComposition(h.services, { name: NAME, method: 'scs', timeoutMs: 1_000 });
    expect(r).toMatchObject({ composition: `${NAME}@1`, method: 'scs', underperforming: ['c@1'] });
    expect(r.assessment.rows).toBe(ROWS);
    expect(r.assessment.members.map((m) => [m.key, m.underperforming])).toEqual([
      ['a@1', false],
      ['b@1', false],
      ['c@1', true],
    ]);
    const c = r.assessment.members[2]!;
    expect(c.score).toBeLessThan(r.assessment.threshold);
    for (const m of r.assessment.members.slice(0, 2)) expect(m.score).toBeGreaterThan(c.score);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(r.assessment.members.map((m) => m.functionalContribution))).toBeCloseTo(1, 6);
    expect(r.measured).toEqual([
      { key: 'a@1', accuracy: 0.875, reliability: 1, latencyMs: 10, labelled: ROWS },
      { key: 'b@1', accuracy: 0.875, reliability: 1, latencyMs: 10, labelled: ROWS },
      { key: 'c@1', accuracy: 0.25, reliability: 1, latencyMs: 20, labelled: ROWS },
    ]);
    expect(r.policy.latencyBudgetMs).toBe(1_000);
    // Only labelled rows are read.
    expect(recordCalls.at(-1)).toMatchObject({ labelled: true });
  });

  it.each(['loo', 'ncs', 'shapley'] as AssessmentMethod[])('runs %s: one score per member, shares summing to 1 or 0, c lowest', async (method) => {
    const r = await assessComposition(h.services, { name: NAME, method, timeoutMs: 1_000, seed: 7 });
    expect(r.method).toBe(method);
    expect(r.assessment.method).toBe(method);
    expect(r.assessment.rows).toBe(ROWS);
    expect(r.assessment.members.map((m) => m.key)).toEqual(['a@1', 'b@1', 'c@1']);
    for (const m of r.assessment.members) {
      expect(m.score, m.key).toBeGreaterThanOrEqual(0);
      expect(m.score, m.key).toBeLessThanOrEqual(1);
      expect(m.functionalContribution, m.key).toBe(0);
      expect(m.qosContribution, m.key).toBe(m.score);
      expect(Number.isFinite(m.qosDrop), m.key).toBe(true);
      expect(m.underperforming, m.key).toBe(m.score < r.assessment.threshold);
    }
    const total = r.assessment.members.reduce((a, m) => a + m.score, 0);
    expect([0, 1].some((x) => Math.abs(total - x) < 1e-9)).toBe(true);
    const [a, b, c] = r.assessment.members;
    // Leave-one-out on a majority of three: any two members still outvote, so no absence changes
    // an answer; the drops are then taken on the support of the truth, where c (voting against
    // it) gets nothing and a, b share the credit. Every method ranks c strictly last.
    if (method === 'loo') expect(r.assessment.members.map((m) => m.score)).toEqual([0.5, 0.5, 0]);
    expect(c!.score).toBeLessThan(a!.score);
    expect(c!.score).toBeLessThan(b!.score);
    expect(r.underperforming).toEqual(['c@1']);
    // ncs: the raw value is the member's own accuracy.
    if (method === 'ncs') expect(r.assessment.members.map((m) => m.qosDrop)).toEqual([0.875, 0.875, 0.25]);
    // Three members: Shapley is exact, no sampling.
    if (method === 'shapley') expect(r.assessment.sampling).toBeUndefined();
  });

  it('without labelled rows: UNAVAILABLE, and the hint says to send feedback', async () => {
    labelled = false;
    for (const p of [assessComposition(h.services, { name: NAME, method: 'scs', timeoutMs: 1_000 }), adapt({ dryRun: true })]) {
      const e = await rejection(p);
      expect(e).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/no labelled predictions/) });
      expect(e.hint).toMatch(/maas feedback ens/);
    }
  });
});

describe('compose NAME --adapt', () => {
  it('dry run: plans c@1 -> d@1 with its confidence and search effort; says why e and f are excluded; changes nothing', async () => {
    const before = h.local.calls.length;
    const r = await adapt({ dryRun: true });
    expect(r).toMatchObject({ composition: `${NAME}@1`, status: 'planned', strategy: 'linucb', reason: 'would replace c@1 -> d@1', accuracyBefore: 0.85 });
    expect(r.version).toBeUndefined();
    expect(r.plan!.replacements).toEqual([{ member: 'c@1', candidate: 'd@1', confidence: expect.any(Number), accuracyGain: expect.closeTo(0.7, 9) }]);
    const confidence = r.plan!.replacements[0]!.confidence;
    expect(confidence).toBeGreaterThan(0);
    expect(confidence).toBeLessThanOrEqual(1);
    expect(r.plan!.evaluations).toBeGreaterThanOrEqual(1);
    expect(r.plan!.combinations).toBe(1);
    expect(r.assessment.underperforming).toEqual(['c@1']);

    expect(r.candidates).toHaveLength(1);
    const pool = r.candidates[0]!;
    expect(pool.member).toBe('c@1');
    expect(pool.candidates).toEqual([
      expect.objectContaining({ key: 'd@1', accuracy: 0.95, latencyMs: 15, reliability: 1, measured: false, rules: expect.objectContaining({ confidence }) }),
    ]);
    const reasons = new Map(pool.excluded.map((x) => [x.key, x.reason]));
    expect(reasons.get('e@1')).toMatch(/^e@1: .*regression/);
    expect(reasons.get('f@1')).toBe("f@1: declared accuracy 0.1 not above the member's measured 0.25");
    expect(reasons.get('c@1')).toBe('c@1: the member being replaced');
    expect(reasons.get('a@1')).toBe('a@1: already a member of the composition');
    expect([...reasons.keys()].sort()).toEqual(['a@1', 'b@1', 'c@1', 'e@1', 'f@1']);

    // Nothing changed: no call to the target, the stored composition still version 1.
    expect(h.local.calls.slice(before).filter((c) => !c.startsWith('observe'))).toEqual([]);
    const stored = await h.services.compositions.getComposition(NAME);
    expect(stored).toMatchObject({ version: '1' });
    expect(stored?.history.map((e) => e.event)).toEqual(['applied']);
  });

  it('applies: d@1 deployed and swapped into the running router, version 2 with an `adapted` event, c@1 released (cached)', async () => {
    const first = (await h.services.compositions.getComposition(NAME))!;
    const c = first.members.find((m) => m.key === 'c@1')!.deployment;
    const r = await adapt();
    expect(r).toMatchObject({ status: 'applied', reason: 'replaced c@1 -> d@1', version: '2', strategy: 'linucb', accuracyBefore: 0.85 });
    expect(r.plan!.replacements.map((x) => [x.member, x.candidate])).toEqual([['c@1', 'd@1']]);

    const router = first.router;
    expect(h.local.calls.filter((x) => x.startsWith('startRouter') || x.startsWith('updateRouter'))).toEqual([
      `startRouter ${router} a@1,b@1,c@1`,
      `updateRouter ${router} a@1,b@1,d@1`,
    ]);
    expect(h.local.routerConfigs.get(router)!.at(-1)!.composition.metadata.version).toBe('2');

    const stored = (await h.services.compositions.getComposition(NAME))!;
    expect(stored.version).toBe('2');
    expect(stored.description.metadata.version).toBe('2');
    expect(stored.members.map((m) => m.key)).toEqual(['a@1', 'b@1', 'd@1']);
    expect(stored.description.spec.members).toEqual([{ model: 'a@1' }, { model: 'b@1' }, { model: 'd@1' }]);
    // a and b keep their deployments; d got a new one.
    expect(stored.members.slice(0, 2).map((m) => m.deployment)).toEqual(first.members.slice(0, 2).map((m) => m.deployment));
    expect(stored.history.map((e) => [e.event, e.version, e.summary])).toEqual([
      ['applied', '1', 'created with a@1, b@1, c@1'],
      ['adapted', '2', 'replaced c@1 -> d@1'],
    ]);
    const detail = stored.history[1]!.detail!;
    expect(detail).toMatchObject({ strategy: 'linucb', plan: r.plan, accuracyBefore: 0.85 });
    expect((detail.scores as { key: string; underperforming: boolean }[]).map((s) => [s.key, s.underperforming])).toEqual([
      ['a@1', false],
      ['b@1', false],
      ['c@1', true],
    ]);

    // Two-step decommission, step one: c is cached and no longer held by the composition.
    const cDeployment = await h.services.deployments.getDeployment(c);
    expect(cDeployment).toMatchObject({ state: 'cached' });
    expect(cDeployment?.consumers).toEqual([]);
    const dDeployment = await h.services.deployments.getDeployment(stored.members[2]!.deployment);
    expect(dDeployment).toMatchObject({ model: 'd', version: '1', state: 'ready', consumers: [`composition:${NAME}`] });
    // The router confirmed its new members before c was released (no "did not confirm" fallback).
    expect(progress.some((l) => /did not confirm/.test(l))).toBe(false);

    // History: the adaptation with the accuracy before and the accuracy measured on rows since.
    const hist = await compositionHistory(h.services, NAME, 1_000);
    expect(hist.composition).toBe(`${NAME}@2`);
    const adapted = hist.events.find((e) => e.event === 'adapted')!;
    expect(adapted).toMatchObject({ version: '2', accuracyBefore: 0.85, labelledAfter: ROWS, accuracyAfter: 1 });
    expect(recordCalls.at(-1)).toMatchObject({ labelled: true, since: stored.history[1]!.at });

    // Now d is a member, as healthy as a and b (wrong on 5 of 40 rows): nobody is below threshold.
    answerers = { ...withBadC, 'd@1': (i) => (i % 8 === 5 ? flip(truthOf(i)) : truthOf(i)) };
    const again = await adapt();
    expect(again).toMatchObject({ status: 'nothing', composition: `${NAME}@2` });
  });

  it('learns from a replacement once it serves: the next adaptation starts from its measured accuracy', async () => {
    const r = await adapt();
    expect(r).toMatchObject({ status: 'applied', experience: [] });
    const stored = (await h.services.compositions.getComposition(NAME))!;
    const event = stored.history.at(-1)!;
    const learning = event.detail!.learning as { member: string; candidate: string; context: number[] }[];
    expect(learning.map((l) => [l.member, l.candidate])).toEqual([['c@1', 'd@1']]);
    expect(learning[0]!.context.length).toBeGreaterThanOrEqual(5);

    // d turns out to answer "yes" to everything once it serves: 10 of 40 right on the rows after the decision.
    answerers = { ...healthy, 'd@1': () => 'yes' };
    recordsFrom = Date.parse(event.at) + 1_000;
    const next = await adapt({ dryRun: true });
    expect(next.experience).toEqual([{ key: 'd@1', reward: 0.25, rows: ROWS, since: event.at }]);
    expect(next.assessment.underperforming).toEqual(['d@1']);
    // Rows from before the decision do not count as d's service.
    recordsFrom = Date.parse(event.at) - 60_000;
    expect((await adapt({ dryRun: true })).experience).toEqual([]);
  });

  it('nothing to do when every member is fine', async () => {
    answerers = healthy;
    const r = await adapt();
    expect(r.status).toBe('nothing');
    expect(r.reason).toMatch(/^no member below threshold/);
    expect(r.candidates).toEqual([]);
    expect(r.plan).toBeUndefined();
    expect(r.assessment.underperforming).toEqual([]);
    expect((await h.services.compositions.getComposition(NAME))?.version).toBe('1');
  });

  it('no plan when no registered model beats the member as measured', async () => {
    // The router measures c at 0.97 (say, on feedback the records no longer hold): d's declared 0.95 is not above it.
    measuredOverride = { 'c@1': 0.97 };
    const r = await adapt();
    expect(r).toMatchObject({ status: 'no-plan', reason: 'no acceptable replacement for c@1 in the registry' });
    expect(r.plan).toBeUndefined();
    expect(r.candidates[0]!.candidates).toEqual([]);
    expect(r.candidates[0]!.excluded.find((x) => x.key === 'd@1')?.reason).toBe("d@1: declared accuracy 0.95 not above the member's measured 0.97");
    expect((await h.services.compositions.getComposition(NAME))?.version).toBe('1');
  });

  it.each(STRATEGY_NAMES)('strategy %s chooses c@1 -> d@1', async (strategy) => {
    const r = await adapt({ dryRun: true, strategy });
    expect(r.strategy).toBe(strategy);
    expect(r.status).toBe('planned');
    expect(r.plan!.replacements.map((x) => [x.member, x.candidate])).toEqual([['c@1', 'd@1']]);
    expect(r.plan!.combinations).toBe(1);
    expect(r.plan!.evaluations).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(r.plan!.score)).toBe(true);
  });
});

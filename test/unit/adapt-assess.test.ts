// Stage 1 of adaptive recomposition: the QoS score, re-aggregation without a member, SCS and the
// baselines (leave-one-out, NCS, Shapley exact and sampled). Expected values are worked out by
// hand in comments.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { assess, functionalWeights, reaggregate, shares, type AssessInput, type Recorded } from '../../src/adapt/assess.js';
import { effectiveness, latencyTerm, qosScore, quality, windowedEffectiveness } from '../../src/adapt/qos.js';
import { exactShapley, sampledShapley, type Coalition } from '../../src/adapt/shapley.js';
import { DEFAULT_CONTRIBUTION, DEFAULT_QOS_WEIGHTS, type MemberProfile, type RecordedRow } from '../../src/adapt/types.js';

/** Uniform in [0, 1) from a seed. */
const rnd = (seed: number): (() => number) => {
  const r = seededRandom(seed);
  return () => r.next();
};

const member = (key: string, extra: Partial<MemberProfile> = {}): MemberProfile => ({ key, weight: 1, reliability: 1, latencyMs: 50, history: [], ...extra });

// Three members voting on labels a (0) and b (1). Majority; a tie between two members goes to the
// first listed label, a.
//            truth  A  B  C
//   row 1      0    0  0  1
//   row 2      1    1  0  1
//   row 3      1    0  1  1
//   row 4      0    0  1  1
const GAME_ROWS: RecordedRow[] = [
  { truth: 0, answers: [0, 0, 1] },
  { truth: 1, answers: [1, 0, 1] },
  { truth: 1, answers: [0, 1, 1] },
  { truth: 0, answers: [0, 1, 1] },
];
// v(S) = accuracy of the majority of S:
//   v({})      = 0
//   v({A})     = A answers 0 1 0 0  -> rows 1 2 4 right = 3/4
//   v({B})     = B answers 0 0 1 1  -> rows 1 3       = 2/4
//   v({C})     = C answers 1 1 1 1  -> rows 2 3       = 2/4
//   v({A,B})   = 0 (agree), tie->0, tie->0, tie->0 = 0 0 0 0 -> rows 1 4 = 2/4
//   v({A,C})   = tie->0, 1, tie->0, tie->0 = 0 1 0 0 -> rows 1 2 4 = 3/4
//   v({B,C})   = tie->0, tie->0, 1, 1 = 0 0 1 1 -> rows 1 3 = 2/4
//   v({A,B,C}) = 0 1 1 1 -> rows 1 2 3 = 3/4
const V: Record<string, number> = { '': 0, '0': 0.75, '1': 0.5, '2': 0.5, '0,1': 0.5, '0,2': 0.75, '1,2': 0.5, '0,1,2': 0.75 };
// phi_i = 1/3 v(i) + 1/6 (v(ij) - v(j)) + 1/6 (v(ik) - v(k)) + 1/3 (v(N) - v(jk)):
//   phi_A = 1/3*0.75 + 1/6*(0.5-0.5) + 1/6*(0.75-0.5) + 1/3*(0.75-0.5) = 0.25 + 0 + 1/24 + 1/12 = 0.375
//   phi_B = 1/3*0.5 + 1/6*(0.5-0.75) + 1/6*(0.5-0.5) + 1/3*(0.75-0.75) = 1/6 - 1/24         = 0.125
//   phi_C = 1/3*0.5 + 1/6*(0.75-0.75) + 1/6*(0.5-0.5) + 1/3*(0.75-0.5) = 1/6 + 1/12         = 0.25
//   sum = 0.75 = v(N) - v({})
const PHI = [0.375, 0.125, 0.25];

const GAME: Recorded = {
  task: 'classification',
  labels: ['a', 'b'],
  aggregation: 'majority',
  members: [member('A@1'), member('B@1'), member('C@1')],
  rows: GAME_ROWS,
};

const input = (recorded: Recorded, extra: Partial<AssessInput> = {}): AssessInput => ({
  ...recorded,
  latencyBudgetMs: 200,
  weights: DEFAULT_QOS_WEIGHTS,
  contribution: DEFAULT_CONTRIBUTION,
  method: 'scs',
  random: rnd(1),
  ...extra,
});

describe('qos', () => {
  it('scores a composition by the weighted sum', () => {
    // 0.4*0.9 + 0.2*0.8 + 0.2*(1 - 50/200) + 0.2*0.95 = 0.36 + 0.16 + 0.15 + 0.19 = 0.86
    const x = { effectiveness: 0.9, quality: 0.8, latencyMs: 50, latencyBudgetMs: 200, reliability: 0.95 };
    expect(qosScore(x, DEFAULT_QOS_WEIGHTS)).toBeCloseTo(0.86, 12);
    // Over budget, the latency term is 0: 0.36 + 0.16 + 0 + 0.19 = 0.71
    expect(qosScore({ ...x, latencyMs: 300 }, DEFAULT_QOS_WEIGHTS)).toBeCloseTo(0.71, 12);
    // Other weights: 0.1*0.9 + 0.2*0.8 + 0.3*0.75 + 0.4*0.95 = 0.09 + 0.16 + 0.225 + 0.38 = 0.855
    expect(qosScore(x, { effectiveness: 0.1, quality: 0.2, latency: 0.3, reliability: 0.4 })).toBeCloseTo(0.855, 12);
  });

  it('clamps the latency term to [0, 1]', () => {
    expect(latencyTerm(0, 100)).toBe(1);
    expect(latencyTerm(-5, 100)).toBe(1);
    expect(latencyTerm(25, 100)).toBe(0.75);
    expect(latencyTerm(100, 100)).toBe(0);
    expect(latencyTerm(1000, 100)).toBe(0);
    expect(latencyTerm(10, 0)).toBe(0);
    expect(latencyTerm(Number.NaN, 100)).toBe(0);
  });

  it('measures effectiveness as accuracy or 1 - normalised MAE', () => {
    // 2 of 4 right (the missing answer is wrong).
    expect(effectiveness([{ truth: 0 }, { truth: 1 }, { truth: 2 }, { truth: 1 }], [0, 2, undefined, 1], 'classification')).toBe(0.5);
    // Truth range 10 - 0 = 10; errors 1, 2, 10 (missing: the whole range), 0 -> MAE 13/4 = 3.25 -> 1 - 0.325 = 0.675
    expect(effectiveness([{ truth: 0 }, { truth: 10 }, { truth: 5 }, { truth: 5 }], [1, 8, undefined, 5], 'regression')).toBeCloseTo(0.675, 12);
    // Constant truth: range 1; MAE 3 -> clipped at 0.
    expect(effectiveness([{ truth: 4 }, { truth: 4 }], [1, 1], 'regression')).toBe(0);
    expect(effectiveness([], [], 'classification')).toBe(0);
  });

  it('takes quality from the last windows of the history', () => {
    // Last 5 of 0.5 .. 1.0: (0.6 + 0.7 + 0.8 + 0.9 + 1.0) / 5 = 0.8
    expect(quality([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 0)).toBeCloseTo(0.8, 12);
    expect(quality([0.5, 0.7], 0)).toBeCloseTo(0.6, 12);
    expect(quality([], 0.42)).toBe(0.42);
    // Windows of 2 rows: [right, wrong] [right, right] [wrong] -> 0.5, 1, 0
    const rows = [0, 1, 0, 1, 0].map((truth) => ({ truth }));
    expect(windowedEffectiveness(rows, [0, 0, 0, 1, 1], 'classification', 2)).toEqual([0.5, 1, 0]);
  });
});

describe('re-aggregation without a member', () => {
  it('recomputes the vote from the recorded answers', () => {
    // Without C: A and B vote 0/0, 1/0, 0/1, 0/1 -> 0, tie->a(0), tie->a(0), tie->a(0)
    expect(reaggregate(GAME, [0, 1])).toEqual([0, 0, 0, 0]);
    // Without B: 0/1 -> tie -> 0; 1/1 -> 1; 0/1 -> 0; 0/1 -> 0
    expect(reaggregate(GAME, [2, 0])).toEqual([0, 1, 0, 0]);
    // All three: 0 1 1 1
    expect(reaggregate(GAME, [0, 1, 2])).toEqual([0, 1, 1, 1]);
    expect(reaggregate(GAME, [])).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('leaves failed members out per row and uses weights and probabilities as the router does', () => {
    const recorded: Recorded = {
      task: 'classification',
      labels: ['a', 'b', 'c'],
      aggregation: 'weighted',
      members: [member('A@1', { weight: 3 }), member('B@1'), member('C@1')],
      rows: [
        // A (3) against B + C (2): a.
        { truth: 0, answers: [0, 1, 1] },
        // A failed: B (1) against C (1), a tie between b and c; the probabilities break it:
        // b: 0.6 + 0.3 = 0.9, c: 0.2 + 0.6 = 0.8 -> b.
        {
          truth: 1,
          answers: [undefined, 1, 2],
          probabilities: [undefined, [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]],
        },
        // Nobody answered.
        { truth: 2, answers: [undefined, undefined, undefined] },
      ],
    };
    expect(reaggregate(recorded, [0, 1, 2])).toEqual([0, 1, undefined]);
    // Without A, row 1: B + C vote b: 1.
    expect(reaggregate(recorded, [1, 2])).toEqual([1, 1, undefined]);
  });

  it('re-aggregates regression values', () => {
    const recorded: Recorded = {
      task: 'regression',
      aggregation: 'median',
      members: [member('A@1'), member('B@1'), member('C@1')],
      rows: [
        { truth: 2, answers: [1, 2, 10] }, // median 2
        { truth: 5, answers: [4, undefined, 8] }, // median of 4, 8 = 6
      ],
    };
    expect(reaggregate(recorded, [0, 1, 2])).toEqual([2, 6]);
    expect(reaggregate(recorded, [0, 2])).toEqual([5.5, 6]);
    expect(() => reaggregate({ ...recorded, aggregation: 'majority' }, [0])).toThrow(/does not suit/);
  });
});

describe('baselines on the 3-member game', () => {
  it('computes exact Shapley values from the table, with efficiency', () => {
    const v = (s: Coalition): number => V[s.join(',')]!;
    const result = exactShapley(3, v);
    expect(result.exact).toBe(true);
    result.values.forEach((x, i) => expect(x).toBeCloseTo(PHI[i]!, 12));
    expect(result.values.reduce((a, b) => a + b, 0)).toBeCloseTo(V['0,1,2']! - V['']!, 12);
  });

  it('assesses by Shapley on the recorded rows: raw values in qosDrop, normalised scores', () => {
    const a = assess(input(GAME, { method: 'shapley' }));
    expect(a.effectiveness).toBe(0.75);
    expect(a.sampling).toBeUndefined();
    a.members.forEach((m, i) => expect(m.qosDrop).toBeCloseTo(PHI[i]!, 12));
    expect(a.members.reduce((s, m) => s + m.qosDrop, 0)).toBeCloseTo(0.75, 12);
    // 0.375 / 0.75, 0.125 / 0.75, 0.25 / 0.75
    const expected = [0.5, 1 / 6, 1 / 3];
    a.members.forEach((m, i) => {
      expect(m.score).toBeCloseTo(expected[i]!, 12);
      expect(m.qosContribution).toBe(m.score);
      expect(m.functionalContribution).toBe(0);
    });
    // Threshold 0.75 of the fair share 1/3 = 0.25: B at 1/6 is below, C at 1/3 above.
    expect(a.threshold).toBeCloseTo(0.25, 12);
    expect(a.members.map((m) => m.underperforming)).toEqual([false, true, false]);
  });

  it('assesses by leave-one-out and NCS', () => {
    // E(N) = 0.75; without A: v(BC) = 0.5 -> 0.25; without B: v(AC) = 0.75 -> 0; without C: v(AB) = 0.5 -> 0.25
    const loo = assess(input(GAME, { method: 'loo' }));
    expect(loo.members.map((m) => m.qosDrop)).toEqual([0.25, 0, 0.25]);
    expect(loo.members.map((m) => m.score)).toEqual([0.5, 0, 0.5]);
    expect(loo.members.map((m) => m.underperforming)).toEqual([false, true, false]);
    // Own accuracies 0.75, 0.5, 0.5 (sum 1.75) -> 3/7, 2/7, 2/7
    const ncs = assess(input(GAME, { method: 'ncs' }));
    expect(ncs.members.map((m) => m.qosDrop)).toEqual([0.75, 0.5, 0.5]);
    [3 / 7, 2 / 7, 2 / 7].forEach((x, i) => expect(ncs.members[i]!.score).toBeCloseTo(x, 12));
  });

  it('falls back to the support of the truth when no single absence changes a majority answer', () => {
    //            truth  A  B  C
    //   row 1      0    0  0  1
    //   row 2      0    0  0  0
    // Leaving any one member out keeps every answer (a tie of two goes to the first label, a = the
    // truth), so every accuracy drop is 0. Support of the truth: all three 2/3 and 1 -> 5/6;
    // without A: 1/2 and 1 -> 3/4 (drop 1/12); without B the same; without C: 1 (drop -1/6).
    const rows: RecordedRow[] = [
      { truth: 0, answers: [0, 0, 1] },
      { truth: 0, answers: [0, 0, 0] },
    ];
    const loo = assess(input({ ...GAME, rows }, { method: 'loo' }));
    expect(loo.effectiveness).toBe(1);
    loo.members.forEach((m, i) => expect(m.qosDrop).toBeCloseTo([1 / 12, 1 / 12, -1 / 6][i]!, 12));
    expect(loo.members.map((m) => m.score)).toEqual([0.5, 0.5, 0]);
    expect(loo.members.map((m) => m.underperforming)).toEqual([false, false, true]);
  });

  it('sets the threshold relative to the fair share, so equal members of a large composition are not flagged', () => {
    // Eight members that always answer the truth: equal shares of 1/8 each; an absolute cut-off of
    // 0.15 would flag all eight, 0.75 / 8 flags none.
    const keys = Array.from({ length: 8 }, (_, i) => `m${i}@1`);
    const rows: RecordedRow[] = [0, 1, 1, 0].map((truth) => ({ truth, answers: keys.map(() => truth) }));
    const a = assess(input({ ...GAME, members: keys.map((k) => member(k)), rows }, { method: 'ncs' }));
    a.members.forEach((m) => expect(m.score).toBeCloseTo(1 / 8, 12));
    expect(a.threshold).toBeCloseTo(0.75 / 8, 12);
    expect(a.members.some((m) => m.underperforming)).toBe(false);
  });

  it('assesses by SCS: QoS drop without each member plus the functional contribution', () => {
    const a = assess(input(GAME));
    // Same latency (50 of 200 -> 0.75) and every row answered (R = 1) for every coalition, so
    // Q(S) = 0.4 E(S) + 0.2 q(S) + 0.2*0.75 + 0.2; q(S) = mean own accuracy (no history, majority: equal weights).
    // q(N) = (0.75 + 0.5 + 0.5) / 3 = 7/12; Q(N) = 0.3 + 7/60 + 0.15 + 0.2 = 0.766667
    expect(a.qos).toBeCloseTo(0.3 + 7 / 60 + 0.35, 12);
    // drop A = 0.4 (0.75 - 0.5) + 0.2 (7/12 - 0.5)   =  0.1 + 1/60 =  0.116667
    // drop B = 0.4 (0.75 - 0.75) + 0.2 (7/12 - 0.625) =  -1/120     = -0.008333
    // drop C = 0.4 (0.75 - 0.5) + 0.2 (7/12 - 0.625)  =  0.1 - 1/120 =  0.091667
    const drops = [0.1 + 1 / 60, -1 / 120, 0.1 - 1 / 120];
    a.members.forEach((m, i) => expect(m.qosDrop).toBeCloseTo(drops[i]!, 12));
    // Clip B, divide by 0.208333: 0.56, 0, 0.44
    [0.56, 0, 0.44].forEach((x, i) => expect(a.members[i]!.qosContribution).toBeCloseTo(x, 12));
    // No probabilities: label frequencies A [3/4, 1/4], B [1/2, 1/2], C [0, 1].
    const functional = functionalWeights([
      [0.75, 0.25],
      [0.5, 0.5],
      [0, 1],
    ]);
    a.members.forEach((m, i) => {
      expect(m.functionalContribution).toBeCloseTo(functional[i]!, 12);
      expect(m.score).toBeCloseTo(0.5 * m.qosContribution + 0.5 * functional[i]!, 12);
    });
    expect(a.members.reduce((s, m) => s + m.functionalContribution, 0)).toBeCloseTo(1, 12);
  });
});

/** Rows of a k-class game: member m is right with probability accuracy[m], else answers another class at random. */
function randomGame(
  seed: number,
  accuracies: readonly number[],
  rows: number,
  classes = 3,
  wrong?: (truth: number, m: number) => number | undefined,
): RecordedRow[] {
  const r = seededRandom(seed);
  const out: RecordedRow[] = [];
  for (let i = 0; i < rows; i++) {
    const truth = Math.floor(r.next() * classes);
    const answers = accuracies.map((p, m) => {
      const forced = wrong?.(truth, m);
      if (forced !== undefined) return forced;
      return r.next() < p ? truth : (truth + 1 + Math.floor(r.next() * (classes - 1))) % classes;
    });
    out.push({ truth, answers });
  }
  return out;
}

describe('Shapley by sampling', () => {
  const accuracies = [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35];
  const twelve: Recorded = {
    task: 'classification',
    labels: ['x', 'y', 'z'],
    aggregation: 'majority',
    members: accuracies.map((_, i) => member(`m${i}@1`)),
    rows: randomGame(11, accuracies, 60),
  };

  it('comes within 3 standard errors of the exact values on a 12-member game', () => {
    const exact = assess(input(twelve, { method: 'shapley', shapley: { exactUpTo: 12 } }));
    expect(exact.sampling).toBeUndefined();
    const sampled = assess(input(twelve, { method: 'shapley', random: rnd(5), shapley: { permutations: 2000, tolerance: 0.005 } }));
    const sampling = sampled.sampling!;
    expect(sampling.permutations).toBeGreaterThanOrEqual(30);
    expect(sampling.permutations).toBeLessThanOrEqual(2000);
    expect(sampling.standardError).toBeGreaterThan(0);
    expect(sampling.permutations === 2000 || sampling.standardError < 0.005).toBe(true);
    sampled.members.forEach((m, i) => expect(Math.abs(m.qosDrop - exact.members[i]!.qosDrop)).toBeLessThanOrEqual(3 * sampling.standardError));
    // Efficiency holds for both: the marginals of each permutation telescope to v(N).
    expect(exact.members.reduce((s, m) => s + m.qosDrop, 0)).toBeCloseTo(exact.effectiveness, 12);
    expect(sampled.members.reduce((s, m) => s + m.qosDrop, 0)).toBeCloseTo(exact.effectiveness, 12);
  });

  it('is deterministic with a seeded random', () => {
    const run = (seed: number) => assess(input(twelve, { method: 'shapley', random: rnd(seed), shapley: { permutations: 200 } }));
    expect(run(9)).toEqual(run(9));
    expect(run(9).members.map((m) => m.qosDrop)).not.toEqual(run(10).members.map((m) => m.qosDrop));
  });

  it('reports per-player standard errors and stops at the tolerance', () => {
    // Additive game: v(S) = sum of w_i over S; every marginal equals w_i, so the error is 0 and
    // sampling stops after the minimum 30 permutations with the exact values.
    const w = [0.1, 0.2, 0.3, 0.4];
    const result = sampledShapley(4, (s) => s.reduce((a, i) => a + w[i]!, 0), rnd(3), { tolerance: 1e-9 });
    expect(result.permutations).toBe(30);
    result.values.forEach((x, i) => expect(x).toBeCloseTo(w[i]!, 12));
    expect(result.standardError).toBeCloseTo(0, 12);
  });
});

describe('SCS flags the member that hurts', () => {
  const good = [0.85, 0.8, 0.8];
  const cases: [string, (truth: number, m: number) => number | undefined][] = [
    ['always wrong', (truth, m) => (m === 3 ? (truth + 1) % 3 : undefined)],
    ['always one class', (_truth, m) => (m === 3 ? 2 : undefined)],
  ];
  for (const [name, wrong] of cases) {
    it(`gives the lowest score to a member ${name}`, () => {
      const recorded: Recorded = {
        task: 'classification',
        labels: ['x', 'y', 'z'],
        aggregation: 'majority',
        members: [member('g1@1'), member('g2@1'), member('g3@1'), member('bad@1')],
        rows: randomGame(21, [...good, 0], 200, 3, wrong),
      };
      const a = assess(input(recorded));
      const scores = a.members.map((m) => m.score);
      expect(Math.min(...scores)).toBe(scores[3]);
      expect(a.members[3]!.qosContribution).toBe(0);
      expect(a.members[3]!.underperforming).toBe(true);
      expect(a.members.slice(0, 3).every((m) => !m.underperforming)).toBe(true);
      expect(a.members.reduce((s, m) => s + m.qosContribution, 0)).toBeCloseTo(1, 12);
    });
  }
});

describe('functional contribution', () => {
  it('falls with the distance from the mean vector', () => {
    // 1-D vectors 0, 1, 2, 10: mean 3.25; d = 3.25, 2.25, 1.25, 6.75; median d = (2.25 + 3.25) / 2 = 2.75
    const w = functionalWeights([[0], [1], [2], [10]]);
    const d = [3.25, 2.25, 1.25, 6.75];
    const raw = d.map((x) => Math.exp(-x / 2.75));
    const total = raw.reduce((a, b) => a + b, 0);
    w.forEach((x, i) => expect(x).toBeCloseTo(raw[i]! / total, 12));
    expect(w[2]).toBeGreaterThan(w[1]!);
    expect(w[1]).toBeGreaterThan(w[0]!);
    expect(w[0]).toBeGreaterThan(w[3]!);
    // All at the mean: equal shares.
    expect(
      functionalWeights([
        [1, 2],
        [1, 2],
        [1, 2],
      ]),
    ).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('uses parameter vectors when every member has them', () => {
    const params = [
      [0, 0, 0],
      [0.1, 0, 0],
      [0, 0.2, 0],
      [1, 1, 1],
    ];
    const recorded: Recorded = {
      ...GAME,
      members: params.map((p, i) => member(`m${i}@1`, { parameters: Float64Array.from(p) })),
      rows: GAME_ROWS.map((r) => ({ ...r, answers: [...r.answers, 0] })),
    };
    const a = assess(input(recorded));
    const expected = functionalWeights(params);
    a.members.forEach((m, i) => expect(m.functionalContribution).toBeCloseTo(expected[i]!, 12));
    // The far member gets the least.
    expect(Math.min(...a.members.map((m) => m.functionalContribution))).toBe(a.members[3]!.functionalContribution);
  });

  it('uses the mean probability rows when every member sent probabilities', () => {
    const rows: RecordedRow[] = [
      {
        truth: 0,
        answers: [0, 0, 1],
        probabilities: [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.2, 0.8],
        ],
      },
      { truth: 1, answers: [1, 1, 1], probabilities: [[0.3, 0.7], [0.4, 0.6], undefined] },
    ];
    const a = assess(input({ ...GAME, rows }));
    // A: mean of [0.9, 0.1], [0.3, 0.7] = [0.6, 0.4]; B: [0.5, 0.5]; C: only row 1 -> [0.2, 0.8]
    const expected = functionalWeights([
      [0.6, 0.4],
      [0.5, 0.5],
      [0.2, 0.8],
    ]);
    a.members.forEach((m, i) => expect(m.functionalContribution).toBeCloseTo(expected[i]!, 12));
  });
});

describe('shares', () => {
  it('clips negatives and gives all zero when nobody contributes', () => {
    expect(shares([3, -1, 1])).toEqual([0.75, 0, 0.25]);
    expect(shares([0, -1, 0])).toEqual([0, 0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { MaasError } from '../../src/core/errors.js';
import { CONTEXT_FEATURES, LinUcb, contextOf, contextsOf, minMaxScale } from '../../src/adapt/linucb.js';
import {
  EpsilonGreedy,
  STRATEGY_NAMES,
  bestCombinations,
  bruteForceStrategy,
  linUcbStrategy,
  strategyByName,
  type SelectionCandidate,
  type SelectionProblem,
} from '../../src/adapt/strategies.js';
import type { Candidate, Plan } from '../../src/adapt/types.js';

const rng = (seed: number): (() => number) => {
  const r = seededRandom(seed);
  return () => r.next();
};

/** Standard normal by Box-Muller. */
const gaussian = (random: () => number): (() => number) => {
  return () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
};

const vec = (...v: number[]): Float64Array => Float64Array.from(v);

/** Direct inverse by Gauss-Jordan elimination with partial pivoting (row-major, n x n). */
function gaussJordanInverse(m: Float64Array, n: number): Float64Array {
  const a = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => m[i * n + j]!),
    ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  ]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    for (let j = 0; j < 2 * n; j++) a[col]![j]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r]![col]!;
      for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[col]![j]!;
    }
  }
  return Float64Array.from({ length: n * n }, (_, k) => a[Math.floor(k / n)]![n + (k % n)]!);
}

describe('LinUcb', () => {
  it('matches a hand computation (dim 2, alpha 1, lambda 1)', () => {
    const bandit = new LinUcb(2, { alpha: 1, lambda: 1 });
    bandit.update('a', vec(1, 0), 1);
    bandit.update('a', vec(0, 1), 0.5);
    bandit.update('a', vec(1, 1), 1);
    // A = I + [1 0; 0 0] + [0 0; 0 1] + [1 1; 1 1] = [3 1; 1 3], det A = 8
    // A^-1 = 1/8 [3 -1; -1 3] = [0.375 -0.125; -0.125 0.375]
    // b = 1*[1,0] + 0.5*[0,1] + 1*[1,1] = [2, 1.5]
    // theta = A^-1 b = 1/8 [6 - 1.5, -2 + 4.5] = [0.5625, 0.3125]
    // x = [1,1]: mean = theta.x = 0.875; x' A^-1 x = 1/8 (3 - 1 - 1 + 3) = 0.5; width = sqrt(0.5)
    // ucb = 0.875 + 0.70710678118654752 = 1.58210678118654752
    const s = bandit.state('a');
    expect([...s.a]).toEqual([3, 1, 1, 3]);
    [0.375, -0.125, -0.125, 0.375].forEach((v, i) => expect(s.aInverse[i]).toBeCloseTo(v, 15));
    expect([...s.b]).toEqual([2, 1.5]);
    const theta = bandit.theta('a');
    expect(theta[0]).toBeCloseTo(0.5625, 15);
    expect(theta[1]).toBeCloseTo(0.3125, 15);
    const score = bandit.score('a', vec(1, 1));
    expect(score.mean).toBeCloseTo(0.875, 15);
    expect(score.width).toBeCloseTo(Math.SQRT1_2, 15);
    expect(score.ucb).toBeCloseTo(1.582106781186547, 14);
    expect(bandit.pulls('a')).toBe(3);
    // An arm never updated: A = I, b = 0 -> mean 0, width |x| / sqrt(lambda).
    expect(bandit.score('other', vec(1, 1))).toEqual({ ucb: Math.SQRT2, mean: 0, width: Math.SQRT2 });
  });

  it('keeps A^-1 equal to a direct inverse of A over 50 random updates (Sherman-Morrison)', () => {
    const random = rng(7);
    const normal = gaussian(random);
    const dim = 5;
    const bandit = new LinUcb(dim, { alpha: 0.5, lambda: 0.3 });
    for (let t = 0; t < 50; t++) bandit.update('arm', Float64Array.from({ length: dim }, normal), normal());
    const { a, aInverse } = bandit.state('arm');
    const direct = gaussJordanInverse(a, dim);
    let worst = 0;
    for (let k = 0; k < dim * dim; k++) worst = Math.max(worst, Math.abs(aInverse[k]! - direct[k]!));
    expect(worst).toBeLessThan(1e-9);
  });

  it('rejects contexts of the wrong length and bad settings', () => {
    const bandit = new LinUcb(2, { alpha: 1, lambda: 1 });
    expect(() => bandit.score('a', vec(1))).toThrow(/expected 2/);
    expect(() => bandit.update('a', vec(1, 2), Number.NaN)).toThrow(/finite/);
    expect(() => new LinUcb(0, { alpha: 1, lambda: 1 })).toThrow(/dimension/);
    expect(() => new LinUcb(2, { alpha: 1, lambda: 0 })).toThrow(/lambda/);
  });

  it('has sublinear regret on a linear bandit and beats epsilon-greedy', () => {
    const random = rng(2026);
    const normal = gaussian(random);
    const arms = 10;
    const dim = 5;
    const rounds = 2000;
    const thetas = Array.from({ length: arms }, () => Float64Array.from({ length: dim }, normal));
    const expected = (a: number, x: Float64Array): number => thetas[a]!.reduce((s, w, i) => s + w * x[i]!, 0);
    const names = Array.from({ length: arms }, (_, a) => String(a));
    const linucb = new LinUcb(dim, { alpha: 1, lambda: 1 });
    const greedy = new EpsilonGreedy(names, 0.1);
    const regret = { linucb: [0, 0], greedy: [0, 0] };
    for (let t = 0; t < rounds; t++) {
      const x = Float64Array.from({ length: dim }, random);
      const means = names.map((_, a) => expected(a, x));
      const bestMean = Math.max(...means);
      const half = t < rounds / 2 ? 0 : 1;

      let pick = 0;
      let top = -Infinity;
      names.forEach((arm, a) => {
        const { ucb } = linucb.score(arm, x);
        if (ucb > top) [top, pick] = [ucb, a];
      });
      linucb.update(names[pick]!, x, means[pick]! + 0.1 * normal());
      regret.linucb[half]! += bestMean - means[pick]!;

      const g = Number(greedy.choose(random));
      greedy.update(String(g), means[g]! + 0.1 * normal());
      regret.greedy[half]! += bestMean - means[g]!;
    }
    const [first, second] = regret.linucb as [number, number];
    expect(second).toBeLessThan(0.6 * first);
    expect(first + second).toBeLessThan(regret.greedy[0]! + regret.greedy[1]!);
  });
});

describe('context', () => {
  const candidate = (over: Partial<Candidate>): Candidate => ({
    key: 'm@1',
    accuracy: 0.9,
    latencyMs: 100,
    reliability: 0.99,
    history: [],
    efficiency: 0.5,
    measured: true,
    ...over,
  });

  it('min-max scales per column, a constant column to 0.5', () => {
    const scaled = minMaxScale([
      [1, 10, 3],
      [3, 20, 3],
      [2, 30, 3],
    ]);
    expect(scaled.map((r) => [...r])).toEqual([
      [0, 0, 0.5],
      [1, 0.5, 0.5],
      [0.5, 1, 0.5],
    ]);
    expect(minMaxScale([])).toEqual([]);
    expect(() => minMaxScale([[1, 2], [1]])).toThrow(/expected 2/);
  });

  it('builds [accuracy, 1 - latency, reliability, history mean, efficiency, data agreement]', () => {
    expect(CONTEXT_FEATURES).toHaveLength(6);
    expect(contextOf(candidate({}))).toEqual([0.9, -100, 0.99, 0.9, 0.5]);
    expect(contextOf(candidate({ history: [0.7, 0.8] }), 0.6)).toEqual([0.9, -100, 0.99, 0.75, 0.5, 0.6]);
    const rows = contextsOf(
      [candidate({ latencyMs: 100, accuracy: 0.8 }), candidate({ latencyMs: 300, accuracy: 0.9 }), candidate({ latencyMs: 200, accuracy: 0.85 })],
      [0.2, undefined, 0.4],
    );
    // Latency: the fastest reads 1, the slowest 0; the missing agreement takes the mean (0.3) -> 0.5.
    const column = (c: number): number[] => rows.map((r) => r[c]!);
    [1, 0, 0.5].forEach((v, i) => expect(column(1)[i]).toBeCloseTo(v, 12));
    [0, 1, 0.5].forEach((v, i) => expect(column(0)[i]).toBeCloseTo(v, 12));
    [0, 0.5, 1].forEach((v, i) => expect(column(5)[i]).toBeCloseTo(v, 12));
    expect(contextsOf([candidate({})])[0]).toHaveLength(5);
  });
});

/**
 * Synthetic selection problem: each candidate has a hidden value in [0, 1], linear in its context
 * (one feature hurts, one is irrelevant, so a large context is not simply a good one); evaluate
 * sums the values of a plan; the confidence is the value with optional Gaussian noise.
 */
function synthetic(seed: number, members: number, perMember: number, o: { rejectEvery?: number; confidenceNoise?: number } = {}) {
  const random = rng(seed);
  const normal = gaussian(random);
  const w = [0.4, 0.2, -0.3, 0, 0.1];
  const values = new Map<string, number>();
  const memberKeys = Array.from({ length: members }, (_, m) => `member-${m}`);
  const candidates = memberKeys.map((member, m) => {
    const contexts = minMaxScale(Array.from({ length: perMember }, () => w.map(() => random())));
    return contexts.map((context, j): SelectionCandidate => {
      const key = `cand-${m}-${j}@1`;
      const value = 0.3 + w.reduce((s, wi, i) => s + wi * context[i]!, 0);
      values.set(key, value);
      const c: SelectionCandidate = {
        key,
        context,
        confidence: Math.min(1, Math.max(0, value + (o.confidenceNoise ?? 0) * normal())),
      };
      if (o.rejectEvery !== undefined && j % o.rejectEvery === 0) c.rejected = true;
      return c;
    });
  });
  let calls = 0;
  const problem: SelectionProblem = {
    members: memberKeys,
    candidates,
    evaluate(plan) {
      calls++;
      return plan.reduce((s, k) => s + values.get(k)!, 0);
    },
    topK: 3,
  };
  const optimum = candidates.reduce((s, list) => s + Math.max(...list.filter((c) => !c.rejected).map((c) => values.get(c.key)!)), 0);
  return { problem, values, optimum, calls: () => calls };
}

function expectValid(plans: Plan[], problem: SelectionProblem): void {
  for (const plan of plans) {
    expect(plan.replacements.map((r) => r.member)).toEqual(problem.members);
    plan.replacements.forEach((r, i) => {
      const c = problem.candidates[i]!.find((x) => x.key === r.candidate);
      expect(c, `${r.candidate} is a candidate of ${r.member}`).toBeDefined();
      expect(c!.rejected).not.toBe(true);
    });
    expect(Number.isFinite(plan.score)).toBe(true);
  }
  const ids = plans.map((p) => p.replacements.map((r) => r.candidate).join(','));
  expect(new Set(ids).size).toBe(ids.length);
  expect(plans.length).toBeLessThanOrEqual(problem.topK);
}

describe('strategies', () => {
  it('brute force finds the known best plan and ranks the top-k', () => {
    const value: Record<string, number> = { a1: 0.5, a2: 0.9, a3: 0.1, b1: 0.3, b2: 0.2, c1: 0.35, c2: 0.8, c3: 0.6 };
    const ctx = vec(0.5, 0.5);
    const problem: SelectionProblem = {
      members: ['A', 'B', 'C'],
      candidates: [
        ['a1', 'a2', 'a3'].map((key) => ({ key, context: ctx, confidence: 0.5 })),
        ['b1', 'b2'].map((key) => ({ key, context: ctx, confidence: 0.5 })),
        ['c1', 'c2', 'c3'].map((key) => ({ key, context: ctx, confidence: 0.5 })),
      ],
      // Not separable: a2 and c2 clash.
      evaluate: (plan) => plan.reduce((s, k) => s + value[k]!, 0) - (plan.includes('a2') && plan.includes('c2') ? 1 : 0),
      topK: 3,
    };
    const r = bruteForceStrategy().choose(problem, rng(1));
    expect(r.combinations).toBe(18);
    expect(r.evaluations).toBe(18);
    expect(r.plans.map((p) => p.replacements.map((x) => x.candidate))).toEqual([
      ['a2', 'b1', 'c3'],
      ['a2', 'b2', 'c3'],
      ['a1', 'b1', 'c2'],
    ]);
    expect(r.plans[0]!.score).toBeCloseTo(1.8, 12);
  });

  it('brute force refuses above its cap', () => {
    const { problem, calls } = synthetic(3, 3, 200);
    expect(() => bruteForceStrategy().choose(problem, rng(1))).toThrow(MaasError);
    expect(() => bruteForceStrategy({ maxCombinations: 1000 }).choose(problem, rng(1))).toThrow(/8000000 combinations/);
    expect(calls()).toBe(0);
  });

  it('every strategy returns valid plans, skips rejected candidates and counts evaluations', () => {
    for (const name of STRATEGY_NAMES) {
      const { problem, calls } = synthetic(11, 3, 12, { rejectEvery: 3, confidenceNoise: 0.05 });
      const strategy = strategyByName(name);
      expect(strategy.name).toBe(name);
      const r = strategy.choose(problem, rng(5));
      expect(r.combinations, name).toBe(8 * 8 * 8);
      expect(r.plans.length, name).toBe(3);
      expectValid(r.plans, problem);
      expect(r.evaluations, name).toBe(calls());
      if (name === 'qos-only' || name === 'rule-based') expect(r.evaluations).toBe(0);
      else expect(r.evaluations, name).toBeGreaterThan(0);
      for (let i = 1; i < r.plans.length; i++) expect(r.plans[i]!.score, name).toBeLessThanOrEqual(r.plans[i - 1]!.score);
    }
    const fully = synthetic(11, 3, 12, { rejectEvery: 3 }).problem;
    expectValid(linUcbStrategy({ sharing: 'arm' }).choose(fully, rng(1)).plans, fully);
    expect(() => strategyByName('simulated-annealing')).toThrow(/unknown optimisation strategy/);
  });

  it('rule-based and qos-only pick the top candidate by their own score', () => {
    const c = (key: string, confidence: number, qos: number): SelectionCandidate => ({ key, context: vec(0, 0, 0), confidence, qos });
    const problem: SelectionProblem = {
      members: ['A', 'B'],
      candidates: [
        [c('a1', 0.9, 0.1), c('a2', 0.2, 0.8), { ...c('a3', 1, 1), rejected: true }],
        [c('b1', 0.3, 0.7), c('b2', 0.6, 0.4)],
      ],
      evaluate: () => {
        throw new Error('not evaluated');
      },
      topK: 1,
    };
    const first = (name: string) =>
      strategyByName(name)
        .choose(problem, rng(1))
        .plans[0]!.replacements.map((r) => r.candidate);
    expect(first('rule-based')).toEqual(['a1', 'b2']);
    expect(first('qos-only')).toEqual(['a2', 'b1']);
  });

  it('returns no plan when a member has no acceptable candidate', () => {
    const problem: SelectionProblem = {
      members: ['A', 'B'],
      candidates: [[{ key: 'a', context: vec(1), confidence: 1 }], [{ key: 'b', context: vec(1), confidence: 1, rejected: true }]],
      evaluate: () => 1,
      topK: 2,
    };
    for (const name of STRATEGY_NAMES) expect(strategyByName(name).choose(problem, rng(1))).toEqual({ plans: [], evaluations: 0, combinations: 0 });
  });

  it('linucb evaluates at most 5 % of 3 x 200 combinations and lands within 1 % of the brute-force optimum', () => {
    const { problem, optimum, calls } = synthetic(42, 3, 200, { confidenceNoise: 0.02 });
    const r = linUcbStrategy().choose(problem, rng(9));
    expect(r.combinations).toBe(200 ** 3);
    expect(r.evaluations).toBe(calls());
    expect(r.evaluations).toBeLessThanOrEqual(0.05 * r.combinations);
    expectValid(r.plans, problem);

    const brute = bruteForceStrategy({ maxCombinations: 10_000_000 }).choose(problem, rng(9));
    expect(brute.evaluations).toBe(200 ** 3);
    expect(brute.plans[0]!.score).toBeCloseTo(optimum, 12);
    expect(r.plans[0]!.score).toBeGreaterThanOrEqual(0.99 * brute.plans[0]!.score);
  });

  it('enumerates the best combinations by summed score, best first', () => {
    const lists = [
      [
        { index: 0, score: 3 },
        { index: 1, score: 1 },
      ],
      [
        { index: 5, score: 2 },
        { index: 4, score: 1.5 },
        { index: 3, score: 0.5 },
      ],
    ];
    expect(bestCombinations(lists, 4)).toEqual([
      { indexes: [0, 5], score: 5 },
      { indexes: [0, 4], score: 4.5 },
      { indexes: [0, 3], score: 3.5 },
      { indexes: [1, 5], score: 3 },
    ]);
    expect(bestCombinations(lists, 100)).toHaveLength(6);
  });

  describe('linucb learns from measured accuracy', () => {
    const cand = (key: string, context: number[], confidence: number, extra: Partial<SelectionCandidate> = {}): SelectionCandidate => ({
      key,
      context: Float64Array.from(context),
      confidence,
      ...extra,
    });
    // The plan reward is flat, so the plan returned is the bandit's own first choice (budget 1).
    const problem = (candidates: SelectionCandidate[], extra: Partial<SelectionProblem> = {}): SelectionProblem => ({
      members: ['weak@1'],
      candidates: [candidates],
      evaluate: () => 0.5,
      topK: 1,
      ...extra,
    });
    const pick = (p: SelectionProblem, rounds = 20): string => linUcbStrategy({ budget: 1, rounds }).choose(p, () => 0).plans[0]!.replacements[0]!.candidate;

    it('observes the accuracy a candidate was measured to have while serving instead of its confidence', () => {
      const a = cand('a@1', [1, 0], 0.9);
      const b = cand('b@1', [0, 1], 0.7);
      expect(pick(problem([a, b]))).toBe('a@1');
      expect(pick(problem([{ ...a, served: 0.3 }, b]))).toBe('b@1');
    });

    it('starts from the experience of earlier replacements, so what disappointed is not pulled first', () => {
      // One round: without experience the first pull is a (widest bonus, first listed) and its
      // confidence 0.8 beats the others' means. Experience says contexts like a's served at 0.1
      // and like b's at 0.9: the first pull is b.
      const list = [cand('a@1', [1, 0], 0.8), cand('b@1', [0, 1], 0.6), cand('c@1', [0.9, 0.1], 0.85)];
      expect(pick(problem(list), 1)).toBe('a@1');
      const experience = Array.from({ length: 4 }, () => [
        { key: 'old-x@1', context: Float64Array.from([1, 0]), reward: 0.1 },
        { key: 'old-y@1', context: Float64Array.from([0, 1]), reward: 0.9 },
      ]).flat();
      expect(pick(problem(list, { experience }), 1)).toBe('b@1');
      // Experience of another length (another context layout) is ignored.
      expect(pick(problem(list, { experience: [{ key: 'z@1', context: Float64Array.from([0, 1, 0]), reward: 1 }] }), 1)).toBe('a@1');
    });

    it('with disjoint arms, uses only the experience of that very candidate', () => {
      const list = [cand('a@1', [1, 0], 0.8), cand('b@1', [0, 1], 0.6)];
      const strategy = linUcbStrategy({ budget: 1, rounds: 1, sharing: 'arm' });
      const first = (experience: SelectionProblem['experience']): string =>
        strategy.choose(problem(list, { ...(experience ? { experience } : {}) }), () => 0).plans[0]!.replacements[0]!.candidate;
      expect(first(undefined)).toBe('a@1');
      // a@1 served badly (twice) before: its arm's mean is low and b (unseen) wins the pull.
      expect(first([1, 2].map(() => ({ key: 'a@1', context: Float64Array.from([1, 0]), reward: 0 })))).toBe('b@1');
      // Experience of a candidate not in the list changes nothing.
      expect(first([1, 2].map(() => ({ key: 'q@1', context: Float64Array.from([1, 0]), reward: 0 })))).toBe('a@1');
    });
  });

  it('keeps widths current with the Sherman-Morrison step: the same choices as scoring every candidate afresh', () => {
    const r = seededRandom(11);
    for (let trial = 0; trial < 10; trial++) {
      const list: SelectionCandidate[] = Array.from({ length: 60 }, (_, j) => ({
        key: `c${j}@1`,
        context: Float64Array.from({ length: 5 }, () => r.next()),
        confidence: r.next(),
      }));
      // The naive rounds: LinUcb.score on every unpulled candidate each round.
      const bandit = new LinUcb(5, { alpha: 1, lambda: 1 });
      const observed = new Map<number, number>();
      for (let t = 0; t < 20; t++) {
        let pick = -1;
        let top = -Infinity;
        list.forEach((c, j) => {
          if (observed.has(j)) return;
          const { ucb } = bandit.score('m', c.context);
          if (ucb > top) [top, pick] = [ucb, j];
        });
        observed.set(pick, list[pick]!.confidence);
        const before = list.map((c) => bandit.quadratic('m', c.context));
        const { u, denom } = bandit.update('m', list[pick]!.context, list[pick]!.confidence);
        // The returned step predicts every context's new quadratic form.
        list.forEach((c, j) => {
          let y = 0;
          for (let i = 0; i < 5; i++) y += c.context[i]! * u[i]!;
          expect(bandit.quadratic('m', c.context)).toBeCloseTo(before[j]! - (y * y) / denom, 10);
        });
      }
      const naive = list
        .map((c, j) => ({ j, s: observed.get(j) ?? bandit.score('m', c.context).mean }))
        .sort((a, b) => b.s - a.s || a.j - b.j)
        .slice(0, 4)
        .map((x) => list[x.j]!.key);
      const plans = linUcbStrategy({ budget: 4 })
        .choose({ members: ['m@1'], candidates: [list], evaluate: (plan) => 1 - naive.indexOf(plan[0]!) / 10, topK: 4 }, () => 0)
        .plans.map((p) => p.replacements[0]!.candidate);
      expect(plans).toEqual(naive);
    }
  });

  it('never gives one candidate to two members: every strategy returns plans of distinct candidates', () => {
    // Both weak members have the same candidates; x is everyone's favourite.
    const same = (): SelectionCandidate[] =>
      ['x@1', 'y@1', 'z@1'].map((key, j) => ({ key, context: Float64Array.from([1 - j / 3, j / 3]), confidence: 0.9 - j * 0.2, qos: 0.9 - j * 0.2 }));
    const problem: SelectionProblem = {
      members: ['a@1', 'b@1'],
      candidates: [same(), same()],
      evaluate: (plan) => plan.reduce((s, k) => s + (k === 'x@1' ? 1 : k === 'y@1' ? 0.5 : 0.2), 0),
      topK: 3,
    };
    for (const name of STRATEGY_NAMES) {
      const r = strategyByName(name).choose(problem, rng(3));
      expect(r.plans.length, name).toBeGreaterThan(0);
      for (const plan of r.plans) {
        const keys = plan.replacements.map((x) => x.candidate);
        expect(new Set(keys).size, `${name}: ${keys.join(', ')}`).toBe(2);
      }
      if (name !== 'qos-only' && name !== 'rule-based') expect(r.plans[0]!.replacements.map((x) => x.candidate).sort(), name).toEqual(['x@1', 'y@1']);
    }
  });
});

// Stage 4 of adaptive recomposition: choosing a plan (one replacement per underperforming member)
// from the candidates of each member, behind one interface so that the contextual bandit and its
// baselines (DESIGN.md "Composition and adaptive recomposition"; Kanneganti et al., "Adaptive
// Composition of MLaaS for IoT Environments") can be compared on the same problem. Pure:
// randomness comes in as `() => number` in [0, 1), the plan reward as a callback.
import { MaasError } from '../core/errors.js';
import { LinUcb, dot } from './linucb.js';
import type { Plan, StrategyName } from './types.js';

export interface SelectionCandidate {
  /** `NAME@VERSION`. */
  key: string;
  /** Min-max scaled features (see CONTEXT_FEATURES in linucb.ts); one length per member. */
  context: Float64Array;
  /** Rule score (confidence) in [0, 1]. */
  confidence: number;
  /** A hard composition rule rejected it: never part of a plan. */
  rejected?: boolean;
  /**
   * QoS mix used by `qos-only`, higher is better. When absent: the mean of the first three
   * context features (accuracy, 1 - latency, reliability).
   */
  qos?: number;
  /**
   * The accuracy it was measured to have while it served in this composition (an earlier
   * replacement): the bandit observes this instead of the confidence when it pulls it.
   */
  served?: number;
}

/**
 * What the composition learnt from earlier adaptations: a replacement's context when it was
 * chosen and the accuracy it was then measured to have while serving. LinUCB starts from these
 * instead of from its prior, so a kind of candidate that disappointed is ranked down before it is
 * pulled again.
 */
export interface Experience {
  key: string;
  context: Float64Array;
  reward: number;
}

export interface SelectionProblem {
  /** Keys of the underperforming members, in order. */
  members: string[];
  /** Per member (same order), its replacement candidates. */
  candidates: SelectionCandidate[][];
  /**
   * Reward of a whole plan (candidate keys in member order), e.g. the expected accuracy of the
   * composition with them. Expensive: strategies count the calls and never repeat one.
   */
  evaluate(plan: string[]): number;
  /** How many plans to return at most. */
  topK: number;
  /** Rewards measured after earlier adaptations (LinUCB's warm start; other strategies ignore it). */
  experience?: readonly Experience[];
}

export interface StrategyResult {
  /** Best first, at most topK; empty when some member has no acceptable candidate. */
  plans: Plan[];
  /** Calls of `evaluate`. */
  evaluations: number;
  /** Possible plans: the product over members of their non-rejected candidates. */
  combinations: number;
}

export interface Strategy {
  name: StrategyName;
  choose(p: SelectionProblem, random: () => number): StrategyResult;
}

export const STRATEGY_NAMES: readonly StrategyName[] = ['linucb', 'brute-force', 'epsilon-greedy', 'genetic', 'qos-only', 'rule-based'];

// ---------------------------------------------------------------------------------------------
// Shared plumbing

interface Prepared {
  /** A plan may not give one candidate to two members (it would serve twice in one composition). */
  distinct: (indexes: readonly number[]) => boolean;
  members: string[];
  /** Per member: its non-rejected candidates. */
  allowed: SelectionCandidate[][];
  combinations: number;
  topK: number;
}

function prepare(p: SelectionProblem): Prepared {
  if (p.candidates.length !== p.members.length) {
    throw new Error(`selection problem has ${p.members.length} members but ${p.candidates.length} candidate lists`);
  }
  if (!Number.isInteger(p.topK) || p.topK < 1) throw new Error(`topK must be a positive integer, got ${p.topK}`);
  const allowed = p.candidates.map((list, i) => {
    const ok = list.filter((c) => c.rejected !== true);
    const dim = ok[0]?.context.length;
    for (const c of ok) {
      if (c.context.length !== dim) throw new Error(`candidates of ${p.members[i]} have contexts of different lengths (${dim}, ${c.context.length})`);
    }
    return ok;
  });
  const combinations = p.members.length === 0 ? 0 : allowed.reduce((n, list) => n * list.length, 1);
  const distinct = (indexes: readonly number[]): boolean => {
    if (indexes.length < 2) return true;
    const keys = new Set<string>();
    for (let i = 0; i < indexes.length; i++) keys.add(allowed[i]![indexes[i]!]!.key);
    return keys.size === indexes.length;
  };
  return { members: p.members, allowed, combinations, topK: p.topK, distinct };
}

/** evaluate with a count and a memo: a plan is evaluated at most once. */
function counted(p: SelectionProblem): { evaluate: (keys: string[]) => number; calls: () => number; seen: Map<string, { keys: string[]; reward: number }> } {
  const seen = new Map<string, { keys: string[]; reward: number }>();
  let calls = 0;
  return {
    evaluate(keys) {
      const id = keys.join('\u0000');
      const hit = seen.get(id);
      if (hit !== undefined) return hit.reward;
      const reward = p.evaluate(keys.slice());
      calls++;
      if (!Number.isFinite(reward)) throw new Error(`evaluate returned ${reward} for plan ${keys.join(', ')}`);
      seen.set(id, { keys: keys.slice(), reward });
      return reward;
    },
    calls: () => calls,
    seen,
  };
}

function toPlan(members: readonly string[], keys: readonly string[], score: number): Plan {
  return { replacements: members.map((member, i) => ({ member, candidate: keys[i]! })), score };
}

/** The best `k` of scored plans, best first; ties keep the earlier plan. */
function best(scored: Iterable<{ keys: string[]; reward: number }>, members: readonly string[], k: number): Plan[] {
  const top: { keys: string[]; reward: number }[] = [];
  for (const s of scored) insertTop(top, s, k);
  return top.map((s) => toPlan(members, s.keys, s.reward));
}

function insertTop<T extends { reward: number }>(top: T[], item: T, k: number): void {
  if (top.length === k && item.reward <= top[k - 1]!.reward) return;
  let i = top.length;
  while (i > 0 && top[i - 1]!.reward < item.reward) i--;
  top.splice(i, 0, item);
  if (top.length > k) top.pop();
}

const empty = (combinations: number): StrategyResult => ({ plans: [], evaluations: 0, combinations });

/**
 * The `k` combinations with the highest summed score, best first, without enumerating the product:
 * best-first search from the all-first combination, each step moving one member one place down
 * its list. `lists[i]` holds member i's candidate indexes with scores, sorted best first.
 * Combinations `valid` refuses are stepped over (not returned, still expanded).
 */
export function bestCombinations(
  lists: readonly (readonly { index: number; score: number }[])[],
  k: number,
  valid: (indexes: number[]) => boolean = () => true,
): { indexes: number[]; score: number }[] {
  if (lists.length === 0 || lists.some((l) => l.length === 0)) return [];
  const sum = (pos: number[]): number => pos.reduce((s, p, i) => s + lists[i]![p]!.score, 0);
  const start = lists.map(() => 0);
  const frontier: { pos: number[]; score: number }[] = [{ pos: start, score: sum(start) }];
  const queued = new Set<string>([start.join(',')]);
  const out: { indexes: number[]; score: number }[] = [];
  while (out.length < k && frontier.length > 0) {
    let at = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i]!.score > frontier[at]!.score) at = i;
    const { pos, score } = frontier.splice(at, 1)[0]!;
    const indexes = pos.map((p, i) => lists[i]![p]!.index);
    if (valid(indexes)) out.push({ indexes, score });
    for (let i = 0; i < pos.length; i++) {
      if (pos[i]! + 1 >= lists[i]!.length) continue;
      const next = pos.slice();
      next[i]!++;
      const id = next.join(',');
      if (queued.has(id)) continue;
      queued.add(id);
      frontier.push({ pos: next, score: sum(next) });
    }
  }
  return out;
}

/**
 * Candidate indexes sorted by a score, best first (stable on ties); with `limit`, only the first
 * `limit` (the best `limit` combinations by summed score never use a candidate ranked lower).
 */
function ranked(
  list: readonly SelectionCandidate[],
  score: (c: SelectionCandidate, i: number) => number | undefined,
  limit = Infinity,
): { index: number; score: number }[] {
  const better = (a: { index: number; score: number }, b: { index: number; score: number }): boolean =>
    a.score > b.score || (a.score === b.score && a.index < b.index);
  const out: { index: number; score: number }[] = [];
  if (!Number.isFinite(limit)) {
    list.forEach((c, index) => {
      const s = score(c, index);
      if (s !== undefined) out.push({ index, score: s });
    });
    return out.sort((a, b) => b.score - a.score || a.index - b.index);
  }
  list.forEach((c, index) => {
    const s = score(c, index);
    if (s === undefined) return;
    const item = { index, score: s };
    if (out.length >= limit && !better(item, out[out.length - 1]!)) return;
    // Insertion keeps the short list sorted: O(n * limit) at worst, O(n) for a short list.
    let i = out.length;
    while (i > 0 && better(item, out[i - 1]!)) i--;
    out.splice(i, 0, item);
    if (out.length > limit) out.pop();
  });
  return out;
}

/**
 * The plan stage of the bandit strategies: from each member's ranking (by the bandit's estimate),
 * the `budget` best combinations by summed estimate (found best-first, without enumerating the
 * product; with three members and the default budget of 16 these are about the combinations of each
 * member's top-2 or 3), each evaluated once; the best topK by plan reward are returned. A budget of 8
 * missed the best of 1,176 plans by 4 points in the experiment (README); 16 reaches it.
 */
function evaluateShortlist(pr: Prepared, p: SelectionProblem, rankings: { index: number; score: number }[][], budget: number): StrategyResult {
  const ev = counted(p);
  const shortlist = bestCombinations(rankings, Math.min(budget, pr.combinations), pr.distinct);
  const scored = shortlist.map(({ indexes }) => {
    const keys = indexes.map((j, i) => pr.allowed[i]![j]!.key);
    return { keys, reward: ev.evaluate(keys) };
  });
  return { plans: best(scored, pr.members, pr.topK), evaluations: ev.calls(), combinations: pr.combinations };
}

const defaultBudget = (topK: number): number => Math.max(4 * topK, 16);

function argmaxRandomTies(values: readonly number[], random: () => number): number {
  let bestValue = -Infinity;
  let ties: number[] = [];
  values.forEach((v, i) => {
    if (v > bestValue) {
      bestValue = v;
      ties = [i];
    } else if (v === bestValue) ties.push(i);
  });
  if (ties.length === 0) return -1;
  return ties[Math.min(ties.length - 1, Math.floor(random() * ties.length))]!;
}

// ---------------------------------------------------------------------------------------------
// LinUCB

export interface LinUcbStrategyOptions {
  alpha?: number;
  lambda?: number;
  /** Bandit rounds per member (at most its candidate count). Default 20. */
  rounds?: number;
  /** Plans evaluated at most. Default max(2 * topK, 8). */
  budget?: number;
  /**
   * Which candidates share a ridge model. `member` (default): one model per replaced member, its
   * candidates being the arms told apart by their contexts, so what is learnt from one candidate's
   * reward carries to the candidates never pulled (Chu et al. 2011's LinUCB over arm features).
   * `arm`: one model per candidate (fully disjoint; an unpulled candidate has mean 0 and is
   * ranked only by its context norm).
   */
  sharing?: 'member' | 'arm';
}

/**
 * Contextual bandit per underperforming member, then a short evaluated list of plans. Each
 * member's model first learns from `experience` (earlier replacements' contexts and measured
 * accuracies; with `sharing: 'arm'` only the experience of that very candidate). Then, `rounds`
 * times: score every candidate not yet pulled by UCB, pull the highest, observe its reward (the
 * accuracy it was measured to have while serving here, else its confidence, the composition
 * rules' score; deterministic, so a pulled arm is not pulled again) and update. A candidate's estimate is then its observed confidence, or the model's mean
 * when never pulled. The `budget` best combinations by summed estimate are evaluated with the
 * plan reward and ranked by it. Never enumerates the product: the cost is rounds * candidates *
 * dim^2 per member plus `budget` evaluations, i.e. at most 5 % of the combinations as soon as
 * there are 20 * budget of them.
 */
export function linUcbStrategy(o: LinUcbStrategyOptions = {}): Strategy {
  const alpha = o.alpha ?? 1;
  const lambda = o.lambda ?? 1;
  const rounds = o.rounds ?? 20;
  const sharing = o.sharing ?? 'member';
  return {
    name: 'linucb',
    choose(p) {
      const pr = prepare(p);
      if (pr.combinations === 0) return empty(pr.combinations);
      const budget = o.budget ?? defaultBudget(pr.topK);
      const rankings = pr.allowed.map((list, m) => {
        const member = pr.members[m]!;
        const bandit = new LinUcb(list[0]!.context.length, { alpha, lambda });
        const dim = list[0]!.context.length;
        for (const e of p.experience ?? []) {
          if (e.context.length !== dim || !Number.isFinite(e.reward)) continue;
          if (sharing === 'member') bandit.update(member, e.context, e.reward);
          else if (list.some((c) => c.key === e.key)) bandit.update(e.key, e.context, e.reward);
        }
        // Enough of each ranking for `budget` plans even when some share a candidate across members.
        const depth = budget + pr.members.length - 1;
        return sharing === 'member' ? sharedRounds(bandit, member, list, rounds, depth) : disjointRounds(bandit, list, rounds, depth);
      });
      return evaluateShortlist(pr, p, rankings, budget);
    },
  };
}

const rewardOf = (c: SelectionCandidate): number => c.served ?? c.confidence;

/**
 * One ridge model for all of a member's candidates. Every round needs the UCB of every unpulled
 * candidate; rather than recomputing x' A^-1 x (O(dim^2) each), the widths are kept current with
 * the Sherman-Morrison step of each update (O(dim) each), and the mean is theta . x with theta
 * computed once per round. Same scores as calling LinUcb.score per candidate, a few times cheaper.
 */
function sharedRounds(bandit: LinUcb, model: string, list: readonly SelectionCandidate[], rounds: number, budget: number): { index: number; score: number }[] {
  const n = list.length;
  const quad = new Float64Array(n);
  for (let j = 0; j < n; j++) quad[j] = bandit.quadratic(model, list[j]!.context);
  const observed = new Map<number, number>();
  for (let t = 0; t < Math.min(rounds, n); t++) {
    const theta = bandit.theta(model);
    let pick = -1;
    let top = -Infinity;
    for (let j = 0; j < n; j++) {
      if (observed.has(j)) continue;
      const ucb = dot(theta, list[j]!.context) + bandit.alpha * Math.sqrt(Math.max(0, quad[j]!));
      if (ucb > top) {
        top = ucb;
        pick = j;
      }
    }
    if (pick < 0) break;
    const c = list[pick]!;
    observed.set(pick, rewardOf(c));
    const { u, denom } = bandit.update(model, c.context, rewardOf(c));
    for (let j = 0; j < n; j++) {
      const y = dot(list[j]!.context, u);
      quad[j]! -= (y * y) / denom;
    }
  }
  const theta = bandit.theta(model);
  return ranked(list, (c, j) => observed.get(j) ?? dot(theta, c.context), budget);
}

/** One ridge model per candidate (`sharing: 'arm'`). */
function disjointRounds(bandit: LinUcb, list: readonly SelectionCandidate[], rounds: number, budget: number): { index: number; score: number }[] {
  const observed = new Map<number, number>();
  for (let t = 0; t < Math.min(rounds, list.length); t++) {
    let pick = -1;
    let top = -Infinity;
    list.forEach((c, j) => {
      if (observed.has(j)) return;
      const { ucb } = bandit.score(c.key, c.context);
      if (ucb > top) {
        top = ucb;
        pick = j;
      }
    });
    if (pick < 0) break;
    const c = list[pick]!;
    observed.set(pick, rewardOf(c));
    bandit.update(c.key, c.context, rewardOf(c));
  }
  return ranked(list, (c, j) => observed.get(j) ?? bandit.score(c.key, c.context).mean, budget);
}

// ---------------------------------------------------------------------------------------------
// Epsilon-greedy

/** Context-free epsilon-greedy over named arms: sample-average estimates starting at 0, random ties. */
export class EpsilonGreedy {
  private readonly sums = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  constructor(
    readonly arms: readonly string[],
    readonly epsilon: number,
  ) {
    if (arms.length === 0) throw new Error('epsilon-greedy needs at least one arm');
    if (!(epsilon >= 0 && epsilon <= 1)) throw new Error(`epsilon must be in [0, 1], got ${epsilon}`);
  }

  /** With probability epsilon a uniformly random arm, otherwise one with the highest estimate. */
  choose(random: () => number): string {
    if (random() < this.epsilon) return this.arms[Math.min(this.arms.length - 1, Math.floor(random() * this.arms.length))]!;
    return this.arms[
      argmaxRandomTies(
        this.arms.map((a) => this.mean(a)),
        random,
      )
    ]!;
  }

  update(arm: string, reward: number): void {
    this.sums.set(arm, (this.sums.get(arm) ?? 0) + reward);
    this.counts.set(arm, (this.counts.get(arm) ?? 0) + 1);
  }

  /** Sample mean of the rewards of `arm`; 0 before its first pull. */
  mean(arm: string): number {
    const n = this.counts.get(arm) ?? 0;
    return n === 0 ? 0 : this.sums.get(arm)! / n;
  }

  pulls(arm: string): number {
    return this.counts.get(arm) ?? 0;
  }
}

export interface EpsilonGreedyStrategyOptions {
  epsilon?: number;
  /** Rounds per member (at most its candidate count), as for LinUCB. Default 20. */
  rounds?: number;
  budget?: number;
}

/**
 * Baseline: per member, epsilon-greedy over its candidates for the same rounds as LinUCB with
 * reward = confidence; candidates ranked by their estimate (mean reward, 0 when never pulled, as
 * epsilon-greedy itself counts them), then the same evaluated shortlist of plans as LinUCB.
 */
export function epsilonGreedyStrategy(o: EpsilonGreedyStrategyOptions = {}): Strategy {
  const epsilon = o.epsilon ?? 0.1;
  const rounds = o.rounds ?? 20;
  return {
    name: 'epsilon-greedy',
    choose(p, random) {
      const pr = prepare(p);
      if (pr.combinations === 0) return empty(pr.combinations);
      const budget = o.budget ?? defaultBudget(pr.topK);
      const rankings = pr.allowed.map((list) => {
        const arms = list.map((_, j) => String(j));
        const bandit = new EpsilonGreedy(arms, epsilon);
        for (let t = 0; t < Math.min(rounds, list.length); t++) {
          const arm = bandit.choose(random);
          bandit.update(arm, list[Number(arm)]!.confidence);
        }
        return ranked(list, (_, j) => bandit.mean(String(j)), budget + pr.members.length - 1);
      });
      return evaluateShortlist(pr, p, rankings, budget);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Brute force

export const BRUTE_FORCE_CAP = 2_000_000;

/** Baseline: evaluates every combination; refuses above `maxCombinations` (default 2,000,000). */
export function bruteForceStrategy(o: { maxCombinations?: number } = {}): Strategy {
  const cap = o.maxCombinations ?? BRUTE_FORCE_CAP;
  return {
    name: 'brute-force',
    choose(p) {
      const pr = prepare(p);
      if (pr.combinations === 0) return empty(0);
      if (pr.combinations > cap) {
        throw new MaasError('USAGE', `brute force would evaluate ${pr.combinations} combinations, more than its cap of ${cap}`, {
          hint: 'use the linucb strategy, which evaluates a handful of plans, or replace fewer members at once',
          details: { combinations: pr.combinations, cap },
        });
      }
      let evaluations = 0;
      const top: { keys: string[]; reward: number }[] = [];
      const pos = pr.allowed.map(() => 0);
      for (;;) {
        if (pr.distinct(pos)) {
          const keys = pos.map((j, i) => pr.allowed[i]![j]!.key);
          const reward = p.evaluate(keys.slice());
          evaluations++;
          if (!Number.isFinite(reward)) throw new Error(`evaluate returned ${reward} for plan ${keys.join(', ')}`);
          insertTop(top, { keys, reward }, pr.topK);
        }
        // Odometer: advance the last member, carrying to the ones before.
        let i = pos.length - 1;
        for (; i >= 0; i--) {
          pos[i] = pos[i]! + 1;
          if (pos[i]! < pr.allowed[i]!.length) break;
          pos[i] = 0;
        }
        if (i < 0) break;
      }
      return { plans: top.map((s) => toPlan(pr.members, s.keys, s.reward)), evaluations, combinations: pr.combinations };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Genetic algorithm

export interface GeneticOptions {
  population?: number;
  generations?: number;
  /** Tournament size for parent selection. Default 3. */
  tournament?: number;
  /** Per-gene probability of replacing the candidate by a random one. Default 0.1. */
  mutation?: number;
  /** Best individuals copied unchanged into the next generation. Default 1. */
  elite?: number;
}

/**
 * Baseline: a plan is a chromosome with one gene (candidate) per member; fitness = evaluate (each
 * distinct plan evaluated once); tournament selection, uniform crossover, per-gene mutation,
 * elitism. The best distinct plans ever evaluated are returned.
 */
export function geneticStrategy(o: GeneticOptions = {}): Strategy {
  const size = o.population ?? 30;
  const generations = o.generations ?? 40;
  const tournament = o.tournament ?? 3;
  const mutation = o.mutation ?? 0.1;
  const elite = o.elite ?? 1;
  return {
    name: 'genetic',
    choose(p, random) {
      const pr = prepare(p);
      if (pr.combinations === 0) return empty(0);
      const ev = counted(p);
      const pick = (n: number): number => Math.min(n - 1, Math.floor(random() * n));
      // A plan giving one candidate to two members is never evaluated and never selected.
      const fitness = (genes: number[]): number => (pr.distinct(genes) ? ev.evaluate(genes.map((j, i) => pr.allowed[i]![j]!.key)) : -Infinity);
      const individual = (genes: number[]): { genes: number[]; fitness: number } => ({ genes, fitness: fitness(genes) });
      let population = Array.from({ length: size }, () => individual(pr.allowed.map((list) => pick(list.length))));
      const select = (): number[] => {
        let winner = population[pick(population.length)]!;
        for (let t = 1; t < tournament; t++) {
          const rival = population[pick(population.length)]!;
          if (rival.fitness > winner.fitness) winner = rival;
        }
        return winner.genes;
      };
      for (let g = 0; g < generations; g++) {
        const next = population
          .slice()
          .sort((a, b) => b.fitness - a.fitness)
          .slice(0, Math.min(elite, size));
        while (next.length < size) {
          const a = select();
          const b = select();
          const child = a.map((gene, i) => {
            const crossed = random() < 0.5 ? gene : b[i]!;
            return random() < mutation ? pick(pr.allowed[i]!.length) : crossed;
          });
          next.push(individual(child));
        }
        population = next;
      }
      return { plans: best(ev.seen.values(), pr.members, pr.topK), evaluations: ev.calls(), combinations: pr.combinations };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// QoS-only and rule-based: no learning, no evaluation

function qosOf(c: SelectionCandidate): number {
  if (c.qos !== undefined) return c.qos;
  const n = Math.min(3, c.context.length);
  let s = 0;
  for (let i = 0; i < n; i++) s += c.context[i]!;
  return n === 0 ? 0 : s / n;
}

/** Per member, its candidates ranked by `score`; the topK combinations by summed score, scored by the mean. */
function byScore(name: StrategyName, score: (c: SelectionCandidate) => number): Strategy {
  return {
    name,
    choose(p) {
      const pr = prepare(p);
      if (pr.combinations === 0) return empty(0);
      const rankings = pr.allowed.map((list) => ranked(list, score, pr.topK + pr.members.length - 1));
      const plans = bestCombinations(rankings, pr.topK, pr.distinct).map(({ indexes, score: total }) =>
        toPlan(
          pr.members,
          indexes.map((j, i) => pr.allowed[i]![j]!.key),
          total / pr.members.length,
        ),
      );
      return { plans, evaluations: 0, combinations: pr.combinations };
    },
  };
}

/** Baseline: per member the candidate with the best accuracy / latency / reliability mix (`qos`), ignoring rules. */
export const qosOnlyStrategy = (): Strategy => byScore('qos-only', qosOf);

/** Baseline: per member the candidate with the highest confidence (rule score), no learning. */
export const ruleBasedStrategy = (): Strategy => byScore('rule-based', (c) => c.confidence);

/** The strategy called `name`, with its default settings. */
/** The strategy of a name; `bandit` carries the policy's LinUCB exploration alpha and ridge lambda. */
export function strategyByName(name: string, bandit: { alpha?: number; lambda?: number } = {}): Strategy {
  switch (name) {
    case 'linucb':
      return linUcbStrategy({
        ...(bandit.alpha !== undefined ? { alpha: bandit.alpha } : {}),
        ...(bandit.lambda !== undefined ? { lambda: bandit.lambda } : {}),
      });
    case 'brute-force':
      return bruteForceStrategy();
    case 'epsilon-greedy':
      return epsilonGreedyStrategy();
    case 'genetic':
      return geneticStrategy();
    case 'qos-only':
      return qosOnlyStrategy();
    case 'rule-based':
      return ruleBasedStrategy();
    default:
      throw new MaasError('USAGE', `unknown optimisation strategy "${name}"`, { hint: `choose one of: ${STRATEGY_NAMES.join(', ')}` });
  }
}

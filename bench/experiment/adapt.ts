// Table 1 of the experiment: one adaptation per task and hidden size through the real stages of
// src/adapt: assess (SCS on the recorded rows of a labelled window) -> underperformers ->
// findCandidates over the marketplace -> ruleScores -> strategy.choose, whose evaluate(plan) is
// the composition's accuracy with the plan on a validation window (aggregate(), mean-proba) ->
// the adapted composition's accuracy on a separate test window.
import { assess } from '../../src/adapt/assess.js';
import { findCandidates, type RegistryModel } from '../../src/adapt/candidates.js';
import { contextsOf } from '../../src/adapt/linucb.js';
import { windowedEffectiveness } from '../../src/adapt/qos.js';
import { ruleScores } from '../../src/adapt/rules.js';
import { strategyByName, type SelectionCandidate } from '../../src/adapt/strategies.js';
import {
  DEFAULT_CONTRIBUTION,
  DEFAULT_QOS_WEIGHTS,
  DEFAULT_RULE_WEIGHTS,
  DEFAULT_THRESHOLDS,
  type Candidate,
  type MemberProfile,
  type RecordedRow,
  type StrategyName,
} from '../../src/adapt/types.js';
import { aggregate, type MemberAnswer } from '../../src/compose/aggregate.js';
import type { CompositionDescription } from '../../src/domain/composition.js';
import { rngFor, shuffled } from '../../examples/lib/random.js';
import { registryModel, trainService, type Marketplace, type Service } from './marketplace.js';

export const MEMBERS = 5;
/** Members (by declared-accuracy rank) whose clients' data change concept at the drift. */
export const CONCEPT_CHANGED_MEMBER_RANKS = [0, 2];
/** Further clean clients outside the composition whose data change concept (traps for declared accuracy). */
export const CONCEPT_CHANGED_OTHERS = 2;
/** Share of non-member services the marketplace has seen serving (measured accuracy on the window). */
export const OBSERVED_SHARE = 0.5;
export const LATENCY_BUDGET_MS = 80;
export const WINDOW_ROWS = 50;
/** Candidate selection tolerance: latency up to 3x the member's (the default 1.5x leaves some members without any candidate). */
export const CANDIDATE_TOLERANCE = { latencyFactor: 3, reliabilityMargin: 0.01 };
export const TABLE_STRATEGIES: readonly StrategyName[] = ['qos-only', 'rule-based', 'linucb', 'brute-force'];

export interface Windows {
  assess: [number, number];
  validation: [number, number];
  test: [number, number];
}

export function windowsOf(streamRows: number): Windows {
  const quarter = Math.floor(streamRows / 4);
  return { assess: [0, quarter], validation: [quarter, 2 * quarter], test: [2 * quarter, streamRows] };
}

/** The composition's accuracy (mean-proba over `keys`) on stream rows [from, to), through compose/aggregate. */
export function compositionAccuracy(
  services: ReadonlyMap<string, Service>,
  keys: readonly string[],
  labels: readonly string[],
  y: readonly number[],
  [from, to]: [number, number],
  heldOut = false,
): number {
  const w = labels.length;
  const answers: MemberAnswer[] = keys.map((k) => {
    const s = services.get(k)!;
    return { key: k, weight: 1, probabilities: (heldOut ? s.heldOutProbabilities : s.probabilities).subarray(from * w, to * w) };
  });
  const out = aggregate('mean-proba', labels, answers, to - from).labels!;
  let right = 0;
  for (let r = from; r < to; r++) if (out[r - from] === labels[y[r]!]) right++;
  return right / (to - from);
}

function serviceAccuracy(s: Service, y: readonly number[], [from, to]: [number, number]): number {
  let right = 0;
  for (let r = from; r < to; r++) if (s.labels[r] === y[r]) right++;
  return right / (to - from);
}

function meanVector(vs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]! / vs.length;
  return out;
}

export interface StrategyOutcome {
  strategy: StrategyName;
  /** Accuracy of the adapted composition on the test window. */
  accuracy: number;
  /** Its accuracy on the validation window (what evaluate saw). */
  validation: number;
  evaluations: number;
  combinations: number;
  replacements: { member: string; candidate: string }[];
  ms: number;
}

export interface CellResult {
  task: string;
  hidden: number;
  members: string[];
  /** Composition accuracy on the clean held-out set, before the drift. */
  beforeDrift: number;
  /** On the test window after the drift, not adapted. */
  driftedTest: number;
  /** Members' test-window accuracy after the drift. */
  memberAccuracy: Record<string, number>;
  scs: Record<string, number>;
  underperforming: string[];
  /** Per underperforming member: its acceptable (not rejected) candidates. */
  candidates: Record<string, number>;
  /** Underperforming members left in place for want of a candidate. */
  kept: string[];
  outcomes: StrategyOutcome[];
}

/** One cell of Table 1: build the composition, drift, assess, select, optimise with each strategy. */
export function adaptCell(m: Marketplace, hidden: number, seed: number): CellResult {
  const { task } = m;
  const y = task.stream.y;
  const windows = windowsOf(y.length);
  const rng = rngFor(seed + hidden, 50);
  const pool = m.services.filter((s) => s.hidden === hidden);
  // The initial composition: the best clean (not drift-aware) services by declared accuracy.
  const members0 = pool
    .filter((s) => !s.driftAware)
    .sort((a, b) => b.declaredAccuracy - a.declaredAccuracy || a.client - b.client)
    .slice(0, MEMBERS);

  // The drift: the stream is covariate-shifted already; the concept change retrains some clients' services (version 2).
  const memberClients = new Set(members0.map((s) => s.client));
  const others = shuffled(
    pool.filter((s) => !s.driftAware && !memberClients.has(s.client)).map((s) => s.client),
    rng,
  ).slice(0, CONCEPT_CHANGED_OTHERS);
  const changed = new Set([...CONCEPT_CHANGED_MEMBER_RANKS.map((r) => members0[r]!.client), ...others]);
  const services = pool.map((s) => (changed.has(s.client) ? trainService(task, m.clients[s.client]!, hidden, true, seed) : s));
  const byKey = new Map(services.map((s) => [s.key, s]));
  const members = members0.map((s) => services.find((x) => x.client === s.client)!);
  const memberKeys = members.map((s) => s.key);

  // 1. Assessment: SCS on the recorded rows of the labelled assessment window.
  const [a0, a1] = windows.assess;
  const w = task.labels.length;
  const rows: RecordedRow[] = [];
  for (let r = a0; r < a1; r++) {
    rows.push({
      truth: y[r]!,
      answers: members.map((s) => s.labels[r]!),
      probabilities: members.map((s) => Array.from(s.probabilities.subarray(r * w, (r + 1) * w))),
    });
  }
  const truthWindow = y.slice(a0, a1);
  const historyOf = (s: Service): number[] =>
    windowedEffectiveness(
      truthWindow.map((t) => ({ truth: t })),
      Array.from(s.labels.subarray(a0, a1)),
      'classification',
      WINDOW_ROWS,
    );
  const profiles: MemberProfile[] = members.map((s) => ({
    key: s.key,
    weight: 1,
    reliability: s.reliability,
    latencyMs: s.latencyMs,
    history: historyOf(s),
    parameters: s.parameters,
    labelDistribution: s.labelDistribution,
  }));
  const assessment = assess({
    task: 'classification',
    labels: task.labels,
    aggregation: 'mean-proba',
    members: profiles,
    rows,
    latencyBudgetMs: LATENCY_BUDGET_MS,
    weights: DEFAULT_QOS_WEIGHTS,
    contribution: DEFAULT_CONTRIBUTION,
    method: 'scs',
    random: () => rng.next(),
  });
  const weak = assessment.members.filter((x) => x.underperforming).map((x) => x.key);

  // 2. Candidates from the marketplace: half the non-members observed (measured on the window), the rest declared only.
  const observed = new Set(
    shuffled(
      services.filter((s) => !memberKeys.includes(s.key)).map((s) => s.key),
      rng,
    ).slice(0, Math.round(OBSERVED_SHARE * (services.length - MEMBERS))),
  );
  const registry: RegistryModel[] = m.services
    .filter((s) => s.hidden !== hidden)
    .concat(services)
    .map((s) =>
      registryModel(
        s,
        task.labels,
        observed.has(s.key)
          ? { accuracy: serviceAccuracy(s, y, windows.assess), latencyMs: s.latencyMs, reliability: s.reliability, history: historyOf(s) }
          : undefined,
      ),
    );
  const composition: CompositionDescription = {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name: `${task.name}-h${hidden}`, version: '1', labels: { modality: task.modality, arch: `mlp-${hidden}` } },
    spec: {
      task: 'classification',
      features: [...task.features],
      outputs: { labels: [...task.labels] },
      mode: 'ensemble',
      aggregation: 'mean-proba',
      members: memberKeys.map((k) => ({ model: k })),
    },
  };
  const truthCounts = task.labels.map((_, k) => truthWindow.filter((t) => t === k).length / truthWindow.length);
  const memberParameters = members.map((s) => s.parameters);
  const compositionParameters = meanVector(memberParameters);
  const compositionHistory = windowedEffectiveness(
    truthWindow.map((t) => ({ truth: t })),
    (() => {
      const answers: MemberAnswer[] = members.map((s) => ({ key: s.key, weight: 1, probabilities: s.probabilities.subarray(a0 * w, a1 * w) }));
      const labels = aggregate('mean-proba', task.labels, answers, a1 - a0).labels!;
      return labels.map((l) => task.labels.indexOf(l));
    })(),
    'classification',
    WINDOW_ROWS,
  );
  const allPools = weak.map((key) => {
    const s = byKey.get(key)!;
    const { candidates } = findCandidates({
      composition,
      labels: task.labels,
      member: { key, accuracy: serviceAccuracy(s, y, windows.assess), latencyMs: s.latencyMs, reliability: s.reliability },
      currentMembers: memberKeys,
      registry,
      matchLabels: ['modality', 'arch'],
      tolerance: CANDIDATE_TOLERANCE,
    });
    const otherLatency = members.filter((x) => x.key !== key).map((x) => x.latencyMs);
    // 3. Composition rules.
    const scores = candidates.map((c) =>
      ruleScores(
        c,
        {
          compositionLabelDistribution: truthCounts,
          compositionParameters,
          memberParameters,
          compositionLatencyMs: (cand: Candidate) => Math.max(cand.latencyMs, ...otherLatency),
          latencyBudgetMs: LATENCY_BUDGET_MS,
          compositionHistory,
        },
        DEFAULT_RULE_WEIGHTS,
        DEFAULT_THRESHOLDS,
      ),
    );
    const contexts = contextsOf(
      candidates,
      scores.map((x) => x.dataUtility),
    );
    const selection: SelectionCandidate[] = candidates.map((c, i) => ({
      key: c.key,
      context: contexts[i]!,
      confidence: scores[i]!.confidence,
      ...(scores[i]!.rejected ? { rejected: true } : {}),
      qos: (c.accuracy + c.reliability + (1 - Math.min(1, c.latencyMs / LATENCY_BUDGET_MS))) / 3,
    }));
    return { member: key, selection };
  });
  // A weak member without any acceptable candidate stays (nothing can replace it); the others are optimised.
  const kept = allPools.filter((p) => !p.selection.some((c) => !c.rejected)).map((p) => p.member);
  const pools = allPools.filter((p) => !kept.includes(p.member));

  // 4. Optimisation with each strategy; evaluate = accuracy on the validation window.
  const planKeys = (replacements: { member: string; candidate: string }[]): string[] =>
    memberKeys.map((k) => replacements.find((r) => r.member === k)?.candidate ?? k);
  const outcomes: StrategyOutcome[] = TABLE_STRATEGIES.map((name) => {
    const strategy = strategyByName(name);
    const random = rngFor(seed + hidden, 60);
    const t0 = performance.now();
    const result =
      pools.length === 0
        ? { plans: [], evaluations: 0, combinations: 0 }
        : strategy.choose(
            {
              members: pools.map((p) => p.member),
              candidates: pools.map((p) => p.selection),
              evaluate: (plan) =>
                compositionAccuracy(byKey, planKeys(plan.map((candidate, i) => ({ member: pools[i]!.member, candidate }))), task.labels, y, windows.validation),
              topK: 3,
            },
            () => random.next(),
          );
    const ms = performance.now() - t0;
    const replacements = result.plans[0]?.replacements ?? [];
    const keys = planKeys(replacements);
    return {
      strategy: name,
      accuracy: compositionAccuracy(byKey, keys, task.labels, y, windows.test),
      validation: compositionAccuracy(byKey, keys, task.labels, y, windows.validation),
      evaluations: result.evaluations,
      combinations: result.combinations,
      replacements,
      ms,
    };
  });

  return {
    task: task.name,
    hidden,
    members: memberKeys,
    beforeDrift: compositionAccuracy(
      new Map(members0.map((s) => [s.key, s])),
      members0.map((s) => s.key),
      task.labels,
      task.heldOut.y,
      [0, task.heldOut.y.length],
      true,
    ),
    driftedTest: compositionAccuracy(byKey, memberKeys, task.labels, y, windows.test),
    memberAccuracy: Object.fromEntries(members.map((s) => [s.key, serviceAccuracy(s, y, windows.test)])),
    scs: Object.fromEntries(assessment.members.map((x) => [x.key, x.score])),
    underperforming: weak,
    candidates: Object.fromEntries(allPools.map((p) => [p.member, p.selection.filter((c) => !c.rejected).length])),
    kept,
    outcomes,
  };
}

// Figure 2 of the experiment: decision time against the number of candidate services. The
// problem is the digits composition (hidden 32) with two underperforming members; its candidate
// lists are grown to N services in total by synthetic candidates, each a clone of a real
// marketplace service (its predictions) with perturbed QoS (accuracy +- noise, latency, reliability),
// scored by the real composition rules. evaluate(plan) is the same as in Table 1: the
// composition's accuracy with the plan on the validation window through compose/aggregate.
import { contextsOf } from '../../src/adapt/linucb.js';
import { ruleScores } from '../../src/adapt/rules.js';
import { BRUTE_FORCE_CAP, strategyByName, type SelectionCandidate, type SelectionProblem } from '../../src/adapt/strategies.js';
import { DEFAULT_RULE_WEIGHTS, DEFAULT_THRESHOLDS, type Candidate, type StrategyName } from '../../src/adapt/types.js';
import { normal, rngFor, uniform } from '../../examples/lib/random.js';
import { compositionAccuracy, LATENCY_BUDGET_MS, MEMBERS, windowsOf } from './adapt.js';
import type { Marketplace, Service } from './marketplace.js';

export const CANDIDATE_COUNTS = [100, 500, 1000, 2000, 5000];
export const SCALE_STRATEGIES: readonly StrategyName[] = ['linucb', 'epsilon-greedy', 'genetic', 'brute-force'];
/**
 * Brute force runs only up to this many combinations (about 10 s here); above, its time is
 * estimated as combinations x the cost per evaluation of the largest run it did.
 */
export const BRUTE_FORCE_MAX_COMBINATIONS = 250_000;
export const REPEATS = 11;

export interface ScalePoint {
  candidates: number;
  strategy: StrategyName;
  /** Median decision time in ms; for brute force beyond its budget, an estimate. */
  ms: number;
  estimated: boolean;
  evaluations: number;
  combinations: number;
  /** evaluations / combinations. */
  fraction: number;
  /** Validation accuracy of the chosen plan. */
  reward: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function scaleFigure(m: Marketplace, seed: number, log: (line: string) => void): ScalePoint[] {
  const { task } = m;
  const y = task.stream.y;
  const windows = windowsOf(y.length);
  const pool = m.services.filter((s) => s.hidden === 32);
  const members = pool
    .filter((s) => !s.driftAware)
    .sort((a, b) => b.declaredAccuracy - a.declaredAccuracy || a.client - b.client)
    .slice(0, MEMBERS);
  const weak = [members[0]!, members[2]!];
  const sources = pool.filter((s) => !members.includes(s));
  const labelDistribution = task.labels.map((_, k) => y.filter((t) => t === k).length / y.length);
  const memberParameters = members.map((s) => s.parameters);
  const mean = new Float64Array(memberParameters[0]!.length);
  for (const v of memberParameters) for (let i = 0; i < v.length; i++) mean[i]! += v[i]! / memberParameters.length;
  const accuracyOf = (s: Service): number => {
    let right = 0;
    for (let r = windows.assess[0]; r < windows.assess[1]; r++) if (s.labels[r] === y[r]) right++;
    return right / (windows.assess[1] - windows.assess[0]);
  };

  const points: ScalePoint[] = [];
  /** ms per evaluation of the largest brute-force run so far (for the estimates above its limit). */
  let perEvaluation = NaN;
  for (const n of CANDIDATE_COUNTS) {
    const rng = rngFor(seed + n, 70);
    const services = new Map<string, Service>(members.map((s) => [s.key, s]));
    const lists: SelectionCandidate[][] = weak.map((member, w) => {
      const candidates: Candidate[] = [];
      for (let i = 0; i < n / weak.length; i++) {
        const source = sources[Math.floor(rng.next() * sources.length)]!;
        const key = `synthetic-${w}-${i}@1`;
        services.set(key, { ...source, key });
        candidates.push({
          key,
          accuracy: Math.min(1, Math.max(0, accuracyOf(source) + normal(rng, 0, 0.03))),
          latencyMs: Math.round(uniform(rng, 5, 100)),
          reliability: uniform(rng, 0.9, 1),
          history: [],
          labelDistribution: source.labelDistribution,
          parameters: source.parameters,
          efficiency: uniform(rng, 0, 1),
          measured: true,
        });
      }
      const others = members.filter((s) => s !== member).map((s) => s.latencyMs);
      const scores = candidates.map((c) =>
        ruleScores(
          c,
          {
            compositionLabelDistribution: labelDistribution,
            compositionParameters: mean,
            memberParameters,
            compositionLatencyMs: (cand: Candidate) => Math.max(cand.latencyMs, ...others),
            latencyBudgetMs: LATENCY_BUDGET_MS,
            compositionHistory: [],
          },
          DEFAULT_RULE_WEIGHTS,
          DEFAULT_THRESHOLDS,
        ),
      );
      const contexts = contextsOf(
        candidates,
        scores.map((s) => s.dataUtility),
      );
      // Rejections are ignored here so that every N means N arms.
      return candidates.map((c, i) => ({ key: c.key, context: contexts[i]!, confidence: scores[i]!.confidence }));
    });
    const memberKeys = members.map((s) => s.key);
    const problem: SelectionProblem = {
      members: weak.map((s) => s.key),
      candidates: lists,
      evaluate: (plan) => {
        const keys = memberKeys.map((k) => {
          const at = weak.findIndex((s) => s.key === k);
          return at < 0 ? k : plan[at]!;
        });
        return compositionAccuracy(services, keys, task.labels, y, windows.validation);
      },
      topK: 3,
    };
    const combinations = lists.reduce((a, l) => a * l.length, 1);
    for (const name of SCALE_STRATEGIES) {
      const strategy = strategyByName(name);
      if (name === 'brute-force' && (combinations > BRUTE_FORCE_CAP || combinations > BRUTE_FORCE_MAX_COMBINATIONS)) {
        points.push({
          candidates: n,
          strategy: name,
          ms: combinations * perEvaluation,
          estimated: true,
          evaluations: combinations,
          combinations,
          fraction: 1,
          reward: NaN,
        });
        log(`  N=${n} ${name}: skipped, ${combinations} combinations (estimated ${((combinations * perEvaluation) / 1000).toFixed(0)} s)`);
        continue;
      }
      const times: number[] = [];
      let last = { evaluations: 0, reward: NaN };
      for (let rep = 0; rep < (name === 'brute-force' ? 1 : REPEATS); rep++) {
        const random = rngFor(seed + rep, 80);
        const t0 = performance.now();
        const result = strategy.choose(problem, () => random.next());
        times.push(performance.now() - t0);
        last = { evaluations: result.evaluations, reward: result.plans[0]?.score ?? NaN };
      }
      const ms = median(times);
      if (name === 'brute-force') perEvaluation = ms / Math.max(1, last.evaluations);
      points.push({
        candidates: n,
        strategy: name,
        ms,
        estimated: false,
        evaluations: last.evaluations,
        combinations,
        fraction: last.evaluations / combinations,
        reward: last.reward,
      });
      log(`  N=${n} ${name}: ${ms.toFixed(1)} ms, ${last.evaluations} evaluations`);
    }
  }
  return points;
}

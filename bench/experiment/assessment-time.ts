// Figure 3 of the experiment: assessment time per round (one assess() call over the recorded rows
// of the labelled window) for SCS, leave-one-out, NCS and Shapley, for 3 to 12 members. Shapley is
// exact up to 10 members (assess's default) and sampled by permutations above.
import { assess } from '../../src/adapt/assess.js';
import { DEFAULT_CONTRIBUTION, DEFAULT_QOS_WEIGHTS, type AssessmentMethod, type MemberProfile, type RecordedRow } from '../../src/adapt/types.js';
import { rngFor, shuffled } from '../../examples/lib/random.js';
import { LATENCY_BUDGET_MS, windowsOf } from './adapt.js';
import type { Marketplace } from './marketplace.js';

export const MEMBER_COUNTS = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
export const METHODS: readonly AssessmentMethod[] = ['scs', 'loo', 'ncs', 'shapley'];
/** Timed rounds per point (median reported), after one untimed warm-up round. */
export const ROUNDS = 7;

export interface AssessmentPoint {
  members: number;
  method: AssessmentMethod;
  /** Median ms per round. */
  ms: number;
  /** Shapley: exact or sampled (permutations used). */
  exact?: boolean;
  permutations?: number;
}

export function assessmentFigure(m: Marketplace, hidden: number, seed: number, log: (line: string) => void): AssessmentPoint[] {
  const { task } = m;
  const y = task.stream.y;
  const [a0, a1] = windowsOf(y.length).assess;
  const w = task.labels.length;
  const order = shuffled(
    m.services.filter((s) => s.hidden === hidden),
    rngFor(seed, 90),
  );
  const points: AssessmentPoint[] = [];
  for (const n of MEMBER_COUNTS) {
    const members = order.slice(0, n);
    const rows: RecordedRow[] = [];
    for (let r = a0; r < a1; r++) {
      rows.push({
        truth: y[r]!,
        answers: members.map((s) => s.labels[r]!),
        probabilities: members.map((s) => Array.from(s.probabilities.subarray(r * w, (r + 1) * w))),
      });
    }
    const profiles: MemberProfile[] = members.map((s) => ({
      key: s.key,
      weight: 1,
      reliability: s.reliability,
      latencyMs: s.latencyMs,
      history: [],
      parameters: s.parameters,
    }));
    for (const method of METHODS) {
      const times: number[] = [];
      let sampling: { permutations: number } | undefined;
      for (let round = -1; round < ROUNDS; round++) {
        const rng = rngFor(seed + Math.max(0, round), 91);
        const t0 = performance.now();
        const a = assess({
          task: 'classification',
          labels: task.labels,
          aggregation: 'mean-proba',
          members: profiles,
          rows,
          latencyBudgetMs: LATENCY_BUDGET_MS,
          weights: DEFAULT_QOS_WEIGHTS,
          contribution: DEFAULT_CONTRIBUTION,
          method,
          random: () => rng.next(),
        });
        if (round >= 0) times.push(performance.now() - t0);
        sampling = a.sampling;
      }
      times.sort((p, q) => p - q);
      const ms = times[times.length >> 1]!;
      points.push({
        members: n,
        method,
        ms,
        ...(method === 'shapley' ? { exact: sampling === undefined, ...(sampling ? { permutations: sampling.permutations } : {}) } : {}),
      });
    }
    log(
      `  ${n} members: ${points
        .slice(-METHODS.length)
        .map((p) => `${p.method} ${p.ms.toFixed(2)} ms`)
        .join(', ')}`,
    );
  }
  return points;
}

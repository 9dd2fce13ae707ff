// Stage 1 of adaptive recomposition: how much each member of a composition contributes, computed
// on recorded predictions (DESIGN.md "Composition and adaptive recomposition"). Pure: rows,
// profiles and randomness come in; nothing is redeployed, a composition without a member is the
// same recorded answers re-aggregated (compose/aggregate.ts) without it.
//
// Choices where the method leaves room (Q(S) is the QoS score of the members S on the rows):
// - Re-aggregation, per row: the members of S that answered something the aggregation can use
//   (a label index among the labels; probabilities of the right width for mean-proba; a finite
//   value for mean/median) are aggregated as the router would; a member's probabilities go along
//   for the vote's tie-break when it sent them. A row where none of S answered has no answer
//   (wrong). The empty coalition answers nothing: E(empty) = Q(empty) = 0.
// - E(S): effectiveness (qos.ts) of the re-aggregated answers against the truth.
// - q(S): the members' quality (mean of the last windows of their history; a member without
//   history counts its own effectiveness on the rows), averaged with the members' weights as the
//   aggregation counts them (weighted / mean-proba / mean: weight when finite and > 0, all zero ->
//   equal; majority / median: equal).
// - T(S): the largest p95 latency of the members (an ensemble waits for all of them).
// - R(S): the share of rows where at least one member of S answered; with no rows,
//   1 - prod(1 - reliability) over the profiles (at least one answers, failures independent).
// - Shares (QoS contribution, loo, ncs, Shapley score): negatives clipped to 0, then divided by
//   the sum; when every value is 0, every share is 0 (nobody contributes, nobody gets credit).
//   SCS's QoS shares when no drop is positive: see qosSharesOf.
// - Functional contribution (FedTruth-style): d_s = Euclidean distance between the member's vector
//   and the mean of the members' vectors; w_s = exp(-d_s / median d) (median 0 -> mean d; all
//   distances 0 -> equal shares), normalised to sum 1. Vectors: the parameters when every member
//   has them with the same length; else, classification, the mean probability row over the rows
//   when every member sent probabilities on some row, else the frequency of each predicted label
//   (a member that answered no row: its profile's labelDistribution, else zeros); regression, the
//   member's values on the rows every member answered.
// - Baselines fill the same shape: qosContribution = score = the method's normalised value,
//   functionalContribution = 0, qosDrop = the method's raw value (loo: the accuracy drop without the
//   member; ncs: the member's own accuracy; shapley: the raw Shapley value of the accuracy game
//   v(S) = E(S)), underperforming = score < threshold.
// - The threshold is relative to the fair share: a member is underperforming when its score is below
//   `contribution.threshold / n` (shares sum to 1, so 1/n is what each of n equal members gets; an
//   absolute cut-off would flag most members of a large composition). `Assessment.threshold` is
//   the resulting absolute cut-off.
// - Leave-one-out on classification: when leaving any single member out changes no answer (a
//   majority of three rarely flips), every accuracy drop is 0 and says nothing; the drops are then
//   taken on the support of the truth instead (per row, the share of the coalition's answers that
//   are the truth, weighted as the aggregation counts them), which still tells a member that votes
//   with the truth from one that votes against it.
import { MaasError } from '../core/errors.js';
import { aggregate, isRegressionAggregation, type MemberAnswer } from '../compose/aggregate.js';
import type { Aggregation } from '../domain/composition.js';
import { effectiveness, qosScore, quality, type Task } from './qos.js';
import { shapley, type Coalition } from './shapley.js';
import type { Assessment, AssessmentMethod, ContributionWeights, MemberAssessment, MemberProfile, QosWeights, RecordedRow } from './types.js';

/** The recorded predictions of a composition, enough to re-aggregate any subset of its members. */
export interface Recorded {
  task: Task;
  /** Composition labels in its order (classification); answers and truth index into them. Default: "0", "1", ... */
  labels?: readonly string[];
  aggregation: Aggregation;
  members: readonly MemberProfile[];
  rows: readonly RecordedRow[];
}

export interface AssessInput extends Recorded {
  latencyBudgetMs: number;
  weights: QosWeights;
  contribution: ContributionWeights;
  method: AssessmentMethod;
  /** Uniform in [0, 1) (e.g. `seededRandom(seed).next`); only Shapley sampling draws from it. */
  random: () => number;
  shapley?: {
    /** Exact up to this many members (default 10, at most 20), permutation sampling above. */
    exactUpTo?: number;
    /** Most permutations (default 2000). */
    permutations?: number;
    /** Stop sampling once every member's standard error is below this (default 0.005). */
    tolerance?: number;
  };
}

/** Recorded rows made ready for re-aggregation. */
class Prepared {
  readonly n: number;
  readonly names: string[];
  readonly width: number;
  readonly regression: boolean;
  /** Per member, per row: 1 when its answer can be aggregated. */
  readonly usable: Uint8Array[];
  /** Per member, per row: 1 when it sent a probability row of the right width (classification). */
  readonly proba: Uint8Array[];
  private readonly nameIndex = new Map<string, number>();
  private readonly effectivenessCache = new Map<string, number>();

  constructor(readonly input: Recorded) {
    const { task, aggregation, members, rows } = input;
    this.regression = task === 'regression';
    if (this.regression !== isRegressionAggregation(aggregation)) {
      throw new MaasError('VALIDATION', `aggregation ${aggregation} does not suit a ${task} composition`);
    }
    this.n = members.length;
    if (input.labels) {
      this.names = [...input.labels];
    } else {
      let width = 0;
      for (const row of rows) {
        if (!this.regression && Number.isInteger(row.truth)) width = Math.max(width, row.truth + 1);
        for (const a of row.answers) if (a !== undefined && Number.isInteger(a)) width = Math.max(width, a + 1);
        for (const p of row.probabilities ?? []) if (p) width = Math.max(width, p.length);
      }
      this.names = this.regression ? [] : Array.from({ length: width }, (_, i) => String(i));
    }
    this.width = this.names.length;
    this.names.forEach((l, i) => {
      if (!this.nameIndex.has(l)) this.nameIndex.set(l, i);
    });
    if (aggregation === 'mean-proba' && this.width === 0) {
      throw new MaasError('VALIDATION', 'mean-proba needs the composition labels to know the class order');
    }
    this.usable = [];
    this.proba = [];
    for (let m = 0; m < this.n; m++) {
      const usable = new Uint8Array(rows.length);
      const proba = new Uint8Array(rows.length);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        const a = row.answers[m];
        if (a === undefined) continue;
        if (this.regression) {
          usable[r] = Number.isFinite(a) ? 1 : 0;
          continue;
        }
        const p = row.probabilities?.[m];
        proba[r] = p && p.length === this.width && p.every((x) => Number.isFinite(x)) ? 1 : 0;
        usable[r] = aggregation === 'mean-proba' ? proba[r]! : Number.isInteger(a) && a >= 0 && a < this.width ? 1 : 0;
      }
      this.usable.push(usable);
      this.proba.push(proba);
    }
  }

  /** The composition's answer per row with only `coalition` (member indexes) answering. */
  answers(coalition: Coalition): (number | undefined)[] {
    const { rows, aggregation, members } = this.input;
    const out = new Array<number | undefined>(rows.length).fill(undefined);
    // Rows with the same answering members (and probability senders) aggregate in one call.
    const groups = new Map<string, { members: number[]; withProba: boolean[]; rows: number[] }>();
    for (let r = 0; r < rows.length; r++) {
      let groupKey = '';
      for (const m of coalition) if (this.usable[m]![r]) groupKey += this.proba[m]![r] ? `${m}p,` : `${m},`;
      if (groupKey === '') continue;
      let group = groups.get(groupKey);
      if (!group) {
        group = { members: [], withProba: [], rows: [] };
        for (const m of coalition) {
          if (!this.usable[m]![r]) continue;
          group.members.push(m);
          group.withProba.push(this.proba[m]![r] === 1);
        }
        groups.set(groupKey, group);
      }
      group.rows.push(r);
    }
    for (const group of groups.values()) {
      const answers: MemberAnswer[] = group.members.map((m, k) => {
        const answer: MemberAnswer = { key: members[m]!.key, weight: members[m]!.weight };
        if (this.regression) {
          answer.values = group.rows.map((r) => rows[r]!.answers[m]!);
          return answer;
        }
        if (aggregation !== 'mean-proba') answer.labels = group.rows.map((r) => this.names[rows[r]!.answers[m]!]!);
        if (group.withProba[k]) answer.probabilities = group.rows.map((r) => rows[r]!.probabilities![m]!);
        return answer;
      });
      const result = aggregate(aggregation, this.regression ? undefined : this.names, answers, group.rows.length);
      group.rows.forEach((r, k) => {
        out[r] = this.regression ? result.values![k] : this.nameIndex.get(result.labels![k]!);
      });
    }
    return out;
  }

  /** E(S). */
  effectiveness(coalition: Coalition): number {
    const key = coalition.join(',');
    let e = this.effectivenessCache.get(key);
    if (e === undefined) {
      e = coalition.length === 0 ? 0 : effectiveness(this.input.rows, this.answers(coalition), this.input.task);
      this.effectivenessCache.set(key, e);
    }
    return e;
  }

  /** Mean support of the truth by `coalition` (classification; see the header's leave-one-out). */
  support(coalition: Coalition): number {
    const { rows } = this.input;
    if (rows.length === 0 || coalition.length === 0) return 0;
    const w = this.countingWeights(coalition);
    let total = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      let agree = 0;
      let weight = 0;
      coalition.forEach((m, k) => {
        if (!this.usable[m]![r]) return;
        const probabilities = this.proba[m]![r] ? row.probabilities![m]! : undefined;
        agree += w[k]! * (probabilities ? (probabilities[row.truth] ?? 0) : row.answers[m] === row.truth ? 1 : 0);
        weight += w[k]!;
      });
      if (weight > 0) total += agree / weight;
    }
    return total / rows.length;
  }

  /** Weights as the aggregation counts members (see the header). */
  countingWeights(coalition: Coalition): number[] {
    const weighted = this.input.aggregation === 'weighted' || this.input.aggregation === 'mean-proba' || this.input.aggregation === 'mean';
    const w = coalition.map((m) => {
      const x = this.input.members[m]!.weight;
      return !weighted ? 1 : Number.isFinite(x) && x > 0 ? x : 0;
    });
    return w.some((x) => x > 0) ? w : w.map(() => 1);
  }

  /** R(S). */
  reliability(coalition: Coalition): number {
    const rows = this.input.rows.length;
    if (coalition.length === 0) return 0;
    if (rows === 0) return 1 - coalition.reduce((p, m) => p * (1 - clamp01(this.input.members[m]!.reliability)), 1);
    let answered = 0;
    for (let r = 0; r < rows; r++) if (coalition.some((m) => this.usable[m]![r])) answered++;
    return answered / rows;
  }
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/**
 * The composition's answers per row (label indexes, or values) with only `coalition` (member
 * indexes into `recorded.members`) answering: leave-one-out and Shapley coalitions without redeploying.
 */
export function reaggregate(recorded: Recorded, coalition: Coalition): (number | undefined)[] {
  return new Prepared(recorded).answers([...coalition].sort((a, b) => a - b));
}

/** Differences of Q below this share of Q(N) are noise when no drop is positive (see qosSharesOf). */
export const QOS_NOISE = 0.05;

/**
 * SCS's QoS shares: the drops' shares, except when no member's absence lowers Q (every drop <= 0,
 * e.g. a 3-way vote where any two members still agree, and the slowest member holds the latency
 * term down). The shares are then taken on how far each drop is above the lowest, plus a noise
 * floor of QOS_NOISE * Q(N): a member whose presence costs clearly more than the others' gets
 * clearly less, while differences far below the floor (a few ms of latency) leave the shares
 * nearly equal.
 */
export function qosSharesOf(drops: readonly number[], whole: number): number[] {
  const direct = shares(drops);
  if (drops.length < 2 || direct.some((x) => x > 0)) return direct;
  const low = Math.min(...drops);
  const floor = QOS_NOISE * Math.abs(whole);
  const above = drops.map((d) => d - low + floor);
  return above.some((x) => x > 0) ? shares(above) : drops.map(() => 1 / drops.length);
}

/** Values -> shares: negatives clipped to 0, divided by the sum; all 0 -> all 0. */
export function shares(values: readonly number[]): number[] {
  const clipped = values.map((x) => (Number.isFinite(x) && x > 0 ? x : 0));
  const total = clipped.reduce((a, b) => a + b, 0);
  return total > 0 ? clipped.map((x) => x / total) : clipped.map(() => 0);
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * FedTruth-style functional contribution: d_s = |v_s - mean v|, w_s = exp(-d_s / median d)
 * (median 0 -> mean d; all 0 -> equal), normalised to sum 1. Shorter vectors count as 0-padded.
 */
export function functionalWeights(vectors: readonly ArrayLike<number>[]): number[] {
  const n = vectors.length;
  if (n === 0) return [];
  const dim = vectors.reduce((d, v) => Math.max(d, v.length), 0);
  const mean = new Float64Array(dim);
  for (const v of vectors) for (let j = 0; j < v.length; j++) mean[j]! += v[j]! / n;
  const d = vectors.map((v) => {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const x = (j < v.length ? v[j]! : 0) - mean[j]!;
      s += x * x;
    }
    return Math.sqrt(s);
  });
  let scale = median(d);
  if (!(scale > 0)) scale = d.reduce((a, b) => a + b, 0) / n;
  if (!(scale > 0) || !Number.isFinite(scale)) return d.map(() => 1 / n);
  const w = d.map((x) => Math.exp(-x / scale));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** The vectors the functional contribution compares (see the header). */
function functionalVectors(p: Prepared): ArrayLike<number>[] {
  const { members, rows } = p.input;
  const first = members[0]?.parameters;
  if (first && first.length > 0 && members.every((m) => m.parameters && m.parameters.length === first.length)) {
    return members.map((m) => m.parameters!);
  }
  if (p.regression) {
    const shared: number[] = [];
    for (let r = 0; r < rows.length; r++) if (p.usable.every((u) => u[r])) shared.push(r);
    return members.map((_, m) => shared.map((r) => rows[r]!.answers[m]!));
  }
  const width = p.width;
  if (p.proba.every((pr) => pr.includes(1))) {
    return members.map((_, m) => {
      const v = new Float64Array(width);
      let count = 0;
      for (let r = 0; r < rows.length; r++) {
        if (!p.proba[m]![r]) continue;
        const row = rows[r]!.probabilities![m]!;
        for (let j = 0; j < width; j++) v[j]! += row[j]!;
        count++;
      }
      return v.map((x) => x / count);
    });
  }
  return members.map((member, m) => {
    const v = new Float64Array(width);
    let count = 0;
    for (let r = 0; r < rows.length; r++) {
      if (!p.usable[m]![r]) continue;
      const a = rows[r]!.answers[m]!;
      if (Number.isInteger(a) && a >= 0 && a < width) {
        v[a]! += 1;
        count++;
      }
    }
    if (count > 0) return v.map((x) => x / count);
    return member.labelDistribution?.length === width ? Float64Array.from(member.labelDistribution) : v;
  });
}

/** Assesses every member of a composition on its recorded rows by `method` (see the header for the formulas). */
export function assess(input: AssessInput): Assessment {
  const p = new Prepared(input);
  const { members, contribution } = input;
  const n = p.n;
  const all = Array.from({ length: n }, (_, i) => i);
  const without = (s: number): number[] => all.filter((i) => i !== s);

  const memberQuality = members.map((m, i) => quality(m.history, p.effectiveness([i])));
  const qos = (coalition: Coalition): number => {
    if (coalition.length === 0) return 0;
    const w = p.countingWeights(coalition);
    const totalWeight = w.reduce((a, b) => a + b, 0);
    const q = coalition.reduce((sum, m, k) => sum + w[k]! * memberQuality[m]!, 0) / totalWeight;
    return qosScore(
      {
        effectiveness: p.effectiveness(coalition),
        quality: q,
        latencyMs: coalition.reduce((t, m) => Math.max(t, members[m]!.latencyMs), 0),
        latencyBudgetMs: input.latencyBudgetMs,
        reliability: p.reliability(coalition),
      },
      input.weights,
    );
  };

  const threshold = n > 0 ? contribution.threshold / n : contribution.threshold;
  const build = (qosContribution: number[], functional: number[], raw: number[], score: number[]): MemberAssessment[] =>
    members.map((m, i) => ({
      key: m.key,
      qosContribution: qosContribution[i]!,
      functionalContribution: functional[i]!,
      score: score[i]!,
      qosDrop: raw[i]!,
      underperforming: score[i]! < threshold,
    }));
  const baseline = (raw: number[], score: number[]): MemberAssessment[] =>
    build(
      score,
      score.map(() => 0),
      raw,
      score,
    );

  const whole = qos(all);
  const result: Assessment = { method: input.method, qos: whole, effectiveness: p.effectiveness(all), threshold, members: [], rows: input.rows.length };
  switch (input.method) {
    case 'scs': {
      const drops = all.map((s) => whole - qos(without(s)));
      const qosShares = qosSharesOf(drops, whole);
      const functional = functionalWeights(functionalVectors(p));
      const score = all.map((i) => contribution.qos * qosShares[i]! + contribution.functional * functional[i]!);
      result.members = build(qosShares, functional, drops, score);
      break;
    }
    case 'loo': {
      let drops = all.map((s) => result.effectiveness - p.effectiveness(without(s)));
      if (!p.regression && n > 1 && drops.every((d) => d <= 0)) {
        const whole = p.support(all);
        drops = all.map((s) => whole - p.support(without(s)));
      }
      result.members = baseline(drops, shares(drops));
      break;
    }
    case 'ncs': {
      const own = all.map((s) => p.effectiveness([s]));
      result.members = baseline(own, shares(own));
      break;
    }
    case 'shapley': {
      const values = shapley(n, (coalition) => p.effectiveness(coalition), input.random, input.shapley ?? {});
      result.members = baseline(values.values, shares(values.values));
      if (!values.exact) result.sampling = { permutations: values.permutations!, standardError: values.standardError! };
      break;
    }
  }
  return result;
}

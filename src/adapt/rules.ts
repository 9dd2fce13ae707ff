// Adaptive recomposition, stage 3: composition rules. Each candidate for a replaced member gets
// five scores in [0, 1] and a confidence, their weighted sum with the policy's rule weights. Pure.
//
// The formulas (DESIGN.md "Composition and adaptive recomposition" leaves these to us):
// - Data utility: with p the candidate's training label distribution and q the composition's
//   (both normalised to sum to 1), d = |p - q|_2 / sqrt(2) (sqrt(2) is the largest distance between
//   two distributions, so d is in [0, 1]); utility = 1 - d. Rejected for skew when d > thresholds.skew.
//   No distribution on either side, or different lengths: 0.5, not rejected (nothing known).
// - Model utility: d = |theta_c - theta_mean|_2 and s = the median of |theta_i - theta_mean|_2 over
//   the members; with r = d / s, utility = exp(-(ln r)^2 / 2): 1 at r = 1 (as far from the mean as
//   a typical member), 0.61 at r = e or 1/e, falling to 0 for clones (r -> 0) and wild models
//   (r >> 1). No parameters, a different parameter count or no spread (s = 0): 0.5.
// - Scalability: T = the composition's latency with the candidate, Tmax = the budget;
//   1 when T <= Tmax, else exp(-latencyPenalty * (T / Tmax - 1)). No positive budget: 1.
// - Historical quality: cosine similarity of the candidate's and the composition's quality
//   histories aligned on their last min(len) windows, clipped at 0 (accuracies are non-negative,
//   so the cosine is in [0, 1] already). Cosine compares the shape of the histories, not their
//   level; with one window it is 1. No history on either side, or an all-zero one: 0.5.
// - Reliability: R = the candidate's reliability, t = thresholds.reliability; 1 when R >= t, else
//   R / t. Rejected when R < t - RELIABILITY_REJECT_MARGIN (0.1).
// - Confidence: sum of weight * score over the five rules, divided by the weights' sum (the policy
//   makes them sum to 1, so normally a plain weighted sum). A rejected candidate keeps its scores
//   and confidence (for --explain) and carries `rejected`; stage 4 must not choose it.

import type { Candidate, RuleScores, RuleThresholds, RuleWeights } from './types.js';

/** A candidate whose reliability is this far below thresholds.reliability is rejected. */
export const RELIABILITY_REJECT_MARGIN = 0.1;

export type RuleName = keyof RuleWeights;

export const RULE_NAMES: readonly RuleName[] = ['dataUtility', 'modelUtility', 'scalability', 'history', 'reliability'];

const RULE_TITLES: Record<RuleName, string> = {
  dataUtility: 'data utility',
  modelUtility: 'model utility',
  scalability: 'scalability',
  history: 'historical quality',
  reliability: 'reliability',
};

export interface RuleContext {
  /** The composition's label distribution (composition label order), e.g. its members' training mix. */
  compositionLabelDistribution: readonly number[];
  /** The mean of the members' parameter vectors, when they share an architecture. */
  compositionParameters?: Float64Array;
  /** The members' parameter vectors: their distances to the mean give the scale of divergence. */
  memberParameters?: readonly Float64Array[];
  /** The composition's latency (ms) with the candidate in place of the member, or that number. */
  compositionLatencyMs: ((withCandidate: Candidate) => number) | number;
  /** Tmax: the composition's latency budget in ms. */
  latencyBudgetMs: number;
  /** The composition's accuracy per window, oldest first. */
  compositionHistory: readonly number[];
}

/** RuleScores with what each score was computed from, one short phrase per rule (for --explain). */
export interface ExplainedRuleScores extends RuleScores {
  notes: Record<RuleName, string>;
}

/** A number for an explanation: at most 3 decimals, no trailing zeros. */
function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toFixed(3))) : String(x);
}

function normalised(xs: readonly number[]): number[] | undefined {
  const clean = xs.map((x) => (Number.isFinite(x) && x > 0 ? x : 0));
  const total = clean.reduce((a, b) => a + b, 0);
  return total > 0 ? clean.map((x) => x / total) : undefined;
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Data utility: 1 - normalised label-distribution distance; `skew` set when it exceeds the threshold. */
export function dataUtility(
  candidate: readonly number[] | undefined,
  composition: readonly number[],
  skewThreshold: number,
): { score: number; distance?: number; skew?: string; note: string } {
  const p = candidate ? normalised(candidate) : undefined;
  const q = normalised(composition);
  if (!p) return { score: 0.5, note: 'no training label distribution: neutral 0.5' };
  if (!q || p.length !== q.length) return { score: 0.5, note: 'no comparable composition label distribution: neutral 0.5' };
  const d = distance(p, q) / Math.SQRT2;
  const score = 1 - d;
  if (d > skewThreshold) {
    return {
      score,
      distance: d,
      skew: `label distribution distance ${num(d)} above the skew threshold ${num(skewThreshold)}`,
      note: `label distance ${num(d)}`,
    };
  }
  return { score, distance: d, note: `label distance ${num(d)} (skew threshold ${num(skewThreshold)})` };
}

/** Model utility: exp(-(ln r)^2 / 2) with r = the candidate's distance to the mean over the median member distance. */
export function modelUtility(
  candidate: Float64Array | undefined,
  mean: Float64Array | undefined,
  members: readonly Float64Array[] | undefined,
): { score: number; ratio?: number; note: string } {
  if (!candidate || !mean) return { score: 0.5, note: 'no parameters to compare: neutral 0.5' };
  if (candidate.length !== mean.length) return { score: 0.5, note: 'a different architecture (parameter count): neutral 0.5' };
  const spreads = (members ?? []).filter((m) => m.length === mean.length).map((m) => distance(m, mean));
  const scale = spreads.length > 0 ? median(spreads) : 0;
  if (!(scale > 0)) return { score: 0.5, note: 'no spread among the members to scale divergence: neutral 0.5' };
  const d = distance(candidate, mean);
  const r = d / scale;
  const ln = Math.log(r);
  const score = Math.exp(-(ln * ln) / 2);
  return { score, ratio: r, note: `divergence ${num(r)}x the median member's` };
}

/** Scalability: 1 within the budget, exp(-penalty * (T/Tmax - 1)) beyond it. */
export function scalability(latencyMs: number, budgetMs: number, penalty: number): { score: number; note: string } {
  if (!(budgetMs > 0) || !Number.isFinite(budgetMs)) return { score: 1, note: `latency ${num(latencyMs)}ms, no budget` };
  if (latencyMs <= budgetMs) return { score: 1, note: `latency ${num(latencyMs)}ms within the ${num(budgetMs)}ms budget` };
  const over = latencyMs / budgetMs - 1;
  return { score: Math.exp(-penalty * over), note: `latency ${num(latencyMs)}ms, ${num(over * 100)}% over the ${num(budgetMs)}ms budget` };
}

/** Historical quality: cosine of the last min(len) windows of both histories, clipped at 0. */
export function historySimilarity(candidate: readonly number[], composition: readonly number[]): { score: number; windows: number; note: string } {
  const n = Math.min(candidate.length, composition.length);
  if (n === 0) return { score: 0.5, windows: 0, note: 'no quality history: neutral 0.5' };
  const a = candidate.slice(-n);
  const b = composition.slice(-n);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (!(na > 0) || !(nb > 0) || !Number.isFinite(dot)) return { score: 0.5, windows: n, note: 'an all-zero quality history: neutral 0.5' };
  const cos = Math.min(1, dot / Math.sqrt(na * nb));
  return { score: Math.max(0, cos), windows: n, note: `cosine over the last ${n} window${n === 1 ? '' : 's'}` };
}

/** Reliability: 1 at or above the threshold, R / threshold below it; rejected below threshold - margin. */
export function reliabilityScore(reliability: number, threshold: number): { score: number; rejected?: string; note: string } {
  if (!(threshold > 0) || reliability >= threshold) return { score: 1, note: `reliability ${num(reliability)} (threshold ${num(threshold)})` };
  const score = Math.max(0, reliability) / threshold;
  const floor = threshold - RELIABILITY_REJECT_MARGIN;
  if (reliability < floor) {
    return {
      score,
      rejected: `reliability ${num(reliability)} below ${num(floor)} (threshold ${num(threshold)} - ${num(RELIABILITY_REJECT_MARGIN)})`,
      note: `reliability ${num(reliability)}`,
    };
  }
  return { score, note: `reliability ${num(reliability)} below the threshold ${num(threshold)}` };
}

/** Weighted sum of the scores, divided by the weights' sum (1 for a valid policy). */
export function confidenceOf(scores: Record<RuleName, number>, weights: RuleWeights): number {
  let sum = 0;
  let total = 0;
  for (const name of RULE_NAMES) {
    const w = Math.max(0, weights[name]);
    sum += w * scores[name];
    total += w;
  }
  return total > 0 ? sum / total : 0;
}

/** The five rule scores of `c`, its confidence, and `rejected` when a hard rule (skew, reliability) rejects it. */
export function ruleScores(c: Candidate, ctx: RuleContext, weights: RuleWeights, thresholds: RuleThresholds): ExplainedRuleScores {
  const data = dataUtility(c.labelDistribution, ctx.compositionLabelDistribution, thresholds.skew);
  const model = modelUtility(c.parameters, ctx.compositionParameters, ctx.memberParameters);
  const latency = typeof ctx.compositionLatencyMs === 'function' ? ctx.compositionLatencyMs(c) : ctx.compositionLatencyMs;
  const scale = scalability(latency, ctx.latencyBudgetMs, thresholds.latencyPenalty);
  const history = historySimilarity(c.history, ctx.compositionHistory);
  const reliability = reliabilityScore(c.reliability, thresholds.reliability);
  const scores = { dataUtility: data.score, modelUtility: model.score, scalability: scale.score, history: history.score, reliability: reliability.score };
  const rejected = [data.skew, reliability.rejected].filter((r): r is string => r !== undefined);
  return {
    ...scores,
    confidence: confidenceOf(scores, weights),
    ...(rejected.length > 0 ? { rejected: rejected.join('; ') } : {}),
    notes: { dataUtility: data.note, modelUtility: model.note, scalability: scale.note, history: history.note, reliability: reliability.note },
  };
}

/** One line per rule with its score (and what it came from when known), then the confidence and any rejection. */
export function ruleExplanation(scores: RuleScores & { notes?: Partial<Record<RuleName, string>> }, weights?: RuleWeights): string[] {
  const width = Math.max(...RULE_NAMES.map((n) => RULE_TITLES[n].length));
  const lines = RULE_NAMES.map((name) => {
    const note = scores.notes?.[name];
    const weight = weights ? ` x ${num(weights[name])}` : '';
    return `${RULE_TITLES[name].padEnd(width)}  ${scores[name].toFixed(3)}${weight}${note ? `  (${note})` : ''}`;
  });
  lines.push(`${'confidence'.padEnd(width)}  ${scores.confidence.toFixed(3)}`);
  if (scores.rejected) lines.push(`rejected: ${scores.rejected}`);
  return lines;
}

// Adaptive recomposition: the data its four stages exchange (assessment -> candidates -> rules ->
// optimisation). Pure types; the stages are pure modules beside this one, the use case that feeds
// them live measurements is app/compose-adapt.ts. See DESIGN.md "Composition and adaptive
// recomposition" for the formulas.

/** Weights of the QoS score Q(C) = wE*E + wQ*q + wT*(1 - T/Tmax) + wR*R (sum to 1). */
export interface QosWeights {
  effectiveness: number;
  quality: number;
  latency: number;
  reliability: number;
}

export const DEFAULT_QOS_WEIGHTS: QosWeights = { effectiveness: 0.4, quality: 0.2, latency: 0.2, reliability: 0.2 };

/**
 * SCS = qos * QoS contribution + functional * functional contribution. Relative threshold: a member
 * of n whose score is below `threshold / n` (that fraction of the fair share) is underperforming.
 */
export interface ContributionWeights {
  qos: number;
  functional: number;
  threshold: number;
}

export const DEFAULT_CONTRIBUTION: ContributionWeights = { qos: 0.5, functional: 0.5, threshold: 0.75 };

/** Weights of the composition rules (user preferences; sum to 1). */
export interface RuleWeights {
  dataUtility: number;
  modelUtility: number;
  scalability: number;
  history: number;
  reliability: number;
}

export const DEFAULT_RULE_WEIGHTS: RuleWeights = { dataUtility: 0.3, modelUtility: 0.2, scalability: 0.2, history: 0.15, reliability: 0.15 };

export interface RuleThresholds {
  /** Label-distribution distance (0..1) above which a candidate is rejected for skew. */
  skew: number;
  /** Least reliability a candidate must show. */
  reliability: number;
  /** How fast scalability falls once the latency budget is exceeded. */
  latencyPenalty: number;
}

export const DEFAULT_THRESHOLDS: RuleThresholds = { skew: 0.5, reliability: 0.95, latencyPenalty: 2 };

/**
 * One recorded composition prediction as assessment reads it: each member's answer (undefined when
 * it failed or missed its deadline) and the truth. Classification answers are label indexes into
 * the composition's labels, with optional probability rows; regression answers are values.
 */
export interface RecordedRow {
  truth: number;
  /** Per member index (same order as the members list): the answer, or undefined when it failed. */
  answers: (number | undefined)[];
  /** Per member index: class probabilities (composition label order), when sent. */
  probabilities?: (readonly number[] | undefined)[];
  /** Per member index: latency in ms, when answered. */
  latencyMs?: (number | undefined)[];
}

/** What assessment knows of each member, besides its recorded answers. */
export interface MemberProfile {
  key: string;
  weight: number;
  /** Measured reliability (answered / requests), 0..1; 1 when unknown. */
  reliability: number;
  /** Measured p95 latency in ms (the member alone). */
  latencyMs: number;
  /** Accuracy per window, oldest first (the quality history). */
  history: number[];
  /**
   * The member's parameters as one vector, when members share an architecture (same ONNX
   * initializer shapes); otherwise undefined and the functional contribution uses outputs on probes.
   */
  parameters?: Float64Array;
  /** The member's class distribution of predictions (or, for candidates, of training labels), composition label order. */
  labelDistribution?: number[];
}

/** One member's assessment. */
export interface MemberAssessment {
  key: string;
  /** Normalised QoS contribution (sums to 1 over members, negatives clipped to 0). */
  qosContribution: number;
  /** Normalised functional contribution (sums to 1 over members). */
  functionalContribution: number;
  /** a * qos + b * functional. */
  score: number;
  /** Raw drop of Q(C) without the member (may be negative: the composition is better without it). */
  qosDrop: number;
  underperforming: boolean;
}

export type AssessmentMethod = 'scs' | 'loo' | 'ncs' | 'shapley';

export interface Assessment {
  method: AssessmentMethod;
  /** Q(C) of the whole composition on the recorded rows. */
  qos: number;
  /** Accuracy (classification) or 1 - normalised MAE (regression) of the whole composition. */
  effectiveness: number;
  threshold: number;
  members: MemberAssessment[];
  /** Shapley by sampling: permutations used and the standard error of the estimate. */
  sampling?: { permutations: number; standardError: number };
  /** Labelled rows the assessment used. */
  rows: number;
}

/** A registry service that could replace an underperforming member. */
export interface Candidate {
  /** `NAME@VERSION`. */
  key: string;
  /** Declared or measured accuracy 0..1. */
  accuracy: number;
  /** Declared or measured p95 latency in ms. */
  latencyMs: number;
  reliability: number;
  /** Accuracy per window when it has served before; else empty. */
  history: number[];
  /** Training label distribution (composition label order), from its profile. */
  labelDistribution?: number[];
  parameters?: Float64Array;
  /** Resource efficiency 0..1 (e.g. 1 - cpu/maxCpu), higher is better. */
  efficiency: number;
  /** Whether accuracy/latency were measured from serving (true) or only declared. */
  measured: boolean;
}

/** Why a registry model is not a candidate (like `maas search --explain`). */
export interface Exclusion {
  key: string;
  reason: string;
}

/** The rule scores of one candidate for one replaced member, each in [0, 1], and their weighted sum. */
export interface RuleScores {
  dataUtility: number;
  modelUtility: number;
  scalability: number;
  history: number;
  reliability: number;
  /** Weighted sum with the policy's rule weights: the confidence score. */
  confidence: number;
  /** A hard rule rejected the candidate (skew, reliability): why. */
  rejected?: string;
}

/** One arm of the optimisation: a replacement for each underperforming member (indexes into each member's candidate list). */
export interface Plan {
  /** For underperforming member i (in order), the chosen candidate key. */
  replacements: { member: string; candidate: string }[];
  /** The reward estimate that chose it (UCB, fitness, confidence...). */
  score: number;
}

export type StrategyName = 'linucb' | 'brute-force' | 'epsilon-greedy' | 'genetic' | 'qos-only' | 'rule-based';

// Compositions: several model services behind one endpoint. The description a user writes
// (`kind: Composition`), the router configuration a composition is served from, and the
// measurements the router keeps per member. Types and small rules only; the schema that validates
// descriptions lives in spec/composition-schema.ts, the pure aggregation and measurement in
// compose/, the router in serving/composition/.

import type { FeatureSpec } from '../spec/schema.js';

export const COMPOSITION_KIND = 'Composition';

/** How members answer: all of them (aggregated), one chosen by weight per request, or a primary with shadows. */
export type CompositionMode = 'ensemble' | 'split' | 'shadow';
export const COMPOSITION_MODES: readonly CompositionMode[] = ['ensemble', 'split', 'shadow'];

/**
 * How an ensemble combines its members' answers. Classification: `majority` (one vote each),
 * `weighted` (votes weighted by member weight), `mean-proba` (weighted mean of class
 * probabilities, then the most probable class). Regression: `mean` (weighted) or `median`.
 */
export type Aggregation = 'majority' | 'weighted' | 'mean-proba' | 'mean' | 'median';
export const CLASSIFICATION_AGGREGATIONS: readonly Aggregation[] = ['majority', 'weighted', 'mean-proba'];
export const REGRESSION_AGGREGATIONS: readonly Aggregation[] = ['mean', 'median'];

/** `member`: answers (ensemble, split); `primary`: the one that answers in shadow mode; `shadow`: measured only. */
export type MemberRole = 'member' | 'primary' | 'shadow';

/** One member as written: a registered model version or an existing deployment. */
export interface CompositionMemberSpec {
  /** `NAME@VERSION` of a registered model (deployed for the composition when nothing serves it). */
  model?: string;
  /** ID of an existing deployment (joined as a consumer). Exactly one of model / deployment. */
  deployment?: string;
  /** Weight in weighted votes and means, and share of traffic in split mode (default 1). */
  weight?: number;
  role?: MemberRole;
  /** Per-member deadline (`250ms`, `2s`); overrides spec.timeout. */
  timeout?: string;
}

/** The QoS a composition must keep; adaptive recomposition acts when it does not. */
export interface CompositionQos {
  /** Latency budget per request (`200ms`); Tmax of the QoS score. */
  latencyBudget?: string;
  /** Least acceptable accuracy (classification) from feedback, 0..1. */
  minAccuracy?: number;
  /** Least acceptable share of answers on time without error, 0..1. */
  reliability?: number;
}

/** Weights and thresholds of adaptive recomposition (see DESIGN.md); validated with the description. */
export interface AdaptationPolicy {
  /** Weights of the QoS score Q(C) = wE*E + wQ*q + wT*(1 - T/Tmax) + wR*R; sum to 1. */
  qosWeights?: { effectiveness: number; quality: number; latency: number; reliability: number };
  /** SCS = a * QoS contribution + b * functional contribution (a + b = 1); members below `threshold` underperform. */
  contribution?: { qos: number; functional: number; threshold: number };
  /** Weights of the composition rules (user preferences); sum to 1. */
  rules?: { dataUtility: number; modelUtility: number; scalability: number; history: number; reliability: number };
  /** Rule thresholds: label-distribution skew that rejects a candidate, least reliability, latency penalty factor. */
  thresholds?: { skew?: number; reliability?: number; latencyPenalty?: number };
  /** LinUCB: exploration alpha, ridge lambda, how many plans to keep. */
  bandit?: { alpha?: number; lambda?: number; topK?: number };
  /** Labelled predictions per window of the quality history (default 100). */
  historyWindow?: number;
}

export interface CompositionDescription {
  apiVersion: string;
  kind: typeof COMPOSITION_KIND;
  metadata: { name: string; version: string; description?: string; labels?: Record<string, string> };
  spec: {
    task: 'classification' | 'regression';
    /** The shared input features, by name; every member must take each of them. */
    features: string[];
    /** Classification: the label set every member predicts (order may differ between members). */
    outputs?: { labels?: string[]; name?: string };
    mode: CompositionMode;
    /** Ensemble only; default `majority` (classification) or `mean` (regression). */
    aggregation?: Aggregation;
    members: CompositionMemberSpec[];
    /** Default per-member deadline (`1s` when absent). */
    timeout?: string;
    qos?: CompositionQos;
    policy?: AdaptationPolicy;
  };
}

/**
 * What the router is started from: the description plus, per member, where it answers now. Written
 * by `maas compose apply` (local: a JSON file next to the router; Kubernetes: a ConfigMap), re-read
 * by the router when it changes, so a re-apply swaps members without a restart.
 */
export interface RouterConfig {
  composition: CompositionDescription;
  /** The full feature definitions (from the first member's description), in `spec.features` order. */
  features: FeatureSpec[];
  /** Classification: the label set in the composition's order. */
  labels?: string[];
  members: RouterMember[];
  /** Default per-member deadline in ms. */
  timeoutMs: number;
}

export interface RouterMember {
  /** Stable key of the member within the composition: `NAME@VERSION` of what it serves. */
  key: string;
  /** The deployment that serves it. */
  deployment: string;
  /** The model name and version in the member's OIP path. */
  model: string;
  version: string;
  /** Where it answers: a base URL, or (local) the endpoint file its server writes, re-read when it changes. */
  endpoint?: string;
  endpointFile?: string;
  weight: number;
  role: MemberRole;
  timeoutMs: number;
  /** The member's label order when it differs from the composition's (mapped by name). */
  labels?: string[];
}

/** A member as applied: which deployment serves it, and whether the composition created that deployment. */
export interface AppliedMember {
  /** `NAME@VERSION` served. */
  key: string;
  deployment: string;
  weight: number;
  role: MemberRole;
  timeoutMs: number;
  /** True when the composition deployed it (nothing served it before); false when it joined an existing deployment. */
  created: boolean;
}

/** One entry of a composition's history: applies, updates, adaptations, deletion. */
export interface CompositionEvent {
  at: string;
  /** `applied` (first), `updated` (re-apply that changed something), `adapted` (adaptive recomposition), `deleted`. */
  event: 'applied' | 'updated' | 'adapted' | 'deleted';
  /** `NAME@VERSION` of the composition after the event. */
  version: string;
  /** What changed, in words (members added / removed / reweighted). */
  summary: string;
  /** Machine-readable detail (e.g. the adaptation plan with its scores). */
  detail?: Record<string, unknown>;
}

/**
 * Who created the composition, as its first `applied` event records it (`detail.by`): a server
 * records `token:NAME`; a local apply records nothing.
 */
export function compositionOwner(r: Pick<CompositionRecord, 'history'>): string | undefined {
  const by = r.history.find((e) => e.event === 'applied')?.detail?.by;
  return typeof by === 'string' ? by : undefined;
}

/** A composition as stored: its description, router deployment and members. */
export interface CompositionRecord {
  /** Unique per registry (one live version per name). */
  name: string;
  version: string;
  description: CompositionDescription;
  /** `sha256:<hex>` of the canonical description JSON: re-applying an unchanged file is a no-op. */
  specDigest: string;
  /** The deployment (kind `composition`) that runs the router. */
  router: string;
  members: AppliedMember[];
  createdAt: string;
  updatedAt: string;
  history: CompositionEvent[];
}

/** Storage of compositions; implemented by the embedded registry (SQLite). */
export interface CompositionStore {
  getComposition(name: string): Promise<CompositionRecord | undefined>;
  listCompositions(): Promise<CompositionRecord[]>;
  /** Creates or replaces the record (by name), appending `event` to its history, in one transaction. */
  saveComposition(record: Omit<CompositionRecord, 'history' | 'createdAt' | 'updatedAt'>, event: CompositionEvent): Promise<CompositionRecord>;
  /** Appends to the history without changing anything else (e.g. a dry-run adaptation that was recorded). */
  addCompositionEvent(name: string, event: CompositionEvent): Promise<void>;
  /** Removes the record and its history; absent is fine. */
  deleteComposition(name: string): Promise<void>;
}

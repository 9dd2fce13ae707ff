// Adaptive recomposition, stage 2: candidate selection. Which registry models could replace an
// underperforming member: functionally compatible with the composition (task, features and their
// types, label set, modality labels) and with a QoS, measured or declared, that beats the
// member's. Pure: the use case reads the registry, the profiles and the measurements and passes
// them in; every model left out comes back with a one-line reason, like `maas search --explain`.
//
// Choices the method leaves open (see DESIGN.md "Composition and adaptive recomposition"):
// - Functional compatibility is spec/composition-compat.ts checkMembers, run on the composition
//   (its label set forced to `input.labels` for classification) with the current members whose
//   descriptions the registry list holds followed by the candidate, so a feature typed differently
//   from a current member's is caught too. Only the candidate's problems count.
// - Matching labels: for each key of `matchLabels` (default `modality`) that the composition's or
//   the replaced member's metadata.labels carries, the candidate must carry the same value (the
//   composition's value wins when both have one). A candidate without the label is excluded.
// - QoS, each value measured when present, else declared: accuracy from spec.performance
//   (`accuracy`, `balanced_accuracy`, `f1`, `f1_macro`, `f1_weighted`, `macro_f1`, `weighted_f1`;
//   regression: `r2`), latency from spec.qos.latencyMs, reliability from spec.qos.reliability.
//   Accuracy and latency must be known (else excluded: nothing shows the candidate is better);
//   unknown reliability counts as 1, the convention MemberProfile uses.
// - Better than the member: accuracy strictly higher, latency at most `latencyFactor` (1.5) times
//   the member's, reliability at least the member's minus `reliabilityMargin` (0.01).
// - Efficiency: 1 - cpu / (largest serving cpu among the candidates); 1 when the candidate
//   declares no cpu (or none does): nothing says it costs more.
// - Label distribution: the profile's categorical target counts, in composition label order,
//   normalised to sum to 1; undefined without a categorical target or when no count names a label.

import type { CompositionDescription } from '../domain/composition.js';
import { parseQuantity } from '../domain/quantity.js';
import type { ReferenceProfile } from '../drift/profile.js';
import { checkMembers, type CompositionMemberModel } from '../spec/composition-compat.js';
import { formatPath } from '../spec/parse.js';
import type { ModelDescription } from '../spec/schema.js';
import type { Candidate, Exclusion } from './types.js';

/** How much worse than the member a candidate may be on latency and reliability. */
export interface CandidateTolerance {
  /** Candidate latency may be at most this many times the member's. */
  latencyFactor: number;
  /** Candidate reliability may be at most this much below the member's. */
  reliabilityMargin: number;
}

export const DEFAULT_CANDIDATE_TOLERANCE: CandidateTolerance = { latencyFactor: 1.5, reliabilityMargin: 0.01 };

/** metadata.labels keys a candidate must share with the composition or the replaced member. */
export const DEFAULT_MATCH_LABELS: readonly string[] = ['modality'];

/** Declared metrics read as accuracy, first present wins (names compared case-insensitively). */
export const ACCURACY_METRICS: Readonly<Record<'classification' | 'regression', readonly string[]>> = {
  classification: ['accuracy', 'balanced_accuracy', 'f1', 'f1_macro', 'f1_weighted', 'macro_f1', 'weighted_f1'],
  regression: ['r2'],
};

/** One registry model as candidate selection sees it. */
export interface RegistryModel {
  description: ModelDescription;
  /** Its reference profile (only the target is read): the training label distribution. */
  profile?: Pick<ReferenceProfile, 'target'>;
  /** What serving measured when it has served before; each value overrides the declared one. */
  measured?: { accuracy?: number; latencyMs?: number; reliability?: number; history?: number[] };
  /** Its parameters as one vector, when it shares the members' architecture (for model utility). */
  parameters?: Float64Array;
}

export interface CandidateInput {
  composition: CompositionDescription;
  /** The composition's labels in its order (classification); empty for regression. */
  labels: readonly string[];
  /** The underperforming member, as measured. */
  member: { key: string; accuracy: number; latencyMs: number; reliability: number };
  /** Keys (`NAME@VERSION`) already in the composition: never candidates. */
  currentMembers: readonly string[];
  registry: readonly RegistryModel[];
  tolerance?: CandidateTolerance;
  /** metadata.labels keys that must match (default DEFAULT_MATCH_LABELS). */
  matchLabels?: readonly string[];
}

export interface CandidateSelection {
  candidates: Candidate[];
  excluded: Exclusion[];
}

/** `NAME@VERSION` of a description. */
export function modelKey(d: ModelDescription): string {
  return `${d.metadata.name}@${d.metadata.version}`;
}

/** A number for a reason: at most 4 decimals, no trailing zeros. */
function num(x: number): string {
  return String(Number(x.toFixed(4)));
}

/** Compatible registry models that beat `input.member`, and why every other one is not. */
export function findCandidates(input: CandidateInput): CandidateSelection {
  const tolerance = input.tolerance ?? DEFAULT_CANDIDATE_TOLERANCE;
  const current = new Set([...input.currentMembers, input.member.key]);
  const byKey = new Map(input.registry.map((r) => [modelKey(r.description), r]));
  const composition = withLabels(input.composition, input.labels);
  const memberModels: CompositionMemberModel[] = input.currentMembers.flatMap((key, index) => {
    const r = byKey.get(key);
    return r ? [{ index, ref: key, description: r.description }] : [];
  });
  const candidateIndex = Math.max(input.composition.spec.members.length, input.currentMembers.length);
  const candidatePath = formatPath(['spec', 'members', candidateIndex]);
  const required = requiredLabels(input.composition, byKey.get(input.member.key)?.description, input.matchLabels ?? DEFAULT_MATCH_LABELS);

  const accepted: { model: RegistryModel; candidate: Omit<Candidate, 'efficiency'>; cpu: number | undefined }[] = [];
  const excluded: Exclusion[] = [];
  for (const model of input.registry) {
    const key = modelKey(model.description);
    const exclude = (reasons: string[]): void => {
      excluded.push({ key, reason: `${key}: ${reasons.join('; ')}` });
    };
    if (current.has(key)) {
      exclude([key === input.member.key ? 'the member being replaced' : 'already a member of the composition']);
      continue;
    }
    const reasons: string[] = [];
    const problems = checkMembers(composition, [...memberModels, { index: candidateIndex, ref: key, description: model.description }]);
    for (const p of problems) {
      if (p.path !== candidatePath && !p.path.startsWith(`${candidatePath}.`)) continue;
      reasons.push(p.message.startsWith(`${key} `) ? p.message.slice(key.length + 1) : p.message);
    }
    const have = model.description.metadata.labels ?? {};
    for (const [name, value] of required) {
      const got = have[name];
      if (got === undefined) reasons.push(`no label ${name}=${value}`);
      else if (got !== value) reasons.push(`label ${name}=${got}, not ${value}`);
    }
    if (reasons.length > 0) {
      exclude(reasons);
      continue;
    }
    const qos = qosOf(model, input.composition.spec.task);
    const m = input.member;
    if (qos.accuracy === undefined) {
      reasons.push(`no accuracy: none measured and none declared (spec.performance ${ACCURACY_METRICS[input.composition.spec.task].join(', ')})`);
    } else if (!(qos.accuracy.value > m.accuracy)) {
      reasons.push(`${qos.accuracy.source} accuracy ${num(qos.accuracy.value)} not above the member's measured ${num(m.accuracy)}`);
    }
    if (qos.latencyMs === undefined) {
      reasons.push('no latency: none measured and none declared (spec.qos.latencyMs)');
    } else if (qos.latencyMs.value > m.latencyMs * tolerance.latencyFactor) {
      reasons.push(
        `${qos.latencyMs.source} latency ${num(qos.latencyMs.value)}ms above ${num(tolerance.latencyFactor)}x the member's ${num(m.latencyMs)}ms (${num(m.latencyMs * tolerance.latencyFactor)}ms)`,
      );
    }
    if (qos.reliability.value < m.reliability - tolerance.reliabilityMargin) {
      reasons.push(
        `${qos.reliability.source} reliability ${num(qos.reliability.value)} below the member's ${num(m.reliability)} - ${num(tolerance.reliabilityMargin)}`,
      );
    }
    if (reasons.length > 0 || qos.accuracy === undefined || qos.latencyMs === undefined) {
      exclude(reasons);
      continue;
    }
    const labelDistribution = targetDistribution(model.profile, input.labels);
    const cpuValue = model.description.spec.resources?.serving?.cpu;
    accepted.push({
      model,
      cpu: typeof cpuValue === 'string' || typeof cpuValue === 'number' ? parseQuantity(cpuValue) : undefined,
      candidate: {
        key,
        accuracy: qos.accuracy.value,
        latencyMs: qos.latencyMs.value,
        reliability: qos.reliability.value,
        history: [...(model.measured?.history ?? [])],
        ...(labelDistribution ? { labelDistribution } : {}),
        ...(model.parameters ? { parameters: model.parameters } : {}),
        measured: qos.accuracy.source === 'measured' || qos.latencyMs.source === 'measured',
      },
    });
  }
  const maxCpu = Math.max(0, ...accepted.map((a) => a.cpu ?? 0));
  const candidates = accepted.map(({ candidate, cpu }) => ({ ...candidate, efficiency: cpu === undefined || maxCpu <= 0 ? 1 : 1 - cpu / maxCpu }));
  return { candidates, excluded };
}

/** The composition with its label set fixed to `labels` (classification), so checkMembers compares against it. */
function withLabels(c: CompositionDescription, labels: readonly string[]): CompositionDescription {
  if (c.spec.task !== 'classification' || labels.length === 0) return c;
  return { ...c, spec: { ...c.spec, outputs: { ...c.spec.outputs, labels: [...labels] } } };
}

/** The metadata labels a candidate must carry: the composition's value, else the replaced member's. */
function requiredLabels(c: CompositionDescription, member: ModelDescription | undefined, keys: readonly string[]): [string, string][] {
  return keys.flatMap((k): [string, string][] => {
    const v = c.metadata.labels?.[k] ?? member?.metadata.labels?.[k];
    return v === undefined ? [] : [[k, v]];
  });
}

export type QosSource = 'measured' | 'declared';

/** A registry model's QoS as candidate selection reads it, each value with where it came from. */
export interface CandidateQos {
  accuracy?: { value: number; source: QosSource };
  latencyMs?: { value: number; source: QosSource };
  reliability: { value: number; source: QosSource | 'assumed' };
}

/** Measured values where present, else declared ones; see the header for which metrics count. */
export function qosOf(model: Pick<RegistryModel, 'description' | 'measured'>, task: 'classification' | 'regression'): CandidateQos {
  const spec = model.description.spec;
  const measured = model.measured ?? {};
  const pick = (m: number | undefined, d: number | undefined): { value: number; source: QosSource } | undefined =>
    isFiniteNumber(m) ? { value: m, source: 'measured' } : isFiniteNumber(d) ? { value: d, source: 'declared' } : undefined;
  const accuracy = pick(measured.accuracy, declaredAccuracy(spec.performance, task));
  const latencyMs = pick(measured.latencyMs, spec.qos?.latencyMs);
  const reliability = pick(measured.reliability, spec.qos?.reliability) ?? { value: 1, source: 'assumed' as const };
  return { ...(accuracy ? { accuracy } : {}), ...(latencyMs ? { latencyMs } : {}), reliability };
}

function isFiniteNumber(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

function declaredAccuracy(performance: Record<string, number> | undefined, task: 'classification' | 'regression'): number | undefined {
  if (!performance) return undefined;
  const byName = new Map(Object.entries(performance).map(([k, v]) => [k.toLowerCase(), v]));
  for (const name of ACCURACY_METRICS[task]) {
    const v = byName.get(name);
    if (v !== undefined && Number.isFinite(v) && v >= 0 && v <= 1) return v;
  }
  return undefined;
}

/** The profile's categorical target counts in `labels` order, normalised; undefined when unusable. */
export function targetDistribution(profile: Pick<ReferenceProfile, 'target'> | undefined, labels: readonly string[]): number[] | undefined {
  const target = profile?.target;
  if (target?.kind !== 'categorical' || labels.length === 0) return undefined;
  const counts = labels.map((l) => Math.max(0, target.counts[l] ?? 0));
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 0 ? counts.map((c) => c / total) : undefined;
}

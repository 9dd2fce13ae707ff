// Adaptive recomposition of a running composition: its live measurements and recorded predictions
// (the router's /members and /records) feed the four pure stages of src/adapt (assessment,
// candidates, composition rules, optimisation); the chosen plan is applied through the ordinary
// re-apply path (deploy the candidate, swap it in without dropping requests, release the replaced
// member through the two-step decommission) and recorded in the composition's history.
import { seededRandom } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { MaasError } from '../core/errors.js';
import { assess } from '../adapt/assess.js';
import { experienceFrom, type LearningEntry, type ServedReplacement } from '../adapt/experience.js';
import { findCandidates, type RegistryModel } from '../adapt/candidates.js';
import { contextsOf } from '../adapt/linucb.js';
import { ruleScores, type ExplainedRuleScores } from '../adapt/rules.js';
import { strategyByName } from '../adapt/strategies.js';
import {
  DEFAULT_CONTRIBUTION,
  DEFAULT_QOS_WEIGHTS,
  DEFAULT_RULE_WEIGHTS,
  DEFAULT_THRESHOLDS,
  type Assessment,
  type AssessmentMethod,
  type Candidate,
  type Exclusion,
  type MemberProfile,
  type RecordedRow,
  type StrategyName,
} from '../adapt/types.js';
import type { Aggregation, CompositionDescription, CompositionRecord } from '../domain/composition.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import { nextVersion } from '../domain/version.js';
import type { CompositionRecordsWire } from '../protocol/composition-records.js';
import type { CompositionStatsWire, MemberStatsWire } from '../protocol/composition-stats.js';
import type { InferenceApi } from '../protocol/inference-api.js';
import { composeApply } from './compose.js';
import { requireComposition } from './compose-status.js';
import type { Services } from './services.js';
import { observeDeployment } from './status.js';
import type { Progress } from '../targets/target.js';

/** Recorded labelled rows read for an assessment (the newest). */
export const ASSESS_ROWS = 5_000;
/** Without a latency budget in the description, the QoS score's Tmax. */
const DEFAULT_BUDGET_MS = 1_000;

interface Live {
  record: CompositionRecord;
  router: DeploymentRecord;
  api: InferenceApi;
  stats: CompositionStatsWire;
  records: CompositionRecordsWire;
  task: 'classification' | 'regression';
  labels: string[];
  aggregation: Aggregation;
  budgetMs: number;
}

async function live(s: Services, name: string, timeoutMs: number): Promise<Live> {
  const record = await requireComposition(s, name);
  const found = await s.deployments.getDeployment(record.router);
  if (!found) throw new MaasError('NOT_FOUND', `the router ${record.router} of composition ${name} is gone`, { hint: `\`maas compose apply\` its file again` });
  const router = (await observeDeployment(s, found)).deployment;
  if (router.state !== 'ready')
    throw new MaasError('UNAVAILABLE', `the router ${router.id} of composition ${name} is ${router.state}: nothing is measured`, {
      hint: `\`maas restart ${router.id}\` serves it again`,
    });
  const target = await s.targets.get(router.target);
  const api = await s.inference(await target.endpoint(router), name, timeoutMs);
  const [stats, records] = await Promise.all([api.members(), api.records({ labelled: true, limit: ASSESS_ROWS })]);
  const spec = record.description.spec;
  return {
    record,
    router,
    api,
    stats,
    records,
    task: spec.task,
    labels: records.labels ?? spec.outputs?.labels ?? [],
    aggregation: spec.aggregation ?? (spec.task === 'classification' ? 'majority' : 'mean'),
    budgetMs: spec.qos?.latencyBudget !== undefined ? parseDuration(spec.qos.latencyBudget, 'spec.qos.latencyBudget') : DEFAULT_BUDGET_MS,
  };
}

/** The router's labelled records as assessment reads them: answers and truth as label indexes (or values). */
export function recordedRows(records: CompositionRecordsWire, keys: readonly string[], labels: readonly string[]): RecordedRow[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  const rows: RecordedRow[] = [];
  for (const r of records.records) {
    if (!r.truth) continue;
    const truth = 'label' in r.truth ? index.get(r.truth.label) : r.truth.value;
    if (truth === undefined) continue;
    const answers: (number | undefined)[] = [];
    const probabilities: (readonly number[] | undefined)[] = [];
    const latencyMs: (number | undefined)[] = [];
    for (const key of keys) {
      const a = r.members[key];
      const ok = a?.outcome === 'answered';
      answers.push(!ok ? undefined : records.task === 'classification' ? (a.label !== undefined ? index.get(a.label) : undefined) : a.value);
      probabilities.push(ok ? a.probabilities : undefined);
      latencyMs.push(ok ? a.latencyMs : undefined);
    }
    rows.push({ truth, answers, probabilities, latencyMs });
  }
  return rows;
}

const accuracyOf = (m: MemberStatsWire | undefined): number | null => m?.quality.accuracy ?? (m?.quality.mae != null ? 1 / (1 + m.quality.mae) : null);

/** Members as assessment sees them: measured reliability, p95 latency, quality history and (shared architecture) parameters. */
async function profiles(s: Services, l: Live): Promise<MemberProfile[]> {
  const measured = new Map(l.stats.members.map((m) => [m.key, m]));
  const out: MemberProfile[] = [];
  const params: ({ signature: string; parameters: Float64Array } | undefined)[] = [];
  for (const m of l.record.members) {
    const stats = measured.get(m.key);
    const d = await s.deployments.getDeployment(m.deployment);
    const model = d ? await s.models.getModel(d.model, d.version) : undefined;
    params.push(model ? await s.evaluator.parameters?.(model).catch(() => undefined) : undefined);
    out.push({
      key: m.key,
      weight: m.weight,
      reliability: stats?.reliability ?? 1,
      latencyMs: stats?.latencyMs.p95 ?? 0,
      history: (stats?.history.points ?? []).map((p) => p.accuracy ?? (p.mae !== undefined ? 1 / (1 + p.mae) : 0)),
    });
  }
  // FedTruth-style distances only mean something between members of one architecture.
  const first = params[0];
  if (first && params.every((p) => p?.signature === first.signature)) params.forEach((p, i) => (out[i]!.parameters = p!.parameters));
  return out;
}

export interface AssessReport {
  composition: string;
  method: AssessmentMethod;
  assessment: Assessment;
  /** Per member, what the scores rest on. */
  measured: { key: string; accuracy: number | null; reliability: number; latencyMs: number; labelled: number }[];
  underperforming: string[];
  policy: { qosWeights: typeof DEFAULT_QOS_WEIGHTS; contribution: typeof DEFAULT_CONTRIBUTION; latencyBudgetMs: number };
}

async function assessLive(s: Services, l: Live, method: AssessmentMethod, seed: number): Promise<AssessReport> {
  const spec = l.record.description.spec;
  const members = await profiles(s, l);
  const rows = recordedRows(
    l.records,
    members.map((m) => m.key),
    l.labels,
  );
  if (rows.length === 0)
    throw new MaasError('UNAVAILABLE', `composition ${l.record.name} has no labelled predictions yet: nothing to assess`, {
      hint: `send ground truth with \`maas feedback ${l.record.name} ...\` for some of its predictions first`,
    });
  const qosWeights = spec.policy?.qosWeights ?? DEFAULT_QOS_WEIGHTS;
  const contribution = spec.policy?.contribution ?? DEFAULT_CONTRIBUTION;
  const assessment = assess({
    task: l.task,
    ...(l.labels.length > 0 ? { labels: l.labels } : {}),
    aggregation: l.aggregation,
    members,
    rows,
    latencyBudgetMs: l.budgetMs,
    weights: qosWeights,
    contribution,
    method,
    random: randomFrom(seed),
  });
  const stats = new Map(l.stats.members.map((m) => [m.key, m]));
  return {
    composition: `${l.record.name}@${l.record.version}`,
    method,
    assessment,
    measured: members.map((m) => ({
      key: m.key,
      accuracy: accuracyOf(stats.get(m.key)),
      reliability: m.reliability,
      latencyMs: m.latencyMs,
      labelled: stats.get(m.key)?.quality.labelled ?? 0,
    })),
    underperforming: assessment.members.filter((m) => m.underperforming).map((m) => m.key),
    policy: { qosWeights, contribution, latencyBudgetMs: l.budgetMs },
  };
}

export async function assessComposition(s: Services, req: { name: string; method: AssessmentMethod; timeoutMs: number; seed?: number }): Promise<AssessReport> {
  return assessLive(s, await live(s, req.name, req.timeoutMs), req.method, req.seed ?? 0);
}

export interface ScoredCandidate {
  key: string;
  accuracy: number;
  latencyMs: number;
  reliability: number;
  measured: boolean;
  rules: ExplainedRuleScores;
}

export interface AdaptResult {
  composition: string;
  /** `nothing`: no member below threshold; `no-plan`: no acceptable replacement; `planned`: --dry-run; `applied`. */
  status: 'nothing' | 'no-plan' | 'planned' | 'applied';
  reason: string;
  strategy: StrategyName;
  assessment: AssessReport;
  /** Per underperforming member: its candidates with their rule scores, and why others were excluded. */
  candidates: { member: string; candidates: ScoredCandidate[]; excluded: Exclusion[] }[];
  plan?: {
    replacements: { member: string; candidate: string; confidence: number; accuracyGain: number }[];
    score: number;
    evaluations: number;
    combinations: number;
  };
  /** The composition version after applying. */
  version?: string;
  accuracyBefore: number | null;
  /** Replacements of earlier adaptations measured while serving here: LinUCB started from them. */
  experience: ServedReplacement[];
}

/** Every registered version as candidate selection sees it: description, profile target, parameters. */
async function registry(s: Services, withParameters: boolean): Promise<RegistryModel[]> {
  const out: RegistryModel[] = [];
  for (const summary of await s.models.listModels()) {
    for (const v of await s.models.listVersions(summary.name)) {
      const profile = await s.models.getProfile(v.name, v.version).catch(() => undefined);
      const params = withParameters ? await s.evaluator.parameters?.(v).catch(() => undefined) : undefined;
      out.push({ description: v.description, ...(profile ? { profile } : {}), ...(params ? { parameters: params.parameters } : {}) });
    }
  }
  return out;
}

const randomFrom = (seed: number): (() => number) => {
  const r = seededRandom(seed);
  return () => r.next();
};

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export async function adaptComposition(
  s: Services,
  req: { name: string; dryRun: boolean; strategy: StrategyName; timeoutMs: number; seed?: number; by?: string },
  progress: Progress,
): Promise<AdaptResult> {
  const l = await live(s, req.name, req.timeoutMs);
  const strategy = strategyByName(req.strategy, l.record.description.spec.policy?.bandit ?? {});
  const report = await assessLive(s, l, 'scs', req.seed ?? 0);
  const learnt = experienceFrom(l.record.history, l.records);
  const base = {
    composition: report.composition,
    strategy: strategy.name,
    assessment: report,
    accuracyBefore: l.stats.quality.accuracy ?? null,
    experience: [...learnt.served.values()],
  };
  const weak = report.assessment.members.filter((m) => m.underperforming);
  if (weak.length === 0) {
    return {
      ...base,
      status: 'nothing',
      reason: `no member below threshold (SCS >= ${report.assessment.threshold} for all ${report.assessment.members.length})`,
      candidates: [],
    };
  }
  progress(`underperforming: ${weak.map((m) => `${m.key} (SCS ${m.score.toFixed(3)})`).join(', ')}`);

  // 2-3. Candidates from the registry for each weak member, scored by the composition rules.
  const spec = l.record.description.spec;
  const members = await profiles(s, l);
  const withParams = members.every((m) => m.parameters !== undefined);
  const models = await registry(s, withParams);
  const measured = new Map(l.stats.members.map((m) => [m.key, m]));
  const truth = recordedRows(
    l.records,
    members.map((m) => m.key),
    l.labels,
  );
  const labelCounts = l.labels.map((_, i) => truth.filter((r) => r.truth === i).length);
  const compositionLabelDistribution = labelCounts.map((c) => c / Math.max(1, truth.length));
  const memberParameters = withParams ? members.map((m) => m.parameters!) : undefined;
  const compositionParameters = memberParameters ? meanVector(memberParameters) : undefined;
  const history = l.stats.history.points.map((p) => p.accuracy ?? 0);
  const weights = spec.policy?.rules ?? DEFAULT_RULE_WEIGHTS;
  const thresholds = { ...DEFAULT_THRESHOLDS, ...spec.policy?.thresholds };
  const perMember: AdaptResult['candidates'] = [];
  const pools: { member: string; candidates: Candidate[]; scores: ExplainedRuleScores[]; memberAccuracy: number }[] = [];
  for (const w of weak) {
    const stats = measured.get(w.key);
    const memberAccuracy = accuracyOf(stats) ?? 0;
    const { candidates, excluded } = findCandidates({
      composition: l.record.description,
      labels: l.labels,
      member: { key: w.key, accuracy: memberAccuracy, latencyMs: stats?.latencyMs.p95 ?? 0, reliability: stats?.reliability ?? 1 },
      currentMembers: l.record.members.map((m) => m.key),
      registry: models,
    });
    const others = members.filter((m) => m.key !== w.key).map((m) => m.latencyMs);
    const scores = candidates.map((c) =>
      ruleScores(
        c,
        {
          compositionLabelDistribution,
          ...(compositionParameters ? { compositionParameters } : {}),
          ...(memberParameters ? { memberParameters } : {}),
          compositionLatencyMs: (cand: Candidate) => Math.max(cand.latencyMs, ...others),
          latencyBudgetMs: l.budgetMs,
          compositionHistory: history,
        },
        weights,
        thresholds,
      ),
    );
    pools.push({ member: w.key, candidates, scores, memberAccuracy });
    perMember.push({
      member: w.key,
      candidates: candidates.map((c, i) => ({
        key: c.key,
        accuracy: c.accuracy,
        latencyMs: c.latencyMs,
        reliability: c.reliability,
        measured: c.measured,
        rules: scores[i]!,
      })),
      excluded,
    });
    progress(`${w.key}: ${candidates.length} candidate${candidates.length === 1 ? '' : 's'}, ${excluded.length} excluded`);
  }

  // 4. Optimisation: the strategy picks one replacement per weak member that has an acceptable
  // candidate; a weak member without one stays (nothing in the registry can replace it).
  const noneFor = pools.filter((p) => p.candidates.length === 0 || p.scores.every((x) => x.rejected)).map((p) => p.member);
  const open = pools.filter((p) => !noneFor.includes(p.member));
  if (open.length === 0) {
    return { ...base, status: 'no-plan', reason: `no acceptable replacement for ${noneFor.join(', ')} in the registry`, candidates: perMember };
  }
  const byKey = new Map(pools.flatMap((p) => p.candidates.map((c, i) => [`${p.member}\u0000${c.key}`, { c, rules: p.scores[i]!, p }] as const)));
  const contexts = new Map(open.map((p) => [p.member, contextsOf(p.candidates)]));
  // A candidate measured while serving here earlier is judged by that accuracy, not its declared one.
  const accuracy = (c: Candidate): number => learnt.served.get(c.key)?.reward ?? c.accuracy;
  const result = strategy.choose(
    {
      members: open.map((p) => p.member),
      candidates: open.map((p) =>
        p.candidates.map((c, i) => {
          const served = learnt.served.get(c.key)?.reward;
          return {
            key: c.key,
            context: contexts.get(p.member)![i]!,
            confidence: p.scores[i]!.confidence,
            ...(p.scores[i]!.rejected ? { rejected: true } : {}),
            qos: (c.accuracy + c.reliability + (1 - Math.min(1, c.latencyMs / l.budgetMs))) / 3,
            ...(served !== undefined ? { served } : {}),
          };
        }),
      ),
      // The reward of a plan: the rules' confidence and the accuracy each replacement brings.
      evaluate: (plan) =>
        mean(
          plan.map((key, i) => {
            const hit = byKey.get(`${open[i]!.member}\u0000${key}`)!;
            return 0.5 * hit.rules.confidence + 0.5 * accuracy(hit.c);
          }),
        ),
      topK: spec.policy?.bandit?.topK ?? 3,
      experience: learnt.experience,
    },
    randomFrom(req.seed ?? 0),
  );
  const best = result.plans[0];
  if (!best) {
    return {
      ...base,
      status: 'no-plan',
      reason: `no plan gives each of ${open.map((p) => p.member).join(', ')} a replacement of its own`,
      candidates: perMember,
    };
  }
  const replacements = best.replacements.map((r) => {
    const hit = byKey.get(`${r.member}\u0000${r.candidate}`)!;
    return { member: r.member, candidate: r.candidate, confidence: hit.rules.confidence, accuracyGain: accuracy(hit.c) - hit.p.memberAccuracy };
  });
  // Kept with the decision so that the next adaptation can learn what these contexts were worth.
  const learning: LearningEntry[] = replacements.map((r) => {
    const pool = open.find((p) => p.member === r.member)!;
    const at = pool.candidates.findIndex((c) => c.key === r.candidate);
    return { member: r.member, candidate: r.candidate, context: Array.from(contexts.get(r.member)![at]!) };
  });
  const plan = { replacements, score: best.score, evaluations: result.evaluations, combinations: result.combinations };
  // A plan that does not bring more accuracy than it takes away is never applied.
  if (replacements.reduce((a, r) => a + r.accuracyGain, 0) <= 0) {
    return { ...base, status: 'no-plan', reason: 'the best plan would not improve the composition', candidates: perMember, plan };
  }
  const summary =
    replacements.map((r) => `${r.member} -> ${r.candidate}`).join(', ') +
    (noneFor.length > 0 ? ` (kept ${noneFor.join(', ')}: no acceptable replacement)` : '');
  if (req.dryRun) return { ...base, status: 'planned', reason: `would replace ${summary}`, candidates: perMember, plan };

  // Apply through the re-apply path: the same description with the members swapped, a new version.
  const version = nextVersion([l.record.version]);
  const description = replaceMembers(l.record, replacements, version);
  const applied = await composeApply(
    s,
    {
      description,
      target: l.router.target,
      async: false,
      timeoutMs: req.timeoutMs,
      ...(req.by !== undefined ? { by: req.by } : {}),
      as: {
        event: 'adapted',
        summary: `replaced ${summary}`,
        detail: {
          strategy: strategy.name,
          plan,
          learning,
          accuracyBefore: base.accuracyBefore,
          scores: report.assessment.members.map((m) => ({ key: m.key, score: m.score, underperforming: m.underperforming })),
        },
      },
    },
    progress,
  );
  return { ...base, status: 'applied', reason: `replaced ${summary}`, candidates: perMember, plan, version: applied.composition.version };
}

function meanVector(vs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < out.length; i++) out[i]! += v[i]! / vs.length;
  return out;
}

/** The stored description with each replaced member's entry now naming its candidate (weight, role, timeout kept). */
function replaceMembers(record: CompositionRecord, replacements: { member: string; candidate: string }[], version: string): CompositionDescription {
  const d = record.description;
  const byKey = new Map(replacements.map((r) => [r.member, r.candidate]));
  const members = d.spec.members.map((m, i) => {
    const key = record.members[i]?.key;
    const to = key !== undefined ? byKey.get(key) : undefined;
    if (to === undefined) return m;
    const { deployment: _dropped, model: _old, ...rest } = m;
    return { ...rest, model: to };
  });
  return { ...d, metadata: { ...d.metadata, version }, spec: { ...d.spec, members } };
}

export interface HistoryEntry {
  at: string;
  event: string;
  version: string;
  summary: string;
  detail?: Record<string, unknown>;
  /** Adaptations: the composition's accuracy before (recorded) and since (measured now on labelled rows after it). */
  accuracyBefore?: number | null;
  accuracyAfter?: number | null;
  labelledAfter?: number;
}

/** The composition's history; adaptations with the accuracy measured on the labelled rows that followed them. */
export async function compositionHistory(s: Services, name: string, timeoutMs: number): Promise<{ composition: string; events: HistoryEntry[] }> {
  const record = await requireComposition(s, name);
  let api: InferenceApi | undefined;
  try {
    const router = await s.deployments.getDeployment(record.router);
    if (router && router.state === 'ready') api = await s.inference(await (await s.targets.get(router.target)).endpoint(router), name, timeoutMs);
  } catch {
    api = undefined;
  }
  const events: HistoryEntry[] = [];
  for (const e of record.history) {
    const entry: HistoryEntry = { ...e };
    if (e.event === 'adapted') {
      entry.accuracyBefore = (e.detail?.accuracyBefore as number | null | undefined) ?? null;
      const after = api ? await api.records({ labelled: true, since: e.at, limit: ASSESS_ROWS }).catch(() => undefined) : undefined;
      if (after) {
        const labelled = after.records.filter((r) => r.truth && 'label' in r.truth);
        const right = labelled.filter((r) => r.truth && 'label' in r.truth && r.answer.label === r.truth.label).length;
        entry.labelledAfter = labelled.length;
        entry.accuracyAfter = labelled.length > 0 ? right / labelled.length : null;
      }
    }
    events.push(entry);
  }
  return { composition: `${record.name}@${record.version}`, events };
}

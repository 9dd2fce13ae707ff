// `maas retrain`: assemble the training set (the description's data, `--data` files, labelled
// feedback with its recent part held out), run the model's own training program, register the
// result with its lineage, compare it with the serving version on the held-out rows, and roll it
// out when it is really better. Every step goes through ports; nothing is registered unless the
// program's output validates.
import { createHash } from 'node:crypto';
import { MaasError } from '../core/errors.js';
import type { WorkDir } from '../core/workspace.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { formatModelRef, parseModelRef } from '../domain/model-ref.js';
import type { InClusterTraining, KubeTrainingOptions, LineageInput, ModelLineage, TrainingIo, TrainingOutcome, TrainingTarget } from '../domain/training.js';
import { nextVersion } from '../domain/version.js';
import type { DriftReport } from '../drift/report.js';
import { formatCsv } from '../protocol/csv.js';
import type { LabelledCell } from '../protocol/labelled.js';
import type { AssembleResult, EvaluateResult } from '../retrain/in-cluster.js';
import { assembleTrainingSet, type TrainingSet, type WeightingMode } from '../retrain/training-set.js';
import { compareVersions, type Comparison } from './compare.js';
import { connect } from './connect.js';
import { exportFeedback } from './feedback-export.js';
import { findDeployment, requireModel, requireModelServer } from './lookup.js';
import { rollout } from './rollout.js';
import type { Services } from './services.js';
import { trainAndRegister } from './train-and-register.js';

export type PromotePolicy = 'auto' | 'never' | 'always';

export interface RetrainRequest {
  /** A deployment (ID, prefix, NAME[@VERSION] of what it serves) or a registered NAME[@VERSION]. */
  subject: string;
  /** Extra training data files (CSV: the features and the target). */
  data: readonly string[];
  /** Add the deployment's labelled feedback. */
  feedback: boolean;
  /** Check drift first and do nothing without it. */
  onDrift: boolean;
  version?: string;
  target: TrainingTarget;
  kube?: KubeTrainingOptions;
  timeoutMs: number;
  dryRun: boolean;
  weighting: { mode: WeightingMode; feedbackWeight?: number; since?: string };
  /** Share of the most recent labelled feedback kept out of training to compare on (default 0.3). */
  holdout?: number;
  promote: PromotePolicy;
  margin?: number;
  /** Where relative paths (data files, the training command) resolve from. */
  cwd: string;
  /**
   * Also train on the data the description names (default true). False on a server: those paths
   * come from a client, and the server reads no files a client names.
   */
  descriptionData?: boolean;
}

export interface RetrainResult {
  status: 'skipped' | 'planned' | 'registered' | 'promoted';
  reason: string;
  champion: string;
  challenger?: string;
  deployment?: string;
  drift?: { dataset: boolean; share: number; concept: boolean };
  trainingSet?: Pick<TrainingSet, 'counts' | 'weighting' | 'classBalance'> & { holdout: number; file?: string };
  command?: string[];
  training?: { seconds: number; logTail: string[] };
  lineage?: ModelLineage;
  comparison?: Comparison;
  rollout?: { from: string; to: string; message: string };
  /** A strict deployment's feedback: where the Job ran and what it was told (the rows stayed there). */
  onNode?: { node: string; last?: number; since?: string; holdout: number; baseRows: number };
}

export type RetrainProgress = (line: string) => void;

const DEFAULT_HOLDOUT = 0.3;
/** Fewer held-out rows than this and no comparison is attempted on feedback alone. */
const MIN_HOLDOUT_ROWS = 30;

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const cell = (v: LabelledCell): string => (v === null ? '' : String(v));

/** Rows of a data file in `columns` order (cells as strings); a missing column is an error naming it. */
async function readRows(s: Services, uri: string, cwd: string, columns: readonly string[]): Promise<{ source: string; digest: string; rows: string[][] }> {
  const data = await s.datasets.open(uri, { baseDir: cwd });
  const missing = columns.filter((c) => !data.columns.includes(c));
  if (missing.length > 0)
    throw new MaasError('USAGE', `${uri} has no column ${missing.map((m) => `"${m}"`).join(', ')}`, {
      hint: 'training data needs a column per feature and the target column, named as in the description',
    });
  const rows: string[][] = [];
  for await (const r of data.records()) rows.push(columns.map((c) => r[c] ?? ''));
  return { source: data.uri, digest: data.digest, rows };
}

/** The description's own training data: the profiled (absolute) source when known, else its URI. */
async function descriptionData(s: Services, champion: ModelVersionRecord): Promise<string | undefined> {
  const profile = await s.models.getProfile(champion.name, champion.version).catch(() => undefined);
  if (profile?.source.uri.startsWith('file:')) return profile.source.uri;
  const uri = champion.description.spec.training?.data?.uri;
  return uri !== undefined && (uri.startsWith('file:') || !uri.includes('://')) ? uri : undefined;
}

async function driftOf(s: Services, d: DeploymentRecord, timeoutMs: number): Promise<DriftReport | undefined> {
  const { api } = await connect(s, d.id, timeoutMs);
  try {
    return await api.drift();
  } catch (e) {
    // A deployment without a reference profile has no data-drift report; concept drift then is unknown.
    if (e instanceof MaasError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * Where the concept last changed, as a count of the newest labelled rows after it: the earliest
 * of the last drift points of ADWIN and Page-Hinkley (the detectors the verdict rests on).
 */
export function changePoint(report: DriftReport | undefined): { index: number; after: number; detector: string } | undefined {
  const c = report?.concept;
  if (!c?.drifted) return undefined;
  let best: { index: number; detector: string } | undefined;
  for (const d of c.detectors) {
    if (d.detector !== 'adwin' && d.detector !== 'page-hinkley') continue;
    const last = d.drifts[d.drifts.length - 1];
    if (last !== undefined && (best === undefined || last < best.index)) best = { index: last, detector: d.detector };
  }
  return best ? { ...best, after: c.labelled - best.index } : undefined;
}

/** Seconds the Job's first step waits for the server to see its token (a new Secret reaches a pod's volume within about a minute). */
const IN_CLUSTER_TOKEN_WAIT_SECONDS = 180;

/** What the Job on the node reported: the training set it assembled and the comparison it made (or why none). */
function nodeResults(t: TrainingOutcome): { assemble: AssembleResult; comparison?: Comparison; skipped?: string } {
  const results = t.results ?? [];
  const assemble = results.find((r): r is AssembleResult => r.step === 'assemble');
  const evaluate = results.find((r): r is EvaluateResult => r.step === 'evaluate');
  if (!assemble || !evaluate)
    throw new MaasError('FAILURE', `the retraining Job on the node did not report its ${assemble ? 'comparison' : 'training set'}`, {
      hint: "the image of the deployment must be a maas image with `maas retrain-step`; see the Job's log above",
    });
  const c = evaluate.comparison as Partial<Comparison> | undefined;
  if (c && (typeof c.verdict !== 'string' || !c.primary || !c.test || !c.a || !c.b))
    throw new MaasError('FAILURE', 'the retraining Job on the node reported a comparison maas cannot read');
  return { assemble, ...(c ? { comparison: c as Comparison } : {}), ...(evaluate.skipped ? { skipped: evaluate.skipped } : {}) };
}

/** The lineage inputs of a run on the node: the base data, then the feedback as the Job assembled it. */
function onNodeLineage(
  t: TrainingOutcome,
  deployment: string,
  base: LineageInput[],
): { inputs: LineageInput[]; feedbackWindow?: { since?: string; until?: string } } {
  const { assemble } = nodeResults(t);
  return {
    inputs: [...base, { source: `feedback:${deployment}`, digest: assemble.feedback.digest, rows: assemble.feedback.rows }],
    ...(assemble.window ? { feedbackWindow: assemble.window } : {}),
  };
}

export async function retrain(
  s: Services,
  req: RetrainRequest,
  progress: RetrainProgress,
  io: Pick<TrainingIo, 'onOutput' | 'signal'>,
): Promise<RetrainResult> {
  const found = await findDeployment(s, req.subject);
  const deployment = found ? requireModelServer(found, 'retraining') : undefined;
  let champion: ModelVersionRecord;
  if (deployment) champion = await requireModel(s, deployment.model, deployment.version);
  else {
    const ref = parseModelRef(req.subject);
    champion = await requireModel(s, ref.name, ref.version);
  }
  const championRef = formatModelRef(champion.name, champion.version);
  const base: Pick<RetrainResult, 'champion' | 'deployment'> = { champion: championRef, ...(deployment ? { deployment: deployment.id } : {}) };
  if (!deployment && (req.feedback || req.onDrift))
    throw new MaasError('USAGE', `${req.feedback ? '--feedback' : '--on-drift'} needs a deployment, and no deployment serves ${req.subject}`, {
      hint: '`maas ps` lists deployments; give a deployment ID, or leave the flag out to retrain on data files',
    });

  // A strict deployment's labelled rows never leave its node: training on them runs in a Job there.
  const onNode = deployment?.mode === 'strict' && req.feedback ? deployment : undefined;
  if (onNode) {
    const where = `deployment ${onNode.id} is placed strictly${onNode.node ? ` on node ${onNode.node}` : ''}: its labelled rows never leave that node`;
    if (req.target !== 'kubernetes')
      throw new MaasError('USAGE', `${where}, so its feedback is trained on there, not here`, {
        hint: `add --target kubernetes: a Job on ${onNode.node ?? 'that node'} reads the rows from the model server, trains and compares there; or retrain on data files (--data FILE, without --feedback)`,
      });
    if (onNode.target !== 'kubernetes')
      throw new MaasError('USAGE', `${where}, and only a Kubernetes deployment can train there`, {
        hint: 'retrain it on data files (--data FILE, without --feedback)',
      });
  }

  // 1. Drift: a reason to retrain (--on-drift), and whether recent feedback should dominate.
  let drift: RetrainResult['drift'];
  let report: DriftReport | undefined;
  if (deployment && (req.onDrift || req.feedback)) {
    report = await driftOf(s, deployment, req.timeoutMs);
    if (report) drift = { dataset: report.dataset.drifted, share: report.dataset.share, concept: report.concept?.drifted ?? false };
    if (req.onDrift && !report?.drift_detected) {
      const why = report
        ? `no drift: ${report.dataset.drifted_features} of ${report.dataset.features} features drifted (share ${report.dataset.share.toFixed(2)} < ${report.dataset.threshold}), no concept drift`
        : 'no drift check possible: the deployment has no reference profile';
      return { ...base, status: 'skipped', reason: `${why}; nothing retrained`, ...(drift ? { drift } : {}) };
    }
  }

  // 2. Data: the description's, --data files, feedback (its most recent part held out).
  const spec = champion.description.spec;
  const features = spec.features.map((f) => f.name);
  const target = spec.training?.data?.target ?? spec.outputs?.name ?? (spec.task === 'classification' ? 'label' : 'value');
  const columns = [...features, target];
  const sources: { source: string; rows: string[][] }[] = [];
  const inputs: LineageInput[] = [];
  const ownData = req.descriptionData !== false && (req.data.length === 0 || req.feedback) ? await descriptionData(s, champion) : undefined;
  for (const uri of [...(ownData ? [ownData] : []), ...req.data]) {
    const r = await readRows(s, uri, req.cwd, columns);
    sources.push({ source: r.source, rows: r.rows });
    inputs.push({ source: r.source, digest: r.digest, rows: r.rows.length });
    progress(`data: ${r.rows.length} rows from ${r.source}`);
  }
  let feedback: { rows: string[][]; times: string[] } | undefined;
  let holdout: string[][] = [];
  let window: { since?: string; until?: string } | undefined;
  let last: number | undefined;
  if (onNode) {
    const change = req.weighting.mode === 'auto' && req.weighting.since === undefined ? changePoint(report) : undefined;
    if (change) {
      last = change.after;
      progress(`concept drift at labelled row ${change.index} (${change.detector}): the Job trains on the newest ${change.after} labelled rows`);
    }
    progress(`feedback: stays on node ${onNode.node ?? '(unknown)'}; the training set is assembled there`);
  } else if (deployment && req.feedback) {
    const exported = await exportFeedback(s, {
      deployment: deployment.id,
      timeoutMs: req.timeoutMs,
      ...(req.weighting.since ? { since: req.weighting.since } : {}),
    });
    const order = columns.map((c) => (c === target ? exported.features.length : exported.features.indexOf(c)));
    if (order.some((i) => i < 0)) throw new MaasError('CONFLICT', `the feedback of ${deployment.id} does not carry every feature of ${championRef}`);
    let rows = exported.rows.map((r) => order.map((i) => cell(r[i] ?? null)));
    let times = exported.times;
    // Under concept change only what came after the change teaches the new concept: with auto
    // weighting and no --since, feedback starts where ADWIN / Page-Hinkley last saw the change.
    const change = req.weighting.mode === 'auto' && req.weighting.since === undefined ? changePoint(report) : undefined;
    if (change && change.after < rows.length) {
      rows = rows.slice(rows.length - change.after);
      times = times.slice(times.length - change.after);
      progress(`concept drift at labelled row ${change.index} (${change.detector}): feedback from there on, the newest ${change.after} rows`);
    }
    const keep = Math.floor(rows.length * (1 - (req.holdout ?? DEFAULT_HOLDOUT)));
    feedback = { rows: rows.slice(0, keep), times: times.slice(0, keep) };
    holdout = rows.slice(keep);
    if (rows.length > 0) window = { since: times[0]!, until: times[times.length - 1]! };
    inputs.push({ source: `feedback:${deployment.id}`, digest: digestOf(formatCsv({ header: columns, rows: feedback.rows })), rows: feedback.rows.length });
    progress(`feedback: ${rows.length} labelled rows, ${feedback.rows.length} to train on, the newest ${holdout.length} held out to compare`);
  }
  if (!onNode && sources.length === 0 && (feedback?.rows.length ?? 0) === 0)
    throw new MaasError('USAGE', `no training data for ${championRef}`, {
      hint:
        req.descriptionData === false
          ? 'the deployment has no labelled feedback yet: send ground truth for its predictions first (`maas feedback`)'
          : 'the description names no local training data: give --data FILE, or --feedback with a deployment',
    });
  const task = spec.task === 'classification' ? 'classification' : 'regression';
  // On the node the set is assembled by the Job (with the feedback); here only the base rows are known.
  const set = onNode
    ? undefined
    : assembleTrainingSet({
        features,
        target,
        base: sources,
        ...(feedback ? { feedback } : {}),
        weighting: req.weighting,
        conceptDrift: drift?.concept ?? false,
        task,
      });
  const baseRows = sources.reduce((n, x) => n + x.rows.length, 0);
  progress(
    set ? `training set: ${set.counts.total} rows (${set.weighting.reason})` : `base data: ${baseRows} rows, joined by the labelled feedback on the node`,
  );
  const version = req.version ?? nextVersion((await s.models.listVersions(champion.name)).map((v) => v.version));
  const challengerRef = formatModelRef(champion.name, version);
  if (await s.models.getModel(champion.name, version))
    throw new MaasError('CONFLICT', `${challengerRef} is already registered`, { hint: 'give another --version, or leave it out for the next free one' });
  const command = spec.training?.code?.command;
  let trainingSet: RetrainResult['trainingSet'] = set
    ? { counts: set.counts, weighting: set.weighting, ...(set.classBalance ? { classBalance: set.classBalance } : {}), holdout: holdout.length }
    : undefined;
  const holdoutShare = req.holdout ?? DEFAULT_HOLDOUT;
  const inCluster: InClusterTraining | undefined = onNode
    ? {
        deployment: onNode,
        plan: {
          model: champion.name,
          champion: championRef,
          challenger: challengerRef,
          features,
          target,
          task,
          ...(req.weighting.since !== undefined ? { since: req.weighting.since } : {}),
          ...(last !== undefined ? { last } : {}),
          holdout: holdoutShare,
          weighting: req.weighting,
          conceptDrift: drift?.concept ?? false,
          minHoldoutRows: MIN_HOLDOUT_ROWS,
          ...(req.margin !== undefined ? { margin: req.margin } : {}),
          waitSeconds: IN_CLUSTER_TOKEN_WAIT_SECONDS,
        },
      }
    : undefined;
  const onNodeSummary = onNode
    ? {
        node: onNode.node ?? '',
        ...(last !== undefined ? { last } : {}),
        ...(req.weighting.since !== undefined ? { since: req.weighting.since } : {}),
        holdout: holdoutShare,
        baseRows,
      }
    : undefined;
  if (req.dryRun)
    return {
      ...base,
      status: 'planned',
      reason: onNode
        ? `would train ${challengerRef} in a Job on node ${onNode.node ?? '(unknown)'} on ${baseRows} base rows and the labelled feedback there`
        : `would train ${challengerRef} on ${set!.counts.total} rows (${req.target})`,
      challenger: challengerRef,
      ...(trainingSet ? { trainingSet } : {}),
      ...(onNodeSummary ? { onNode: onNodeSummary } : {}),
      ...(command ? { command: [...command] } : {}),
      ...(drift ? { drift } : {}),
    };

  // 3. Train and register, with lineage.
  let work: WorkDir | undefined;
  try {
    work = await s.workspace.create(`retrain-${champion.name}`);
    const dataFile = await work.write(
      'data.csv',
      set ? formatCsv({ header: set.header, rows: set.rows }) : formatCsv({ header: columns, rows: sources.flatMap((x) => x.rows) }),
    );
    const trained = await trainAndRegister(
      s,
      {
        job: {
          description: champion.description,
          dataFile,
          version,
          outDir: `${work.path}/out`,
          workDir: req.cwd,
          timeoutMs: req.timeoutMs,
          target: req.target,
          ...(req.kube ? { kube: req.kube } : {}),
          ...(inCluster ? { inCluster } : {}),
        },
        trigger: req.onDrift || drift?.concept || drift?.dataset ? 'drift' : 'manual',
        inputs,
        ...(window ? { feedbackWindow: window } : {}),
        // On the node, what the feedback was is known only once the Job assembled it.
        ...(onNode ? { complete: (t: TrainingOutcome) => onNodeLineage(t, onNode.id, inputs) } : {}),
      },
      io,
    );
    progress(`registered ${challengerRef} (trained in ${trained.training.seconds.toFixed(1)} s)`);
    const fromNode = onNode ? nodeResults(trained.training) : undefined;
    if (fromNode) {
      const a = fromNode.assemble;
      trainingSet = { counts: a.counts, weighting: a.weighting, ...(a.classBalance ? { classBalance: a.classBalance } : {}), holdout: a.holdout };
      progress(`training set on the node: ${a.counts.total} rows (${a.weighting.reason}); ${a.holdout} labelled rows held out there`);
    }
    const result: RetrainResult = {
      ...base,
      status: 'registered',
      reason: `${challengerRef} registered`,
      challenger: challengerRef,
      ...(trainingSet ? { trainingSet } : {}),
      ...(onNodeSummary ? { onNode: onNodeSummary } : {}),
      training: { seconds: trained.training.seconds, logTail: trained.training.logTail },
      lineage: trained.lineage,
      ...(drift ? { drift } : {}),
    };

    // 4. Champion against challenger on the held-out recent rows.
    let comparison: Comparison | undefined = fromNode?.comparison;
    if (fromNode?.skipped) progress(`compare: not on the node: ${fromNode.skipped}`);
    if (!onNode && holdout.length >= MIN_HOLDOUT_ROWS) {
      comparison = await compareVersions(s, {
        a: championRef,
        b: challengerRef,
        rows: { kind: 'rows', what: `the newest ${holdout.length} labelled feedback rows (not trained on)`, features, target, rows: holdout },
        ...(req.margin !== undefined ? { margin: req.margin } : {}),
      });
    }
    if (comparison) {
      result.comparison = comparison;
      progress(
        `compare${onNode ? ' (on the node)' : ''}: ${comparison.primary.metric} ${comparison.primary.a.toFixed(4)} -> ${comparison.primary.b.toFixed(4)}: ${comparison.verdict} (${comparison.reason})`,
      );
    }

    // 5. Promote.
    const promote = req.promote === 'always' || (req.promote === 'auto' && comparison?.verdict === 'better');
    if (!deployment || !promote) {
      result.reason =
        req.promote === 'never'
          ? `${challengerRef} registered; not rolled out (--promote never)`
          : !deployment
            ? `${challengerRef} registered; no deployment to roll out to`
            : comparison
              ? `${challengerRef} registered; not rolled out: ${comparison.verdict.replace('_', ' ')} (${comparison.reason})`
              : `${challengerRef} registered; not rolled out: ${fromNode?.skipped ?? `fewer than ${MIN_HOLDOUT_ROWS} held-out labelled rows to compare on`}`;
      return result;
    }
    const out = await rollout(
      s,
      { deployment: deployment.id, to: challengerRef, reason: 'retrain', ...(comparison ? { comparison } : {}), timeoutMs: req.timeoutMs },
      progress,
    );
    result.status = 'promoted';
    result.rollout = { from: championRef, to: challengerRef, message: out.message };
    result.reason = `${challengerRef} rolled out to ${deployment.id}${comparison ? ` (${comparison.reason})` : ' (--promote always)'}`;
    return result;
  } finally {
    await work?.dispose();
  }
}

// The composition router as an inference backend: one model name (the composition's) in front of
// several member model servers. A request is decoded as a model server would (columns or an [N, F]
// matrix, against the composition's features), sent on to members as named columns, and answered
// by mode: ensemble (every member, aggregated), split (one member picked by weight, the next one on
// failure) or shadow (the primary answers, the others get a copy). Members listed as shadows get a
// copy in every mode and never count. Every row is recorded with each member's answer; feedback is
// recorded, measured per member and forwarded to the members under their own prediction ids.
//
// The member set is swapped whole on a reload: a request keeps the set it started with, so calls
// in flight finish on the old members, and a member no longer listed is released once idle.
import type { Clock } from '../../core/clock.js';
import { systemClock, systemRandom } from '../../core/clock.js';
import { MaasError } from '../../core/errors.js';
import type { Aggregation, CompositionMode, RouterConfig, RouterMember } from '../../domain/composition.js';
import type { FeedbackItem, FeedbackResponse } from '../../protocol/feedback.js';
import { feedbackBody } from '../../protocol/feedback.js';
import type { ModelMetadata, ServerMetadata } from '../../protocol/oip.js';
import type { StatsWire } from '../../protocol/stats.js';
import type { CompositionStatsWire } from '../../protocol/composition-stats.js';
import type { CompositionRecordsWire, RecordsQuery } from '../../protocol/composition-records.js';
import { rowId } from '../../protocol/row-id.js';
import type { ModelDescription } from '../../spec/schema.js';
import { aggregate, checkAnswer, mapLabels, NoAnswerError, type AnswerInput, type MemberAnswer } from '../../compose/aggregate.js';
import { pickMember } from '../../compose/split.js';
import { CompositionMeter, MemberMeter, regressionAgreement, type MeterOptions } from '../../compose/measure.js';
import type { FeedbackOutcome, InferenceBackend, InferOutcome, ModelRef, ModelTarget } from '../backend.js';
import { compileModel, type ServedModel } from '../dataplane/model.js';
import { parseInferRequest } from '../dataplane/infer-request.js';
import { createResponseEncoder, type ResponseEncoder } from '../dataplane/infer-response.js';
import { modelMetadata } from '../dataplane/metadata.js';
import type { EncodedRows, ParsedInfer } from '../dataplane/types.js';
import { RejectedValueError, ServingError } from '../errors.js';
import type { DriftReport } from '../../drift/report.js';
import type { DriftQuery } from '../drift-check.js';
import { errorMessage, noEvents, type EventSink } from '../event-log.js';
import { feedbackOutcome, parseModelFeedback } from '../feedback.js';
import type { ServingMetrics } from '../metrics.js';
import type { Prediction } from '../runtime.js';
import { DEFAULT_WINDOW_ROWS, ServingStats } from '../stats.js';
import { aggregationOf, labelsOf, primaryOf } from './config.js';
import { MemberClient, type CallResult } from './member-client.js';
import { MemberMetrics } from './metrics.js';
import { RecordStore, type AppliedTruth, type MemberRecord, type RowRecord } from './record-store.js';
import { memberRequestBody, readMemberAnswer, type AnswerShape, type MemberPrediction } from './wire.js';

export const COMPOSITION_PLATFORM = 'maas-composition';
export const COMPOSITION_EXTENSIONS = ['feedback', 'stats', 'metrics', 'composition'];
const FORWARD_ATTEMPTS = 3;
const FORWARD_BACKOFF_MS = 200;
const FORWARD_TIMEOUT_MS = 5000;
/** How long close() waits for shadow copies and feedback forwarding still under way. */
const BACKGROUND_DRAIN_MS = 5000;

export interface CompositionBackendOptions {
  config: RouterConfig;
  /** SQLite file of the records (`:memory:` by default). */
  recordDb?: string;
  /** Recorded rows kept (default 100,000). */
  retentionRows?: number;
  /** Where the member series go (the server's registry) and rows and feedback are counted. */
  metrics?: ServingMetrics;
  /** The split draw, uniform in [0, 1) (default Math.random). */
  random?: () => number;
  clock?: Pick<Clock, 'now'>;
  events?: EventSink;
  serverVersion?: string;
  /** The live window of `/stats`. */
  stats?: { windowRows?: number; reservoirSize?: number };
  /** Connections per member (default 64). */
  maxSockets?: number;
  /** Feedback forwarding: attempts per member batch (default 3) and the first pause between them (default 200 ms, doubling). */
  forward?: { attempts?: number; backoffMs?: number; timeoutMs?: number };
}

interface ActiveMember {
  spec: RouterMember;
  client: MemberClient;
  shape: AnswerShape;
}

/** Everything a request needs, swapped whole on a reload. */
/** How long the router waits for a member's drift report (computed on demand). */
const DRIFT_ASK_MS = 30_000;

interface MemberSet {
  config: RouterConfig;
  key: string;
  model: ServedModel;
  encoder: ResponseEncoder;
  metadata: ModelMetadata;
  refs: readonly ModelRef[];
  mode: CompositionMode;
  aggregation: Aggregation;
  /** What a member's answer must hold to be used (split and shadow: labels or values only). */
  check: Aggregation;
  labels: readonly string[];
  members: readonly ActiveMember[];
  byKey: ReadonlyMap<string, ActiveMember>;
  primary: ActiveMember;
}

/** How one member call ended, with its answer in the composition's terms when it answered. */
interface Asked {
  member: ActiveMember;
  outcome: CallResult['outcome'];
  ms: number;
  message?: string;
  prediction?: MemberPrediction;
}

/** The description of a model with the composition's features and outputs: what the dataplane decodes against. */
export function compositionModelDescription(config: RouterConfig): ModelDescription {
  const { composition } = config;
  const labels = labelsOf(config);
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: {
      name: composition.metadata.name,
      version: composition.metadata.version,
      ...(composition.metadata.description !== undefined ? { description: composition.metadata.description } : {}),
    },
    spec: {
      task: composition.spec.task,
      algorithm: `composition (${composition.spec.mode})`,
      artifact: { uri: `composition://${composition.metadata.name}`, format: 'onnx' },
      features: config.features,
      ...(labels.length > 0 || composition.spec.outputs?.name !== undefined
        ? {
            outputs: {
              ...(labels.length > 0 ? { labels: [...labels] } : {}),
              ...(composition.spec.outputs?.name !== undefined ? { name: composition.spec.outputs.name } : {}),
            },
          }
        : {}),
      // Rows are sent on inline; a data reference would be fetched by every member.
      inference: { inputModes: ['inline'] },
    },
  };
}

function sameFeatures(a: RouterConfig, b: RouterConfig): boolean {
  return JSON.stringify(a.features) === JSON.stringify(b.features);
}

export class CompositionBackend implements InferenceBackend {
  private set: MemberSet;
  private readonly window: ServingStats;
  private readonly store: RecordStore;
  private readonly meter: CompositionMeter;
  private readonly meters = new Map<string, MemberMeter>();
  private readonly memberMetrics: MemberMetrics | undefined;
  private readonly random: () => number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly events: EventSink;
  private readonly background = new Set<Promise<void>>();
  private readonly meterOptions: MeterOptions;
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: CompositionBackendOptions) {
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.events = opts.events ?? noEvents;
    this.set = this.build(opts.config, undefined);
    const spec = opts.config.composition.spec;
    this.meterOptions = {
      task: spec.task,
      ...(spec.policy?.historyWindow !== undefined ? { historyWindow: spec.policy.historyWindow } : {}),
    };
    for (const m of this.set.members) this.meters.set(m.spec.key, new MemberMeter(this.meterOptions));
    this.meter = new CompositionMeter({
      ...this.meterOptions,
      composition: this.set.key,
      mode: this.set.mode,
      ...(this.set.mode === 'ensemble' ? { aggregation: this.set.aggregation } : {}),
      since: this.clock.now(),
    });
    this.window = new ServingStats(this.set.model, {
      windowRows: opts.stats?.windowRows ?? DEFAULT_WINDOW_ROWS,
      ...(opts.stats?.reservoirSize !== undefined ? { reservoirSize: opts.stats.reservoirSize } : {}),
      random: systemRandom,
      clock: this.clock,
    });
    this.store = new RecordStore({
      path: opts.recordDb ?? ':memory:',
      ...(opts.retentionRows !== undefined ? { maxRows: opts.retentionRows } : {}),
      onError: (e) => this.events({ level: 'error', event: 'record_write_failed', error: errorMessage(e) }),
    });
    this.memberMetrics = opts.metrics
      ? new MemberMetrics(opts.metrics.registry, () =>
          this.set.members.map((m) => {
            const s = this.meters.get(m.spec.key)!.snapshot({ key: m.spec.key, deployment: m.spec.deployment, role: m.spec.role, weight: m.spec.weight });
            return { member: m.spec.key, agreement: s.agreement.rate, accuracy: s.quality.accuracy ?? null };
          }),
        )
      : undefined;
  }

  /** A member set for `config`, reusing the clients of `previous` that reach the same servers. */
  private build(config: RouterConfig, previous: MemberSet | undefined): MemberSet {
    const model = compileModel(compositionModelDescription(config));
    const labels = labelsOf(config);
    const spec = config.composition.spec;
    const aggregation = aggregationOf(config);
    const members = config.members.map((m): ActiveMember => {
      const old = previous?.byKey.get(m.key);
      const client =
        old && old.client.sameEndpoint(m) ? old.client : new MemberClient(m, this.opts.maxSockets !== undefined ? { maxSockets: this.opts.maxSockets } : {});
      client.spec = m;
      const order = m.labels;
      const shape: AnswerShape = {
        task: spec.task,
        labels,
        ...(order && labels.length > 0 && order.join('\n') !== labels.join('\n') ? { mapping: mapLabels(order, labels) } : {}),
      };
      return { spec: m, client, shape };
    });
    const byKey = new Map(members.map((m) => [m.spec.key, m]));
    const key = `${model.name}@${model.version}`;
    return {
      config,
      key,
      model,
      encoder: createResponseEncoder(model),
      metadata: { ...modelMetadata(model), platform: COMPOSITION_PLATFORM },
      refs: Object.freeze([{ name: model.name, version: model.version }]),
      mode: spec.mode,
      aggregation,
      check: spec.mode === 'ensemble' ? aggregation : spec.task === 'regression' ? 'mean' : 'majority',
      labels,
      members,
      byKey,
      primary: byKey.get(primaryOf(config.members).key)!,
    };
  }

  /**
   * Swaps the member set: requests already under way finish on the old one; members no longer
   * listed are released once idle. Refused (the old set keeps serving) when the new config
   * changes the task, the features or the labels: clients and the window were built on those.
   */
  reload(config: RouterConfig): { added: string[]; removed: string[]; kept: string[] } {
    const old = this.set;
    const before = old.config;
    if (config.composition.spec.task !== before.composition.spec.task)
      throw new MaasError('VALIDATION', 'the new configuration changes the task; restart the router');
    if (!sameFeatures(config, before)) throw new MaasError('VALIDATION', 'the new configuration changes the features; restart the router');
    if (labelsOf(config).join('\n') !== labelsOf(before).join('\n'))
      throw new MaasError('VALIDATION', 'the new configuration changes the labels; restart the router');
    const next = this.build(config, old);
    this.set = next;
    for (const m of next.members) if (!this.meters.has(m.spec.key)) this.meters.set(m.spec.key, new MemberMeter(this.meterOptions));
    const removed: string[] = [];
    for (const m of old.members) {
      if (next.byKey.get(m.spec.key)?.client === m.client) continue;
      if (!next.byKey.has(m.spec.key)) {
        removed.push(m.spec.key);
        this.meters.delete(m.spec.key);
      }
      m.client.retire();
    }
    const added = next.members.filter((m) => !old.byKey.has(m.spec.key)).map((m) => m.spec.key);
    return { added, removed, kept: next.members.filter((m) => old.byKey.has(m.spec.key)).map((m) => m.spec.key) };
  }

  /** The configuration being served. */
  get config(): RouterConfig {
    return this.set.config;
  }

  models(): readonly ModelRef[] {
    return this.set.refs;
  }

  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }

  ready(): boolean {
    return this.started && !this.closing;
  }

  modelReady(): boolean {
    return this.ready();
  }

  serverMetadata(): ServerMetadata {
    return { name: 'maas', version: this.opts.serverVersion ?? '0.0.0', extensions: COMPOSITION_EXTENSIONS };
  }

  modelMetadata(): ModelMetadata {
    return this.set.metadata;
  }

  /** Runs `task` in the background; close() waits for it (bounded). */
  private later(task: Promise<void>): void {
    const p = task.catch((e: unknown) => this.events({ level: 'error', event: 'composition_background_failed', error: errorMessage(e) }));
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Resolves once the shadow copies and feedback forwarding started so far are done. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /** Calls one member; never rejects. Measures the call, reads the answer, checks it fits. */
  private async ask(set: MemberSet, member: ActiveMember, body: string, rows: number): Promise<Asked> {
    const key = member.spec.key;
    const r = await member.client.call('infer', body, member.spec.timeoutMs);
    let asked: Asked;
    if (r.outcome !== 'answered') asked = { member, outcome: r.outcome, ms: r.ms, message: r.message };
    else {
      try {
        const prediction = readMemberAnswer(r.body, rows, member.shape);
        const problem = checkAnswer(set.check, set.labels.length > 0 ? set.labels : undefined, this.answerInput(member, prediction), rows);
        if (problem !== undefined) throw new Error(problem);
        asked = { member, outcome: 'answered', ms: r.ms, prediction };
      } catch (e) {
        asked = { member, outcome: 'error', ms: r.ms, message: `unusable answer: ${errorMessage(e)}` };
      }
    }
    // A member dropped by a reload meanwhile keeps no meter.
    this.meters.get(key)?.record(asked.outcome, asked.outcome === 'answered' ? asked.ms : undefined);
    this.memberMetrics?.call(key, asked.outcome, asked.ms / 1000);
    return asked;
  }

  private answerInput(member: ActiveMember, p: MemberPrediction): MemberAnswer {
    return {
      key: member.spec.key,
      weight: member.spec.weight,
      ...(p.labels ? { labels: p.labels } : {}),
      ...(p.probabilities ? { probabilities: p.probabilities } : {}),
      ...(p.values ? { values: p.values } : {}),
    };
  }

  private unavailable(set: MemberSet, failed: readonly Asked[], none?: string): ServingError {
    const parts = failed.map((a) => `${a.member.spec.key}: ${a.outcome} (${a.message ?? 'no answer'})`);
    return new ServingError(503, `no member of composition ${set.key} answered${parts.length > 0 ? `: ${parts.join('; ')}` : none ? `: ${none}` : ''}`);
  }

  async infer(_model: ModelTarget, body: unknown, requestId: string, deliver?: (outcome: InferOutcome) => void): Promise<InferOutcome> {
    const set = this.set;
    const started = performance.now();
    let parsed: ParsedInfer;
    try {
      parsed = parseInferRequest(set.model, body);
    } catch (e) {
      if (e instanceof RejectedValueError) this.window.countRefused(e.feature, e.reason);
      throw e;
    }
    const id = parsed.id ?? requestId;
    const rows = parsed.inline!;
    const memberBody = memberRequestBody(set.model.features, rows);
    let answered: { prediction: Prediction; counted: Asked[] };
    let copies: Promise<Asked[]>;
    try {
      if (set.mode === 'ensemble') {
        const shadows = set.members.filter((m) => m.spec.role === 'shadow');
        copies = Promise.all(shadows.map((m) => this.ask(set, m, memberBody, rows.rows)));
        answered = await this.ensemble(set, memberBody, rows.rows);
      } else if (set.mode === 'split') {
        copies = Promise.all(set.members.filter((m) => m.spec.role === 'shadow').map((m) => this.ask(set, m, memberBody, rows.rows)));
        answered = await this.split(set, memberBody, rows.rows);
      } else {
        copies = Promise.all(set.members.filter((m) => m !== set.primary).map((m) => this.ask(set, m, memberBody, rows.rows)));
        answered = await this.single(set, set.primary, memberBody, rows.rows);
      }
    } catch (e) {
      this.meter.record('error');
      throw e;
    }
    const { prediction, counted } = answered;
    const outcome = this.encode(set, id, rows.rows, prediction, parsed);
    deliver?.(outcome);
    this.meter.record('answered', performance.now() - started);
    this.observe(set, id, rows, prediction, counted);
    // Copies never delay the answer; their answers are recorded and compared once they come.
    this.later(copies.then((asked) => this.observeCopies(set, id, rows.rows, prediction, asked)));
    return outcome;
  }

  private async ensemble(set: MemberSet, body: string, rows: number): Promise<{ prediction: Prediction; counted: Asked[] }> {
    const members = set.members.filter((m) => m.spec.role !== 'shadow');
    const asked = await Promise.all(members.map((m) => this.ask(set, m, body, rows)));
    const inputs: AnswerInput[] = asked.map((a) => (a.prediction ? this.answerInput(a.member, a.prediction) : { key: a.member.spec.key, failed: true }));
    const ok = asked.filter((a) => a.prediction);
    if (ok.length === 0)
      throw this.unavailable(
        set,
        asked.filter((a) => !a.prediction),
      );
    let result;
    try {
      result = aggregate(set.aggregation, set.labels.length > 0 ? set.labels : undefined, inputs, rows);
    } catch (e) {
      if (e instanceof NoAnswerError) throw this.unavailable(set, asked);
      throw new ServingError(502, `composition ${set.key}: ${errorMessage(e)}`);
    }
    const prediction: Prediction = {};
    if (result.values) prediction.values = result.values;
    if (result.labels) {
      prediction.labels = result.labels;
      prediction.probabilities = result.probabilities ?? this.voteShares(set, ok, rows);
      if (prediction.probabilities === undefined) delete prediction.probabilities;
    }
    return { prediction, counted: asked };
  }

  /** Majority and weighted votes: each label's share of the (weighted) votes, per row, as the probabilities output. */
  private voteShares(set: MemberSet, ok: readonly Asked[], rows: number): number[][] | undefined {
    const width = set.labels.length;
    if (width === 0) return undefined;
    const index = new Map(set.labels.map((l, i) => [l, i]));
    const weighted = set.aggregation === 'weighted';
    let weights = ok.map((a) => (weighted ? (Number.isFinite(a.member.spec.weight) && a.member.spec.weight > 0 ? a.member.spec.weight : 0) : 1));
    if (weights.every((w) => w === 0)) weights = weights.map(() => 1);
    const total = weights.reduce((s, w) => s + w, 0);
    const out: number[][] = [];
    for (let r = 0; r < rows; r++) {
      const row = new Array<number>(width).fill(0);
      ok.forEach((a, m) => {
        const j = index.get(a.prediction!.labels![r]!);
        if (j !== undefined) row[j]! += weights[m]! / total;
      });
      out.push(row);
    }
    return out;
  }

  private async split(set: MemberSet, body: string, rows: number): Promise<{ prediction: Prediction; counted: Asked[] }> {
    let pool = set.members.filter((m) => m.spec.role !== 'shadow');
    const failed: Asked[] = [];
    while (pool.length > 0) {
      let key: string;
      try {
        key = pickMember(
          pool.map((m) => ({ key: m.spec.key, weight: m.spec.weight })),
          this.random,
        );
      } catch (e) {
        if (e instanceof NoAnswerError) break;
        throw e;
      }
      const member = set.byKey.get(key)!;
      const a = await this.ask(set, member, body, rows);
      if (a.prediction) return { prediction: this.predictionOf(a.prediction), counted: [...failed, a] };
      // The next member by weight takes the request rather than the client seeing an error.
      failed.push(a);
      pool = pool.filter((m) => m !== member);
    }
    throw this.unavailable(set, failed, 'no member takes traffic');
  }

  private async single(set: MemberSet, member: ActiveMember, body: string, rows: number): Promise<{ prediction: Prediction; counted: Asked[] }> {
    const a = await this.ask(set, member, body, rows);
    if (!a.prediction) throw this.unavailable(set, [a]);
    return { prediction: this.predictionOf(a.prediction), counted: [a] };
  }

  private predictionOf(p: MemberPrediction): Prediction {
    const out: Prediction = {};
    if (p.labels) out.labels = p.labels;
    if (p.probabilities) out.probabilities = p.probabilities;
    if (p.values) out.values = p.values;
    return out;
  }

  private encode(set: MemberSet, id: string, rows: number, p: Prediction, parsed: ParsedInfer): InferOutcome {
    if (parsed.binary.size === 0) return { id, body: set.encoder.encode(id, rows, p, parsed.outputs) };
    const { header, data } = set.encoder.encodeBinary(id, rows, p, parsed.outputs, parsed.binary);
    return { id, body: header, binary: data };
  }

  /** The record of one member's answer to row `r`. */
  private memberRecord(a: Asked, counted: boolean, rows: number, r: number): MemberRecord {
    const p = a.prediction;
    return {
      member: a.member.spec.key,
      role: a.member.spec.role,
      counted,
      outcome: a.outcome,
      latencyMs: Math.round(a.ms * 1000) / 1000,
      ...(p && p.id !== '' ? { memberId: rowId(p.id, rows, r) } : {}),
      ...(p?.labels ? { label: p.labels[r] } : {}),
      ...(p?.values ? { value: p.values[r] } : {}),
      ...(p?.probabilities ? { probabilities: p.probabilities[r] } : {}),
    };
  }

  /** Agreement of each answering member with the composition, per row. */
  private compare(asked: readonly Asked[], prediction: Prediction, rows: number): void {
    for (const a of asked) {
      const meter = this.meters.get(a.member.spec.key);
      const p = a.prediction;
      if (!meter || !p) continue;
      for (let r = 0; r < rows; r++) {
        if (prediction.labels && p.labels) meter.agreement(p.labels[r] === prediction.labels[r]);
        else if (prediction.values && p.values) {
          const { same, absDiff } = regressionAgreement(p.values[r]!, prediction.values[r]!);
          meter.agreement(same, absDiff);
        }
      }
    }
  }

  private observe(set: MemberSet, id: string, rows: EncodedRows, prediction: Prediction, counted: readonly Asked[]): void {
    const n = rows.rows;
    const ts = this.clock.now();
    const records: RowRecord[] = new Array<RowRecord>(n);
    for (let r = 0; r < n; r++) {
      records[r] = {
        id: rowId(id, n, r),
        requestId: id,
        row: r,
        rows: n,
        ts,
        composition: set.key,
        mode: set.mode,
        ...(prediction.labels ? { label: prediction.labels[r] } : {}),
        ...(prediction.values ? { value: prediction.values[r] } : {}),
        members: counted.map((a) => this.memberRecord(a, a.member.spec.role !== 'shadow', n, r)),
      };
    }
    this.store.addRows(records);
    this.window.observe({ rows: n, values: rows.values, labels: prediction.labels, probabilities: prediction.probabilities, predictions: prediction.values });
    this.opts.metrics?.rows(n);
    this.compare(counted, prediction, n);
  }

  private async observeCopies(_set: MemberSet, id: string, rows: number, prediction: Prediction, asked: readonly Asked[]): Promise<void> {
    if (asked.length === 0) return;
    for (let r = 0; r < rows; r++)
      this.store.addAnswers(
        rowId(id, rows, r),
        asked.map((a) => this.memberRecord(a, false, rows, r)),
      );
    this.compare(asked, prediction, rows);
  }

  /**
   * Ground truth for the composition's predictions, answered per item as a model server does. The
   * truth is recorded, scored for the composition and each member's own answer, and forwarded to
   * each member (its own prediction ids, one batch per member, in the background).
   */
  async feedback(_model: ModelTarget, body: unknown): Promise<FeedbackOutcome & Required<Omit<FeedbackResponse, 'id'>>> {
    const set = this.set;
    const items = parseModelFeedback(set.model, body);
    const now = this.clock.now();
    const { applied, unchanged, rejected } = this.store.applyTruth(items, now);
    this.window.observeFeedback(
      applied.map((a) => ({
        ...('label' in a.item ? { label: a.item.label } : { value: a.item.value }),
        predictedLabel: a.predictedLabel,
        predictedValue: a.predictedValue,
      })),
    );
    this.opts.metrics?.feedback(applied.length);
    this.score(applied, now);
    this.forwardAll(applied);
    return feedbackOutcome(items, { applied, unchanged, rejected });
  }

  private score(applied: readonly AppliedTruth[], now: number): void {
    for (const a of applied) {
      const truth = a.item;
      const outcome = (label: string | null | undefined, value: number | null | undefined): boolean | { absError: number } | undefined => {
        if ('label' in truth) return label === null || label === undefined ? undefined : label === truth.label;
        return value === null || value === undefined ? undefined : { absError: Math.abs(value - truth.value) };
      };
      const own = outcome(a.predictedLabel, a.predictedValue);
      if (own !== undefined) this.meter.quality(own, now);
      for (const m of a.members) {
        if (m.outcome !== 'answered') continue;
        const q = outcome(m.label, m.value);
        if (q !== undefined) this.meters.get(m.member)?.quality(q, now);
      }
    }
  }

  /** One batch per member of its own prediction ids with the truth; failures are counted, never reported to the client. */
  private forwardAll(applied: readonly AppliedTruth[]): void {
    const batches = new Map<string, FeedbackItem[]>();
    for (const a of applied) {
      for (const m of a.members) {
        if (m.outcome !== 'answered' || m.memberId === undefined) continue;
        let batch = batches.get(m.member);
        if (!batch) batches.set(m.member, (batch = []));
        batch.push('label' in a.item ? { id: m.memberId, label: a.item.label } : { id: m.memberId, value: a.item.value });
      }
    }
    for (const [key, items] of batches) this.later(this.forward(key, items));
  }

  private async forward(key: string, items: FeedbackItem[]): Promise<void> {
    const member = this.set.byKey.get(key);
    if (!member) {
      this.memberMetrics?.forwarded(key, false);
      this.events({ level: 'warn', event: 'feedback_not_forwarded', member: key, items: items.length, error: 'no longer a member' });
      return;
    }
    const attempts = Math.max(1, this.opts.forward?.attempts ?? FORWARD_ATTEMPTS);
    let pause = this.opts.forward?.backoffMs ?? FORWARD_BACKOFF_MS;
    const body = JSON.stringify(feedbackBody(items));
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) {
        await new Promise((r) => setTimeout(r, pause));
        pause *= 2;
      }
      if (member.client.isDestroyed) break;
      const r = await member.client.call('feedback', body, this.opts.forward?.timeoutMs ?? FORWARD_TIMEOUT_MS);
      if (r.outcome === 'answered') {
        this.memberMetrics?.forwarded(key, true);
        return;
      }
      last = r.message;
      // The member refused the items (unknown ids, other truth): sending them again changes nothing.
      if (r.outcome === 'error' && /^HTTP 4\d\d/.test(r.message)) break;
    }
    this.memberMetrics?.forwarded(key, false);
    this.events({ level: 'warn', event: 'feedback_not_forwarded', member: key, items: items.length, error: last || 'the member was released' });
  }

  /**
   * Data drift of the composition: every member receives the composition's inputs, so a member's
   * drift report is the composition's (the first answering member with a reference profile; the
   * report names the composition and the member it came from). Concept drift in it is that
   * member's own; `maas compose status` has every member's accuracy.
   */
  async drift(_model: ModelTarget, query: DriftQuery): Promise<DriftReport> {
    const set = this.set;
    const q = new URLSearchParams();
    if (query.test !== undefined) q.set('test', query.test);
    if (query.threshold !== undefined) q.set('threshold', String(query.threshold));
    if (query.share !== undefined) q.set('share', String(query.share));
    const qs = q.toString();
    const ordered = [...set.members.filter((m) => m.spec.role !== 'shadow'), ...set.members.filter((m) => m.spec.role === 'shadow')];
    const why: string[] = [];
    for (const m of ordered) {
      const r = await m.client.call(`drift${qs ? `?${qs}` : ''}`, '', DRIFT_ASK_MS, 'GET');
      if (r.outcome === 'answered') {
        const report = JSON.parse(r.body) as DriftReport;
        return {
          ...report,
          subject: { model: set.model.name, version: set.model.version, deployment: report.subject.deployment },
          notes: [`inputs as member ${m.spec.key} received them (every member gets the composition's inputs)`, ...report.notes],
        };
      }
      why.push(`${m.spec.key}: ${r.message}`);
    }
    throw new ServingError(404, `no member of composition ${set.key} has a drift report: ${why.join('; ')}`);
  }

  /** The live window of the composition's answers, and the number of recorded rows. */
  stats(): Promise<StatsWire> {
    const set = this.set;
    return Promise.resolve({ ...this.window.snapshot(), model_name: set.model.name, model_version: set.model.version, log: { rows: this.store.count() } });
  }

  /** Measurements per member and of the composition (GET .../members). */
  members(_model?: ModelTarget): Promise<CompositionStatsWire> {
    const set = this.set;
    const members = set.members.map((m) =>
      this.meters.get(m.spec.key)!.snapshot({ key: m.spec.key, deployment: m.spec.deployment, role: m.spec.role, weight: m.spec.weight }),
    );
    // Name, mode and aggregation as served now (a reload may have changed them since the meter began).
    const { composition: _c, mode: _m, aggregation: _a, ...measured } = this.meter.snapshot(members);
    return Promise.resolve({
      composition: set.key,
      mode: set.mode,
      ...(set.mode === 'ensemble' ? { aggregation: set.aggregation } : {}),
      ...measured,
    });
  }

  /** Recorded rows, newest last (GET .../records). */
  records(_model: ModelTarget, query: RecordsQuery): Promise<CompositionRecordsWire> {
    const set = this.set;
    return Promise.resolve({
      composition: set.key,
      task: set.config.composition.spec.task,
      ...(set.labels.length > 0 ? { labels: [...set.labels] } : {}),
      ...(set.mode === 'ensemble' ? { aggregation: set.aggregation } : {}),
      records: this.store.records(query),
    });
  }

  /** Waits (bounded) for copies and forwarding under way, releases every member and closes the records. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, BACKGROUND_DRAIN_MS)))]);
      clearTimeout(timer);
      for (const m of this.set.members) m.client.retire();
      this.store.close();
      await this.store.stopped();
    })();
    return this.closing;
  }
}

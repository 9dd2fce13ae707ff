// The model service without a transport: one model's runtime, request log and stats behind the
// InferenceBackend interface. Takes parsed request bodies, returns response bodies or throws
// ServingError; the HTTP layer (and tests) call it; nothing here knows about sockets.
import type { Clock } from '../core/clock.js';
import type { FeedbackResponse } from '../protocol/feedback.js';
import type { ModelMetadata, ServerMetadata } from '../protocol/oip.js';
import type { StatsWire } from '../protocol/stats.js';
import { labelledTarget, STRICT_LABELLED_REFUSAL, type LabelledCell, type LabelledWire, type ParsedLabelledQuery } from '../protocol/labelled.js';
import type { Prediction, Runtime, RuntimeInfo } from './runtime.js';
import { ServingError } from './errors.js';
import type { IdSource } from './ids.js';
import { decodeValue, type ServedModel } from './dataplane/model.js';
import { parseInferRequest } from './dataplane/infer-request.js';
import { createResponseEncoder, labelsOf, type ResponseEncoder } from './dataplane/infer-response.js';
import { modelMetadata, serverMetadata } from './dataplane/metadata.js';
import type { EncodedRows, ParsedInfer } from './dataplane/types.js';
import type { RequestLog } from './request-log.js';
import type { ServingStats } from './stats.js';
import { feedbackOutcome, parseModelFeedback } from './feedback.js';
import type { ReferenceFetcher } from './reference/fetch-ref.js';
import { parseReferenceData } from './reference/parse-ref.js';
import type { ServingMetrics } from './metrics.js';
import type { FeedbackOutcome, InferenceBackend, InferOutcome, LabelledRequest, ModelRef, ModelTarget } from './backend.js';
import { labelledTokenAccepted } from './labelled-token.js';
import { RejectedValueError } from './errors.js';
import { DriftChecker, type DriftQuery } from './drift-check.js';
import type { DriftReport } from '../drift/report.js';

export type { FeedbackOutcome, InferOutcome };

/** Rows per runtime call for referenced data when the model declares no maxBatchSize. */
export const DEFAULT_REFERENCE_BATCH = 1024;

export interface ModelServiceOptions {
  model: ServedModel;
  log: RequestLog;
  stats: ServingStats;
  fetchReference: ReferenceFetcher;
  ids: IdSource;
  clock: Pick<Clock, 'now'>;
  serverVersion: string;
  metrics?: ServingMetrics;
  /** Loads the runtime when start() is called; without it, give one with setRuntime(). */
  loadRuntime?: () => Promise<Runtime>;
  /** Drift of the window against the reference profile; checks on its schedule once started. */
  drift?: DriftChecker;
  /**
   * Under strict placement: the file holding the labelled-rows token (re-read per request). A
   * request whose `Authorization: Bearer` token equals its trimmed contents gets the labelled rows.
   */
  labelledTokenFile?: string;
}

export class ModelService implements InferenceBackend {
  readonly model: ServedModel;
  private runtime: Runtime | undefined;
  private readonly encoder: ResponseEncoder;
  private readonly refs: readonly ModelRef[];
  private readonly metadata: ModelMetadata;
  private readonly server: ServerMetadata;
  private loading: Promise<Runtime> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly driftChecker: DriftChecker;

  constructor(private readonly opts: ModelServiceOptions) {
    this.model = opts.model;
    this.driftChecker = opts.drift ?? new DriftChecker({ model: opts.model, stats: opts.stats, profile: undefined, clock: opts.clock });
    this.encoder = createResponseEncoder(opts.model);
    this.refs = Object.freeze([{ name: opts.model.name, version: opts.model.version }]);
    this.metadata = modelMetadata(opts.model);
    this.server = serverMetadata(opts.serverVersion);
  }

  models(): readonly ModelRef[] {
    return this.refs;
  }

  ready(): boolean {
    return this.runtime !== undefined;
  }

  modelReady(): boolean {
    return this.runtime !== undefined;
  }

  /** The loaded runtime's name and tensors, once loaded. */
  get runtimeInfo(): RuntimeInfo | undefined {
    return this.runtime?.info;
  }

  serverMetadata(): ServerMetadata {
    return this.server;
  }

  modelMetadata(): ModelMetadata {
    return this.metadata;
  }

  setRuntime(runtime: Runtime): void {
    this.runtime = runtime;
  }

  /** Loads the runtime (once); a runtime arriving after close() is released, not served. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const load = this.opts.loadRuntime;
      if (!load) {
        if (!this.runtime) throw new ServingError(503, `model ${this.model.name} has no runtime`);
        if (!this.closing) this.driftChecker.start();
        return;
      }
      this.loading = load();
      const runtime = await this.loading;
      if (!this.closing) {
        this.runtime = runtime;
        this.driftChecker.start();
      }
    })();
    return this.starting;
  }

  /** Runs the runtime on the encoded rows (the same float32 matrix is logged afterwards). */
  private predict(rows: EncodedRows): Promise<Prediction> {
    const runtime = this.runtime;
    if (!runtime) return Promise.reject(new ServingError(503, `model ${this.model.name} is not ready`));
    return runtime.predict(rows.values, rows.rows).then(
      // Callers of the classification endpoint always get labels, even from probabilities only.
      (p) => (this.model.classification && !p.labels ? { ...p, labels: labelsOf(this.model, p, rows.rows) } : p),
      (e: unknown) => {
        throw new ServingError(500, `inference failed: ${(e as Error).message}`);
      },
    );
  }

  private record(id: string, rows: EncodedRows, p: Prediction, firstRow: number, totalRows: number): void {
    const batch = {
      requestId: id,
      ts: this.opts.clock.now(),
      rows: rows.rows,
      firstRow,
      totalRows,
      values: rows.values,
      labels: p.labels,
      probabilities: p.probabilities,
      predictions: p.values,
    };
    this.opts.log.append(batch);
    this.opts.stats.observe(batch);
    this.opts.metrics?.rows(rows.rows);
  }

  /**
   * One infer request. The id is the body's, else `requestId` (e.g. an x-request-id header),
   * else a new one. Inline rows run in one call; referenced rows in batches of maxBatchSize.
   * `deliver` gets the answer before the rows are logged and counted; both happen in the same
   * tick, so a later feedback request always finds the rows.
   */
  async infer(model: ModelTarget, body: unknown, requestId?: string, deliver?: (outcome: InferOutcome) => void): Promise<InferOutcome> {
    try {
      return await this.inferCounted(model, body, requestId, deliver);
    } catch (e) {
      // Unseen categories (and out-of-range values the model rejects) are data too: counted, then refused.
      if (e instanceof RejectedValueError) this.opts.stats.countRefused(e.feature, e.reason);
      throw e;
    }
  }

  private async inferCounted(_model: ModelTarget, body: unknown, requestId?: string, deliver?: (outcome: InferOutcome) => void): Promise<InferOutcome> {
    if (!this.runtime) throw new ServingError(503, `model ${this.model.name} is not ready`);
    const parsed = parseInferRequest(this.model, body);
    const id = parsed.id ?? requestId ?? this.opts.ids.next();
    if (parsed.inline) {
      const rows = parsed.inline;
      const p = await this.predict(rows);
      const outcome = this.answer(id, rows.rows, p, parsed);
      deliver?.(outcome);
      this.record(id, rows, p, 0, rows.rows);
      return outcome;
    }
    const outcome = await this.inferReference(id, parsed);
    deliver?.(outcome);
    return outcome;
  }

  private async inferReference(id: string, parsed: ParsedInfer): Promise<InferOutcome> {
    const ref = parsed.reference!;
    const data = await this.opts.fetchReference(ref.uri);
    const rows = parseReferenceData(this.model, data, ref.format);
    const F = this.model.features.length;
    const size = this.model.maxBatchSize ?? DEFAULT_REFERENCE_BATCH;
    const labels: string[] = [];
    const probabilities: number[][] = [];
    const values: number[] = [];
    for (let start = 0; start < rows.rows; start += size) {
      const n = Math.min(size, rows.rows - start);
      // A copy, not a view: runtimes and the log get a matrix of their own.
      const part = { rows: n, values: rows.values.slice(start * F, (start + n) * F) };
      const p = await this.predict(part);
      this.record(id, part, p, start, rows.rows);
      // Loops, not spreads: a referenced file can hold more rows than a call takes arguments.
      for (const l of p.labels ?? []) labels.push(l);
      for (const q of p.probabilities ?? []) probabilities.push(q);
      for (const v of p.values ?? []) values.push(v);
    }
    const all: Prediction = {};
    if (labels.length > 0) all.labels = labels;
    if (probabilities.length > 0) all.probabilities = probabilities;
    if (values.length > 0) all.values = values;
    return this.answer(id, rows.rows, all, parsed);
  }

  private answer(id: string, rows: number, p: Prediction, parsed: ParsedInfer): InferOutcome {
    if (parsed.binary.size === 0) return { id, body: this.encoder.encode(id, rows, p, parsed.outputs) };
    const { header, data } = this.encoder.encodeBinary(id, rows, p, parsed.outputs, parsed.binary);
    return { id, body: header, binary: data };
  }

  /**
   * Ground truth for logged rows, per item (see RequestLog.applyFeedback). Only applied items
   * reach the stats, so a repeated feedback counts once. Refused with 404/409 when nothing at
   * all could be applied or was already recorded.
   */
  async feedback(_model: ModelTarget, body: unknown): Promise<FeedbackOutcome & Required<Omit<FeedbackResponse, 'id'>>> {
    const items = parseModelFeedback(this.model, body);
    const { applied, unchanged, rejected } = await this.opts.log.applyFeedback(items);
    this.opts.stats.observeFeedback(applied);
    this.opts.metrics?.feedback(applied.length);
    return feedbackOutcome(items, { applied, unchanged, rejected });
  }

  /** The live window; flushes the log first so stats and log agree. */
  async stats(): Promise<StatsWire> {
    const rows = await this.opts.log.count();
    return { ...this.opts.stats.snapshot(), log: { rows } };
  }

  /**
   * The logged predictions that have ground truth, oldest first: feature values decoded as
   * `/stats` decodes its sample, then the truth. Refused (403) under strict placement, where
   * raw rows stay on the node (the window keeps none either: `keepsRows` is false), except to a
   * request with the token of `labelledTokenFile` (the retraining Job on the same node).
   */
  async labelled(_model: ModelTarget, query: ParsedLabelledQuery, request: LabelledRequest = {}): Promise<LabelledWire> {
    if (!this.opts.stats.keepsRows) {
      const file = this.opts.labelledTokenFile;
      // One refusal whatever failed: no token file configured, none mounted, or a wrong token.
      if (file === undefined || !(await labelledTokenAccepted(file, request.authorization))) throw new ServingError(403, STRICT_LABELLED_REFUSAL);
    }
    const found = await this.opts.log.labelled(query);
    const features = this.model.features;
    const F = features.length;
    const rows: LabelledCell[][] = found.ids.map((_, i) => {
      const row: LabelledCell[] = features.map((f, j) => decodeValue(f, found.values[i * F + j]!));
      row.push(this.model.classification ? (found.labels[i] ?? null) : (found.truths[i] ?? null));
      return row;
    });
    return {
      model_name: this.model.name,
      model_version: this.model.version,
      features: features.map((f) => f.name),
      target: labelledTarget(this.model.description.spec, this.model.classification),
      rows,
      ids: found.ids,
      times: found.ts.map((t) => new Date(t).toISOString()),
      versions: found.versions,
    };
  }

  /** The drift report of the window, computed now (404 without a reference profile). */
  drift(_model: ModelTarget, query: DriftQuery): Promise<DriftReport> {
    return this.driftChecker.report(query);
  }

  /** Flushes the log and releases the runtime, also one still loading. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.driftChecker.close();
      await this.opts.log.close();
      const loaded = await this.loading?.catch(() => undefined);
      const runtime = this.runtime ?? loaded;
      this.runtime = undefined;
      await runtime?.close();
    })();
    return this.closing;
  }
}

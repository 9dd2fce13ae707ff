// What the HTTP layer serves: an inference backend answering for one or more models. The
// single-model ModelService is one; a router over several implements the same interface. The
// handler checks model names and versions against `models()` before calling anything else.
import type { ModelMetadata, ServerMetadata } from '../protocol/oip.js';
import type { StatsWire } from '../protocol/stats.js';
import type { LabelledWire, ParsedLabelledQuery } from '../protocol/labelled.js';
import type { DriftReport } from '../drift/report.js';
import type { DriftQuery } from './drift-check.js';
import type { CompositionStatsWire } from '../protocol/composition-stats.js';
import type { CompositionRecordsWire, RecordsQuery } from '../protocol/composition-records.js';

/** One served model version; a name may be listed once per version it serves. */
export interface ModelRef {
  readonly name: string;
  readonly version: string;
}

/** The model a request names, after the handler checked it is served. */
export interface ModelTarget {
  readonly name: string;
  /** The version asked for, or the only one served under the name; undefined = the backend picks. */
  readonly version: string | undefined;
}

export interface InferOutcome {
  id: string;
  /** The response body, already serialized (with `binary`: its JSON header). */
  body: string;
  /** Raw tensor bytes that follow the JSON header (binary tensor extension). */
  binary?: Buffer;
}

/** What the handler passes on from a labelled-rows request besides its query. */
export interface LabelledRequest {
  /** The Authorization header as sent (a strict server with a token file checks it). */
  authorization?: string | undefined;
}

export interface FeedbackOutcome {
  accepted: number;
  ids: string[];
}

export interface InferenceBackend {
  /** Every model version served; requests for anything else are answered 404. */
  models(): readonly ModelRef[];
  /** Begins loading (called once the server listens); resolves when it can serve, rejects if it cannot. */
  start(): Promise<void>;
  /** Whether it takes requests at all (GET /v2/health/ready). */
  ready(): boolean;
  modelReady(model: ModelTarget): boolean;
  serverMetadata(): ServerMetadata;
  modelMetadata(model: ModelTarget): ModelMetadata;
  /**
   * One infer request body under request id `requestId` (the body's id wins when it has one).
   * `deliver`, when given, gets the answer as soon as it exists, before logging and counting, so
   * the caller can send it first; a later feedback request still finds the rows.
   */
  infer(model: ModelTarget, body: unknown, requestId: string, deliver?: (outcome: InferOutcome) => void): Promise<InferOutcome>;
  /** Ground truth for logged predictions, answered per item (applied, unchanged, rejected). */
  feedback(model: ModelTarget, body: unknown): Promise<FeedbackOutcome>;
  stats(model: ModelTarget): Promise<StatsWire>;
  /**
   * The drift report of the live window against the reference profile, computed now; throws a
   * 404 ServingError without a profile. Backends without it answer every drift request 404.
   */
  drift?(model: ModelTarget, query: DriftQuery): Promise<DriftReport>;
  /**
   * The logged predictions that have ground truth, as training rows (oldest first); throws a 403
   * ServingError under strict placement unless the request carries the labelled-rows token.
   * Backends without it answer every such request 404.
   */
  labelled?(model: ModelTarget, query: ParsedLabelledQuery, request?: LabelledRequest): Promise<LabelledWire>;
  /** A composition router: the measurements per member and of the composition. Other backends answer 404. */
  members?(model: ModelTarget): Promise<CompositionStatsWire>;
  /** A composition router: the rows it answered with each member's answer and the truth, newest last. Other backends answer 404. */
  records?(model: ModelTarget, query: RecordsQuery): Promise<CompositionRecordsWire>;
  /** Flushes and releases everything, also a model still loading; idempotent. */
  close(): Promise<void>;
}

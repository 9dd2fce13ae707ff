// The port through which the application reaches a model server; src/client implements it over
// HTTP, tests inject their own.
import type { HttpEndpoint } from './endpoint.js';
import type { FeedbackItem, FeedbackResponse } from './feedback.js';
import type { InferRequest, InferResponse, ModelMetadata } from './oip.js';
import type { StatsWire } from './stats.js';
import type { LabelledQuery, LabelledWire } from './labelled.js';
import type { DriftReport } from '../drift/report.js';
import type { CompositionStatsWire } from './composition-stats.js';
import type { CompositionRecordsWire } from './composition-records.js';

/** Overrides for a server-side drift check (every feature). */
export interface DriftQuery {
  test?: string;
  threshold?: number;
  /** Dataset drift when at least this share of features drifted. */
  share?: number;
}

export interface InferenceApi {
  infer(req: InferRequest): Promise<InferResponse>;
  feedback(items: FeedbackItem[]): Promise<FeedbackResponse>;
  stats(): Promise<StatsWire>;
  metadata(): Promise<ModelMetadata>;
  /** The server's drift check of its live window against the reference profile. */
  drift(query?: DriftQuery): Promise<DriftReport>;
  /** The logged predictions that have ground truth, as training rows (refused by strict servers). */
  labelled(query?: LabelledQuery): Promise<LabelledWire>;
  /** A composition router's measurements per member (404 from a model server). */
  members(): Promise<CompositionStatsWire>;
  /** A composition router's recorded rows with every member's answer and the truth, newest last (404 from a model server). */
  records(query?: { limit?: number; labelled?: boolean; since?: string }): Promise<CompositionRecordsWire>;
}

export type InferenceConnector = (endpoint: HttpEndpoint, model: string, timeoutMs: number) => Promise<InferenceApi>;

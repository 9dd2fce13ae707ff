// The port through which the application reaches a model server; src/client implements it over
// HTTP, tests inject their own.
import type { HttpEndpoint } from './endpoint.js';
import type { FeedbackItem, FeedbackResponse } from './feedback.js';
import type { InferRequest, InferResponse, ModelMetadata } from './oip.js';
import type { StatsWire } from './stats.js';

export interface InferenceApi {
  infer(req: InferRequest): Promise<InferResponse>;
  feedback(items: FeedbackItem[]): Promise<FeedbackResponse>;
  stats(): Promise<StatsWire>;
  metadata(): Promise<ModelMetadata>;
}

export type InferenceConnector = (endpoint: HttpEndpoint, model: string, timeoutMs: number) => Promise<InferenceApi>;

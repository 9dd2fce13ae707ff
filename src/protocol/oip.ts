// Open Inference Protocol (KServe v2) REST messages as maas clients send and its server answers
// them, and how a described feature travels in column mode.
import type { FeatureType } from '../spec/schema.js';

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface RequestOutput {
  name: string;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs?: RequestInput[];
  outputs?: RequestOutput[];
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id: string;
  outputs: ResponseOutput[];
  parameters?: Record<string, unknown>;
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** Longest request id (body `id` or `x-request-id`) the server keeps. */
export const MAX_ID_LENGTH = 256;

export type FeatureDatatype = 'FP32' | 'INT64' | 'BYTES' | 'BOOL';

/** The datatype of a feature's input in column mode (what metadata advertises, what clients send). */
export const FEATURE_DATATYPE: Readonly<Record<FeatureType, FeatureDatatype>> = { number: 'FP32', integer: 'INT64', category: 'BYTES', boolean: 'BOOL' };

// Open Inference Protocol (KServe v2) REST messages, as far as this server reads and writes them.

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs?: RequestInput[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
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

/** Rows validated and encoded in feature order: `values[row * F + feature]`, NaN = missing. */
export interface EncodedRows {
  rows: number;
  values: Float32Array;
}

export type DataFormat = 'csv' | 'json' | 'ndjson';

export interface DataReference {
  uri: string;
  format?: DataFormat;
}

export interface ParsedInfer {
  /** The caller's id, when the body carried one. */
  id: string | undefined;
  /** Requested outputs; undefined = all. */
  outputs: string[] | undefined;
  /** Inline rows, or a reference to fetch. Exactly one is set. */
  inline?: EncodedRows;
  reference?: DataReference;
}

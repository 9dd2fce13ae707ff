// What the request path passes between parsing and running: server-internal, not wire types
// (those are in src/protocol/oip.ts).
import type { DataFormat } from '../../protocol/formats.js';

/** Rows validated and encoded in feature order: `values[row * F + feature]`, NaN = missing. */
export interface EncodedRows {
  rows: number;
  values: Float32Array;
}

export interface DataReference {
  uri: string;
  format?: DataFormat;
}

export interface ParsedInfer {
  /** The caller's id, when the body carried one. */
  id: string | undefined;
  /** Requested outputs; undefined = all. */
  outputs: string[] | undefined;
  /** Outputs to answer as binary tensors (binary tensor extension); empty = plain JSON. */
  binary: ReadonlySet<string>;
  /** Inline rows, or a reference to fetch. Exactly one is set. */
  inline?: EncodedRows;
  reference?: DataReference;
}

// Parses and validates an OIP infer request against the model: either one input per feature
// ("columns") or one [N, F] tensor; or a data reference in `parameters.data_ref`.
import { ServingError, badRequest, listSome } from '../errors.js';
import type { FeatureCodec, ServedModel } from './model.js';
import { KNOWN_DATATYPES, intBounds, kindOf, type ValueKind } from './datatypes.js';
import { ValueError, datatypeProblem, encodeValue, valueRefused } from './encode-value.js';
import type { EncodedRows, ParsedInfer } from './types.js';
import { MAX_ID_LENGTH } from '../../protocol/oip.js';
import { isDataFormat } from '../../protocol/formats.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface CheckedInput {
  name: string;
  shape: number[];
  datatype: string;
  kind: ValueKind;
  data: unknown[];
  /** True when data is nested per the first dimension ([[...], [...]]). */
  nested: boolean;
}

function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0) throw badRequest(`${where}.shape must be a non-empty array of dimensions`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw badRequest(`${where}.shape has an invalid dimension ${JSON.stringify(d)} (dimensions are non-negative integers)`);
  }
  return shape as number[];
}

/** Accepts flat data or data nested once along the first dimension (rank 2). */
function checkData(name: string, shape: number[], data: unknown[]): boolean {
  const total = shape.reduce((a, b) => a * b, 1);
  const nested = data.length > 0 && Array.isArray(data[0]);
  if (!nested) {
    if (data.length !== total) throw badRequest(`input "${name}": shape [${shape.join(', ')}] needs ${total} values, data has ${data.length}`);
    return false;
  }
  if (shape.length !== 2 || data.length !== shape[0]) {
    throw badRequest(`input "${name}": nested data does not match shape [${shape.join(', ')}] (expected ${shape[0]} rows of ${shape[1] ?? 1} values)`);
  }
  const width = shape[1]!;
  for (let r = 0; r < data.length; r++) {
    const row = data[r];
    if (!Array.isArray(row) || row.length !== width) {
      throw badRequest(
        `input "${name}": row ${r + 1} of the data ${Array.isArray(row) ? `has ${row.length} values` : 'is not an array'}, shape [${shape.join(', ')}] needs ${width}`,
      );
    }
  }
  return true;
}

function checkInput(raw: unknown, i: number): CheckedInput {
  const where = `inputs[${i}]`;
  if (!isObject(raw)) throw badRequest(`${where} must be an object with name, shape, datatype and data`);
  const { name, shape, datatype, data, parameters } = raw;
  if (typeof name !== 'string' || name === '') throw badRequest(`${where}.name is required (a string)`);
  if (typeof datatype !== 'string') throw badRequest(`input "${name}": datatype is required (FP32, FP64, INT32, INT64, BOOL or BYTES)`);
  const kind = KNOWN_DATATYPES.has(datatype) ? kindOf(datatype) : undefined;
  if (!kind) throw badRequest(`input "${name}": unknown datatype ${JSON.stringify(datatype)} (use FP32, FP64, INT32, INT64, BOOL or BYTES)`);
  if (isObject(parameters) && parameters.binary_data_size !== undefined)
    throw badRequest(`input "${name}": binary_data_size needs a binary body with the Inference-Header-Content-Length header`);
  if (data === undefined) throw badRequest(`input "${name}": data is required`);
  if (!Array.isArray(data)) throw badRequest(`input "${name}": data must be an array`);
  const dims = checkShape(`input "${name}"`, shape);
  const nested = checkData(name, dims, data);
  return { name, shape: dims, datatype, kind, data, nested };
}

function locate(input: CheckedInput, row: number, f: FeatureCodec, tensor: boolean, e: unknown): ServingError {
  if (!(e instanceof ValueError)) throw e;
  // Rows are counted from 1 in messages, as everywhere else; row ids (`<id>:<n>`) count from 0.
  const at = tensor ? `input "${input.name}" row ${row + 1} feature "${f.name}"` : `input "${f.name}" row ${row + 1}`;
  return valueRefused(at, f, e);
}

function checkIntBounds(input: CheckedInput, v: unknown): void {
  if (input.kind !== 'int' || typeof v !== 'number') return;
  const [lo, hi] = intBounds(input.datatype);
  if (v < lo || v > hi) throw new ValueError(`${v} does not fit datatype ${input.datatype}`);
}

function encodeTensor(model: ServedModel, input: CheckedInput): EncodedRows {
  const F = model.features.length;
  const { shape } = input;
  if (shape.length !== 2 || shape[1] !== F) {
    throw badRequest(
      `input "${input.name}": shape [${shape.join(', ')}] does not fit the model; send one [N, ${F}] tensor with the features ${listSome(model.features.map((f) => f.name))} in this order, or one input per feature`,
    );
  }
  // A BYTES tensor mixes types (strings for categories, numbers, booleans): read each by its feature.
  const kind: ValueKind = input.kind === 'bytes' ? 'json' : input.kind;
  if (kind === 'bool') {
    for (const f of model.features) {
      const p = datatypeProblem(f, kind, input.datatype);
      if (p) throw badRequest(`input "${input.name}": ${p}`);
    }
  }
  const rows = shape[0]!;
  const values = new Float32Array(rows * F);
  const features = model.features;
  const checkInts = input.kind === 'int';
  for (let r = 0; r < rows; r++) {
    const src = input.nested ? (input.data[r] as unknown[]) : input.data;
    const base = input.nested ? 0 : r * F;
    const out = r * F;
    for (let j = 0; j < F; j++) {
      const f = features[j]!;
      const v = src[base + j];
      try {
        if (checkInts) checkIntBounds(input, v);
        values[out + j] = encodeValue(f, v, kind);
      } catch (e) {
        throw locate(input, r, f, true, e);
      }
    }
  }
  return { rows, values };
}

function encodeColumns(model: ServedModel, inputs: CheckedInput[]): EncodedRows {
  const unknown = inputs.filter((i) => !model.featureIndex.has(i.name)).map((i) => i.name);
  if (unknown.length > 0) {
    throw badRequest(
      `unknown input${unknown.length > 1 ? 's' : ''} ${listSome(unknown.map((n) => `"${n}"`))}; send one input per feature (${listSome(model.features.map((f) => f.name))}) or one [N, ${model.features.length}] tensor`,
    );
  }
  const byName = new Map<string, CheckedInput>();
  for (const i of inputs) {
    if (byName.has(i.name)) throw badRequest(`input "${i.name}" appears more than once`);
    byName.set(i.name, i);
  }
  const missing = model.features.filter((f) => !f.optional && !byName.has(f.name)).map((f) => f.name);
  if (missing.length > 0)
    throw badRequest(`missing input${missing.length > 1 ? 's' : ''} for feature${missing.length > 1 ? 's' : ''} ${listSome(missing.map((n) => `"${n}"`))}`);
  let rows = -1;
  let first = '';
  for (const i of inputs) {
    if (i.shape.length > 2 || (i.shape.length === 2 && i.shape[1] !== 1)) {
      throw badRequest(`input "${i.name}": shape [${i.shape.join(', ')}] is not a column; use [N] or [N, 1]`);
    }
    const f = model.featureIndex.get(i.name)!;
    const p = datatypeProblem(f, i.kind, i.datatype);
    if (p) throw badRequest(`input "${i.name}": ${p}`);
    const n = i.shape[0]!;
    if (rows === -1) {
      rows = n;
      first = i.name;
    } else if (n !== rows) throw badRequest(`inputs have different row counts: "${first}" has ${rows}, "${i.name}" has ${n}`);
  }
  const F = model.features.length;
  const values = new Float32Array(rows * F);
  for (const f of model.features) {
    const input = byName.get(f.name);
    const j = f.index;
    if (!input) {
      for (let r = 0; r < rows; r++) values[r * F + j] = NaN;
      continue;
    }
    for (let r = 0; r < rows; r++) {
      const v = input.nested ? (input.data[r] as unknown[])[0] : input.data[r];
      try {
        checkIntBounds(input, v);
        values[r * F + j] = encodeValue(f, v, input.kind);
      } catch (e) {
        throw locate(input, r, f, false, e);
      }
    }
  }
  return { rows, values };
}

/** Rejects batches over the model's maxBatchSize with 413 (the request is too large, not malformed). */
export function checkBatchSize(model: ServedModel, rows: number): void {
  if (rows === 0) throw badRequest('the request has no rows');
  if (model.maxBatchSize !== undefined && rows > model.maxBatchSize) {
    throw new ServingError(413, `batch of ${rows} rows exceeds the model's maxBatchSize ${model.maxBatchSize}; send smaller batches or a data reference`);
  }
}

/** Validates and encodes the `inputs` of an infer request (`limitBatch`: apply maxBatchSize). */
export function encodeInputs(model: ServedModel, rawInputs: unknown, limitBatch = true): EncodedRows {
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) throw badRequest('inputs must be a non-empty array');
  const inputs = rawInputs.map(checkInput);
  // One input not named after a feature is the [N, F] matrix; anything else is columns.
  const tensor = inputs.length === 1 && !model.featureIndex.has(inputs[0]!.name);
  // Refuse an oversized batch before validating its values.
  if (limitBatch) checkBatchSize(model, inputs[0]!.shape[0]!);
  return tensor ? encodeTensor(model, inputs[0]!) : encodeColumns(model, inputs);
}

function flag(where: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw badRequest(`${where} must be true or false`);
}

/**
 * Requested outputs and which of them go back as binary tensors: an output's own
 * `parameters.binary_data` wins, else the request's `parameters.binary_data_output`.
 */
function parseOutputs(model: ServedModel, raw: unknown, parameters: Record<string, unknown> | undefined): Pick<ParsedInfer, 'outputs' | 'binary'> {
  const all = flag('parameters.binary_data_output', parameters?.binary_data_output) === true;
  if (raw === undefined) return { outputs: undefined, binary: new Set(all ? model.outputs : []) };
  if (!Array.isArray(raw)) throw badRequest('outputs must be an array of {"name": ...}');
  const names: string[] = [];
  const binary = new Set<string>();
  for (const [i, o] of raw.entries()) {
    if (!isObject(o) || typeof o.name !== 'string') throw badRequest(`outputs[${i}].name is required (a string)`);
    if (!(model.outputs as readonly string[]).includes(o.name)) throw badRequest(`unknown output "${o.name}"; this model has ${model.outputs.join(', ')}`);
    if (o.parameters !== undefined && !isObject(o.parameters)) throw badRequest(`output "${o.name}": parameters must be an object`);
    if ((flag(`output "${o.name}": parameters.binary_data`, o.parameters?.binary_data) ?? all) === true) binary.add(o.name);
    names.push(o.name);
  }
  return { outputs: names, binary };
}

function parseReference(model: ServedModel, parameters: Record<string, unknown> | undefined, body: Record<string, unknown>): ParsedInfer['reference'] {
  const uri = parameters?.data_ref ?? body.data_ref;
  if (uri === undefined) return undefined;
  if (typeof uri !== 'string' || uri === '') throw badRequest('data_ref must be a URI string');
  if (!model.reference) throw badRequest(`model ${model.name} does not accept inference by reference (inference.inputModes)`);
  const format = parameters?.format ?? body.format;
  if (format === undefined) return { uri };
  if (!isDataFormat(format)) throw badRequest(`unknown data format ${JSON.stringify(format)} (use csv, json or ndjson)`);
  return { uri, format };
}

/** The whole request: id, outputs, and inline rows or a reference. */
export function parseInferRequest(model: ServedModel, body: unknown): ParsedInfer {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object with "inputs"');
  const { id, parameters, inputs, outputs } = body;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH))
    throw badRequest(`id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  if (parameters !== undefined && !isObject(parameters)) throw badRequest('parameters must be an object');
  const requested = parseOutputs(model, outputs, parameters);
  const reference = parseReference(model, parameters, body);
  if (reference) {
    if (inputs !== undefined) throw badRequest('give either inputs or a data_ref, not both');
    return { id, ...requested, reference };
  }
  if (inputs === undefined) throw badRequest('inputs is required (or parameters.data_ref for inference by reference)');
  if (!model.inline) throw badRequest(`model ${model.name} accepts only inference by reference (inference.inputModes)`);
  return { id, ...requested, inline: encodeInputs(model, inputs) };
}

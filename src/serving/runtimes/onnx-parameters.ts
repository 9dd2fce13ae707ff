// The float initializers of an ONNX model as one parameter vector, for comparing the members of
// a composition that share an architecture (distances between weight vectors). onnxruntime does
// not expose initializers, so this reads the protobuf wire format itself, dependency-free: only
// ModelProto.graph -> GraphProto.initializer -> TensorProto is decoded, everything else skipped.
// Every read is bounds-checked against its enclosing message, so truncated or garbage input ends
// in a VALIDATION error, never a crash or a hang.
import { open } from 'node:fs/promises';
import { MaasError, toMaasError } from '../../core/errors.js';

/** The largest model read (the parameter vector takes twice its float32 bytes in memory). */
export const MAX_ONNX_PARAMETER_BYTES = 256 * 1024 * 1024;

/** TensorProto.DataType values read here; other types are skipped. */
const FLOAT = 1;
const DOUBLE = 11;
/** TensorProto.DataLocation.EXTERNAL: the values live in another file. */
const EXTERNAL = 1;

export interface OnnxTensorShape {
  name: string;
  dims: number[];
}

export interface OnnxParameters {
  /**
   * The architecture: names and shapes of the tensors in `parameters`, sorted by name (JSON).
   * Two models with equal signatures have vectors of the same length and layout.
   */
  signature: string;
  /** Every float (FLOAT, DOUBLE) initializer's values, concatenated in name order. */
  parameters: Float64Array;
  /** The tensors of `parameters`, in its order. */
  tensors: OnnxTensorShape[];
  /** Float initializers left out because their values are stored outside the model file. */
  external: string[];
}

export interface OnnxParameterOptions {
  /** Refuse models larger than this many bytes (default MAX_ONNX_PARAMETER_BYTES). */
  maxBytes?: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

class Malformed extends Error {}

/** A cursor over `bytes[pos, end)`: one protobuf message (or packed field) at a time. */
class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    public pos: number,
    readonly end: number,
  ) {}

  static of(bytes: Uint8Array): Reader {
    return new Reader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint of up to 64 bits; values beyond 2^53 - 1 are refused (`what` names the field). */
  varint(what: string): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed(`truncated varint (${what})`);
      const b = this.bytes[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo += bits * 2 ** (7 * i);
      else if (i === 4) {
        lo += (bits & 0x0f) * 2 ** 28;
        hi += bits >> 4;
      } else hi += bits * 2 ** (7 * i - 32);
      if (b < 0x80) {
        if (hi > 0x1f_ffff) throw new Malformed(`${what} is out of range (negative or above 2^53)`);
        return hi * 2 ** 32 + lo;
      }
    }
    throw new Malformed(`varint longer than 10 bytes (${what})`);
  }

  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      if (this.bytes[this.pos++]! < 0x80) return;
    }
    throw new Malformed('varint longer than 10 bytes');
  }

  /** The next field's key, or undefined at the end of the message. */
  key(): { field: number; wire: number } | undefined {
    if (this.done) return undefined;
    const key = this.varint('field key');
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new Malformed('field number 0');
    return { field, wire };
  }

  /** A length-delimited field's contents as a reader over them. */
  sub(what: string): Reader {
    const length = this.varint(`length of ${what}`);
    if (length > this.end - this.pos) throw new Malformed(`${what} runs past the end of its message (${length} bytes, ${this.end - this.pos} left)`);
    const r = new Reader(this.bytes, this.view, this.pos, this.pos + length);
    this.pos += length;
    return r;
  }

  take(n: number, what: string): number {
    if (n > this.end - this.pos) throw new Malformed(`truncated ${what}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  skip(wire: number, field: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.skipVarint();
        return;
      case WIRE_FIXED64:
        this.take(8, `field ${field}`);
        return;
      case WIRE_LEN:
        this.sub(`field ${field}`);
        return;
      case WIRE_FIXED32:
        this.take(4, `field ${field}`);
        return;
      case 3:
      case 4:
        throw new Malformed(`field ${field} is a group (wire type ${wire}), which ONNX does not use`);
      default:
        throw new Malformed(`invalid wire type ${wire} (field ${field})`);
    }
  }
}

function expectWire(wire: number, allowed: readonly number[], what: string): void {
  if (!allowed.includes(wire)) throw new Malformed(`${what} has wire type ${wire}`);
}

/** Where a run of little-endian values lies in the buffer. */
interface Run {
  at: number;
  count: number;
}

/** What one TensorProto holds, as far as this module cares. */
interface RawTensor {
  name: string;
  dims: number[];
  dataType: number;
  external: boolean;
  /** raw_data, `count` in bytes (the last occurrence wins, as protobuf merges scalar fields). */
  raw?: Run;
  /** float_data (4-byte) and double_data (8-byte) runs, in field order (repeated fields concatenate). */
  floats: Run[];
  doubles: Run[];
}

const utf8 = new TextDecoder('utf-8');

/** A repeated fixed-width field, packed (one length-delimited run) or not (one value per key). */
function fixedRun(r: Reader, wire: number, width: 4 | 8, what: string): Run {
  if (wire === WIRE_LEN) {
    const packed = r.sub(what);
    const bytes = packed.end - packed.pos;
    if (bytes % width !== 0) throw new Malformed(`${what} is ${bytes} bytes long, not a multiple of ${width}`);
    return { at: packed.pos, count: bytes / width };
  }
  expectWire(wire, [width === 4 ? WIRE_FIXED32 : WIRE_FIXED64], what);
  return { at: r.take(width, what), count: 1 };
}

/** One TensorProto; a malformed field is reported with the tensor's name (or position). */
function readTensor(r: Reader, index: number): RawTensor {
  const t: RawTensor = { name: '', dims: [], dataType: 0, external: false, floats: [], doubles: [] };
  try {
    readTensorFields(r, t);
  } catch (e) {
    if (e instanceof Malformed) throw new Malformed(`${t.name ? `initializer "${t.name}"` : `initializer #${index + 1}`}: ${e.message}`);
    throw e;
  }
  return t;
}

function readTensorFields(r: Reader, t: RawTensor): void {
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1: // dims: repeated int64, packed or not
        if (k.wire === WIRE_LEN) {
          const packed = r.sub('dims');
          while (!packed.done) t.dims.push(packed.varint('a dimension'));
        } else {
          expectWire(k.wire, [WIRE_VARINT], 'dims');
          t.dims.push(r.varint('a dimension'));
        }
        break;
      case 2: // data_type: int32
        expectWire(k.wire, [WIRE_VARINT], 'data_type');
        t.dataType = r.varint('data_type');
        break;
      case 4: // float_data: repeated float
        t.floats.push(fixedRun(r, k.wire, 4, 'float_data'));
        break;
      case 8: {
        // name: string
        expectWire(k.wire, [WIRE_LEN], 'name');
        const s = r.sub('name');
        t.name = utf8.decode(s.bytes.subarray(s.pos, s.end));
        break;
      }
      case 9: {
        // raw_data: bytes
        expectWire(k.wire, [WIRE_LEN], 'raw_data');
        const s = r.sub('raw_data');
        t.raw = { at: s.pos, count: s.end - s.pos };
        break;
      }
      case 10: // double_data: repeated double
        t.doubles.push(fixedRun(r, k.wire, 8, 'double_data'));
        break;
      case 14: // data_location: enum
        expectWire(k.wire, [WIRE_VARINT], 'data_location');
        t.external = r.varint('data_location') === EXTERNAL;
        break;
      default:
        r.skip(k.wire, k.field);
    }
  }
}

/** The initializers of every occurrence of ModelProto.graph (protobuf merges repeated messages). */
function readInitializers(bytes: Uint8Array): RawTensor[] {
  const model = Reader.of(bytes);
  const tensors: RawTensor[] = [];
  let graphs = 0;
  for (let k = model.key(); k; k = model.key()) {
    if (k.field !== 7) {
      model.skip(k.wire, k.field);
      continue;
    }
    expectWire(k.wire, [WIRE_LEN], 'ModelProto.graph');
    graphs++;
    const graph = model.sub('ModelProto.graph');
    for (let g = graph.key(); g; g = graph.key()) {
      if (g.field !== 5) {
        graph.skip(g.wire, g.field);
        continue;
      }
      expectWire(g.wire, [WIRE_LEN], 'GraphProto.initializer');
      tensors.push(readTensor(graph.sub(`initializer #${tensors.length + 1}`), tensors.length));
    }
  }
  if (graphs === 0) throw new Malformed('it has no graph');
  return tensors;
}

const compareNames = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The float initializers of the ONNX model in `bytes`: the architecture signature, the values
 * as one vector in name order, and the shapes. Non-float initializers (int64 shapes, float16,
 * ...) are skipped; externally stored ones are skipped and listed in `external`. VALIDATION for
 * what is not a well-formed ONNX model, USAGE for a model over the size bound.
 */
export function parseOnnxParameters(bytes: Uint8Array, opts: OnnxParameterOptions = {}): OnnxParameters {
  checkSize(bytes.length, opts);
  let raw: RawTensor[];
  try {
    raw = readInitializers(bytes);
  } catch (e) {
    if (e instanceof Malformed) throw notOnnx(e.message, e);
    throw e;
  }
  const external: string[] = [];
  const kept: RawTensor[] = [];
  const names = new Set<string>();
  for (const t of raw) {
    if (t.dataType !== FLOAT && t.dataType !== DOUBLE) continue;
    if (!t.name) throw notOnnx('a float initializer has no name');
    if (names.has(t.name)) throw notOnnx(`two initializers are named "${t.name}"`);
    names.add(t.name);
    if (t.external) external.push(t.name);
    else kept.push(t);
  }
  kept.sort(compareNames);
  external.sort();
  const located = kept.map(valuesOf);
  const parameters = new Float64Array(located.reduce((a, v) => a + v.count, 0));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  for (const { runs, width } of located) {
    for (const { at, count } of runs) {
      if (width === 4) for (let i = 0; i < count; i++) parameters[o++] = view.getFloat32(at + 4 * i, true);
      else for (let i = 0; i < count; i++) parameters[o++] = view.getFloat64(at + 8 * i, true);
    }
  }
  const tensors = kept.map((t) => ({ name: t.name, dims: t.dims }));
  return { signature: JSON.stringify(tensors.map((t) => [t.name, t.dims])), parameters, tensors, external };
}

/**
 * Where tensor `t`'s values lie, checked against its shape (so that nothing is allocated for a
 * shape its data does not back).
 */
function valuesOf(t: RawTensor): { runs: Run[]; width: 4 | 8; count: number } {
  const width = t.dataType === FLOAT ? 4 : 8;
  const typed = t.dataType === FLOAT ? t.floats : t.doubles;
  const field = t.dataType === FLOAT ? 'float_data' : 'double_data';
  const shape = `[${t.dims.join(', ')}]`;
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.raw) {
    if (typed.length > 0) throw notOnnx(`initializer "${t.name}" has both raw_data and ${field}`);
    if (t.raw.count !== n * width) {
      throw notOnnx(`initializer "${t.name}" has ${t.raw.count} bytes of raw_data for shape ${shape} (${n * width} expected)`);
    }
    return { runs: [{ at: t.raw.at, count: n }], width, count: n };
  }
  const count = typed.reduce((a, r) => a + r.count, 0);
  if (count !== n) throw notOnnx(`initializer "${t.name}" has ${count} values in ${field} for shape ${shape} (${n} expected)`);
  return { runs: typed, width, count };
}

function checkSize(size: number, opts: OnnxParameterOptions): void {
  const max = opts.maxBytes ?? MAX_ONNX_PARAMETER_BYTES;
  if (size > max) {
    throw new MaasError('USAGE', `the model is too large to read its parameters (${size} bytes, at most ${max})`, {
      hint: `parameter vectors are read for models of at most ${Math.floor(max / 1024 / 1024)} MiB`,
    });
  }
}

function notOnnx(reason: string, cause?: unknown): MaasError {
  return new MaasError('VALIDATION', `not a readable ONNX model: ${reason}`, {
    hint: 'the artifact must be an ONNX ModelProto (e.g. from torch.onnx.export, skl2onnx or tf2onnx)',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Reads the ONNX file at `path` (refusing it by size before reading) and parses its parameters. */
export async function readOnnxParameters(path: string, opts: OnnxParameterOptions = {}): Promise<OnnxParameters> {
  let bytes: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      checkSize((await file.stat()).size, opts);
      bytes = await file.readFile();
    } finally {
      await file.close();
    }
  } catch (e) {
    throw toMaasError(e);
  }
  return parseOnnxParameters(bytes, opts);
}

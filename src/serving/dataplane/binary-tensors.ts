// The binary tensor data extension of the KServe v2 REST protocol (as Triton and tritonclient
// speak it): a body is a JSON header of `Inference-Header-Content-Length` bytes followed by raw
// little-endian tensors, one per tensor whose parameters carry `binary_data_size`, in order.
// BYTES elements are each a 4-byte little-endian length and the bytes; BOOL is one byte.
import { badRequest } from '../errors.js';

/** Request and response header that gives the JSON part's length. */
export const BINARY_HEADER = 'inference-header-content-length';

const WIDTH: Readonly<Record<string, number>> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  FP16: 2,
  INT32: 4,
  UINT32: 4,
  FP32: 4,
  INT64: 8,
  UINT64: 8,
  FP64: 8,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function readElement(buf: Buffer, at: number, datatype: string): unknown {
  switch (datatype) {
    case 'BOOL':
      return buf[at] !== 0;
    case 'INT8':
      return buf.readInt8(at);
    case 'UINT8':
      return buf[at];
    case 'INT16':
      return buf.readInt16LE(at);
    case 'UINT16':
      return buf.readUInt16LE(at);
    case 'FP16':
      return half(buf.readUInt16LE(at));
    case 'INT32':
      return buf.readInt32LE(at);
    case 'UINT32':
      return buf.readUInt32LE(at);
    case 'FP32':
      return buf.readFloatLE(at);
    // Beyond 2^53 the value is no longer exact and the datatype bounds check refuses it.
    case 'INT64':
      return Number(buf.readBigInt64LE(at));
    case 'UINT64':
      return Number(buf.readBigUInt64LE(at));
    default:
      return buf.readDoubleLE(at);
  }
}

function decodeTensor(name: string, datatype: unknown, buf: Buffer): unknown[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let at = 0;
    while (at < buf.length) {
      if (at + 4 > buf.length) throw badRequest(`input "${name}": binary BYTES data ends inside an element's 4-byte length`);
      const n = buf.readUInt32LE(at);
      at += 4;
      if (at + n > buf.length) throw badRequest(`input "${name}": binary BYTES element ${out.length} needs ${n} bytes, ${buf.length - at} are left`);
      out.push(buf.toString('utf8', at, at + n));
      at += n;
    }
    return out;
  }
  const width = typeof datatype === 'string' ? WIDTH[datatype] : undefined;
  if (width === undefined) throw badRequest(`input "${name}": binary data of datatype ${JSON.stringify(datatype)} is not supported`);
  if (buf.length % width !== 0)
    throw badRequest(`input "${name}": binary_data_size ${buf.length} is not a multiple of the ${width}-byte ${String(datatype)} element`);
  const out = new Array<unknown>(buf.length / width);
  for (let i = 0; i < out.length; i++) out[i] = readElement(buf, i * width, datatype as string);
  return out;
}

/** The length in an `Inference-Header-Content-Length` header, or a 400. */
export function binaryHeaderLength(raw: string | string[], bodyLength: number): number {
  const text = Array.isArray(raw) ? raw[0] : raw;
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n) || n < 0 || n > bodyLength) {
    throw badRequest(`Inference-Header-Content-Length must be the JSON header's length in bytes (0..${bodyLength}), got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * Parses a binary infer request body into the plain JSON form: each input with
 * `parameters.binary_data_size` gets its `data` decoded from the bytes after the header.
 */
export function decodeBinaryRequest(body: Buffer, headerLength: number): unknown {
  const text = body.toString('utf8', 0, headerLength);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`malformed JSON in the first ${headerLength} bytes (Inference-Header-Content-Length): ${(e as Error).message}`);
  }
  if (!isObject(json) || !Array.isArray(json.inputs)) return json;
  let at = headerLength;
  const inputs = json.inputs.map((input: unknown, i) => {
    if (!isObject(input) || !isObject(input.parameters) || input.parameters.binary_data_size === undefined) return input;
    const { binary_data_size: size, ...parameters } = input.parameters;
    const name = typeof input.name === 'string' ? input.name : `inputs[${i}]`;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
      throw badRequest(`input "${name}": parameters.binary_data_size must be a non-negative integer`);
    if (input.data !== undefined) throw badRequest(`input "${name}": give either data or parameters.binary_data_size, not both`);
    if (at + size > body.length)
      throw badRequest(`input "${name}": binary_data_size ${size} goes past the end of the body (${body.length - at} bytes left after the earlier inputs)`);
    const data = decodeTensor(name, input.datatype, body.subarray(at, at + size));
    at += size;
    return { ...input, parameters, data };
  });
  if (at !== body.length)
    throw badRequest(`the body has ${body.length - at} bytes after the binary data its inputs declare (binary_data_size); the header length may be wrong`);
  return { ...json, inputs };
}

/** One output tensor in binary form. */
export function bytesTensor(values: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const b = Buffer.from(v, 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(b.length, 0);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

export function fp32Tensor(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i]!, i * 4);
  return buf;
}

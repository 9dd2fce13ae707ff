// The model server against what real Open Inference Protocol clients send and expect: the KServe
// SDK's rule that parameter values are scalars, tritonclient.http's binary tensor bodies (built
// here byte for byte the way it builds them: rapidjson-compact JSON header, raw little-endian
// tensors in input order, `Inference-Header-Content-Length`) and its gzip/deflate compression.
// Binary answers are decoded here the way tritonclient's InferResult does.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { Prediction, Runtime } from '../../src/serving/runtime.js';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../src/serving/server.js';
import { tempDir } from '../support/cli.js';

function description(task: 'classification' | 'regression'): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: task === 'classification' ? 'cls' : 'reg', version: '1' },
    spec: {
      task,
      algorithm: 'test',
      artifact: { uri: 'file://./m.onnx', format: 'onnx' },
      features: [
        { name: 'x', type: 'number', range: { min: 0, max: 10 } },
        { name: 'n', type: 'integer' },
        { name: 'color', type: 'category', values: ['red', 'green', 'blue'] },
        { name: 'flag', type: 'boolean' },
      ],
      ...(task === 'classification' ? { outputs: { labels: ['low', 'high'] } } : {}),
    },
  };
}

/** Classification: P(high) = x / 10. Regression: x + 10 n + 100 color + 1000 flag, so every input shows. */
function runtime(task: 'classification' | 'regression'): Runtime {
  return {
    info: { name: 'test', inputs: [], outputs: [] },
    async predict(m: Float32Array, rows: number): Promise<Prediction> {
      if (task === 'classification') {
        const probabilities: number[][] = [];
        for (let r = 0; r < rows; r++) probabilities.push([1 - m[r * 4]! / 10, m[r * 4]! / 10]);
        return { probabilities };
      }
      const values: number[] = [];
      for (let r = 0; r < rows; r++) values.push(m[r * 4]! + 10 * m[r * 4 + 1]! + 100 * m[r * 4 + 2]! + 1000 * m[r * 4 + 3]!);
      return { values };
    },
    async close() {},
  };
}

const servers: ModelServer[] = [];
const dirs: { cleanup: () => void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

async function start(task: 'classification' | 'regression', opts: Partial<ModelServerOptions> = {}): Promise<ModelServer> {
  const server = await startModelServer({
    description: description(task),
    artifactPath: '/nowhere.onnx',
    port: 0,
    loadRuntime: async () => runtime(task),
    ...opts,
  });
  servers.push(server);
  await server.ready;
  return server;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A POST with exactly these headers and bytes (fetch would add its own). */
function post(server: ModelServer, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Length': String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A Python float: rapidjson writes 8.0, not 8. */
class PyFloat {
  constructor(readonly value: number) {}
}

/** python-rapidjson's dumps: compact, ASCII only, floats with a decimal point. */
function pyJson(v: unknown): string {
  if (v instanceof PyFloat) return Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
  if (Array.isArray(v)) return `[${v.map(pyJson).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyJson(k)}:${pyJson(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

type Datatype = 'FP32' | 'FP64' | 'INT32' | 'INT64' | 'BOOL' | 'BYTES';
type Value = number | boolean | string;

interface TritonInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  values: Value[];
  /** set_data_from_numpy(..., binary_data=...) */
  binary: boolean;
}

/** numpy's tobytes() (little-endian) or tritonclient's serialize_byte_tensor for BYTES. */
function tensorBytes(datatype: Datatype, values: Value[]): Buffer {
  const n = values.length;
  switch (datatype) {
    case 'FP32':
      return Buffer.from(new Float32Array(values as number[]).buffer);
    case 'FP64':
      return Buffer.from(new Float64Array(values as number[]).buffer);
    case 'INT32':
      return Buffer.from(new Int32Array(values as number[]).buffer);
    case 'INT64':
      return Buffer.from(BigInt64Array.from(values as number[], (x) => BigInt(x)).buffer);
    case 'BOOL':
      return Buffer.from((values as boolean[]).map((b) => (b ? 1 : 0)));
    case 'BYTES': {
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const b = Buffer.from(String(values[i]), 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        parts.push(len, b);
      }
      return Buffer.concat(parts);
    }
  }
}

/** `.item()` of each element: float32 values widen to the Python float of the float32. */
function jsonValues(datatype: Datatype, values: Value[]): unknown[] {
  if (datatype === 'FP32') return (values as number[]).map((x) => new PyFloat(Math.fround(x)));
  if (datatype === 'FP64') return (values as number[]).map((x) => new PyFloat(x));
  if (datatype === 'BYTES') return values.map(String);
  return values;
}

/**
 * The body and headers of tritonclient.http's InferenceServerClient.infer(): outputs as
 * InferRequestedOutput(name, binary_data=...), or none (then binary_data_output=True).
 */
function tritonRequest(inputs: TritonInput[], outputs?: { name: string; binary: boolean }[], id?: string): { body: Buffer; headers: Record<string, string> } {
  const request: Record<string, unknown> = {};
  if (id !== undefined) request.id = id;
  request.inputs = inputs.map((i) => {
    const t: Record<string, unknown> = { name: i.name, shape: i.shape, datatype: i.datatype };
    if (i.binary) t.parameters = { binary_data_size: tensorBytes(i.datatype, i.values).length };
    else t.data = jsonValues(i.datatype, i.values);
    return t;
  });
  if (outputs && outputs.length > 0) request.outputs = outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary } }));
  else request.parameters = { binary_data_output: true };
  const json = Buffer.from(pyJson(request), 'utf8');
  const raw = inputs.filter((i) => i.binary).map((i) => tensorBytes(i.datatype, i.values));
  if (raw.length === 0) return { body: json, headers: {} };
  return { body: Buffer.concat([json, ...raw]), headers: { 'Inference-Header-Content-Length': String(json.length) } };
}

interface DecodedOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  values: unknown[];
}

/** As tritonclient's InferResult and as_numpy(): JSON header, then each binary output's bytes in order. */
function decodeAnswer(answer: Answer): { json: Record<string, unknown>; outputs: Map<string, DecodedOutput> } {
  expect(answer.status, answer.body.toString()).toBe(200);
  const declared = answer.headers['inference-header-content-length'];
  const headerLength = declared === undefined ? answer.body.length : Number(declared);
  const json = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8')) as Record<string, unknown>;
  const outputs = new Map<string, DecodedOutput>();
  let at = headerLength;
  for (const o of json.outputs as { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size?: number }; data?: unknown[] }[]) {
    const size = o.parameters?.binary_data_size;
    let values: unknown[];
    if (size === undefined) values = o.data!;
    else {
      const bytes = answer.body.subarray(at, at + size);
      at += size;
      values = [];
      if (o.datatype === 'FP32') for (let i = 0; i < bytes.length; i += 4) values.push(bytes.readFloatLE(i));
      else if (o.datatype === 'BYTES')
        for (let i = 0; i < bytes.length;) {
          const n = bytes.readUInt32LE(i);
          values.push(bytes.toString('utf8', i + 4, i + 4 + n));
          i += 4 + n;
        }
      else throw new Error(`unexpected datatype ${o.datatype}`);
    }
    outputs.set(o.name, { ...o, values });
  }
  expect(at).toBe(answer.body.length);
  return { json, outputs };
}

const X = [8, 2.5, 0];
const N = [1, 2, 3];
const COLORS = ['green', 'blue', 'red'];
const FLAGS = [true, false, true];

function columns(binary: boolean, xType: 'FP32' | 'FP64' = 'FP32', nType: 'INT32' | 'INT64' = 'INT64'): TritonInput[] {
  return [
    { name: 'x', datatype: xType, shape: [3], values: X, binary },
    { name: 'n', datatype: nType, shape: [3], values: N, binary },
    { name: 'color', datatype: 'BYTES', shape: [3], values: COLORS, binary },
    { name: 'flag', datatype: 'BOOL', shape: [3, 1], values: FLAGS, binary },
  ];
}

const REGRESSION = [8 + 10 + 100 + 1000, 2.5 + 20 + 200, 0 + 30 + 0 + 1000];

function expectClassification(outputs: Map<string, DecodedOutput>): void {
  expect(outputs.get('label')).toMatchObject({ datatype: 'BYTES', shape: [3], values: ['high', 'low', 'low'] });
  const probs = outputs.get('probabilities')!;
  expect(probs).toMatchObject({ datatype: 'FP32', shape: [3, 2] });
  expect(probs.values.map((v) => Math.round((v as number) * 1000) / 1000)).toEqual([0.2, 0.8, 0.75, 0.25, 1, 0]);
}

/** KServe's rule (and the gRPC form's): a parameter is a string, a number or a boolean. */
function expectScalarParameters(answer: Answer): void {
  const { json } = decodeAnswer(answer);
  const params = [json.parameters, ...(json.outputs as { parameters?: unknown }[]).map((o) => o.parameters)].filter((p) => p !== undefined);
  for (const p of params) {
    expect(typeof p === 'object' && p !== null && !Array.isArray(p)).toBe(true);
    for (const [k, v] of Object.entries(p as object)) expect([k, typeof v]).toSatisfy(([, t]: [string, string]) => ['string', 'number', 'boolean'].includes(t));
  }
}

describe('OIP parameters', () => {
  it('answers infer with scalar parameter values only (classification and regression, inline and by reference)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const csv = join(dir.path, 'rows.csv');
    writeFileSync(csv, 'x,n,color,flag\n8,1,green,true\n2.5,2,blue,false\n');
    for (const task of ['classification', 'regression'] as const) {
      const server = await start(task, { reference: { fileRoot: dir.path } });
      const path = `/v2/models/${task === 'classification' ? 'cls' : 'reg'}/infer`;
      const inline = tritonRequest(
        columns(false),
        (task === 'classification' ? ['label', 'probabilities'] : ['value']).map((name) => ({ name, binary: false })),
      );
      expectScalarParameters(await post(server, path, inline.body));
      expectScalarParameters(await post(server, path, Buffer.from(JSON.stringify({ parameters: { data_ref: pathToFileURL(csv).href } }))));
    }
  });

  it('lists the class labels in the model metadata instead', async () => {
    const server = await start('classification');
    const meta = (await (await fetch(`${server.url}/v2/models/cls`)).json()) as { outputs: { name: string; parameters?: { labels?: string[] } }[] };
    expect(meta.outputs.find((o) => o.name === 'probabilities')?.parameters?.labels).toEqual(['low', 'high']);
  });
});

describe('binary tensor extension (tritonclient.http)', () => {
  it('takes binary inputs of every datatype and answers the default requested outputs in binary', async () => {
    const server = await start('classification');
    for (const [xType, nType] of [
      ['FP32', 'INT64'],
      ['FP64', 'INT32'],
    ] as const) {
      const { body, headers } = tritonRequest(
        columns(true, xType, nType),
        [
          { name: 'label', binary: true },
          { name: 'probabilities', binary: true },
        ],
        'req-1',
      );
      const answer = await post(server, '/v2/models/cls/infer', body, headers);
      expect(answer.headers['content-type']).toBe('application/octet-stream');
      const { json, outputs } = decodeAnswer(answer);
      expect(json.id).toBe('req-1');
      expect(outputs.get('label')!.parameters).toEqual({ binary_data_size: 3 * 4 + 'high'.length + 'low'.length * 2 });
      expectClassification(outputs);
    }
  });

  it('reads every input value from the binary body (regression)', async () => {
    const server = await start('regression');
    const { body, headers } = tritonRequest(columns(true), [{ name: 'value', binary: true }]);
    const { outputs } = decodeAnswer(await post(server, '/v2/models/reg/infer', body, headers));
    expect(outputs.get('value')).toMatchObject({ datatype: 'FP32', shape: [3] });
    expect(outputs.get('value')!.values).toEqual(REGRESSION.map(Math.fround));
  });

  it('answers all outputs in binary for binary_data_output (no outputs requested), JSON ones in JSON', async () => {
    const server = await start('classification');
    const all = tritonRequest(columns(false));
    expect(pyJson({ parameters: { binary_data_output: true } }).slice(1, -1)).toBe('"parameters":{"binary_data_output":true}');
    const binary = await post(server, '/v2/models/cls/infer', all.body, all.headers);
    expect(Number(binary.headers['inference-header-content-length'])).toBeGreaterThan(0);
    expectClassification(decodeAnswer(binary).outputs);
    const mixed = tritonRequest(columns(true), [
      { name: 'label', binary: false },
      { name: 'probabilities', binary: true },
    ]);
    const { outputs } = decodeAnswer(await post(server, '/v2/models/cls/infer', mixed.body, mixed.headers));
    expect(outputs.get('label')!.parameters).toBeUndefined();
    expect(outputs.get('probabilities')!.parameters).toEqual({ binary_data_size: 24 });
    expectClassification(outputs);
    const json = tritonRequest(columns(false), [{ name: 'label', binary: false }]);
    const plain = await post(server, '/v2/models/cls/infer', json.body, json.headers);
    expect(plain.headers['inference-header-content-length']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('application/json');
    expect(JSON.parse(plain.body.toString()).outputs).toEqual([{ name: 'label', datatype: 'BYTES', shape: [3], data: ['high', 'low', 'low'] }]);
  });

  it('refuses inconsistent binary bodies with a clear 400 and keeps serving', async () => {
    const server = await start('classification');
    const { body, headers } = tritonRequest(columns(true));
    const cases: [Buffer, Record<string, string>, string][] = [
      [body.subarray(0, Number(headers['Inference-Header-Content-Length'])), {}, 'binary_data_size needs a binary body'],
      [body, {}, 'needs the Inference-Header-Content-Length header'],
      [Buffer.from([1, 2, 3]), { 'Content-Type': 'application/octet-stream' }, 'needs the Inference-Header-Content-Length header'],
      [body, { 'Inference-Header-Content-Length': String(body.length + 1) }, 'Inference-Header-Content-Length must be'],
      [body, { 'Inference-Header-Content-Length': '10' }, 'malformed JSON in the first 10 bytes'],
      [body.subarray(0, body.length - 1), headers, 'goes past the end of the body'],
      [Buffer.concat([body, Buffer.from([0])]), headers, 'bytes after the binary data'],
    ];
    for (const [b, h, message] of cases) {
      const answer = await post(server, '/v2/models/cls/infer', b, h);
      expect(answer.status, message).toBe(400);
      expect(JSON.parse(answer.body.toString()).error).toContain(message);
    }
    expect((await post(server, '/v2/models/cls/infer', body, headers)).status).toBe(200);
  });
});

describe('compressed request bodies', () => {
  it('decodes gzip, deflate (zlib and raw) and br bodies, also binary ones', async () => {
    const server = await start('regression');
    const { body, headers } = tritonRequest(columns(true), [{ name: 'value', binary: false }]);
    for (const [encoding, zipped] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['deflate', deflateRawSync(body)],
      ['br', brotliCompressSync(body)],
    ] as const) {
      const { outputs } = decodeAnswer(await post(server, '/v2/models/reg/infer', zipped, { ...headers, 'Content-Encoding': encoding }));
      expect(outputs.get('value')!.values, encoding).toEqual(REGRESSION.map(Math.fround));
    }
    const json = tritonRequest(columns(false), [{ name: 'value', binary: false }]);
    const answer = await post(server, '/v2/models/reg/infer', gzipSync(json.body), { 'Content-Encoding': 'gzip' });
    expect(decodeAnswer(answer).outputs.get('value')!.values).toEqual(REGRESSION.map(Math.fround));
  });

  it('refuses a body that inflates beyond --max-body with 413, corrupt data with 400, other encodings with 415', async () => {
    const server = await start('regression', { maxBodyBytes: 64 * 1024 });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(128 * 1024);
    const big = await post(server, '/v2/models/reg/infer', bomb, { 'Content-Encoding': 'gzip' });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body.toString()).error).toContain('once gzip decoded');
    const corrupt = await post(server, '/v2/models/reg/infer', Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(JSON.parse(corrupt.body.toString()).error).toContain('not valid gzip data');
    const json = tritonRequest(columns(false), [{ name: 'value', binary: false }]);
    const unknown = await post(server, '/v2/models/reg/infer', json.body, { 'Content-Encoding': 'compress' });
    expect(unknown.status).toBe(415);
    expect(JSON.parse(unknown.body.toString()).error).toContain('unsupported Content-Encoding "compress"');
    expect((await post(server, '/v2/models/reg/infer', gzipSync(json.body), { 'Content-Encoding': 'gzip' })).status).toBe(200);
  });
});

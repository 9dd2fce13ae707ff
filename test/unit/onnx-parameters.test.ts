// The ONNX parameter reader: initializers of models the example writer produces (raw_data), of
// models encoded by onnx-proto (packed float_data) and of hand-built ModelProtos (unpacked fields,
// doubles, unknown fields, external data), checked value by value; malformed input ends in a
// VALIDATION error; the composition root's evaluator reads stored artifacts; and the parsed
// weights reproduce onnxruntime's output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { linearRegressionOnnx, mlpClassifierOnnx, type MlpClassifierGraph } from '../../examples/lib/onnx-writer.js';
import { buildServices, type OpenedServices } from '../../src/app/composition-root.js';
import { ManualClock } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import { FsArtifactStore } from '../../src/registry/fs-artifact-store.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import { parseOnnxParameters, readOnnxParameters, type OnnxParameters } from '../../src/serving/runtimes/onnx-parameters.js';
import { rejection, thrown } from '../support/assert.js';
import { scriptedEvaluator } from '../support/app.js';
import { tempDir } from '../support/cli.js';
import { memoryStores } from '../support/memory-stores.js';

const { onnx } = onnxProto;

// ---- a tiny protobuf writer -------------------------------------------------------------------

type Bytes = number[];

function varint(n: number | bigint): Bytes {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: Bytes = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const key = (field: number, wire: number): Bytes => varint(field * 8 + wire);
const vint = (field: number, n: number | bigint): Bytes => [...key(field, 0), ...varint(n)];
const len = (field: number, body: Bytes): Bytes => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): Bytes => len(field, [...Buffer.from(s, 'utf8')]);
const le = (a: Float32Array | Float64Array): Bytes => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
const fixed32 = (field: number, x: number): Bytes => [...key(field, 5), ...le(Float32Array.of(x))];
const fixed64 = (field: number, x: number): Bytes => [...key(field, 1), ...le(Float64Array.of(x))];

interface TensorSpec {
  name: string;
  dims: number[];
  type?: number;
  /** How the values are stored (default raw). */
  as?: 'raw' | 'packed' | 'unpacked';
  values?: readonly number[];
  packedDims?: boolean;
  extra?: Bytes;
}

function tensor(t: TensorSpec): Bytes {
  const type = t.type ?? 1;
  const values = t.values ?? [];
  const dims =
    t.packedDims === false
      ? t.dims.flatMap((d) => vint(1, d))
      : len(
          1,
          t.dims.flatMap((d) => varint(d)),
        );
  let data: Bytes;
  const array = type === 11 ? Float64Array.from(values) : Float32Array.from(values);
  const field = type === 11 ? 10 : 4;
  switch (t.as ?? 'raw') {
    case 'raw':
      data = len(9, le(array));
      break;
    case 'packed':
      data = len(field, le(array));
      break;
    case 'unpacked':
      data = values.flatMap((v) => (type === 11 ? fixed64(field, v) : fixed32(field, v)));
      break;
  }
  // Names after the data, as nothing obliges an encoder to write fields in order.
  return [...dims, ...vint(2, type), ...data, ...(t.extra ?? []), ...str(8, t.name)];
}

/** A ModelProto whose graph holds `initializers` (encoded TensorProtos) and `graphExtra`. */
function model(initializers: Bytes[], o: { graphExtra?: Bytes; modelExtra?: Bytes } = {}): Uint8Array {
  const graph = [...str(2, 'g'), ...initializers.flatMap((t) => len(5, t)), ...(o.graphExtra ?? [])];
  return Uint8Array.from([...vint(1, 8), ...str(2, 'test'), ...(o.modelExtra ?? []), ...len(7, graph), ...len(8, [...str(1, ''), ...vint(2, 13)])]);
}

const f32 = (xs: readonly number[]): number[] => xs.map((x) => Math.fround(x));

/** The values of tensor `name` in the parameter vector. */
function slice(p: OnnxParameters, name: string): number[] {
  let offset = 0;
  for (const t of p.tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.name === name) return Array.from(p.parameters.subarray(offset, offset + n));
    offset += n;
  }
  throw new Error(`no tensor ${name}`);
}

const mlp = (hidden: number, shift = 0): MlpClassifierGraph => ({
  features: 2,
  hidden,
  classes: 3,
  mean: [0.5 + shift, -1.25],
  std: [2, 0.1],
  w1: Array.from({ length: 2 * hidden }, (_, i) => (i - hidden) * 0.3 + shift),
  b1: Array.from({ length: hidden }, (_, i) => 0.1 * i - 0.05),
  w2: Array.from({ length: hidden * 3 }, (_, i) => ((i * 5) % 7) / 7 - 0.4 + shift),
  b2: [0.01, -0.02, 1 / 3],
});

// ---- files from the example writer (raw_data) -------------------------------------------------

describe('parameters of a model from the example writer', () => {
  const m = mlp(3);
  const p = parseOnnxParameters(mlpClassifierOnnx(m));

  it('lists every float initializer by name with its shape', () => {
    expect(p.tensors).toEqual([
      { name: 'b1', dims: [3] },
      { name: 'b2', dims: [3] },
      { name: 'feature_mean', dims: [2] },
      { name: 'feature_std', dims: [2] },
      { name: 'w1', dims: [2, 3] },
      { name: 'w2', dims: [3, 3] },
    ]);
    expect(p.external).toEqual([]);
    expect(p.parameters).toHaveLength(3 + 3 + 2 + 2 + 6 + 9);
  });

  it('reads every value (as float32, in name order)', () => {
    expect(slice(p, 'b1')).toEqual(f32(m.b1));
    expect(slice(p, 'b2')).toEqual(f32(m.b2));
    expect(slice(p, 'feature_mean')).toEqual(f32(m.mean));
    expect(slice(p, 'feature_std')).toEqual(f32(m.std));
    expect(slice(p, 'w1')).toEqual(f32(m.w1));
    expect(slice(p, 'w2')).toEqual(f32(m.w2));
    expect(Array.from(p.parameters)).toEqual(f32([...m.b1, ...m.b2, ...m.mean, ...m.std, ...m.w1, ...m.w2]));
  });

  it('gives models of one architecture one signature, and others another', () => {
    const other = parseOnnxParameters(mlpClassifierOnnx(mlp(3, 0.7)));
    expect(other.signature).toBe(p.signature);
    expect(other.parameters).not.toEqual(p.parameters);
    expect(parseOnnxParameters(mlpClassifierOnnx(mlp(4))).signature).not.toBe(p.signature);
    const linear = parseOnnxParameters(linearRegressionOnnx({ mean: [0, 1], std: [1, 2], weights: [0.5, -0.5], bias: 2 }));
    expect(linear.signature).not.toBe(p.signature);
    expect(JSON.parse(linear.signature)).toEqual([
      ['bias', [1]],
      ['feature_mean', [2]],
      ['feature_std', [2]],
      ['weights', [2, 1]],
    ]);
    expect(Array.from(linear.parameters)).toEqual([2, 0, 1, 1, 2, 0.5, -0.5]);
  });

  it('reads a buffer that is a view into a larger one (unaligned)', () => {
    const bytes = mlpClassifierOnnx(m);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(parseOnnxParameters(big.subarray(3))).toEqual(p);
  });

  it('reads a file', async () => {
    const dir = tempDir('maas-onnx-params-');
    try {
      const path = join(dir.path, 'model.onnx');
      writeFileSync(path, mlpClassifierOnnx(m));
      expect(await readOnnxParameters(path)).toEqual(p);
      const big = await rejection(readOnnxParameters(path, { maxBytes: 100 }));
      expect(big.code).toBe('USAGE');
      expect(big.message).toMatch(/too large.*at most 100/);
      expect((await rejection(readOnnxParameters(join(dir.path, 'missing.onnx')))).code).toBe('NOT_FOUND');
    } finally {
      dir.cleanup();
    }
  });
});

// ---- other encodings --------------------------------------------------------------------------

describe('initializer encodings', () => {
  it('reads packed float_data (as onnx-proto writes it) like raw_data', () => {
    const w = [0.25, -1.5, 3, 1e-3, 7, -0.125];
    const encoded = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        graph: {
          name: 'g',
          initializer: [
            { name: 'w', dims: [2, 3], dataType: onnx.TensorProto.DataType.FLOAT, floatData: w },
            { name: 'shape', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [-1, 3] },
          ],
        },
      }),
    ).finish();
    const fromFloatData = parseOnnxParameters(encoded);
    expect(fromFloatData.tensors).toEqual([{ name: 'w', dims: [2, 3] }]);
    expect(Array.from(fromFloatData.parameters)).toEqual(f32(w));
    const fromRaw = parseOnnxParameters(model([tensor({ name: 'w', dims: [2, 3], values: w })]));
    expect(fromRaw.signature).toBe(fromFloatData.signature);
    expect(fromRaw.parameters).toEqual(fromFloatData.parameters);
  });

  it('reads unpacked float_data and dims, and doubles (double_data packed or not, raw float64)', () => {
    const third = 1 / 3;
    const p = parseOnnxParameters(
      model([
        tensor({ name: 'u', dims: [2, 2], as: 'unpacked', packedDims: false, values: [1, 2, 3, 4.5] }),
        tensor({ name: 'd_packed', dims: [2], type: 11, as: 'packed', values: [third, -third] }),
        tensor({ name: 'd_unpacked', dims: [1], type: 11, as: 'unpacked', values: [Math.PI] }),
        tensor({ name: 'd_raw', dims: [3], type: 11, values: [1e-300, 2, third] }),
        tensor({ name: 'scalar', dims: [], values: [0.5] }),
        tensor({ name: 'empty', dims: [0, 4], values: [] }),
      ]),
    );
    expect(p.tensors.map((t) => t.name)).toEqual(['d_packed', 'd_raw', 'd_unpacked', 'empty', 'scalar', 'u']);
    expect(slice(p, 'u')).toEqual([1, 2, 3, 4.5]);
    expect(slice(p, 'd_packed')).toEqual([third, -third]);
    expect(slice(p, 'd_unpacked')).toEqual([Math.PI]);
    expect(slice(p, 'd_raw')).toEqual([1e-300, 2, third]);
    expect(slice(p, 'scalar')).toEqual([0.5]);
    expect(slice(p, 'empty')).toEqual([]);
    expect(p.tensors.find((t) => t.name === 'scalar')?.dims).toEqual([]);
  });

  it('skips non-float initializers, even with 10-byte negative int64 values', () => {
    const int64 = [...len(1, varint(2)), ...vint(2, 7), ...vint(7, -1), ...vint(7, -9_000_000_000), ...str(8, 'ids')];
    const float16 = [...len(1, varint(2)), ...vint(2, 10), ...len(9, [0, 60, 0, 64]), ...str(8, 'half')];
    const p = parseOnnxParameters(model([int64, float16, tensor({ name: 'w', dims: [1], values: [2] })]));
    expect(p.tensors).toEqual([{ name: 'w', dims: [1] }]);
    expect(Array.from(p.parameters)).toEqual([2]);
  });

  it('skips unknown fields of every wire type in the model, the graph and the tensors', () => {
    const unknown = [...vint(99, -5), ...fixed32(98, 1.5), ...fixed64(97, 2.5), ...len(96, [1, 2, 3, 0xff]), ...str(1000, 'later field')];
    const node = len(1, [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Relu'), ...len(5, [...str(1, 'alpha'), ...fixed32(2, 0.1)])]);
    const docTensor = tensor({ name: 'w', dims: [2], values: [1, -1], extra: [...str(12, 'doc'), ...unknown] });
    const plain = parseOnnxParameters(model([tensor({ name: 'w', dims: [2], values: [1, -1] })]));
    const p = parseOnnxParameters(model([docTensor], { graphExtra: [...node, ...unknown], modelExtra: unknown }));
    expect(p).toEqual(plain);
  });

  it('merges repeated graph fields as protobuf does', () => {
    const a = tensor({ name: 'a', dims: [1], values: [1] });
    const b = tensor({ name: 'b', dims: [1], values: [2] });
    const bytes = Uint8Array.from([...model([b]), ...len(7, len(5, a))]);
    expect(Array.from(parseOnnxParameters(bytes).parameters)).toEqual([1, 2]);
  });

  it('leaves out externally stored tensors and names them', () => {
    const externalData = [...len(13, [...str(1, 'location'), ...str(2, 'weights.bin')]), ...vint(14, 1)];
    const big = [...len(1, varint(1000)), ...vint(2, 1), ...externalData, ...str(8, 'big')];
    const p = parseOnnxParameters(model([big, tensor({ name: 'small', dims: [1], values: [3] })]));
    expect(p.external).toEqual(['big']);
    expect(p.tensors).toEqual([{ name: 'small', dims: [1] }]);
    expect(Array.from(p.parameters)).toEqual([3]);
  });
});

// ---- malformed input --------------------------------------------------------------------------

describe('malformed input', () => {
  const invalid = (bytes: Uint8Array | Bytes): string => {
    const e = thrown(() => parseOnnxParameters(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/^not a readable ONNX model: /);
    return e.message;
  };

  it('refuses every truncation that cuts into the graph, and never fails otherwise', () => {
    const bytes = mlpClassifierOnnx(mlp(2));
    const full = parseOnnxParameters(bytes);
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        // A cut at a field boundary outside the graph is itself a well-formed message.
        expect(parseOnnxParameters(bytes.subarray(0, n))).toEqual(full);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('VALIDATION');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(bytes.length / 2);
  });

  it('refuses random bytes with an error, not a crash or a hang', () => {
    let state = 12345;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 64) * 7 }, next);
      try {
        parseOnnxParameters(bytes);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('VALIDATION');
      }
    }
  });

  it('says what is wrong', () => {
    expect(invalid([])).toMatch(/no graph/);
    expect(invalid([...Buffer.from('hello, world')])).toMatch(/not a readable ONNX model/);
    expect(invalid([...key(7, 3), ...key(7, 4)])).toMatch(/ModelProto.graph has wire type 3/);
    expect(invalid([...key(5, 3), ...key(5, 4)])).toMatch(/field 5 is a group/);
    expect(invalid([...key(5, 7)])).toMatch(/invalid wire type 7/);
    expect(invalid([...key(0, 0), 0])).toMatch(/field number 0/);
    expect(invalid(Array.from({ length: 11 }, () => 0xff))).toMatch(/varint longer than 10 bytes/);
    expect(invalid([...key(7, 2), ...varint(1000), 1, 2, 3])).toMatch(/runs past the end/);
    expect(invalid(model([tensor({ name: 'w', dims: [2, 3], values: [1, 2, 3] })]))).toMatch(
      /initializer "w" has 12 bytes of raw_data for shape \[2, 3\] \(24 expected\)/,
    );
    expect(invalid(model([tensor({ name: 'w', dims: [4], as: 'packed', values: [1] })]))).toMatch(/"w" has 1 values in float_data for shape \[4\]/);
    expect(invalid(model([[...str(8, 'odd'), ...len(1, varint(1)), ...vint(2, 1), ...len(4, [0, 0, 0])]]))).toMatch(
      /initializer "odd": float_data is 3 bytes long/,
    );
    expect(invalid(model([[...vint(2, 1), ...len(1, [0x80])]]))).toMatch(/initializer #1: truncated varint/);
    expect(invalid(model([tensor({ name: 'w', dims: [1], values: [1] }), tensor({ name: 'w', dims: [1], values: [2] })]))).toMatch(
      /two initializers are named "w"/,
    );
    expect(invalid(model([[...len(1, varint(1)), ...vint(2, 1), ...len(9, [0, 0, 0, 0])]]))).toMatch(/float initializer has no name/);
    expect(invalid(model([[...str(8, 'neg'), ...len(1, varint(-1)), ...vint(2, 1)]]))).toMatch(/"neg": a dimension is out of range/);
  });

  it('allocates nothing for a shape its data does not back', () => {
    const huge = [...len(1, [...varint(2 ** 40), ...varint(2 ** 12)]), ...vint(2, 1), ...len(9, [0, 0, 0, 0]), ...str(8, 'huge')];
    expect(invalid(model([huge]))).toMatch(/"huge" has 4 bytes of raw_data/);
  });

  it('refuses a model over the size bound before parsing', () => {
    const e = thrown(() => parseOnnxParameters(mlpClassifierOnnx(mlp(2)), { maxBytes: 64 }));
    expect(e.code).toBe('USAGE');
  });
});

// ---- against onnxruntime ----------------------------------------------------------------------

describe('the parsed weights', () => {
  it("multiplied out reproduce onnxruntime's probabilities", async () => {
    const m = mlp(4, 0.2);
    const bytes = mlpClassifierOnnx(m);
    const p = parseOnnxParameters(bytes);
    const x = [1.7, -0.3];
    const [mean, std, w1, b1, w2, b2] = [slice(p, 'feature_mean'), slice(p, 'feature_std'), slice(p, 'w1'), slice(p, 'b1'), slice(p, 'w2'), slice(p, 'b2')];
    const z = x.map((v, i) => (v - mean[i]!) / std[i]!);
    const h = b1.map((b, j) => Math.max(0, b + z.reduce((a, zi, i) => a + zi * w1[i * 4 + j]!, 0)));
    const logits = b2.map((b, k) => b + h.reduce((a, hj, j) => a + hj * w2[j * 3 + k]!, 0));
    const top = Math.max(...logits);
    const exp = logits.map((l) => Math.exp(l - top));
    const expected = exp.map((e) => e / exp.reduce((a, b) => a + b, 0));

    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x), [1, 2]) });
      const probabilities = Array.from(out.probabilities!.data as Float32Array);
      probabilities.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    } finally {
      await session.release();
    }
  });
});

// ---- the composition root's evaluator ---------------------------------------------------------

describe("the evaluator's parameters", () => {
  let dir: { path: string; cleanup: () => void };
  let s: OpenedServices;

  beforeAll(async () => {
    dir = tempDir('maas-onnx-params-');
    s = await buildServices({
      home: resolveHome({}, '/', dir.path),
      config: {},
      env: {},
      cwd: dir.path,
      clock: new ManualClock(),
      cluster: {},
      version: '0.0.0-test',
      overrides: { stores: { ...memoryStores(), artifacts: new FsArtifactStore(dir.path) }, datasets: new FsDatasetReader() },
    });
  });
  afterAll(async () => {
    await s.close();
    dir.cleanup();
  });

  it("reads a stored ONNX artifact's vector, and none for a remote artifact", async () => {
    const bytes = mlpClassifierOnnx(mlp(3));
    const d = modelDescription({ name: 'm', version: '1' });
    const artifact = await s.artifacts.put(Readable.from([Buffer.from(bytes)]));
    const { record } = await s.models.registerModel(d, { ...artifact, uri: d.spec.artifact.uri });
    const got = await s.evaluator.parameters?.(record);
    const expected = parseOnnxParameters(bytes);
    expect(got).toEqual({ signature: expected.signature, parameters: expected.parameters });

    const remote = { ...record, version: '2', artifact: { digest: '', size: 0, uri: 'https://example.com/model.onnx' } };
    expect(await s.evaluator.parameters?.(remote)).toBeUndefined();
  });

  it('is scripted in use-case tests', async () => {
    const e = scriptedEvaluator({}, { 'm@1': { signature: 's', parameters: [1, 2] } });
    const record = { name: 'm', version: '1' } as Parameters<typeof e.parameters>[0];
    expect(await e.parameters(record)).toEqual({ signature: 's', parameters: Float64Array.of(1, 2) });
    expect(await e.parameters({ ...record, version: '2' })).toBeUndefined();
    expect(e.parameterCalls).toEqual(['m@1', 'm@2']);
  });
});

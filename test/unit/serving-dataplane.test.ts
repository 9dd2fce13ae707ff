import { describe, expect, it } from 'vitest';
import type { ModelDescription } from '../../src/spec/schema.js';
import { compileModel, decodeValue } from '../../src/serving/dataplane/model.js';
import { parseInferRequest } from '../../src/serving/dataplane/infer-request.js';
import { createResponseEncoder } from '../../src/serving/dataplane/infer-response.js';
import { modelMetadata, serverMetadata } from '../../src/serving/dataplane/metadata.js';
import { ServingError } from '../../src/serving/errors.js';
import { decodeBinaryRequest } from '../../src/serving/dataplane/binary-tensors.js';

function description(overrides: Partial<ModelDescription['spec']> = {}): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'toy', version: '2' },
    spec: {
      task: 'classification',
      algorithm: 'MLP',
      artifact: { uri: 'file://./m.onnx', format: 'onnx' },
      features: [
        { name: 'x', type: 'number', range: { min: 0, max: 10 } },
        { name: 'n', type: 'integer' },
        { name: 'color', type: 'category', values: ['red', 'green', 'blue'] },
        { name: 'flag', type: 'boolean' },
      ],
      outputs: { labels: ['a', 'b'] },
      inference: { maxBatchSize: 4 },
      ...overrides,
    },
  };
}

const model = compileModel(description());

function status(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof ServingError) return { status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a ServingError');
}

const tensor = (data: unknown[], shape = [1, 4], datatype = 'BYTES', name = 'input') => ({ inputs: [{ name, shape, datatype, data }] });

describe('infer request: tensor mode', () => {
  it('encodes a flat FP32 matrix of a numeric model in feature order', () => {
    const m = compileModel(
      description({
        features: [
          { name: 'a', type: 'number' },
          { name: 'b', type: 'number' },
        ],
      }),
    );
    const p = parseInferRequest(m, { id: 'r1', inputs: [{ name: 'input', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    expect(p.id).toBe('r1');
    expect(p.inline!.rows).toBe(2);
    expect(Array.from(p.inline!.values)).toEqual([1, 2, 3, 4]);
  });

  it('accepts nested data and mixed BYTES tensors (category values, booleans)', () => {
    const p = parseInferRequest(
      model,
      tensor(
        [
          [1.5, 3, 'blue', true],
          [0, -2, 'red', false],
        ],
        [2, 4],
      ),
    );
    expect(Array.from(p.inline!.values)).toEqual([1.5, 3, 2, 1, 0, -2, 0, 0]);
  });

  it('reads category codes and 0/1 booleans from numeric tensors', () => {
    const p = parseInferRequest(model, tensor([2, 1, 1, 1], [1, 4], 'FP32'));
    expect(Array.from(p.inline!.values)).toEqual([2, 1, 1, 1]);
  });

  it('rejects a tensor whose width is not the feature count, naming the features', () => {
    const e = status(() => parseInferRequest(model, tensor([1, 2, 3], [1, 3], 'FP32')));
    expect(e.status).toBe(400);
    expect(e.message).toContain('[N, 4]');
    expect(e.message).toContain('x, n, color, flag');
  });

  it('rejects data whose length does not match the shape', () => {
    expect(status(() => parseInferRequest(model, tensor([1, 2, 3], [1, 4], 'FP32'))).message).toMatch(/needs 4 values, data has 3/);
    expect(
      status(() =>
        parseInferRequest(
          model,
          tensor(
            [
              [1, 2, 3, 4],
              [1, 2],
            ],
            [2, 4],
            'FP32',
          ),
        ),
      ).message,
    ).toMatch(/row 2 of the data/);
  });

  it('names row and feature for out-of-range, non-integer, unknown category and wrong type values', () => {
    // By default out-of-range values are data: served, and counted by the stats.
    expect(Array.from(parseInferRequest(model, tensor([11, -1, 'red', true])).inline!.values)).toEqual([11, -1, 0, 1]);
    expect(Array.from(parseInferRequest(model, tensor([-3, 1, 0, 1], [1, 4], 'FP32')).inline!.values)).toEqual([-3, 1, 0, 1]);
    const rejecting = compileModel(description({ monitoring: { ranges: 'reject' } }));
    expect(status(() => parseInferRequest(rejecting, tensor([11, 1, 'red', true]))).message).toBe(
      'input "input" row 1 feature "x": 11 is above the maximum 10',
    );
    const below = status(() => parseInferRequest(rejecting, tensor([-3, 1, 0, 1], [1, 4], 'FP32')));
    expect(below).toMatchObject({ status: 400, message: 'input "input" row 1 feature "x": -3 is below the minimum 0' });
    expect(status(() => parseInferRequest(model, tensor([1, 1.5, 'red', true]))).message).toContain('feature "n": expected an integer');
    expect(status(() => parseInferRequest(model, tensor([1, 1, 'purple', true]))).message).toContain(
      'unknown category "purple" (allowed: "red", "green", "blue")',
    );
    expect(status(() => parseInferRequest(model, tensor([1, 1, 5, true], [1, 4], 'INT64'))).message).toContain('category code 5 is out of range 0..2');
    expect(status(() => parseInferRequest(model, tensor(['1', 1, 'red', true], [1, 4], 'FP32'))).message).toContain('expected a number, got "1"');
    expect(status(() => parseInferRequest(model, tensor([1, 1, 0, 2], [1, 4], 'FP32'))).message).toContain('expected a boolean');
  });

  it('refuses a BOOL tensor for non-boolean features and unknown datatypes', () => {
    expect(status(() => parseInferRequest(model, tensor([true, true, true, true], [1, 4], 'BOOL'))).message).toContain(
      'datatype BOOL does not fit number feature "x"',
    );
    expect(status(() => parseInferRequest(model, tensor([1, 1, 1, 1], [1, 4], 'FLOAT'))).message).toContain('unknown datatype "FLOAT"');
  });

  it('checks integer datatypes for integrality and bounds', () => {
    expect(status(() => parseInferRequest(model, tensor([1.5, 1, 1, 1], [1, 4], 'INT32'))).message).toContain('not an integer');
    expect(status(() => parseInferRequest(model, tensor([1, 300, 1, 1], [1, 4], 'INT8'))).message).toContain('does not fit datatype INT8');
  });
});

describe('infer request: column mode', () => {
  const columns = (n = 2) => ({
    inputs: [
      { name: 'x', shape: [n], datatype: 'FP32', data: [1, 2].slice(0, n) },
      { name: 'n', shape: [n, 1], datatype: 'INT64', data: [[3], [4]].slice(0, n) },
      { name: 'color', shape: [n], datatype: 'BYTES', data: ['green', 'red'].slice(0, n) },
      { name: 'flag', shape: [n], datatype: 'BOOL', data: [true, false].slice(0, n) },
    ],
  });

  it('encodes one input per feature, in any order, shape [N] or [N, 1]', () => {
    const body = columns();
    body.inputs.reverse();
    const p = parseInferRequest(model, body);
    expect(Array.from(p.inline!.values)).toEqual([1, 3, 1, 1, 2, 4, 0, 0]);
  });

  it('names unknown and missing inputs', () => {
    const body = columns();
    body.inputs[0]!.name = 'y';
    const unknown = status(() => parseInferRequest(model, body));
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain('unknown input "y"');
    const missing = columns();
    missing.inputs.splice(1, 2);
    expect(status(() => parseInferRequest(model, missing)).message).toBe('missing inputs for features "n", "color"');
  });

  it('refuses datatypes that do not fit the feature', () => {
    const body = columns();
    body.inputs[0]!.datatype = 'BYTES';
    expect(status(() => parseInferRequest(model, body)).message).toContain('datatype BYTES does not fit number feature "x"');
    const b2 = columns();
    b2.inputs[3]!.datatype = 'BYTES';
    expect(status(() => parseInferRequest(model, b2)).message).toContain('does not fit boolean feature "flag"');
  });

  it('refuses columns of different lengths and non-column shapes', () => {
    const body = columns();
    body.inputs[0] = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
    expect(status(() => parseInferRequest(model, body)).message).toContain('different row counts');
    const b2 = columns();
    b2.inputs[0] = { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] };
    expect(status(() => parseInferRequest(model, b2)).message).toContain('is not a column');
  });

  it('lets optional features be missing or null (NaN)', () => {
    const m = compileModel(
      description({
        features: [
          { name: 'a', type: 'number' },
          { name: 'b', type: 'number', optional: true },
        ],
      }),
    );
    const p = parseInferRequest(m, { inputs: [{ name: 'a', shape: [2], datatype: 'FP64', data: [1, 2] }] });
    expect(Array.from(p.inline!.values)).toEqual([1, NaN, 2, NaN]);
    const q = parseInferRequest(m, { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [1, null] }] });
    expect(Array.from(q.inline!.values)).toEqual([1, NaN]);
    expect(status(() => parseInferRequest(m, { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [null, 1] }] })).message).toContain(
      'missing value',
    );
  });
});

describe('infer request: envelope', () => {
  it('answers 413 past maxBatchSize and 400 for no rows', () => {
    expect(
      status(() =>
        parseInferRequest(
          model,
          tensor(
            new Array(5).fill(0).map((_, i) => [1, 1, 'red', i % 2 === 0]),
            [5, 4],
          ),
        ),
      ).status,
    ).toBe(413);
    expect(status(() => parseInferRequest(model, tensor([], [0, 4]))).message).toBe('the request has no rows');
  });

  it('names missing fields', () => {
    expect(status(() => parseInferRequest(model, [])).message).toContain('JSON object');
    expect(status(() => parseInferRequest(model, {})).message).toContain('inputs is required');
    expect(status(() => parseInferRequest(model, { inputs: [{ name: 'input', datatype: 'FP32', data: [] }] })).message).toContain('shape must be');
    expect(status(() => parseInferRequest(model, { inputs: [{ name: 'input', shape: [1, 4], data: [] }] })).message).toContain('datatype is required');
    expect(status(() => parseInferRequest(model, { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32' }] })).message).toContain('data is required');
    expect(status(() => parseInferRequest(model, { id: 7, inputs: [] })).message).toContain('id must be');
    expect(status(() => parseInferRequest(model, { inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] })).message).toContain('inputs[0].name');
  });

  it('checks requested outputs', () => {
    const ok = parseInferRequest(model, { ...tensor([1, 1, 'red', true]), outputs: [{ name: 'label' }] });
    expect(ok.outputs).toEqual(['label']);
    expect(status(() => parseInferRequest(model, { ...tensor([1, 1, 'red', true]), outputs: [{ name: 'value' }] })).message).toContain(
      'unknown output "value"',
    );
    expect(
      status(() => parseInferRequest(model, { ...tensor([1, 1, 'red', true]), outputs: [{ name: 'label', parameters: { binary_data: 'yes' } }] })).message,
    ).toContain('binary_data must be true or false');
  });

  it('picks binary outputs: binary_data of an output wins over binary_data_output of the request', () => {
    const base = tensor([1, 1, 'red', true]);
    expect([...parseInferRequest(model, base).binary]).toEqual([]);
    expect([...parseInferRequest(model, { ...base, parameters: { binary_data_output: true } }).binary]).toEqual(['label', 'probabilities']);
    const mixed = parseInferRequest(model, {
      ...base,
      parameters: { binary_data_output: true },
      outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }],
    });
    expect([...mixed.binary]).toEqual(['probabilities']);
    expect([...parseInferRequest(model, { ...base, outputs: [{ name: 'label', parameters: { binary_data: true } }] }).binary]).toEqual(['label']);
  });

  it('reads a data reference from parameters (or the top level) and checks the input mode', () => {
    expect(parseInferRequest(model, { parameters: { data_ref: 'file:///d.csv', format: 'csv' } }).reference).toEqual({ uri: 'file:///d.csv', format: 'csv' });
    expect(parseInferRequest(model, { data_ref: 'https://h/d.json' }).reference).toEqual({ uri: 'https://h/d.json' });
    expect(status(() => parseInferRequest(model, { parameters: { data_ref: 'x', format: 'xml' } })).message).toContain('unknown data format');
    expect(status(() => parseInferRequest(model, { ...tensor([1, 1, 'red', true]), parameters: { data_ref: 'file:///d.csv' } })).message).toContain('not both');
    const inlineOnly = compileModel(description({ inference: { inputModes: ['inline'] } }));
    expect(status(() => parseInferRequest(inlineOnly, { parameters: { data_ref: 'file:///d.csv' } })).message).toContain(
      'does not accept inference by reference',
    );
  });
});

describe('responses and metadata', () => {
  it('encodes label and probabilities, honouring the requested subset', () => {
    const enc = createResponseEncoder(model);
    const body = JSON.parse(
      enc.encode(
        'r-1',
        2,
        {
          probabilities: [
            [0.9, 0.1],
            [0.2, 0.8],
          ],
        },
        undefined,
      ),
    );
    expect(body).toEqual({
      model_name: 'toy',
      model_version: '2',
      id: 'r-1',
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
        { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.9, 0.1, 0.2, 0.8] },
      ],
    });
    const only = JSON.parse(enc.encode('r-2', 1, { labels: ['b'], probabilities: [[0.1, 0.9]] }, ['probabilities']));
    expect(only.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
  });

  it('encodes regression values', () => {
    const m = compileModel(description({ task: 'regression', outputs: { unit: 'kWh' } }));
    const body = JSON.parse(createResponseEncoder(m).encode('q', 2, { values: [1.5, 2] }, undefined));
    expect(body.outputs).toEqual([{ name: 'value', datatype: 'FP32', shape: [2], data: [1.5, 2] }]);
  });

  it('describes inputs per feature and the outputs', () => {
    const meta = modelMetadata(model);
    expect(meta).toMatchObject({ name: 'toy', versions: ['2'], platform: 'onnxruntime' });
    expect(meta.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['x', 'FP32', [-1]],
      ['n', 'INT64', [-1]],
      ['color', 'BYTES', [-1]],
      ['flag', 'BOOL', [-1]],
    ]);
    expect(meta.inputs[2]!.parameters).toEqual({ feature_type: 'category', values: ['red', 'green', 'blue'] });
    expect(meta.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(serverMetadata('1.2.3')).toEqual({ name: 'maas', version: '1.2.3', extensions: ['feedback', 'stats', 'drift', 'data_ref', 'metrics'] });
  });

  it('decodes encoded values back to what clients send (float32 shown shortest)', () => {
    const encoded = new Float32Array([0.1, 3, 2, 1]);
    expect(model.features.map((f, j) => decodeValue(f, encoded[j]!))).toEqual([0.1, 3, 'blue', true]);
    expect(decodeValue(model.features[0]!, NaN)).toBeNull();
  });
});

describe('binary tensor bodies', () => {
  const body = (inputs: { name: string; datatype: string; bytes: Buffer }[]) => {
    const header = Buffer.from(
      JSON.stringify({ inputs: inputs.map((i) => ({ name: i.name, shape: [2], datatype: i.datatype, parameters: { binary_data_size: i.bytes.length } })) }),
    );
    return { buf: Buffer.concat([header, ...inputs.map((i) => i.bytes)]), n: header.length };
  };

  it('decodes each datatype little-endian, in input order, and drops binary_data_size', () => {
    const u64 = Buffer.alloc(16);
    u64.writeBigUInt64LE(7n, 0);
    u64.writeBigUInt64LE(2n ** 40n, 8);
    const { buf, n } = body([
      { name: 'a', datatype: 'INT8', bytes: Buffer.from([0xff, 0x05]) },
      { name: 'b', datatype: 'UINT16', bytes: Buffer.from([0x01, 0x01, 0xff, 0xff]) },
      { name: 'c', datatype: 'FP16', bytes: Buffer.from([0x00, 0x3c, 0x00, 0xc1]) },
      { name: 'd', datatype: 'UINT64', bytes: u64 },
      { name: 'e', datatype: 'BOOL', bytes: Buffer.from([1, 0]) },
      { name: 'f', datatype: 'BYTES', bytes: Buffer.from([1, 0, 0, 0, 0x61, 2, 0, 0, 0, 0xc3, 0xa9]) },
    ]);
    const decoded = decodeBinaryRequest(buf, n) as { inputs: { name: string; data: unknown[]; parameters: object }[] };
    expect(decoded.inputs.map((i) => [i.name, i.data, i.parameters])).toEqual([
      ['a', [-1, 5], {}],
      ['b', [257, 65535], {}],
      ['c', [1, -2.5], {}],
      ['d', [7, 2 ** 40], {}],
      ['e', [true, false], {}],
      ['f', ['a', 'é'], {}],
    ]);
  });

  it('refuses sizes that do not fit the datatype or the body', () => {
    const odd = body([{ name: 'x', datatype: 'FP32', bytes: Buffer.alloc(6) }]);
    expect(status(() => decodeBinaryRequest(odd.buf, odd.n)).message).toContain('not a multiple of the 4-byte FP32 element');
    const cut = body([{ name: 's', datatype: 'BYTES', bytes: Buffer.from([9, 0, 0, 0, 0x61]) }]);
    expect(status(() => decodeBinaryRequest(cut.buf, cut.n)).message).toContain('element 0 needs 9 bytes');
    const unknown = body([{ name: 'q', datatype: 'BF16', bytes: Buffer.alloc(4) }]);
    expect(status(() => decodeBinaryRequest(unknown.buf, unknown.n)).message).toContain('"BF16" is not supported');
  });
});

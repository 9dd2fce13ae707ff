// The ONNX runtime on real onnxruntime sessions, with models the example trains and exports.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, harToCsv } from '../../examples/har/generate.js';
import { harDescription, mlpForward, trainHar, type HarTrainResult } from '../../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../../examples/lib/mlp.js';
import { linearRegressionOnnx } from '../../examples/lib/onnx-writer.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { Runtime } from '../../src/serving/runtime.js';
import { createOnnxRuntime } from '../../src/serving/runtimes/onnx.js';
import { loadRuntime } from '../../src/serving/runtimes/index.js';
import { rejection } from '../support/assert.js';

let dir: string;
let trained: HarTrainResult;
let description: ModelDescription;
let modelPath: string;
let runtime: Runtime;

const fresh = generateHar({ rows: 200, seed: 12 });

function matrix(rows: readonly (readonly number[])[]): Float32Array {
  return Float32Array.from(rows.flat());
}

/** The description with spec changes applied to a deep copy. */
function variant(change: (d: ModelDescription) => void): ModelDescription {
  const copy = structuredClone(description);
  change(copy);
  return copy;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maas-onnx-'));
  const csv = harToCsv(generateHar({ rows: 1500, seed: 11 }));
  const options = { ...DEFAULT_MLP_OPTIONS, epochs: 15, seed: 3, testFraction: 0.2 };
  trained = trainHar(csv, options);
  description = harDescription(trained, { name: 'har-classifier', version: '1', options });
  modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, trained.onnx);
  runtime = await loadRuntime(description, modelPath);
});

afterAll(async () => {
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ONNX runtime with the HAR classifier', () => {
  it('describes the session inputs and outputs', () => {
    expect(runtime.info.name).toMatch(/^onnxruntime \d+\.\d+/);
    expect(runtime.info.inputs).toEqual([{ name: 'input', shape: ['N', 14], type: 'float32' }]);
    expect(runtime.info.outputs).toEqual([
      { name: 'probabilities', shape: ['N', 6], type: 'float32' },
      { name: 'label', shape: ['N'], type: 'int64' },
    ]);
  });

  it('predicts like the TypeScript forward pass for a batch of 64', async () => {
    const rows = fresh.rows.slice(0, 64);
    const got = await runtime.predict(matrix(rows), rows.length);
    const want = mlpForward(trained.model, rows);
    expect(got.probabilities).toHaveLength(64);
    got.probabilities!.forEach((p, i) => {
      expect(p).toHaveLength(6);
      p.forEach((v, k) => expect(Math.abs(v - want.probabilities[i]![k]!)).toBeLessThan(1e-4));
    });
    expect(got.labels).toEqual(want.labels.map((k) => trained.labels[k]));
  });

  it('predicts a batch of 1', async () => {
    const row = fresh.rows[7]!;
    const got = await runtime.predict(matrix([row]), 1);
    const want = mlpForward(trained.model, [row]);
    expect(got.labels).toEqual([trained.labels[want.labels[0]!]]);
    expect(got.probabilities![0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('is accurate on unseen windows', async () => {
    const got = await runtime.predict(matrix(fresh.rows), fresh.rows.length);
    const correct = got.labels!.filter((l, i) => l === fresh.labels[i]).length;
    expect(correct / fresh.rows.length).toBeGreaterThan(0.8);
  });

  it('answers an empty batch without running the model', async () => {
    expect(await runtime.predict(new Float32Array(0), 0)).toEqual({ probabilities: [], labels: [] });
  });

  it('rejects a matrix whose size does not match rows x features', async () => {
    const e = await rejection(runtime.predict(new Float32Array(13), 1));
    expect(e.code).toBe('USAGE');
  });

  it('infers the outputs when the description does not name them', async () => {
    const d = variant((x) => delete x.spec.artifact.outputTensors);
    const r = await createOnnxRuntime({ modelPath, description: d });
    try {
      const rows = fresh.rows.slice(0, 10);
      const got = await r.predict(matrix(rows), rows.length);
      expect(got.labels).toEqual(mlpForward(trained.model, rows).labels.map((k) => trained.labels[k]));
      expect(got.probabilities).toHaveLength(10);
    } finally {
      await r.close();
    }
  });

  it('uses a label output alone (a subset of the outputs)', async () => {
    const d = variant((x) => (x.spec.artifact.outputTensors = { label: 'label' }));
    const r = await createOnnxRuntime({ modelPath, description: d });
    try {
      const rows = fresh.rows.slice(0, 20);
      const got = await r.predict(matrix(rows), rows.length);
      expect(got.probabilities).toBeUndefined();
      expect(got.labels).toEqual(mlpForward(trained.model, rows).labels.map((k) => trained.labels[k]));
    } finally {
      await r.close();
    }
  });

  it('takes the argmax when only probabilities are mapped', async () => {
    const d = variant((x) => (x.spec.artifact.outputTensors = { probabilities: 'probabilities' }));
    const r = await createOnnxRuntime({ modelPath, description: d, threads: 2 });
    try {
      const rows = fresh.rows.slice(0, 20);
      const got = await r.predict(matrix(rows), rows.length);
      expect(got.labels).toEqual(mlpForward(trained.model, rows).labels.map((k) => trained.labels[k]));
    } finally {
      await r.close();
    }
  });

  it('refuses to predict after close', async () => {
    const r = await createOnnxRuntime({ modelPath, description });
    await r.close();
    await r.close();
    expect((await rejection(r.predict(matrix([fresh.rows[0]!]), 1))).code).toBe('UNAVAILABLE');
  });
});

describe('ONNX runtime errors', () => {
  it('reports a missing file', async () => {
    const e = await rejection(createOnnxRuntime({ modelPath: join(dir, 'missing.onnx'), description }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.hint).toBeTruthy();
  });

  it('reports bytes that are not ONNX', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'this is not a protobuf model');
    const e = await rejection(createOnnxRuntime({ modelPath: bad, description }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain(bad);
    expect(e.hint).toMatch(/re-export/);
  });

  it('reports a feature count that differs from the model input', async () => {
    const d = variant((x) => x.spec.features.pop());
    const e = await rejection(createOnnxRuntime({ modelPath, description: d }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/takes 14 features per row, but the description lists 13/);
  });

  it('finds a feature count mismatch by a warm-up run when the input width is symbolic', async () => {
    const { onnx } = onnxProto;
    const model = onnx.ModelProto.decode(trained.onnx);
    const dims = model.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    dims[1] = { dimParam: 'F' };
    const file = join(dir, 'symbolic.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const ok = await createOnnxRuntime({ modelPath: file, description });
    expect(ok.info.inputs[0]!.shape).toEqual(['N', 'F']);
    await ok.close();
    const e = await rejection(createOnnxRuntime({ modelPath: file, description: variant((x) => x.spec.features.pop()) }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/does not accept a \[1, 13\] feature matrix/);
  });

  it('reports labels that do not match the probability columns', async () => {
    const d = variant((x) => {
      x.spec.outputs!.labels = x.spec.outputs!.labels!.slice(0, 5);
    });
    const e = await rejection(createOnnxRuntime({ modelPath, description: d }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/probabilities/);
  });

  it('reports an output name the model does not have', async () => {
    const d = variant((x) => (x.spec.artifact.outputTensors = { label: 'class' }));
    const e = await rejection(createOnnxRuntime({ modelPath, description: d }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/"class".*probabilities, label/);
  });

  it('reports an input name the model does not have', async () => {
    const d = variant((x) => (x.spec.artifact.inputTensor = 'features'));
    const e = await rejection(createOnnxRuntime({ modelPath, description: d }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/"features".*input/);
  });

  it('has no runtime for an unknown artifact format', async () => {
    const d = variant((x) => ((x.spec.artifact as { format: string }).format = 'pmml'));
    const e = await rejection(loadRuntime(d, modelPath));
    expect(e.code).toBe('USAGE');
    expect(e.hint).toMatch(/onnx/);
  });
});

describe('ONNX runtime with a linear regression', () => {
  const mean = [1, -2, 0.5];
  const std = [2, 0.5, 1];
  const weights = [0.7, -1.3, 2.1];
  const bias = 4.2;
  const regression = (name: string): ModelDescription => ({
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name, version: '1' },
    spec: {
      task: 'regression',
      algorithm: 'LinearRegression',
      artifact: { uri: 'file://./linear.onnx', format: 'onnx' },
      features: ['a', 'b', 'c'].map((f) => ({ name: f, type: 'number' as const })),
      outputs: { name: 'y', unit: 'kWh' },
    },
  });

  it('returns X·w + b on standardized inputs', async () => {
    const file = join(dir, 'linear.onnx');
    writeFileSync(file, linearRegressionOnnx({ mean, std, weights, bias }));
    const r = await loadRuntime(regression('energy'), file);
    try {
      expect(r.info.outputs).toEqual([{ name: 'value', shape: ['N', 1], type: 'float32' }]);
      const X = [
        [1, -2, 0.5],
        [3, 0, -1],
        [-4.5, 1.25, 10],
      ];
      const got = await r.predict(matrix(X), X.length);
      const want = X.map((x) => x.reduce((acc, v, j) => acc + ((v - mean[j]!) / std[j]!) * weights[j]!, bias));
      expect(got.labels).toBeUndefined();
      got.values!.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
      expect(got.values![0]).toBeCloseTo(bias, 5);
    } finally {
      await r.close();
    }
  });
});

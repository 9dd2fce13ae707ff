// The composition root's model evaluator: stored ONNX artifacts run in-process by onnxruntime,
// rows as CSV text or JSON values, labels mapped by name, bad values named by row and feature.
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildServices, type OpenedServices } from '../../src/app/composition-root.js';
import { compareVersions } from '../../src/app/compare.js';
import { ManualClock } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import { FsArtifactStore } from '../../src/registry/fs-artifact-store.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { mlpClassifierOnnx } from '../../examples/lib/onnx-writer.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { memoryStores } from '../support/memory-stores.js';
import { onnxFor } from '../support/onnx-models.js';

let dir: { path: string; cleanup: () => void };
let s: OpenedServices;

beforeEach(async () => {
  dir = tempDir('maas-evaluator-');
  const stores = { ...memoryStores(), artifacts: new FsArtifactStore(dir.path) };
  s = await buildServices({
    home: resolveHome({}, '/', dir.path),
    config: {},
    env: {},
    cwd: dir.path,
    clock: new ManualClock(),
    cluster: {},
    version: '0.0.0-test',
    overrides: { stores, datasets: new FsDatasetReader() },
  });
});
afterEach(async () => {
  await s.close();
  dir.cleanup();
});

/** labels (in this order) from argmax(relu(x0) + bias, relu(x1)). */
const classifier = (bias: number): Uint8Array =>
  mlpClassifierOnnx({ features: 2, hidden: 2, classes: 2, mean: [0, 0], std: [1, 1], w1: [1, 0, 0, 1], b1: [0, 0], w2: [1, 0, 0, 1], b2: [bias, 0] });

async function register(
  version: string,
  bytes: Uint8Array,
  labels = ['no', 'yes'],
  features: [string, 'number' | 'category'][] = [
    ['x0', 'number'],
    ['x1', 'number'],
  ],
) {
  const d: ModelDescription = modelDescription({ name: 'churn', version, features });
  d.spec.outputs = { labels };
  const artifact = await s.artifacts.put(Readable.from([Buffer.from(bytes)]));
  return (await s.models.registerModel(d, { ...artifact, uri: d.spec.artifact.uri })).record;
}

describe('the ONNX model evaluator', () => {
  it('predicts labels for CSV text and JSON values, in row order', async () => {
    const m = await register('1', classifier(0));
    const p = await s.evaluator.predict(m, [
      { x0: '0.1', x1: '0.9', other: 'ignored' },
      { x0: 0.8, x1: 0.2 },
    ]);
    expect(p).toEqual({ labels: ['yes', 'no'] });
  });

  it('predicts values for a regression', async () => {
    const d = modelDescription({ name: 'price', version: '1', task: 'regression', features: [['x0', 'number']] });
    const artifact = await s.artifacts.put(Readable.from([Buffer.from(onnxFor(d))]));
    const m = (await s.models.registerModel(d, { ...artifact, uri: d.spec.artifact.uri })).record;
    const p = await s.evaluator.predict(m, [{ x0: 1 }, { x0: 2 }]);
    expect(p.values).toHaveLength(2);
    expect(p.labels).toBeUndefined();
  });

  it('names the row and feature of a value the description does not admit', async () => {
    const m = await register('1', classifier(0));
    const e = await rejection(
      s.evaluator.predict(m, [
        { x0: 1, x1: 1 },
        { x0: 'abc', x1: 1 },
      ]),
    );
    expect(e).toMatchObject({ code: 'VALIDATION', message: 'row 2 feature "x0": expected a number, got "abc"' });
  });

  it('compares two stored versions whose labels are in a different order', async () => {
    await register('1', classifier(0.2));
    // The same decision rule with the classes swapped: columns (yes, no).
    await register(
      '2',
      mlpClassifierOnnx({ features: 2, hidden: 2, classes: 2, mean: [0, 0], std: [1, 1], w1: [1, 0, 0, 1], b1: [0, 0], w2: [0, 1, 1, 0], b2: [0, 0] }),
      ['yes', 'no'],
    );
    const rows = Array.from({ length: 100 }, (_, i) => {
      const x0 = (i % 10) / 10;
      const x1 = Math.floor(i / 10) / 10 + 0.05;
      return [x0, x1, x1 > x0 ? 'yes' : 'no'];
    });
    const r = await compareVersions(s, { a: 'churn@1', b: 'churn@2', rows: { kind: 'rows', what: 'grid', features: ['x0', 'x1'], target: 'label', rows } });
    expect(r.b.metrics).toMatchObject({ accuracy: 1 });
    expect(r.test).toMatchObject({ discordant: { a_only: 0, b_only: expect.any(Number) } });
    expect(r.verdict).toBe('better');
  });
});

// The HAR example: data generator, training program and the model description it writes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIVITIES, generateHar, HAR_FEATURES, harToCsv, harToRequests, main as generateMain } from '../../examples/har/generate.js';
import { classificationMetrics, main as trainMain, mlpForward, readLabelledCsv, trainHar, trainTestSplit } from '../../examples/har/train.js';
import { ModelSchema, type ModelDescription } from '../../src/spec/schema.js';

const column = (rows: number[][], name: string): number[] => {
  const j = HAR_FEATURES.indexOf(name as (typeof HAR_FEATURES)[number]);
  return rows.map((r) => r[j]!);
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maas-har-'));
  // The programs report on stdout; keep test output clean.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('HAR data generator', () => {
  it('is deterministic for a seed', () => {
    const a = generateHar({ rows: 300, seed: 42 });
    expect(generateHar({ rows: 300, seed: 42 })).toEqual(a);
    expect(generateHar({ rows: 300, seed: 43 }).rows).not.toEqual(a.rows);
  });

  it('produces every activity and finite values for every feature', () => {
    const d = generateHar({ rows: 1200, seed: 1 });
    expect(d.features).toEqual([...HAR_FEATURES]);
    expect(d.features.length).toBeGreaterThanOrEqual(12);
    expect(new Set(d.labels)).toEqual(new Set(ACTIVITIES));
    for (const row of d.rows) {
      expect(row).toHaveLength(HAR_FEATURES.length);
      for (const v of row) expect(Number.isFinite(v)).toBe(true);
    }
    // Deviations and magnitudes are never negative.
    for (const f of HAR_FEATURES.filter((n) => /std|mag|freq/.test(n))) expect(Math.min(...column(d.rows, f))).toBeGreaterThanOrEqual(0);
  });

  it('shifts feature means under covariate shift and leaves the gait frequency alone', () => {
    const base = generateHar({ rows: 3000, seed: 5 });
    const shifted = generateHar({ rows: 3000, seed: 5, shift: 1 });
    expect(mean(column(shifted.rows, 'acc_x_mean')) - mean(column(base.rows, 'acc_x_mean'))).toBeGreaterThan(0.05);
    expect(mean(column(shifted.rows, 'acc_z_mean'))).toBeLessThan(mean(column(base.rows, 'acc_z_mean')) - 0.03);
    expect(mean(column(shifted.rows, 'acc_x_std')) / mean(column(base.rows, 'acc_x_std'))).toBeGreaterThan(1.15);
    expect(mean(column(shifted.rows, 'gyro_x_std'))).toBeGreaterThan(mean(column(base.rows, 'gyro_x_std')));
    expect(mean(column(shifted.rows, 'acc_dom_freq'))).toBeCloseTo(mean(column(base.rows, 'acc_dom_freq')), 6);
    expect(shifted.labels).toEqual(base.labels);
  });

  it('round-trips through CSV exactly', () => {
    const d = generateHar({ rows: 50, seed: 9 });
    const back = readLabelledCsv(harToCsv(d));
    expect(back.features).toEqual(d.features);
    expect(back.X).toEqual(d.rows);
    expect(back.y).toEqual(d.labels);
  });

  it('writes request rows keyed by feature without the label', () => {
    const requests = harToRequests(generateHar({ rows: 3, seed: 2 }));
    expect(requests).toHaveLength(3);
    expect(Object.keys(requests[0]!)).toEqual([...HAR_FEATURES]);
  });
});

describe('HAR training', () => {
  const csv = harToCsv(generateHar({ rows: 2000, seed: 1 }));
  const options = { epochs: 20, seed: 4 };
  let result: ReturnType<typeof trainHar>;
  beforeAll(() => {
    result = trainHar(csv, options);
  });

  it('splits rows into disjoint train and test sets', () => {
    const { train, test } = trainTestSplit(100, 0.2, 1);
    expect(test).toHaveLength(20);
    expect(new Set([...train, ...test]).size).toBe(100);
  });

  it('is deterministic and reaches a realistic, not perfect, accuracy', () => {
    expect(trainHar(csv, options).model).toEqual(result.model);
    expect(result.metrics.accuracy).toBeGreaterThan(0.85);
    expect(result.metrics.accuracy).toBeLessThan(0.99);
    expect(result.metrics.f1Macro).toBeGreaterThan(0.8);
    expect(result.labels).toEqual([...ACTIVITIES]);
  });

  it('loses accuracy under concept change while feature means barely move', () => {
    const base = generateHar({ rows: 1500, seed: 8 });
    const changed = generateHar({ rows: 1500, seed: 8, labelShift: true });
    const accuracy = (d: typeof base): number => {
      const predicted = mlpForward(result.model, d.rows).labels;
      return predicted.filter((k, i) => result.labels[k] === d.labels[i]).length / d.rows.length;
    };
    expect(accuracy(base)).toBeGreaterThan(0.85);
    expect(accuracy(changed)).toBeLessThan(0.6);
    expect(Math.abs(mean(column(changed.rows, 'acc_x_mean')) - mean(column(base.rows, 'acc_x_mean')))).toBeLessThan(0.02);
  });

  it('declares ranges that hold moderately shifted data', () => {
    const shifted = generateHar({ rows: 2000, seed: 6, shift: 1 });
    const outside = shifted.rows.flatMap((row, i) =>
      row.flatMap((v, j) => (v < result.ranges[j]!.min || v > result.ranges[j]!.max ? [`row ${i} ${HAR_FEATURES[j]}=${v}`] : [])),
    );
    expect(outside).toEqual([]);
  });

  it('computes accuracy and macro F1', () => {
    const m = classificationMetrics([0, 0, 1, 1], [0, 1, 1, 1], ['a', 'b']);
    expect(m.accuracy).toBe(0.75);
    // a: precision 1, recall 0.5 -> 2/3; b: precision 2/3, recall 1 -> 0.8
    expect(m.f1Macro).toBeCloseTo((2 / 3 + 0.8) / 2, 10);
    expect(m.confusion).toEqual([
      [1, 1],
      [0, 2],
    ]);
  });
});

describe('HAR programs', () => {
  it('generate and train write data, requests, model and a description that validates', async () => {
    const out = join(dir, 'har');
    await generateMain([
      '--out',
      join(dir, 'data', 'train.csv'),
      '--rows',
      '800',
      '--seed',
      '3',
      '--requests',
      join(out, 'requests.json'),
      '--request-rows',
      '5',
    ]);
    await trainMain(['--data', join(dir, 'data', 'train.csv'), '--out', out, '--version', '2', '--epochs', '5']);

    const requests = JSON.parse(readFileSync(join(out, 'requests.json'), 'utf8')) as Record<string, number>[];
    expect(requests).toHaveLength(5);
    expect(readFileSync(join(out, 'train.csv'), 'utf8')).toBe(readFileSync(join(dir, 'data', 'train.csv'), 'utf8'));
    expect(readFileSync(join(out, 'model.onnx')).length).toBeGreaterThan(1000);

    const description = parse(readFileSync(join(out, 'model.yaml'), 'utf8')) as ModelDescription;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(ModelSchema);
    const valid = validate(description);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(description.metadata).toMatchObject({ name: 'har-classifier', version: '2', labels: { domain: 'activity-recognition', sensor: 'imu' } });
    expect(description.spec.features.map((f) => f.name)).toEqual([...HAR_FEATURES]);
    expect(description.spec.outputs!.labels).toEqual([...ACTIVITIES]);
    expect(description.spec.artifact).toMatchObject({ uri: 'file://./model.onnx', format: 'onnx', inputTensor: 'input' });
    expect(description.spec.training!.data).toEqual({ uri: 'file://./train.csv', format: 'csv', target: 'activity' });
    expect(description.spec.hyperparameters!.epochs).toBe(5);

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { accuracy: number; f1Macro: number };
    expect(description.spec.performance!.accuracy).toBeCloseTo(metrics.accuracy, 4);
    expect(description.spec.performance!.f1_macro).toBeCloseTo(metrics.f1Macro, 4);
  });

  it('rejects bad arguments as usage errors', async () => {
    await expect(generateMain(['--rows', '10'])).rejects.toThrow(/--out/);
    await expect(generateMain(['--out', join(dir, 'x.csv'), '--rows', 'many'])).rejects.toThrow(/--rows must be/);
    await expect(trainMain(['--data', join(dir, 'none.csv'), '--out', join(dir, 'none')])).rejects.toThrow(/generate it first/);
  });
});

// `maas compare` end to end with real ONNX models run in-process by onnxruntime: registered
// versions, a labelled CSV, the table, -o wide / json, and the exit codes of bad input.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { linearRegressionOnnx, mlpClassifierOnnx } from '../../examples/lib/onnx-writer.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';
import { seededRandom } from '../../src/core/clock.js';

let work: { path: string; cleanup: () => void };
let home: { path: string; cleanup: () => void };
const cli = (...argv: string[]): Promise<CliResult> => runCli(argv, { home: home.path, cwd: work.path });

/** labels no/yes; label = argmax(relu(x0) + b2[0], relu(x1) + b2[1]). */
const classifier = (bias: number): Uint8Array =>
  mlpClassifierOnnx({ features: 2, hidden: 2, classes: 2, mean: [0, 0], std: [1, 1], w1: [1, 0, 0, 1], b1: [0, 0], w2: [1, 0, 0, 1], b2: [bias, 0] });

function describeModel(name: string, version: string, artifact: string, task: 'classification' | 'regression', data: string, target: string): ModelDescription {
  const d = modelDescription({
    name,
    version,
    task,
    features: [
      ['x0', 'number'],
      ['x1', 'number'],
    ],
    artifactUri: `file://./${artifact}`,
  });
  d.spec.training = { data: { uri: `file://./${data}`, target } };
  return d;
}

beforeAll(async () => {
  work = tempDir('maas-compare-cli-');
  home = tempDir();
  const random = seededRandom(11);
  const xs = Array.from({ length: 200 }, () => [random.next(), random.next()] as const);
  // Truth: yes when x1 > x0. B (no bias) gets it right; A, biased towards "no", misses 0 < x1 - x0 < 0.2.
  writeFileSync(join(work.path, 'labelled.csv'), ['x0,x1,label', ...xs.map(([a, b]) => `${a},${b},${b > a ? 'yes' : 'no'}`)].join('\n') + '\n');
  // Truth: y = x0 + x1 +- 0.05; B is exact, A is off by 0.3.
  writeFileSync(join(work.path, 'values.csv'), ['x0,x1,y', ...xs.map(([a, b], i) => `${a},${b},${a + b + (i % 2 ? 0.05 : -0.05)}`)].join('\n') + '\n');
  writeFileSync(join(work.path, 'a.onnx'), classifier(0.2));
  writeFileSync(join(work.path, 'b.onnx'), classifier(0));
  writeFileSync(join(work.path, 'ra.onnx'), linearRegressionOnnx({ mean: [0, 0], std: [1, 1], weights: [1, 1], bias: 0.3 }));
  writeFileSync(join(work.path, 'rb.onnx'), linearRegressionOnnx({ mean: [0, 0], std: [1, 1], weights: [1, 1], bias: 0 }));
  const docs = [
    describeModel('churn', '1', 'a.onnx', 'classification', 'labelled.csv', 'label'),
    describeModel('churn', '2', 'b.onnx', 'classification', 'labelled.csv', 'label'),
    describeModel('price', '1', 'ra.onnx', 'regression', 'values.csv', 'y'),
    describeModel('price', '2', 'rb.onnx', 'regression', 'values.csv', 'y'),
  ];
  writeFileSync(join(work.path, 'models.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  const r = await cli('register', 'models.yaml');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => {
  work?.cleanup();
  home?.cleanup();
});

describe('maas compare with real ONNX models', () => {
  it('finds the challenger classifier better, as a table with a verdict line', async () => {
    const r = await cli('compare', 'churn@1', 'churn@2', '--data', 'labelled.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^METRIC\s+A\s+B\s+DIFFERENCE/);
    expect(r.stdout).toMatch(/A: churn@1 \(champion\), B: churn@2 \(challenger\)/);
    expect(r.stdout).toMatch(/accuracy\s+0\.\d+\s+1\s+\+0\.\d+/);
    expect(r.stdout).toMatch(/200 labelled rows from data file .*labelled\.csv \(target "label"\)/);
    expect(r.stdout).toMatch(/McNemar (exact|chi-square): \d+ rows only B got right, 0 only A/);
    expect(r.stdout).toMatch(/B \(churn@2\) is better than A \(churn@1\)/);
    expect(r.stdout).not.toMatch(/precision\[/);
    const wide = await cli('compare', 'churn@1', 'churn@2', '--data', 'labelled.csv', '-o', 'wide');
    expect(wide.stdout).toMatch(/precision\[no\]/);
    expect(wide.stdout).toMatch(/support\[yes\]/);
  });

  it('prints the comparison as data with -o json, and exits 0 when B is not better', async () => {
    const r = await cli('compare', 'churn@2', 'churn@1', '--data', 'labelled.csv', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data).toMatchObject({
      a: { ref: 'churn@2', metrics: { accuracy: 1, f1_macro: 1 } },
      b: { ref: 'churn@1' },
      primary: { metric: 'accuracy', a: 1 },
      test: { discordant: { b_only: 0 } },
      verdict: 'not_better',
      rows: 200,
    });
    expect(data.test.discordant.a_only).toBeGreaterThan(20);
    expect(data.test.name).toBe('mcnemar_chi2');
  });

  it('bootstraps regressions', async () => {
    const r = await cli('compare', 'price@1', 'price@2', '--data', 'values.csv', '--seed', '3', '-o', 'yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict: better/);
    expect(r.stdout).toMatch(/name: paired_bootstrap/);
    expect(r.stdout).toMatch(/metric: rmse/);
  });

  it.each([
    [['churn@1', 'churn@7', '--data', 'labelled.csv'], 4, /churn@7 is not registered/],
    [['churn@1', 'churn@2', '--data', 'values.csv'], 2, /no target column "label"/],
    [['churn@1', 'price@2', '--data', 'labelled.csv'], 2, /task: A is classification, B is regression/],
    [['churn@1', 'churn@2'], 2, /exactly one of --data FILE and --deployment ID/],
    [['churn@1', 'churn@2', '--data', 'labelled.csv', '--alpha', '2'], 2, /--alpha expects a number between 0 and 1/],
  ])('refuses %j with exit %i', async (argv, code, message) => {
    const r = await cli('compare', ...argv);
    expect(r.code, r.stdout).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});

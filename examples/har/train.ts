// Trains the HAR classifier: reads the CSV, holds out a seeded test split, trains an MLP, measures
// accuracy and macro F1 on the held-out rows, and writes model.onnx, model.yaml (the model
// description) and metrics.json into one directory together with the training data (train.csv),
// so that the directory is self-contained for `maas validate` and `maas register`.
//
//   node dist/examples/har/train.js [--data FILE.csv] [--out DIR] [--version V] [--seed S]
//        [--epochs N] [--hidden H] [--batch-size B] [--learning-rate LR] [--l2 L] [--test-fraction F]
//        [--name NAME] [--json]
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { ModelDescription } from '../../src/spec/schema.js';
import { parseCsv } from '../../src/protocol/csv.js';
import { classificationMetrics, type ClassificationMetrics } from '../lib/metrics.js';
import { DEFAULT_MLP_OPTIONS, mlpForward, trainMlp, type MlpModel, type MlpTrainOptions } from '../lib/mlp.js';
import { mlpClassifierOnnx } from '../lib/onnx-writer.js';
import { integerOption, isMain, numberOption, runMain, UsageError } from '../lib/program.js';
import { rngFor, shuffled } from '../lib/random.js';
import { describeHar, featureRanges, type FeatureRange } from './describe.js';
import { ACTIVITIES, HAR_TARGET } from './generate.js';

export { mlpForward, trainMlp, type MlpModel, type MlpTrainOptions };
export { classificationMetrics, type ClassificationMetrics };

export interface LabelledData {
  features: string[];
  X: number[][];
  y: string[];
}

/** CSV text -> numeric feature matrix (columns in file order) and the target column. */
export function readLabelledCsv(text: string, target = HAR_TARGET): LabelledData {
  const { header, rows } = parseCsv(text);
  const t = header.indexOf(target);
  if (t < 0) throw new Error(`the CSV has no "${target}" column (columns: ${header.join(', ')})`);
  const features = header.filter((_, j) => j !== t);
  const X: number[][] = [];
  const y: string[] = [];
  rows.forEach((r, i) => {
    const x: number[] = [];
    r.forEach((cell, j) => {
      if (j === t) return;
      const v = Number(cell);
      if (cell.trim() === '' || !Number.isFinite(v)) throw new Error(`row ${i + 2}, column ${header[j]}: "${cell}" is not a number`);
      x.push(v);
    });
    X.push(x);
    y.push(r[t] ?? '');
  });
  return { features, X, y };
}

/** Class order: the known activities first (stable across versions), then any others sorted. */
export function classOrder(y: readonly string[]): string[] {
  const known: readonly string[] = ACTIVITIES;
  const extra = [...new Set(y.filter((l) => !known.includes(l)))].sort();
  return [...known, ...extra];
}

/** Seeded split of row indices into train and test. */
export function trainTestSplit(rows: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const idx = shuffled(
    Array.from({ length: rows }, (_, i) => i),
    rngFor(seed, 20),
  );
  const nTest = Math.min(rows - 1, Math.round(rows * testFraction));
  return { test: idx.slice(0, nTest), train: idx.slice(nTest) };
}

export interface HarTrainOptions extends Partial<MlpTrainOptions> {
  testFraction?: number;
}

export interface HarTrainResult {
  model: MlpModel;
  features: string[];
  labels: string[];
  metrics: ClassificationMetrics;
  trainRows: number;
  testRows: number;
  ranges: FeatureRange[];
  hyperparameters: Record<string, number | string>;
  onnx: Uint8Array;
}

/** The whole training run as a pure function of the CSV text and the options. */
export function trainHar(csvText: string, options: HarTrainOptions = {}): HarTrainResult {
  const o = { ...DEFAULT_MLP_OPTIONS, ...options };
  const testFraction = options.testFraction ?? 0.2;
  const data = readLabelledCsv(csvText);
  if (data.X.length < 10) throw new Error(`need at least 10 rows to train and test, got ${data.X.length}`);
  const labels = classOrder(data.y);
  const yIdx = data.y.map((l) => labels.indexOf(l));
  const split = trainTestSplit(data.X.length, testFraction, o.seed);
  const pick = <T>(xs: readonly T[], idx: readonly number[]): T[] => idx.map((i) => xs[i] as T);
  const model = trainMlp(pick(data.X, split.train), pick(yIdx, split.train), labels.length, o);
  const predicted = mlpForward(model, pick(data.X, split.test)).labels;
  const metrics = classificationMetrics(pick(yIdx, split.test), predicted, labels);
  return {
    model,
    features: data.features,
    labels,
    metrics,
    trainRows: split.train.length,
    testRows: split.test.length,
    ranges: featureRanges(data.X),
    hyperparameters: {
      hidden_units: o.hidden,
      activation: 'relu',
      epochs: o.epochs,
      batch_size: o.batchSize,
      optimizer: 'adam',
      learning_rate: o.learningRate,
      l2: o.l2,
      test_fraction: testFraction,
      seed: o.seed,
    },
    onnx: mlpClassifierOnnx({ ...model, labels, featureNames: data.features, name: 'har_mlp' }),
  };
}

/** The command recorded in the description; `$DATA`, `$OUT` and `$VERSION` are filled in by retraining. */
export function trainingCommand(o: MlpTrainOptions & { testFraction: number }): string[] {
  return [
    'node',
    'dist/examples/har/train.js',
    '--data',
    '$DATA',
    '--out',
    '$OUT',
    '--version',
    '$VERSION',
    '--seed',
    String(o.seed),
    '--epochs',
    String(o.epochs),
    '--hidden',
    String(o.hidden),
    '--batch-size',
    String(o.batchSize),
    '--learning-rate',
    String(o.learningRate),
    '--l2',
    String(o.l2),
    '--test-fraction',
    String(o.testFraction),
  ];
}

export function harDescription(
  result: HarTrainResult,
  o: { name: string; version: string; options: MlpTrainOptions & { testFraction: number } },
): ModelDescription {
  return describeHar({
    name: o.name,
    version: o.version,
    features: result.features,
    ranges: result.ranges,
    labels: result.labels,
    hyperparameters: result.hyperparameters,
    metrics: result.metrics,
    dataPath: './train.csv',
    command: trainingCommand(o.options),
  });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string', default: join('examples', 'out', 'har') },
      name: { type: 'string', default: 'har-classifier' },
      version: { type: 'string', default: '1' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      hidden: { type: 'string' },
      'batch-size': { type: 'string' },
      'learning-rate': { type: 'string' },
      l2: { type: 'string' },
      'test-fraction': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const d = DEFAULT_MLP_OPTIONS;
  const options = {
    seed: integerOption('seed', values.seed, d.seed, 0, 2 ** 32 - 1),
    epochs: integerOption('epochs', values.epochs, d.epochs, 1, 10_000),
    hidden: integerOption('hidden', values.hidden, d.hidden, 1, 4096),
    batchSize: integerOption('batch-size', values['batch-size'], d.batchSize, 1, 1_000_000),
    learningRate: numberOption('learning-rate', values['learning-rate'], d.learningRate, 1e-9, 10),
    l2: numberOption('l2', values.l2, d.l2, 0, 10),
    testFraction: numberOption('test-fraction', values['test-fraction'], 0.2, 0.01, 0.9),
  };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values.name)) throw new UsageError(`--name must be a lowercase DNS label, got "${values.name}"`);
  const outDir = resolve(values.out);
  const dataFile = resolve(values.data ?? join(outDir, 'train.csv'));
  let csv: string;
  try {
    csv = readFileSync(dataFile, 'utf8');
  } catch {
    throw new UsageError(`cannot read training data ${dataFile}; generate it first: node dist/examples/har/generate.js --out ${join(values.out, 'train.csv')}`);
  }

  const started = performance.now();
  const result = trainHar(csv, options);
  const trainSeconds = (performance.now() - started) / 1000;

  mkdirSync(outDir, { recursive: true });
  const localData = join(outDir, 'train.csv');
  if (dataFile !== localData) copyFileSync(dataFile, localData);
  writeFileSync(join(outDir, 'model.onnx'), result.onnx);
  const description = harDescription(result, { name: values.name, version: values.version, options });
  const header = `# ${values.name}@${values.version}: written by examples/har/train.ts; metrics measured on ${result.testRows} held-out rows.\n`;
  writeFileSync(join(outDir, 'model.yaml'), header + stringify(description, { lineWidth: 120 }));
  const summary = {
    model: `${values.name}@${values.version}`,
    trainRows: result.trainRows,
    testRows: result.testRows,
    accuracy: result.metrics.accuracy,
    f1Macro: result.metrics.f1Macro,
    trainSeconds: Math.round(trainSeconds * 1000) / 1000,
    perClass: result.metrics.perClass,
    confusion: { labels: result.labels, matrix: result.metrics.confusion },
    outputs: ['model.onnx', 'model.yaml', 'metrics.json', 'train.csv'].map((f) => join(outDir, f)),
  };
  writeFileSync(join(outDir, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `trained ${summary.model} on ${result.trainRows} rows in ${trainSeconds.toFixed(2)} s: ` +
      `accuracy ${result.metrics.accuracy.toFixed(4)}, macro F1 ${result.metrics.f1Macro.toFixed(4)} on ${result.testRows} held-out rows\n` +
      `wrote ${summary.outputs.join(', ')}\n`,
  );
}

if (isMain(import.meta.url)) runMain(main);

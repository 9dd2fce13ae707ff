// Trains a small customer-churn classifier and writes it as churn.onnx: the model file of the
// README's walk-through. Two features, in this order: `tenure` (months, integer) and `plan`
// (`basic` or `pro`, sent by the server to the model as its code 0 or 1); two classes, `stay` and
// `leave`. The data is synthetic and seeded, so the same options always give the same file.
//
//   node dist/examples/churn/make.js [--out DIR] [--rows N] [--seed S]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { classificationMetrics } from '../lib/metrics.js';
import { mlpForward, trainMlp } from '../lib/mlp.js';
import { mlpClassifierOnnx } from '../lib/onnx-writer.js';
import { integerOption, isMain, runMain } from '../lib/program.js';
import { rngFor, uniform } from '../lib/random.js';

export const CHURN_FEATURES = ['tenure', 'plan'] as const;
export const PLANS = ['basic', 'pro'] as const;
export const CHURN_LABELS = ['stay', 'leave'] as const;

export interface ChurnData {
  /** `[tenure, plan code]` per customer. */
  X: number[][];
  /** Class index into CHURN_LABELS. */
  y: number[];
}

/** New customers on the basic plan leave most; the odds fall with every month they stay. */
export function generateChurn(rows: number, seed: number): ChurnData {
  const rng = rngFor(seed, 0);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const tenure = Math.floor(uniform(rng, 0, 73));
    const plan = rng.next() < 0.6 ? 0 : 1;
    const logit = 1.2 - 0.07 * tenure + (plan === 0 ? 0.8 : -0.8);
    X.push([tenure, plan]);
    y.push(rng.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
  }
  return { X, y };
}

export interface ChurnModel {
  onnx: Uint8Array;
  accuracy: number;
  testRows: number;
}

export function trainChurn(rows: number, seed: number): ChurnModel {
  const { X, y } = generateChurn(rows, seed);
  const cut = Math.floor(rows * 0.8);
  const model = trainMlp(X.slice(0, cut), y.slice(0, cut), CHURN_LABELS.length, { hidden: 8, epochs: 30, seed });
  const predicted = mlpForward(model, X.slice(cut)).labels;
  const { accuracy } = classificationMetrics(y.slice(cut), predicted, CHURN_LABELS);
  const onnx = mlpClassifierOnnx({ ...model, labels: CHURN_LABELS, featureNames: CHURN_FEATURES, name: 'churn_mlp' });
  return { onnx, accuracy, testRows: rows - cut };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join('examples', 'out', 'churn') },
      rows: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const rows = integerOption('rows', values.rows, 2000, 10, 1_000_000);
  const model = trainChurn(rows, integerOption('seed', values.seed, 1, 0, 2 ** 32 - 1));
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, 'churn.onnx');
  writeFileSync(file, model.onnx);
  process.stdout.write(
    `wrote ${file}: tenure (integer), plan (${PLANS.join('|')}) -> ${CHURN_LABELS.join('|')}; ` +
      `accuracy ${model.accuracy.toFixed(3)} on ${model.testRows} held-out rows\n`,
  );
}

if (isMain(import.meta.url)) runMain(main);

// A one-hidden-layer perceptron for tabular classification: standardization, ReLU, softmax
// cross-entropy, mini-batch Adam with L2 weight decay. Pure and seeded: the same data and
// options always give the same weights. Small enough to train on a few thousand rows in well
// under a second, and its graph maps 1:1 onto the ONNX operators Sub, Div, MatMul, Add, Relu,
// Softmax and ArgMax.
import { normal, rngFor, shuffled } from './random.js';

export interface MlpModel {
  features: number;
  hidden: number;
  classes: number;
  /** Standardization applied to inputs before the first layer. */
  mean: number[];
  std: number[];
  /** Row-major `[features, hidden]`. */
  w1: number[];
  b1: number[];
  /** Row-major `[hidden, classes]`. */
  w2: number[];
  b2: number[];
}

export interface MlpTrainOptions {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 weight decay on the weight matrices (not the biases). */
  l2: number;
  seed: number;
}

export const DEFAULT_MLP_OPTIONS: MlpTrainOptions = { hidden: 32, epochs: 40, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 1 };

export interface Standardizer {
  mean: number[];
  std: number[];
}

/** Column means and standard deviations; constant columns get std 1 so they pass through. */
export function fitStandardizer(X: readonly (readonly number[])[]): Standardizer {
  const f = X[0]?.length ?? 0;
  const mean = new Array<number>(f).fill(0);
  const sq = new Array<number>(f).fill(0);
  for (const row of X) for (let j = 0; j < f; j++) mean[j] = (mean[j] ?? 0) + (row[j] ?? 0);
  for (let j = 0; j < f; j++) mean[j] = (mean[j] ?? 0) / Math.max(1, X.length);
  for (const row of X) for (let j = 0; j < f; j++) sq[j] = (sq[j] ?? 0) + ((row[j] ?? 0) - (mean[j] ?? 0)) ** 2;
  const std = sq.map((s) => {
    const sd = Math.sqrt(s / Math.max(1, X.length));
    return sd > 1e-8 ? sd : 1;
  });
  return { mean, std };
}

interface Params {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

const zerosLike = (p: Params): Params => ({
  w1: new Float64Array(p.w1.length),
  b1: new Float64Array(p.b1.length),
  w2: new Float64Array(p.w2.length),
  b2: new Float64Array(p.b2.length),
});

/** Hidden activations and logits of one standardized row, written into the given buffers. */
function forwardRow(
  p: Params,
  z: Float64Array,
  zOff: number,
  f: number,
  h: number,
  c: number,
  pre: Float64Array,
  act: Float64Array,
  logits: Float64Array,
): void {
  for (let j = 0; j < h; j++) pre[j] = p.b1[j] ?? 0;
  for (let i = 0; i < f; i++) {
    const zi = z[zOff + i] ?? 0;
    if (zi === 0) continue;
    const row = i * h;
    for (let j = 0; j < h; j++) pre[j] = (pre[j] ?? 0) + zi * (p.w1[row + j] ?? 0);
  }
  for (let j = 0; j < h; j++) act[j] = Math.max(0, pre[j] ?? 0);
  for (let k = 0; k < c; k++) logits[k] = p.b2[k] ?? 0;
  for (let j = 0; j < h; j++) {
    const aj = act[j] ?? 0;
    if (aj === 0) continue;
    const row = j * c;
    for (let k = 0; k < c; k++) logits[k] = (logits[k] ?? 0) + aj * (p.w2[row + k] ?? 0);
  }
}

/** Softmax in place with the max subtracted, so large logits cannot overflow. */
function softmax(v: Float64Array): void {
  let max = -Infinity;
  for (const x of v) max = Math.max(max, x);
  let sum = 0;
  for (let k = 0; k < v.length; k++) {
    const e = Math.exp((v[k] ?? 0) - max);
    v[k] = e;
    sum += e;
  }
  for (let k = 0; k < v.length; k++) v[k] = (v[k] ?? 0) / sum;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if ((v[k] ?? -Infinity) > (v[best] ?? -Infinity)) best = k;
  return best;
}

function standardize(X: readonly (readonly number[])[], s: Standardizer): Float64Array {
  const f = s.mean.length;
  const z = new Float64Array(X.length * f);
  X.forEach((row, n) => {
    if (row.length !== f) throw new Error(`row ${n} has ${row.length} values, expected ${f}`);
    for (let j = 0; j < f; j++) z[n * f + j] = ((row[j] ?? 0) - (s.mean[j] ?? 0)) / (s.std[j] ?? 1);
  });
  return z;
}

/**
 * Trains on rows `X` with class indices `y` in [0, classes). `onEpoch` receives the mean training
 * loss of each epoch (for progress output; training itself never looks at the clock).
 */
export function trainMlp(
  X: readonly (readonly number[])[],
  y: readonly number[],
  classes: number,
  options: Partial<MlpTrainOptions> = {},
  onEpoch?: (epoch: number, loss: number) => void,
): MlpModel {
  const o = { ...DEFAULT_MLP_OPTIONS, ...options };
  const n = X.length;
  if (n === 0) throw new Error('no training rows');
  if (y.length !== n) throw new Error(`${n} rows but ${y.length} labels`);
  y.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= classes) throw new Error(`label ${k} of row ${i} is not a class index in [0, ${classes})`);
  });
  const s = fitStandardizer(X);
  const f = s.mean.length;
  const h = o.hidden;
  const c = classes;
  const z = standardize(X, s);

  const init = rngFor(o.seed, 10);
  // He initialisation for the ReLU layer, Glorot-like for the softmax layer.
  const p: Params = {
    w1: Float64Array.from({ length: f * h }, () => normal(init, 0, Math.sqrt(2 / f))),
    b1: new Float64Array(h),
    w2: Float64Array.from({ length: h * c }, () => normal(init, 0, Math.sqrt(1 / h))),
    b2: new Float64Array(c),
  };
  const g = zerosLike(p);
  const m = zerosLike(p);
  const v = zerosLike(p);
  const keys = ['w1', 'b1', 'w2', 'b2'] as const;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;

  const pre = new Float64Array(h);
  const act = new Float64Array(h);
  const out = new Float64Array(c);
  const dh = new Float64Array(h);
  const order = Array.from({ length: n }, (_, i) => i);
  const shuffleRng = rngFor(o.seed, 11);
  let step = 0;

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const idx = shuffled(order, shuffleRng);
    let lossSum = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const end = Math.min(n, start + o.batchSize);
      const scale = 1 / (end - start);
      for (const k of keys) g[k].fill(0);
      for (let b = start; b < end; b++) {
        const i = idx[b] ?? 0;
        const zOff = i * f;
        forwardRow(p, z, zOff, f, h, c, pre, act, out);
        softmax(out);
        const target = y[i] ?? 0;
        lossSum -= Math.log(Math.max(out[target] ?? 0, 1e-12));
        // d(loss)/d(logits) = p - onehot, averaged over the batch.
        out[target] = (out[target] ?? 0) - 1;
        for (let k = 0; k < c; k++) {
          const d = (out[k] ?? 0) * scale;
          out[k] = d;
          g.b2[k] = (g.b2[k] ?? 0) + d;
        }
        for (let j = 0; j < h; j++) {
          const aj = act[j] ?? 0;
          const row = j * c;
          let back = 0;
          for (let k = 0; k < c; k++) {
            const d = out[k] ?? 0;
            if (aj !== 0) g.w2[row + k] = (g.w2[row + k] ?? 0) + aj * d;
            back += (p.w2[row + k] ?? 0) * d;
          }
          dh[j] = (pre[j] ?? 0) > 0 ? back : 0;
          g.b1[j] = (g.b1[j] ?? 0) + (dh[j] ?? 0);
        }
        for (let a = 0; a < f; a++) {
          const za = z[zOff + a] ?? 0;
          if (za === 0) continue;
          const row = a * h;
          for (let j = 0; j < h; j++) g.w1[row + j] = (g.w1[row + j] ?? 0) + za * (dh[j] ?? 0);
        }
      }
      step++;
      const lr = (o.learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      for (const k of keys) {
        const decay = k === 'w1' || k === 'w2' ? o.l2 : 0;
        const pk = p[k];
        const gk = g[k];
        const mk = m[k];
        const vk = v[k];
        for (let q = 0; q < pk.length; q++) {
          const grad = (gk[q] ?? 0) + decay * (pk[q] ?? 0);
          const mq = beta1 * (mk[q] ?? 0) + (1 - beta1) * grad;
          const vq = beta2 * (vk[q] ?? 0) + (1 - beta2) * grad * grad;
          mk[q] = mq;
          vk[q] = vq;
          pk[q] = (pk[q] ?? 0) - (lr * mq) / (Math.sqrt(vq) + eps);
        }
      }
    }
    onEpoch?.(epoch + 1, lossSum / n);
  }
  return {
    features: f,
    hidden: h,
    classes: c,
    mean: s.mean,
    std: s.std,
    w1: Array.from(p.w1),
    b1: Array.from(p.b1),
    w2: Array.from(p.w2),
    b2: Array.from(p.b2),
  };
}

export interface MlpOutput {
  /** `[rows][classes]`. */
  probabilities: number[][];
  /** Class index per row (argmax of the logits, as the ONNX graph computes it). */
  labels: number[];
}

/** Forward pass of a trained model on raw (unstandardized) rows; the reference for the ONNX export. */
export function mlpForward(model: MlpModel, X: readonly (readonly number[])[]): MlpOutput {
  const p: Params = {
    w1: Float64Array.from(model.w1),
    b1: Float64Array.from(model.b1),
    w2: Float64Array.from(model.w2),
    b2: Float64Array.from(model.b2),
  };
  const { features: f, hidden: h, classes: c } = model;
  const z = standardize(X, model);
  const pre = new Float64Array(h);
  const act = new Float64Array(h);
  const logits = new Float64Array(c);
  const probabilities: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < X.length; i++) {
    forwardRow(p, z, i * f, f, h, c, pre, act, logits);
    labels.push(argmax(logits));
    softmax(logits);
    probabilities.push(Array.from(logits));
  }
  return { probabilities, labels };
}

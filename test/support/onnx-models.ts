// Tiny real ONNX models for tests that validate or register with the artifact check on: a small
// classifier or a linear regression whose input width and classes fit a description.
import { linearRegressionOnnx, mlpClassifierOnnx } from '../../examples/lib/onnx-writer.js';
import type { ModelDescription } from '../../src/spec/schema.js';

export interface TinyOnnx {
  features: number;
  /** Classes of a classifier; a regression when absent. */
  classes?: number;
  /** Varies the weights, so that models of the same shape differ in bytes. */
  seed?: number;
}

export function tinyOnnx({ features, classes, seed = 1 }: TinyOnnx): Uint8Array {
  const weights = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => (((i * 7 + k * 3 + seed) % 5) - 2) / 4);
  const mean = Array.from({ length: features }, () => 0);
  const std = Array.from({ length: features }, () => 1);
  if (classes === undefined) return linearRegressionOnnx({ mean, std, weights: weights(features, 1), bias: seed });
  const hidden = 2;
  return mlpClassifierOnnx({
    features,
    hidden,
    classes,
    mean,
    std,
    w1: weights(features * hidden, 1),
    b1: weights(hidden, 2),
    w2: weights(hidden * classes, 3),
    b2: weights(classes, 4),
  });
}

/** A model with the description's feature count and, for a classifier, its label count. */
export function onnxFor(description: ModelDescription, seed?: number): Uint8Array {
  const { task, features, outputs } = description.spec;
  return tinyOnnx({
    features: features.length,
    ...(task === 'classification' ? { classes: outputs?.labels?.length ?? 2 } : {}),
    ...(seed === undefined ? {} : { seed }),
  });
}

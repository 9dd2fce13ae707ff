// The model description of a trained HAR classifier, built from what training measured.
import type { FeatureSpec, ModelDescription } from '../../src/spec/schema.js';
import { API_VERSION } from '../../src/spec/schema.js';
import { FEATURE_DESCRIPTIONS, HAR_TARGET } from './generate.js';

export interface FeatureRange {
  min: number;
  max: number;
}

/**
 * Observed min/max per column widened by `margin` times the observed span on each side, so that
 * moderately shifted data is still accepted (and shows up in drift checks instead of as 400s).
 * Columns that never go below zero (deviations, magnitudes, frequencies) keep 0 as their floor.
 */
export function featureRanges(X: readonly (readonly number[])[], margin = 1): FeatureRange[] {
  const f = X[0]?.length ?? 0;
  return Array.from({ length: f }, (_, j) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of X) {
      const v = row[j] ?? 0;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const pad = (hi - lo) * margin || Math.abs(hi) * margin || 1;
    const min = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    return { min: Math.floor(min * 1e4) / 1e4, max: Math.ceil((hi + pad) * 1e4) / 1e4 };
  });
}

export interface HarDescriptionInput {
  name: string;
  version: string;
  features: readonly string[];
  ranges: readonly FeatureRange[];
  labels: readonly string[];
  hyperparameters: Record<string, number | string>;
  metrics: { accuracy: number; f1Macro: number };
  /** Training data location relative to the description, e.g. `./train.csv`. */
  dataPath: string;
  /** Command that reproduces this training run. */
  command: string[];
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

export function describeHar(d: HarDescriptionInput): ModelDescription {
  const features: FeatureSpec[] = d.features.map((name, j) => {
    const range = d.ranges[j];
    const description = (FEATURE_DESCRIPTIONS as Record<string, string | undefined>)[name];
    return { name, type: 'number', ...(description ? { description } : {}), ...(range ? { range: { min: range.min, max: range.max } } : {}) };
  });
  return {
    apiVersion: API_VERSION,
    kind: 'Model',
    metadata: {
      name: d.name,
      version: d.version,
      description:
        'Recognises six daily activities (walking, walking upstairs, walking downstairs, sitting, standing, laying) ' +
        "from summary features of 2.56 s windows of a waist-worn phone's accelerometer and gyroscope. " +
        'One-hidden-layer MLP with in-graph standardization, trained on data from examples/har/generate.ts.',
      labels: { domain: 'activity-recognition', sensor: 'imu' },
    },
    spec: {
      task: 'classification',
      algorithm: 'MLP',
      hyperparameters: { ...d.hyperparameters },
      artifact: {
        uri: 'file://./model.onnx',
        format: 'onnx',
        inputTensor: 'input',
        outputTensors: { probabilities: 'probabilities', label: 'label' },
      },
      features,
      outputs: { name: HAR_TARGET, labels: [...d.labels] },
      performance: { accuracy: round4(d.metrics.accuracy), f1_macro: round4(d.metrics.f1Macro) },
      resources: {
        serving: { cpu: '250m', memory: '256Mi', replicas: { min: 1, max: 3 } },
        training: { cpu: '1', memory: '512Mi' },
      },
      training: {
        code: { path: 'examples/har', command: [...d.command] },
        data: { uri: `file://${d.dataPath}`, format: 'csv', target: HAR_TARGET },
      },
      inference: { protocol: 'v2', inputModes: ['inline', 'reference'], maxBatchSize: 1024 },
      explainability: { method: 'feature-importance', interpretable: false },
      qos: { latencyMs: 25, reliability: 0.999, cost: 0.02 },
    },
  };
}

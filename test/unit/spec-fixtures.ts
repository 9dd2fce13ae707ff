// Shared model description texts for the spec, validate, init and fuzz tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A valid description that uses every property of the schema. */
export const FULL_MODEL = `apiVersion: maas.dev/v1
kind: Model
metadata:
  name: har-classifier
  version: 1.2.0-rc.1
  description: Recognises human activity from accelerometer windows.
  labels:
    team: vision
    stage: dev
spec:
  task: classification
  algorithm: MLP
  hyperparameters:
    learningRate: 0.01
    hiddenLayers: [64, 32]
    activation: relu
    earlyStopping: true
    seed: null
  artifact:
    uri: file://./model.onnx
    format: onnx
    digest: sha256:${'a'.repeat(64)}
    inputTensor: input
    outputTensors:
      probabilities: probabilities
      label: label
      value: value
  features:
    - name: acc_x
      type: number
      description: Mean acceleration on x.
      range: { min: -20, max: 20 }
    - name: steps
      type: integer
      range: { min: 0 }
      optional: true
    - name: position
      type: category
      values: [hand, pocket, bag]
    - name: indoor
      type: boolean
  outputs:
    labels: [walking, sitting, standing]
    unit: class
    name: activity
  performance:
    accuracy: 0.94
    f1: 0.93
  resources:
    serving:
      cpu: 500m
      memory: 256Mi
      gpu: 0
      replicas: { min: 1, max: 3 }
    training:
      cpu: 2
      memory: 2Gi
      gpu: 1
  training:
    code:
      repository: https://github.com/example/har.git
      ref: main
      path: train
      command: [node, train.js, --data, $DATA]
      image: ghcr.io/example/har-trainer:1.0
    data:
      uri: s3://datasets/har/train.csv
      format: csv
      target: activity
  inference:
    protocol: v2
    inputModes: [inline, reference]
    maxBatchSize: 512
  explainability:
    method: feature-importance
    interpretable: false
  qos:
    latencyMs: 25
    reliability: 0.999
    cost: 0.2
  monitoring:
    test: jensenshannon
    threshold: 0.1
    features:
      acc_x: { test: ks, threshold: 0.01 }
    datasetShare: 0.5
    window: { rows: 5000, age: 24h }
    schedule: 5m
    ranges: observe
`;

/** A small valid regression description (artifact next to the file). */
export function smallModel(name = 'energy', version = '1'): string {
  return `apiVersion: maas.dev/v1
kind: Model
metadata:
  name: ${name}
  version: "${version}"
spec:
  task: regression
  algorithm: LinearRegression
  artifact:
    uri: file://./model.onnx
    format: onnx
  features:
    - { name: temp, type: number }
`;
}

/** Writes `text` as `name` in `dir` plus an artifact `model.onnx` beside it; returns the path. */
export function writeModel(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, 'model.onnx'), 'not really onnx');
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Replaces exactly one occurrence of `from` (fails loudly if the fixture changed). */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`fixture edit: "${from}" must occur exactly once`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** 1-based line number of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture: "${needle}" not found`);
  return i + 1;
}

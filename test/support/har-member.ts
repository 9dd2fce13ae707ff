// Trains one small HAR model into `root/models/NAME` (model.onnx, train.csv, model.yaml) for the
// composition tests: members that differ by seed and hidden size, registered like any model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { harDescription, trainHar } from '../../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../../examples/lib/mlp.js';
import type { ModelDescription } from '../../src/spec/schema.js';

export interface TrainedMember {
  file: string;
  description: ModelDescription;
}

export function trainHarMember(root: string, name: string, csv: string, o: { seed: number; hidden: number }): TrainedMember {
  const out = join(root, 'models', name);
  mkdirSync(out, { recursive: true });
  const options = { ...DEFAULT_MLP_OPTIONS, epochs: 5, seed: o.seed, hidden: o.hidden, testFraction: 0.2 };
  const trained = trainHar(csv, options);
  const description = harDescription(trained, { name, version: '1', options });
  description.spec.artifact.uri = 'file://./model.onnx';
  // Held-out metrics of a one-class model are not defined everywhere (F1 of absent classes).
  description.spec.performance = Object.fromEntries(Object.entries(description.spec.performance ?? {}).filter(([, v]) => Number.isFinite(v)));
  writeFileSync(join(out, 'model.onnx'), trained.onnx);
  writeFileSync(join(out, 'train.csv'), csv);
  const file = join(out, 'model.yaml');
  writeFileSync(file, stringify(description));
  return { file, description };
}

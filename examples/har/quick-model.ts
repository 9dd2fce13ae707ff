// A small, real HAR classifier (trained in well under a second) written as model.onnx plus its
// description and some request rows: what tests and benchmarks deploy and serve.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateHar, harToCsv, harToRequests } from './generate.js';
import { harDescription, trainHar } from './train.js';
import { DEFAULT_MLP_OPTIONS } from '../lib/mlp.js';
import type { ModelDescription } from '../../src/spec/schema.js';

export interface HarModelFiles {
  descriptionFile: string;
  description: ModelDescription;
  /** A JSON file of unlabelled request rows. */
  requestsFile: string;
  requests: Record<string, number>[];
  labels: string[];
}

export function writeHarModel(dir: string, opts: { name?: string; version?: string; seed?: number; requestRows?: number } = {}): HarModelFiles {
  const options = { ...DEFAULT_MLP_OPTIONS, epochs: 5, seed: opts.seed ?? 3, testFraction: 0.2 };
  const trained = trainHar(harToCsv(generateHar({ rows: 600, seed: 11 })), options);
  const description = harDescription(trained, { name: opts.name ?? 'har-classifier', version: opts.version ?? '1', options });
  description.spec.artifact.uri = 'file://./model.onnx';
  writeFileSync(join(dir, 'model.onnx'), trained.onnx);
  writeFileSync(join(dir, 'train.csv'), harToCsv(generateHar({ rows: 10, seed: 1 })));
  const descriptionFile = join(dir, 'model.yaml');
  writeFileSync(descriptionFile, stringify(description));
  const data = generateHar({ rows: opts.requestRows ?? 8, seed: 99 });
  const requests = harToRequests(data);
  const requestsFile = join(dir, 'requests.json');
  writeFileSync(requestsFile, JSON.stringify(requests));
  return { descriptionFile, description, requestsFile, requests, labels: data.labels };
}

// Search on a real, seeded registry: every requirement kind, ranking, reasons and near misses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import type { SearchRequest, SearchResult } from '../../src/domain/model.js';
import { modelDescription, type ModelOptions } from '../../bench/model-fixtures.js';
import { tempDir } from '../support/cli.js';

const acc: ModelOptions['features'] = [
  ['acc_x_mean', 'number'],
  ['acc_y_mean', 'number'],
];

/** Registered in this order, one second apart. */
const SEED: ModelOptions[] = [
  {
    name: 'har-mlp',
    version: '1',
    algorithm: 'MLP',
    features: acc,
    metrics: { accuracy: 0.8 },
    cpu: '500m',
    memory: '256Mi',
    latencyMs: 20,
    reliability: 0.99,
    labels: { team: 'vision' },
    description: 'Recognises walking, sitting and standing',
  },
  {
    name: 'har-mlp',
    version: '2',
    algorithm: 'MLP',
    features: acc,
    metrics: { accuracy: 0.95 },
    cpu: '500m',
    memory: '256Mi',
    latencyMs: 20,
    reliability: 0.99,
    labels: { team: 'vision' },
    description: 'Recognises walking, sitting and standing',
  },
  {
    name: 'har-rf',
    version: '1',
    algorithm: 'RandomForest',
    features: [['acc_x_mean', 'number']],
    metrics: { accuracy: 0.92 },
    cpu: '2',
    memory: '1Gi',
    latencyMs: 40,
    labels: { team: 'vision' },
    description: 'A walking detector',
  },
  {
    name: 'har-int',
    version: '1',
    algorithm: 'LogisticRegression',
    features: [['acc_x_mean', 'integer']],
    metrics: { accuracy: 0.97 },
    cpu: '250m',
    labels: { team: 'vision' },
  },
  {
    name: 'credit',
    version: '1',
    algorithm: 'XGBoost',
    features: [
      ['income', 'number'],
      ['age', 'integer'],
    ],
    metrics: { accuracy: 0.91 },
    cpu: '1',
    labels: { team: 'risk' },
    description: 'Credit default risk',
  },
  {
    name: 'house',
    version: '1.0.0',
    task: 'regression',
    algorithm: 'Ridge',
    features: [
      ['rooms', 'integer'],
      ['area', 'number'],
    ],
    metrics: { rmse: 0.8, mae: 0.5 },
    cpu: '500m',
    latencyMs: 5,
  },
  {
    name: 'house',
    version: '1.1.0',
    task: 'regression',
    algorithm: 'Ridge',
    features: [
      ['rooms', 'integer'],
      ['area', 'number'],
    ],
    metrics: { rmse: 1.5, mae: 0.9 },
    cpu: '500m',
    latencyMs: 5,
  },
  {
    name: 'gpu-cnn',
    version: '1',
    algorithm: 'CNN',
    features: [['acc_x_mean', 'number']],
    metrics: { accuracy: 0.99 },
    cpu: '1',
    gpu: 1,
    labels: { team: 'vision' },
  },
  { name: 'nocpu', version: '1', algorithm: 'KNN', features: [['acc_x_mean', 'number']], metrics: { accuracy: 0.93 } },
];

let dir: { path: string; cleanup: () => void };
let registry: SqliteRegistry;

beforeAll(async () => {
  dir = tempDir('maas-search-');
  let clock = 0;
  registry = SqliteRegistry.open({ file: join(dir.path, 'registry.db'), clock: { now: () => Date.UTC(2025, 0, 1) + clock++ * 1000 } });
  for (const m of SEED) await registry.registerModel(modelDescription(m), { digest: '', size: 0, uri: 'https://example.com/m.onnx' });
});

afterAll(() => {
  registry.close();
  dir.cleanup();
});

const search = (r: SearchRequest): Promise<SearchResult> => registry.searchModels(r);
const ids = (r: SearchResult): string[] => r.hits.map((h) => `${h.name}@${h.version}`);
const sorted = (r: SearchResult): string[] => ids(r).sort();

describe('requirements', () => {
  it('searches only the latest version of each model by default', async () => {
    const r = await search({});
    expect(r.scanned).toBe(7);
    expect(r.total).toBe(7);
    expect(sorted(r)).toEqual(['credit@1', 'gpu-cnn@1', 'har-int@1', 'har-mlp@2', 'har-rf@1', 'house@1.1.0', 'nocpu@1']);
    expect(sorted(await search({ latestOnly: false }))).toHaveLength(SEED.length);
  });

  it('filters by task', async () => {
    expect(ids(await search({ task: 'regression' }))).toEqual(['house@1.1.0']);
    expect(sorted(await search({ task: 'regression', latestOnly: false }))).toEqual(['house@1.0.0', 'house@1.1.0']);
    expect((await search({ task: 'clustering' })).hits).toEqual([]);
  });

  it('filters by feature name and, when given, type', async () => {
    expect(sorted(await search({ features: [{ name: 'acc_x_mean', type: 'number' }] }))).toEqual(['gpu-cnn@1', 'har-mlp@2', 'har-rf@1', 'nocpu@1']);
    expect(sorted(await search({ features: [{ name: 'acc_x_mean' }] }))).toEqual(['gpu-cnn@1', 'har-int@1', 'har-mlp@2', 'har-rf@1', 'nocpu@1']);
    expect(sorted(await search({ features: [{ name: 'acc_x_mean' }, { name: 'acc_y_mean' }] }))).toEqual(['har-mlp@2']);
  });

  it('applies metric floors, and ceilings for error metrics', async () => {
    expect(sorted(await search({ minMetrics: { accuracy: 0.95 } }))).toEqual(['gpu-cnn@1', 'har-int@1', 'har-mlp@2']);
    expect(ids(await search({ minMetrics: { rmse: 1.0 } }))).toEqual([]);
    const all = await search({ minMetrics: { rmse: 1.0 }, latestOnly: false });
    expect(ids(all)).toEqual(['house@1.0.0']);
    expect(all.hits[0]?.reasons).toEqual(['rmse 0.8 <= 1.0']);
  });

  it('applies resource ceilings; an undeclared cpu or memory does not satisfy one, an undeclared gpu is 0', async () => {
    expect(sorted(await search({ maxCpuMillis: 1000 }))).toEqual(['credit@1', 'gpu-cnn@1', 'har-int@1', 'har-mlp@2', 'house@1.1.0']);
    expect(sorted(await search({ maxMemoryBytes: 512 * 2 ** 20 }))).toEqual(['har-mlp@2']);
    expect(sorted(await search({ maxGpu: 0, features: [{ name: 'acc_x_mean', type: 'number' }] }))).toEqual(['har-mlp@2', 'har-rf@1', 'nocpu@1']);
  });

  it('applies the advertised latency ceiling', async () => {
    expect(sorted(await search({ maxLatencyMs: 30 }))).toEqual(['har-mlp@2', 'house@1.1.0']);
  });

  it('matches labels exactly and algorithms in any case', async () => {
    expect(ids(await search({ labels: { team: 'risk' } }))).toEqual(['credit@1']);
    expect(ids(await search({ labels: { team: 'vision' }, algorithm: 'randomforest' }))).toEqual(['har-rf@1']);
    expect(ids(await search({ labels: { team: 'nobody' } }))).toEqual([]);
  });

  it('matches free text over names, descriptions, algorithms, labels and feature names', async () => {
    expect(sorted(await search({ text: 'walking' }))).toEqual(['har-mlp@2', 'har-rf@1']);
    expect(sorted(await search({ text: 'walk' }))).toEqual(['har-mlp@2', 'har-rf@1']);
    expect(ids(await search({ text: 'xgboost' }))).toEqual(['credit@1']);
    expect(ids(await search({ text: 'risk default' }))).toEqual(['credit@1']);
    expect(sorted(await search({ text: 'rooms' }))).toEqual(['house@1.1.0']);
    expect(ids(await search({ text: 'walking "OR" *' }))).toHaveLength(0);
  });
});

describe('ranking and reasons', () => {
  const request: SearchRequest = { task: 'classification', features: [{ name: 'acc_x_mean', type: 'number' }], minMetrics: { accuracy: 0.9 } };

  it('ranks by metric margin and advertised QoS, best first', async () => {
    const r = await search(request);
    expect(ids(r)).toEqual(['gpu-cnn@1', 'har-mlp@2', 'har-rf@1', 'nocpu@1']);
    const scores = r.hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
  });

  it('gives every hit the reasons it matched', async () => {
    const hit = (await search({ ...request, maxCpuMillis: 1000, labels: { team: 'vision' }, text: 'walking' })).hits[0];
    expect(hit).toMatchObject({ name: 'har-mlp', version: '2', task: 'classification', algorithm: 'MLP' });
    expect(hit?.reasons).toEqual([
      'task classification',
      'feature acc_x_mean:number',
      'accuracy 0.95 >= 0.90',
      'cpu 500m <= 1',
      'label team=vision',
      "text matches 'walking'",
    ]);
  });

  it('prefers resource headroom under a ceiling', async () => {
    const r = await search({ features: [{ name: 'acc_x_mean' }], maxCpuMillis: 4000 });
    expect(ids(r).indexOf('har-int@1')).toBeLessThan(ids(r).indexOf('har-rf@1'));
  });

  it('cuts at the limit and reports the total', async () => {
    const r = await search({ ...request, limit: 2 });
    expect(ids(r)).toEqual(['gpu-cnn@1', 'har-mlp@2']);
    expect(r.total).toBe(4);
  });

  it('orders equal scores newest first', async () => {
    const d = tempDir('maas-tie-');
    let clock = 0;
    const fresh = SqliteRegistry.open({ file: join(d.path, 'r.db'), clock: { now: () => Date.UTC(2025, 0, 1) + clock++ * 1000 } });
    try {
      for (const name of ['older', 'newer']) await fresh.registerModel(modelDescription({ name, version: '1' }), { digest: '', size: 0, uri: 'https://x' });
      const both = await fresh.searchModels({});
      expect(both.hits.map((h) => h.name)).toEqual(['newer', 'older']);
      expect(both.hits[0]?.score).toBe(both.hits[1]?.score);
    } finally {
      fresh.close();
      d.cleanup();
    }
  });
});

describe('near misses', () => {
  it('lists versions in scope that fail exactly one requirement, with the reason', async () => {
    const r = await search({
      task: 'classification',
      features: [{ name: 'acc_x_mean', type: 'number' }],
      minMetrics: { accuracy: 0.9 },
      maxCpuMillis: 1000,
      explain: true,
    });
    expect(sorted(r)).toEqual(['gpu-cnn@1', 'har-mlp@2']);
    const misses = Object.fromEntries((r.nearMisses ?? []).map((m) => [`${m.name}@${m.version}`, m.failed]));
    expect(misses).toEqual({
      'har-rf@1': ['cpu 2 > 1'],
      'har-int@1': ['feature acc_x_mean is integer, not number'],
      'nocpu@1': ['cpu not declared'],
      'credit@1': ['no feature acc_x_mean'],
    });
  });

  it('reports failed floors and text with actual values', async () => {
    const r = await search({ text: 'walking', minMetrics: { accuracy: 0.93 }, explain: true });
    expect(ids(r)).toEqual(['har-mlp@2']);
    const misses = Object.fromEntries((r.nearMisses ?? []).map((m) => [`${m.name}@${m.version}`, m.failed]));
    expect(misses['har-rf@1']).toEqual(['accuracy 0.92 < 0.93']);
    expect(misses['gpu-cnn@1']).toEqual(["text does not match 'walking'"]);
    expect(misses['house@1.1.0']).toBeUndefined();
  });

  it('are absent without explain and empty when there are no requirements', async () => {
    expect((await search({ task: 'regression' })).nearMisses).toBeUndefined();
    expect((await search({ explain: true })).nearMisses).toEqual([]);
  });
});

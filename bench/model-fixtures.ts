// Deterministic, varied model descriptions for benchmarks: several domains with their own
// feature vocabularies, every task kind, task-appropriate metrics, labels, resources and QoS.
import type { ModelDescription, TaskKind } from '../src/spec/schema.js';
import type { ImportItem } from '../src/registry/sqlite/sqlite-registry.js';

/** mulberry32: small, fast, seedable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

interface Domain {
  name: string;
  team: string;
  words: string;
  features: [string, 'number' | 'integer' | 'category' | 'boolean'][];
}

const axes = ['x', 'y', 'z'];
const DOMAINS: Domain[] = [
  {
    name: 'har',
    team: 'vision',
    words: 'human activity recognition: walking, sitting, standing and lying from wrist accelerometer and gyroscope windows',
    features: [
      ...['acc', 'gyro'].flatMap((s) => axes.flatMap((a) => ['mean', 'std', 'max', 'min'].map((st) => [`${s}_${a}_${st}`, 'number'] as [string, 'number']))),
      ['window_len', 'integer'],
      ['device', 'category'],
    ],
  },
  {
    name: 'credit',
    team: 'risk',
    words: 'credit default risk scoring for loan applications',
    features: [
      ['age', 'integer'],
      ['income', 'number'],
      ['balance', 'number'],
      ['num_cards', 'integer'],
      ['employment', 'category'],
      ['home_owner', 'boolean'],
      ['debt_ratio', 'number'],
      ['late_payments', 'integer'],
      ['region', 'category'],
      ['tenure_months', 'integer'],
    ],
  },
  {
    name: 'retail',
    team: 'growth',
    words: 'retail demand forecasting and basket recommendations per store',
    features: [
      ['price', 'number'],
      ['quantity', 'integer'],
      ['store_id', 'category'],
      ['day_of_week', 'integer'],
      ['promo', 'boolean'],
      ['holiday', 'boolean'],
      ['temperature', 'number'],
      ['category', 'category'],
      ['discount', 'number'],
      ['stock', 'integer'],
    ],
  },
  {
    name: 'sensor',
    team: 'ops',
    words: 'industrial sensor anomaly detection for pumps and turbines',
    features: [
      ['temp', 'number'],
      ['humidity', 'number'],
      ['pressure', 'number'],
      ['vibration', 'number'],
      ['rpm', 'integer'],
      ['voltage', 'number'],
      ['current', 'number'],
      ['machine_type', 'category'],
      ['running', 'boolean'],
    ],
  },
  {
    name: 'health',
    team: 'health',
    words: 'patient vital signs triage and readmission risk',
    features: [
      ['heart_rate', 'integer'],
      ['bp_sys', 'integer'],
      ['bp_dia', 'integer'],
      ['spo2', 'number'],
      ['resp_rate', 'integer'],
      ['temp', 'number'],
      ['age', 'integer'],
      ['sex', 'category'],
      ['smoker', 'boolean'],
    ],
  },
  {
    name: 'traffic',
    team: 'platform',
    words: 'network traffic classification and intrusion detection from flow statistics',
    features: [
      ['bytes_in', 'integer'],
      ['bytes_out', 'integer'],
      ['packets', 'integer'],
      ['duration', 'number'],
      ['protocol', 'category'],
      ['port', 'integer'],
      ['flags', 'category'],
      ['encrypted', 'boolean'],
    ],
  },
  {
    name: 'energy',
    team: 'ops',
    words: 'building energy load forecasting from weather and occupancy',
    features: [
      ['temperature', 'number'],
      ['humidity', 'number'],
      ['occupancy', 'integer'],
      ['hour', 'integer'],
      ['weekday', 'category'],
      ['solar', 'number'],
      ['wind', 'number'],
      ['load_lag_1', 'number'],
      ['load_lag_24', 'number'],
    ],
  },
  {
    name: 'text',
    team: 'nlp',
    words: 'support ticket routing and sentiment from text embeddings',
    features: [...Array.from({ length: 32 }, (_, i): [string, 'number'] => [`emb_${i}`, 'number']), ['token_count', 'integer'], ['language', 'category']],
  },
];

const ALGORITHMS: Record<TaskKind, string[]> = {
  classification: ['RandomForest', 'LogisticRegression', 'MLP', 'GradientBoosting', 'XGBoost', 'SVM', 'KNN', 'NaiveBayes', 'DecisionTree', 'LightGBM', 'CNN'],
  regression: ['LinearRegression', 'RandomForest', 'GradientBoosting', 'XGBoost', 'MLP', 'Ridge', 'Lasso', 'LightGBM'],
  clustering: ['KMeans', 'DBSCAN', 'GaussianMixture', 'Agglomerative'],
  'anomaly-detection': ['IsolationForest', 'OneClassSVM', 'Autoencoder', 'LocalOutlierFactor'],
  ranking: ['LambdaMART', 'RankNet', 'XGBoost'],
  forecasting: ['ARIMA', 'Prophet', 'LSTM', 'Transformer', 'GradientBoosting'],
};

const TASKS: [TaskKind, number][] = [
  ['classification', 0.4],
  ['regression', 0.2],
  ['anomaly-detection', 0.1],
  ['forecasting', 0.12],
  ['clustering', 0.08],
  ['ranking', 0.1],
];

function task(rand: Rand): TaskKind {
  let r = rand();
  for (const [t, p] of TASKS) if ((r -= p) < 0) return t;
  return 'classification';
}

const r3 = (n: number): number => Math.round(n * 1000) / 1000;

function metrics(rand: Rand, t: TaskKind): Record<string, number> {
  const score = (lo: number, hi: number) => r3(lo + rand() * (hi - lo));
  switch (t) {
    case 'classification':
      return {
        accuracy: score(0.6, 0.99),
        f1: score(0.55, 0.98),
        precision: score(0.5, 0.99),
        recall: score(0.5, 0.99),
        ...(rand() < 0.5 ? { auc: score(0.6, 0.99) } : {}),
      };
    case 'regression':
      return { rmse: score(0.1, 5), mae: score(0.05, 4), r2: score(0.3, 0.99) };
    case 'anomaly-detection':
      return { auc: score(0.6, 0.99), precision: score(0.4, 0.95) };
    case 'forecasting':
      return { mape: score(0.02, 0.4), rmse: score(0.1, 10) };
    case 'clustering':
      return { silhouette: score(0.1, 0.8) };
    case 'ranking':
      return { ndcg: score(0.4, 0.95), map: score(0.3, 0.9) };
  }
}

const OWNERS = Array.from({ length: 200 }, (_, i) => `owner-${i}`);
const CPUS = ['100m', '250m', '500m', '750m', '1', '2', '4'];
const MEMORY = ['128Mi', '256Mi', '512Mi', '1Gi', '2Gi', '4Gi', '8Gi'];

/** One model (all its versions share a name, domain and task; content varies per version). */
function describe(rand: Rand, index: number, version: string): ModelDescription {
  const domain = DOMAINS[index % DOMAINS.length] as Domain;
  const local = random(index * 7919 + 1);
  const t = task(local);
  const algorithm = pick(local, ALGORITHMS[t]);
  const name = `${domain.name}-${algorithm.toLowerCase()}-${index}`;
  const start = Math.floor(rand() * 4);
  const count = Math.max(3, Math.floor(domain.features.length * (0.5 + rand() * 0.5)));
  const features = domain.features.slice(start, start + count).map(([n, type]) => {
    // A few models declare a number feature as integer, so feature types are worth checking.
    const tp = type === 'number' && rand() < 0.05 ? 'integer' : type;
    return tp === 'category' ? { name: n, type: tp, values: ['a', 'b', 'c'] } : { name: n, type: tp };
  });
  if (rand() < 0.3) features.push({ name: `x_${Math.floor(rand() * 1000)}`, type: 'number' });
  const gpu = rand() < 0.08 ? 1 + Math.floor(rand() * 2) : 0;
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: {
      name,
      version,
      description: `${algorithm} for ${domain.words} (build ${version})`,
      labels: { team: domain.team, env: pick(rand, ['prod', 'staging', 'dev']), owner: pick(local, OWNERS), domain: domain.name },
    },
    spec: {
      task: t,
      algorithm,
      artifact: { uri: `https://models.example.com/${name}/${version}/model.onnx`, format: 'onnx' },
      features,
      ...(t === 'classification' ? { outputs: { labels: ['no', 'yes'] } } : {}),
      performance: metrics(rand, t),
      resources: { serving: { cpu: pick(rand, CPUS), memory: pick(rand, MEMORY), ...(gpu ? { gpu } : {}) } },
      qos: { latencyMs: Math.round(2 + rand() * 300), reliability: r3(0.9 + rand() * 0.0999) },
    },
  };
}

/**
 * `count` versions over count/versionsPerModel models; version strings alternate between integer
 * (`1`, `2`, ...) and semver (`1.0.0`, `1.1.0`, ...) models.
 */
export function generateModels(count: number, opts: { seed?: number; versionsPerModel?: number } = {}): ImportItem[] {
  const rand = random(opts.seed ?? 42);
  const per = opts.versionsPerModel ?? 4;
  const items: ImportItem[] = [];
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; items.length < count; i++) {
    for (let v = 1; v <= per && items.length < count; v++) {
      const version = i % 2 === 0 ? String(v) : `1.${v - 1}.0`;
      items.push({
        description: describe(rand, i, version),
        artifact: { digest: '', size: 0, uri: `https://models.example.com/${i}/${version}/model.onnx` },
        registeredAt: new Date(base + items.length * 60_000).toISOString(),
      });
    }
  }
  return items;
}

export interface ModelOptions {
  name: string;
  version: string;
  task?: TaskKind;
  algorithm?: string;
  description?: string;
  features?: [string, 'number' | 'integer' | 'category' | 'boolean'][];
  metrics?: Record<string, number>;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  gpu?: number;
  latencyMs?: number;
  reliability?: number;
  artifactUri?: string;
  artifactDigest?: string;
}

/** One hand-shaped description (tests and examples); unset properties are left out. */
export function modelDescription(o: ModelOptions): ModelDescription {
  const serving = { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}), ...(o.gpu !== undefined ? { gpu: o.gpu } : {}) };
  const qos = { ...(o.latencyMs !== undefined ? { latencyMs: o.latencyMs } : {}), ...(o.reliability !== undefined ? { reliability: o.reliability } : {}) };
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: {
      name: o.name,
      version: o.version,
      ...(o.description ? { description: o.description } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
    },
    spec: {
      task: o.task ?? 'classification',
      algorithm: o.algorithm ?? 'RandomForest',
      artifact: { uri: o.artifactUri ?? 'file://./model.onnx', format: 'onnx', ...(o.artifactDigest ? { digest: o.artifactDigest } : {}) },
      features: (o.features ?? [['x', 'number']]).map(([name, type]) => (type === 'category' ? { name, type, values: ['a', 'b'] } : { name, type })),
      ...((o.task ?? 'classification') === 'classification' ? { outputs: { labels: ['no', 'yes'] } } : {}),
      ...(o.metrics ? { performance: o.metrics } : {}),
      ...(Object.keys(serving).length ? { resources: { serving } } : {}),
      ...(Object.keys(qos).length ? { qos } : {}),
    },
  };
}

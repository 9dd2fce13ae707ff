// The simulated MLaaS marketplace: per task, 20 clients with non-IID (Dirichlet label skew) local
// data, each offering one MLP service per hidden size (16, 32, 64). Clients 12-19 are "drift
// aware": half of their local rows come from the covariate-shifted pool, so their services keep
// their accuracy on the drifted stream. A concept change retrains a client's services on its
// relabelled data (the class swap of the task). Every service carries a model description
// (name, version, task, features, labels, declared accuracy = its clean held-out accuracy,
// injected latency 5-100 ms, reliability) and its predictions on the drifted stream, computed
// once with mlpForward.
import { modelDescription } from '../model-fixtures.js';
import { mlpForward, trainMlp, type MlpModel } from '../../examples/lib/mlp.js';
import { rngFor, uniform } from '../../examples/lib/random.js';
import type { RegistryModel } from '../../src/adapt/candidates.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { dirichletSplit, type Labelled, type TaskData } from './data.js';

export const CLIENTS = 20;
export const HIDDEN_SIZES = [16, 32, 64] as const;
/** Clients from this index on trained on half shifted data. */
export const FIRST_DRIFT_AWARE = 12;
export const DIRICHLET_ALPHA = 1;
/** Local rows per client (drawn by its Dirichlet class mix from the pool). */
export const ROWS_PER_CLIENT = 150;

export interface Service {
  key: string;
  task: TaskData['name'];
  client: number;
  hidden: number;
  driftAware: boolean;
  conceptChanged: boolean;
  /** Accuracy on the clean held-out set, with the labels the client trained on. */
  declaredAccuracy: number;
  latencyMs: number;
  reliability: number;
  /** Training label distribution (task label order). */
  labelDistribution: number[];
  parameters: Float64Array;
  /** Per stream row: the predicted class. */
  labels: Int32Array;
  /** Stream rows x classes, row-major. */
  probabilities: Float64Array;
  /** Clean held-out rows x classes, row-major (the composition before the drift). */
  heldOutProbabilities: Float64Array;
  description: ModelDescription;
}

export interface Client {
  index: number;
  driftAware: boolean;
  data: Labelled;
}

/** Client local data: a Dirichlet share of the pool; drift-aware clients take every other row from the shifted pool. */
export function makeClients(task: TaskData, seed: number): Client[] {
  const parts = dirichletSplit(task.pool.y, task.labels.length, CLIENTS, DIRICHLET_ALPHA, ROWS_PER_CLIENT, rngFor(seed, 30));
  return parts.map((idx, index) => {
    const driftAware = index >= FIRST_DRIFT_AWARE;
    const rows = idx.map((i, k) => (driftAware && k % 2 === 1 ? task.shiftedPool.rows[i]! : task.pool.rows[i]!));
    return { index, driftAware, data: { rows, y: idx.map((i) => task.pool.y[i]!) } };
  });
}

function accuracy(pred: ArrayLike<number>, truth: readonly number[]): number {
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) right++;
  return truth.length === 0 ? 0 : right / truth.length;
}

function flatten(m: MlpModel): Float64Array {
  return Float64Array.from([...m.w1, ...m.b1, ...m.w2, ...m.b2]);
}

/** Epochs per service: small, the marketplace has 120 services plus their concept-changed versions. */
export const EPOCHS = 40;

/**
 * One service of `client` with `hidden` units. All clients of a task share the initialisation
 * seed (a federated-style common start), so parameter distances mean something to the
 * functional contribution and to model utility. `conceptChanged`: trained on the swapped labels.
 */
export function trainService(task: TaskData, client: Client, hidden: number, conceptChanged: boolean, seed: number): Service {
  const swap = (y: readonly number[]): number[] => (conceptChanged ? y.map((k) => task.conceptSwap[k]!) : [...y]);
  const y = swap(client.data.y);
  const model = trainMlp(client.data.rows, y, task.labels.length, { hidden, epochs: EPOCHS, batchSize: 32, learningRate: 0.01, seed: seed + hidden });
  const clean = mlpForward(model, task.heldOut.rows);
  const declaredAccuracy = accuracy(clean.labels, swap(task.heldOut.y));
  const out = mlpForward(model, task.stream.rows);
  const classes = task.labels.length;
  const flat = (rows: number[][]): Float64Array => {
    const f = new Float64Array(rows.length * classes);
    rows.forEach((row, r) => f.set(row, r * classes));
    return f;
  };
  const probabilities = flat(out.probabilities);
  const counts = new Array<number>(classes).fill(0);
  for (const k of y) counts[k]!++;
  // QoS injected per client and size, independent of the concept change (the same deployment).
  const qos = rngFor(seed + client.index * 131 + hidden, 40);
  const latencyMs = Math.round(uniform(qos, 5, 100));
  const reliability = Math.round(uniform(qos, 0.9, 1) * 1000) / 1000;
  const name = `${task.name}-c${String(client.index).padStart(2, '0')}-h${hidden}`;
  const version = conceptChanged ? '2' : '1';
  const base = modelDescription({
    name,
    version,
    algorithm: 'MLP',
    features: task.features.map((f) => [f, 'number']),
    metrics: { accuracy: Number(declaredAccuracy.toFixed(4)) },
    labels: { modality: task.modality, arch: `mlp-${hidden}` },
    latencyMs,
    reliability,
  });
  const description: ModelDescription = { ...base, spec: { ...base.spec, outputs: { labels: [...task.labels] } } };
  return {
    key: `${name}@${version}`,
    task: task.name,
    client: client.index,
    hidden,
    driftAware: client.driftAware,
    conceptChanged,
    declaredAccuracy,
    latencyMs,
    reliability,
    labelDistribution: counts.map((c) => c / Math.max(1, y.length)),
    parameters: flatten(model),
    labels: Int32Array.from(out.labels),
    probabilities,
    heldOutProbabilities: flat(clean.probabilities),
    description,
  };
}

export interface Marketplace {
  task: TaskData;
  clients: Client[];
  /** Every client's service per hidden size (before any concept change). */
  services: Service[];
}

export function buildMarketplace(task: TaskData, seed: number): Marketplace {
  const clients = makeClients(task, seed);
  const services = HIDDEN_SIZES.flatMap((h) => clients.map((c) => trainService(task, c, h, false, seed)));
  return { task, clients, services };
}

/** A service as the registry (candidate selection) sees it; `measured` when the marketplace observed it serving. */
export function registryModel(s: Service, labels: readonly string[], measured?: RegistryModel['measured']): RegistryModel {
  const counts = Object.fromEntries(labels.map((l, i) => [l, Math.round(s.labelDistribution[i]! * 1000)]));
  return {
    description: s.description,
    profile: { target: { name: 'label', kind: 'categorical', count: 1000, missing: 0, counts } },
    parameters: s.parameters,
    ...(measured ? { measured } : {}),
  };
}

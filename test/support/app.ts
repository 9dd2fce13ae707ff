// Services for use-case tests: in-memory stores, two scriptable targets (a `local` with open
// placement only, a `cluster` with strict placement, a flag and dry runs), a fake inference
// connector, a manual clock, the real file-system data reader (tests write data to temp dirs).
// No module mocking: everything is passed in.
import { buildServices, type OpenedServices } from '../../src/app/composition-root.js';
import type { ModelEvaluator, ModelPredictions } from '../../src/app/services.js';
import { ManualClock } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import type { InferenceApi, InferenceConnector } from '../../src/protocol/inference-api.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { FakeTarget, fakePlugin } from './fake-target.js';
import { memoryStores, type MemoryStores } from './memory-stores.js';

export interface AppHarness {
  services: OpenedServices;
  stores: MemoryStores;
  clock: ManualClock;
  local: FakeTarget;
  cluster: FakeTarget;
  /** Requests the fake inference API received, by endpoint. */
  inferred: { endpoint: string; body: unknown }[];
  register(description?: ModelDescription): Promise<void>;
}

/** Rows -> predictions of one version, as a test scripts them. */
export type ScriptedPrediction = (rows: readonly Readonly<Record<string, unknown>>[]) => ModelPredictions;

/** One version's parameters, as a test scripts them (plain arrays become a Float64Array). */
export interface ScriptedParameters {
  signature: string;
  parameters: Float64Array | readonly number[];
}

/**
 * A model evaluator that answers from scripts keyed by `name@version` (set or replaced through
 * `script`) and records every call; an unscripted version fails the test. Parameters come from
 * `parameterScript` by the same key (set or replaced there too); an unscripted version has none
 * (undefined, as for a non-ONNX artifact).
 */
export function scriptedEvaluator(
  scripts: Record<string, ScriptedPrediction> = {},
  parameters: Record<string, ScriptedParameters> = {},
): Required<ModelEvaluator> & {
  script: Record<string, ScriptedPrediction>;
  calls: { ref: string; rows: number }[];
  parameterScript: Record<string, ScriptedParameters>;
  /** `name@version` of every parameters() call, in order. */
  parameterCalls: string[];
} {
  const calls: { ref: string; rows: number }[] = [];
  const parameterCalls: string[] = [];
  return {
    script: scripts,
    calls,
    parameterScript: parameters,
    parameterCalls,
    async predict(model, rows) {
      const ref = `${model.name}@${model.version}`;
      calls.push({ ref, rows: rows.length });
      const f = scripts[ref];
      if (!f) throw new Error(`no scripted predictions for ${ref}`);
      return f(rows);
    },
    async parameters(model) {
      const ref = `${model.name}@${model.version}`;
      parameterCalls.push(ref);
      const p = parameters[ref];
      return p && { signature: p.signature, parameters: Float64Array.from(p.parameters) };
    },
  };
}

export async function appHarness(o: { inference?: Partial<InferenceApi>; evaluator?: ModelEvaluator } = {}): Promise<AppHarness> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const stores = memoryStores(() => clock.now());
  const local = new FakeTarget('local', clock);
  const cluster = new FakeTarget('cluster', clock);
  const inferred: AppHarness['inferred'] = [];
  const inference: InferenceConnector = async (endpoint) => ({
    infer: async (body) => {
      inferred.push({ endpoint: endpoint.baseUrl, body });
      return { id: 'r1', model_name: 'm', outputs: [{ name: 'label', shape: [1], datatype: 'BYTES', data: ['walking'] }] };
    },
    feedback: async (items) => ({ id: 'f1', accepted: items.length, ids: items.map((i) => i.id) }),
    stats: async () => {
      throw new Error('not scripted');
    },
    drift: async () => {
      throw new Error('not scripted');
    },
    labelled: async () => {
      throw new Error('not scripted');
    },
    members: async () => {
      throw new Error('not scripted');
    },
    records: async () => {
      throw new Error('not scripted');
    },
    metadata: async () => ({ name: 'm', versions: ['1'], platform: 'onnx', inputs: [], outputs: [] }),
    ...o.inference,
  });
  let n = 0;
  const services = await buildServices({
    home: resolveHome({}, '/', '/nonexistent/maas-home'),
    config: {},
    env: {},
    cwd: '/',
    clock,
    cluster: {},
    version: '0.0.0-test',
    overrides: {
      stores,
      datasets: new FsDatasetReader(),
      plugins: [
        fakePlugin(local),
        fakePlugin(cluster, { modes: ['open', 'strict'], flags: [{ flags: '--image <ref>', key: 'image', description: 'image' }], dryRun: true }),
      ],
      inference,
      newId: (prefix) => `${prefix}-${String(++n).padStart(4, '0')}`,
      evaluator: o.evaluator ?? scriptedEvaluator(),
      tokens: stores.tokens,
      audit: stores.audit,
    },
  });
  return {
    services,
    stores,
    clock,
    local,
    cluster,
    inferred,
    async register(description = modelDescription({ name: 'har', version: '1' })) {
      const artifact = await stores.artifacts.put(
        (await import('node:stream')).Readable.from([Buffer.from(`${description.metadata.name}@${description.metadata.version}`)]),
      );
      await stores.models.registerModel(description, { ...artifact, uri: description.spec.artifact.uri });
    },
  };
}

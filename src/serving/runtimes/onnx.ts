// ONNX serving runtime on onnxruntime-node. The native module is imported on first use so that
// CLI commands that never serve a model start fast.
import { readFile } from 'node:fs/promises';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { MaasError, toMaasError } from '../../core/errors.js';
import type { ArtifactProblem } from '../../spec/load.js';
import type { ModelDescription } from '../../spec/schema.js';
import type { Prediction, Runtime, RuntimeInfo } from '../runtime.js';

type Ort = typeof OrtModule;
type Meta = InferenceSession.ValueMetadata;
type TensorMeta = Extract<Meta, { isTensor: true }>;

export interface OnnxRuntimeOptions {
  modelPath: string;
  description: ModelDescription;
  /** Intra-op threads per session; 1 by default because serving scales out by processes. */
  threads?: number;
}

let ortModule: Promise<Ort> | undefined;

function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').catch((e: unknown) => {
    ortModule = undefined;
    throw new MaasError('UNAVAILABLE', 'cannot load onnxruntime-node', {
      hint: 'reinstall maas so that the onnxruntime-node binary for this platform is present (npm ci)',
      cause: e,
    });
  });
  return ortModule;
}

// float16 is left out: its data arrives as raw half-precision bits.
const FLOAT_TYPES = new Set(['float32', 'float64']);
const LABEL_TYPES = new Set(['int64', 'int32', 'uint8', 'int8', 'uint16', 'int16', 'uint32', 'uint64', 'string']);

const isTensor = (m: Meta): m is TensorMeta => m.isTensor;
const rank = (m: TensorMeta): number => m.shape.length;
const lastDim = (m: TensorMeta): number | string | undefined => m.shape[m.shape.length - 1];
const describeMeta = (m: Meta): RuntimeInfo['inputs'][number] =>
  isTensor(m) ? { name: m.name, shape: [...m.shape], type: m.type } : { name: m.name, shape: [], type: 'non-tensor' };

/** A per-row vector output: `[N]` or `[N, 1]` (shape may be unknown, i.e. `[]`). */
const isColumn = (m: TensorMeta): boolean => rank(m) === 0 || rank(m) === 1 || (rank(m) === 2 && lastDim(m) === 1);

/** A way the model does not fit its description, raised while planning and collected by `fitModel`. */
class Misfit extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function invalid(path: string, message: string, hint: string): Misfit {
  return new Misfit(path, message, hint);
}

interface OutputPlan {
  probabilities?: TensorMeta;
  label?: TensorMeta;
  value?: TensorMeta;
}

function pickOutput(
  outputs: readonly Meta[],
  explicit: string | undefined,
  infer: boolean,
  role: string,
  fits: (m: TensorMeta) => boolean,
  preferred: RegExp,
): TensorMeta | undefined {
  const names = outputs.map((o) => o.name).join(', ');
  if (explicit !== undefined) {
    const m = outputs.find((o) => o.name === explicit);
    const path = `spec.artifact.outputTensors.${role}`;
    if (!m) throw invalid(path, `${path} names "${explicit}", but the model's outputs are: ${names}`, 'fix the output name in the description');
    if (!isTensor(m))
      throw invalid(
        path,
        `the model output "${explicit}" (${role}) is not a tensor`,
        'export the model without a ZipMap/sequence output, e.g. skl2onnx options {zipmap: False}',
      );
    if (!fits(m))
      throw invalid(
        path,
        `the model output "${explicit}" (${m.type} [${m.shape.join(', ')}]) cannot hold ${role}`,
        `point spec.artifact.outputTensors.${role} at a matching output (outputs: ${names})`,
      );
    return m;
  }
  if (!infer) return undefined;
  const candidates = outputs.filter(isTensor).filter(fits);
  return candidates.find((m) => preferred.test(m.name)) ?? candidates[0];
}

/**
 * A float [N, C] output with a known C other than the number of labels: the description's classes
 * do not match the model's, even when a label output alone could be served.
 */
function classCountMismatch(description: ModelDescription, m: TensorMeta): Misfit | undefined {
  const classes = description.spec.outputs?.labels?.length;
  const width = lastDim(m);
  if (classes === undefined || !FLOAT_TYPES.has(m.type) || rank(m) !== 2 || typeof width !== 'number' || width < 2 || width === classes) return undefined;
  return invalid(
    'spec.outputs.labels',
    `the model output "${m.name}" has ${width} class columns, but spec.outputs.labels lists ${classes} labels`,
    'spec.outputs.labels must list every class in the order of the probability columns',
  );
}

/**
 * Which outputs carry what: exactly those named in spec.artifact.outputTensors when it names any,
 * else inferred from names, types and shapes.
 */
function planOutputs(description: ModelDescription, outputs: readonly Meta[]): OutputPlan {
  const spec = description.spec;
  const explicit = spec.artifact.outputTensors ?? {};
  const infer = Object.values(explicit).every((v) => v === undefined);
  const classes = spec.outputs?.labels?.length;
  const isProbabilities = (m: TensorMeta): boolean =>
    FLOAT_TYPES.has(m.type) && (rank(m) === 0 || (rank(m) === 2 && (typeof lastDim(m) === 'string' || lastDim(m) === (classes ?? lastDim(m)))));
  const isLabel = (m: TensorMeta): boolean => LABEL_TYPES.has(m.type) && isColumn(m);
  const isValue = (m: TensorMeta): boolean => FLOAT_TYPES.has(m.type) && isColumn(m);
  const names = outputs.map((o) => o.name).join(', ');

  if (spec.task === 'classification') {
    const named = explicit.probabilities === undefined ? undefined : outputs.find((o) => o.name === explicit.probabilities);
    const mismatch = named && isTensor(named) ? classCountMismatch(description, named) : undefined;
    if (mismatch) throw mismatch;
    const plan: OutputPlan = {};
    const probabilities = pickOutput(outputs, explicit.probabilities, infer, 'probabilities', isProbabilities, /prob|score|softmax/i);
    const label = pickOutput(outputs, explicit.label, infer, 'label', isLabel, /label|class/i);
    if (probabilities) plan.probabilities = probabilities;
    if (label) plan.label = label;
    if (infer && !plan.probabilities) {
      const other = outputs
        .filter(isTensor)
        .map((m) => classCountMismatch(description, m))
        .find((m) => m !== undefined);
      if (other) throw other;
    }
    if (!plan.probabilities && !plan.label) {
      throw invalid(
        classes !== undefined ? 'spec.outputs.labels' : 'spec.artifact.outputTensors',
        `the model has no output that holds class probabilities [N, ${classes ?? 'C'}] or labels [N] (outputs: ${names})`,
        classes !== undefined
          ? `check that spec.outputs.labels lists all ${classes} classes in the model's order, or set spec.artifact.outputTensors`
          : 'set spec.artifact.outputTensors',
      );
    }
    return plan;
  }
  // Regression and other tasks predict one value per row; a label output (e.g. a cluster index)
  // is used when there is no float one.
  const value = pickOutput(outputs, explicit.value, infer, 'value', isValue, /value|variable|pred|output|score/i);
  if (value) return { value };
  const label = pickOutput(outputs, explicit.label, infer, 'label', isLabel, /label|class|cluster/i);
  if (label) return { label };
  throw invalid(
    'spec.artifact.outputTensors',
    `the model has no output that holds one value per row, [N] or [N, 1] (outputs: ${names})`,
    'set spec.artifact.outputTensors.value',
  );
}

function resolveInput(description: ModelDescription, inputs: readonly Meta[]): TensorMeta {
  const wanted = description.spec.artifact.inputTensor;
  const names = inputs.map((i) => i.name).join(', ');
  const input = wanted === undefined ? inputs[0] : inputs.find((i) => i.name === wanted);
  if (!input) {
    throw invalid(
      wanted === undefined ? 'spec.artifact.uri' : 'spec.artifact.inputTensor',
      wanted === undefined ? 'the model has no inputs' : `spec.artifact.inputTensor names "${wanted}", but the model's inputs are: ${names}`,
      'fix spec.artifact.inputTensor (or omit it to use the first input)',
    );
  }
  if (inputs.length > 1) {
    throw invalid(
      'spec.artifact.uri',
      `the model has ${inputs.length} inputs (${names}); maas feeds one [N, F] feature matrix`,
      'export the model with a single float input that takes all features',
    );
  }
  if (!isTensor(input) || (input.type !== 'float32' && input.type !== 'float64')) {
    throw invalid(
      'spec.artifact.uri',
      `the model input "${input.name}" is ${isTensor(input) ? input.type : 'not a tensor'}; maas feeds float32 or float64`,
      'export the model with a float input [N, F]',
    );
  }
  const f = description.spec.features.length;
  if (rank(input) !== 0 && rank(input) !== 2) {
    throw invalid(
      'spec.artifact.uri',
      `the model input "${input.name}" has shape [${input.shape.join(', ')}]; maas feeds a matrix [N, ${f}]`,
      'export the model with a 2-D input [N, F]',
    );
  }
  const width = lastDim(input);
  if (typeof width === 'number' && width !== f) {
    throw invalid(
      'spec.features',
      `the model input "${input.name}" takes ${width} features per row, but the description lists ${f}`,
      'spec.features must list every model input column, in the order the model expects',
    );
  }
  return input;
}

export interface ModelFit {
  /** The input the feature matrix is fed to; absent when it does not fit. */
  input?: TensorMeta;
  /** Which outputs carry what; absent when they do not fit. */
  plan?: OutputPlan;
  /** Every way the model's inputs and outputs do not fit the description (empty when they fit). */
  problems: ArtifactProblem[];
}

function attempt<T>(problems: ArtifactProblem[], f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof Misfit)) throw e;
    problems.push({ path: e.path, message: e.message, hint: e.hint });
    return undefined;
  }
}

/** Whether a model with these inputs and outputs can serve the description; pure. */
export function fitModel(description: ModelDescription, inputs: readonly Meta[], outputs: readonly Meta[]): ModelFit {
  const problems: ArtifactProblem[] = [];
  const input = attempt(problems, () => resolveInput(description, inputs));
  const plan = attempt(problems, () => planOutputs(description, outputs));
  return { ...(input ? { input } : {}), ...(plan ? { plan } : {}), problems };
}

/** A VALIDATION error for the first problem, carrying them all in `details.problems`. */
function misfitError(problems: readonly ArtifactProblem[], cause?: unknown): MaasError {
  const first = problems[0];
  return new MaasError('VALIDATION', first?.message ?? 'the model does not fit its description', {
    ...(first?.hint === undefined ? {} : { hint: first.hint }),
    details: { problems },
    ...(cause === undefined ? {} : { cause }),
  });
}

const SESSION_OPTIONS = (threads: number): InferenceSession.SessionOptions => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  enableCpuMemArena: true,
  enableMemPattern: true,
  logSeverityLevel: 3,
  // Idle worker threads must not spin: replicas share cores with each other and the server.
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});

/**
 * Maps run results to fetch names. onnxruntime-node up to 1.23 keys the results of a subset of
 * outputs by the model's first output names instead of the requested ones
 * (microsoft/onnxruntime#26865); fetches are sent in model order, so position identifies them.
 */
function byFetchName(results: InferenceSession.ReturnType, fetches: readonly string[]): Map<string, Tensor> {
  const keys = Object.keys(results);
  const named = fetches.every((f) => keys.includes(f)) && keys.length === fetches.length;
  const values = Object.values(results);
  return new Map(fetches.map((f, i) => [f, (named ? results[f] : values[i]) as Tensor]));
}

function toNumbers(t: Tensor): number[] {
  const data = t.data;
  if (typeof data[0] === 'bigint') return Array.from(data as BigInt64Array, (v) => Number(v));
  return Array.from(data as ArrayLike<number>);
}

export async function createOnnxRuntime(opts: OnnxRuntimeOptions): Promise<Runtime> {
  const { description, modelPath } = opts;
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new MaasError('USAGE', `threads must be a positive integer, got ${threads}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch (e) {
    const err = toMaasError(e);
    throw new MaasError(err.code, `cannot read the ONNX model: ${err.message}`, {
      hint: 'check spec.artifact.uri; a registered artifact lives in the content-addressed store in MAAS_HOME',
      cause: e,
    });
  }
  const ort = await loadOrt();
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS(threads));
  } catch (e) {
    const problem = {
      path: 'spec.artifact.uri',
      message: `${modelPath} is not a model onnxruntime can load: ${e instanceof Error ? e.message : String(e)}`,
      hint: 'the file is damaged, not ONNX, or uses an operator set newer than onnxruntime supports; re-export it and register a new version',
    };
    throw misfitError([problem], e);
  }

  const features = description.spec.features.length;
  const labels = description.spec.outputs?.labels;
  const fit = fitModel(description, session.inputMetadata, session.outputMetadata);
  if (!fit.input || !fit.plan) {
    await session.release();
    throw misfitError(fit.problems);
  }
  const input: TensorMeta = fit.input;
  const plan: OutputPlan = fit.plan;
  const outputOrder = session.outputNames;
  const fetches = [plan.probabilities, plan.label, plan.value]
    .filter((m): m is TensorMeta => m !== undefined)
    .map((m) => m.name)
    .sort((a, b) => outputOrder.indexOf(a) - outputOrder.indexOf(b));

  let closed = false;

  const labelOf = (v: number | string, row: number): string => {
    if (typeof v === 'string') return v;
    if (!labels) return String(v);
    const l = labels[v];
    if (l === undefined) {
      throw new MaasError('FAILURE', `the model predicted class index ${v} for row ${row}, but spec.outputs.labels has ${labels.length} labels`, {
        hint: 'spec.outputs.labels must list every class in the order the model encodes them',
      });
    }
    return l;
  };

  async function run(matrix: Float32Array, rows: number): Promise<Map<string, Tensor>> {
    const data = input.type === 'float64' ? Float64Array.from(matrix) : matrix;
    const feeds = { [input.name]: new ort.Tensor(input.type, data, [rows, features]) };
    try {
      return byFetchName(await session.run(feeds, fetches), fetches);
    } catch (e) {
      throw new MaasError('FAILURE', `inference failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  function decode(out: Map<string, Tensor>, rows: number): Prediction {
    const prediction: Prediction = {};
    if (plan.probabilities) {
      const t = out.get(plan.probabilities.name);
      const flat = t ? toNumbers(t) : [];
      const width = rows === 0 ? (labels?.length ?? 0) : flat.length / rows;
      if (!Number.isInteger(width) || (labels && width !== labels.length)) {
        throw new MaasError(
          'FAILURE',
          `the model output "${plan.probabilities.name}" has ${width} columns, but spec.outputs.labels has ${labels?.length} labels`,
          {
            hint: 'spec.outputs.labels must list every class in the order of the probability columns',
          },
        );
      }
      prediction.probabilities = Array.from({ length: rows }, (_, i) => flat.slice(i * width, (i + 1) * width));
    }
    if (plan.label) {
      const t = out.get(plan.label.name);
      const raw: (number | string)[] = t ? (t.type === 'string' ? (t.data as string[]) : toNumbers(t)) : [];
      if (raw.length !== rows) throw new MaasError('FAILURE', `the model output "${plan.label.name}" has ${raw.length} values for ${rows} rows`);
      if (description.spec.task === 'classification') prediction.labels = raw.map(labelOf);
      else prediction.values = raw.map(Number);
    } else if (prediction.probabilities) {
      prediction.labels = prediction.probabilities.map((p, row) =>
        labelOf(
          p.reduce((best, v, k) => (v > (p[best] ?? -Infinity) ? k : best), 0),
          row,
        ),
      );
    }
    if (plan.value) {
      const t = out.get(plan.value.name);
      const flat = t ? toNumbers(t) : [];
      if (flat.length !== rows)
        throw new MaasError('FAILURE', `the model output "${plan.value.name}" has ${flat.length} values for ${rows} rows; expected [N] or [N, 1]`);
      prediction.values = flat;
    }
    return prediction;
  }

  // A warm-up row: the first run allocates and plans, and it proves that the graph accepts the
  // description's feature count (even when the input shape is symbolic) and that the outputs
  // decode against spec.outputs.
  try {
    const warm = await run(new Float32Array(features), 1).catch((e: unknown) => {
      const why = e instanceof Error ? e.message.replace(/^inference failed: /, '') : String(e);
      const problem = {
        path: 'spec.features',
        message: `the model does not accept a [1, ${features}] feature matrix: ${why}`,
        hint: 'spec.features must list every model input column, in the order the model expects',
      };
      throw misfitError([problem], e);
    });
    decode(warm, 1);
  } catch (e) {
    await session.release();
    if (e instanceof MaasError && e.code === 'FAILURE') {
      // Decoding fails on labels that do not match the model's classes, or on outputs of the wrong shape.
      const path = e.message.includes('spec.outputs.labels') ? 'spec.outputs.labels' : 'spec.artifact.outputTensors';
      throw misfitError([{ path, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) }], e);
    }
    throw e;
  }

  const info: RuntimeInfo = {
    name: `onnxruntime ${ort.env.versions.node ?? ort.env.versions.common}`,
    inputs: session.inputMetadata.map(describeMeta),
    outputs: session.outputMetadata.map(describeMeta),
  };

  return {
    info,
    async predict(matrix: Float32Array, rows: number): Promise<Prediction> {
      if (closed) throw new MaasError('UNAVAILABLE', 'the model runtime is closed');
      if (!Number.isInteger(rows) || rows < 0 || matrix.length !== rows * features) {
        throw new MaasError('USAGE', `expected ${rows} rows of ${features} features (${rows * features} values), got ${matrix.length} values`);
      }
      if (rows === 0) return decode(new Map(), 0);
      return decode(await run(matrix, rows), rows);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

/** Problems a failed load reports, at the description field to change (the artifact by default). */
function problemsOf(e: MaasError): ArtifactProblem[] {
  const listed = (e.details as { problems?: unknown } | undefined)?.problems;
  if (Array.isArray(listed) && listed.length > 0) return listed as ArtifactProblem[];
  return [{ path: 'spec.artifact.uri', message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) }];
}

/**
 * Loads the model as serving would (session, input and output plan, a warm-up row) and returns
 * what does not fit the description instead of throwing. A missing onnxruntime is not a problem
 * of the description: that still throws.
 */
export async function inspectOnnxArtifact(description: ModelDescription, modelPath: string): Promise<ArtifactProblem[]> {
  let runtime: Runtime;
  try {
    runtime = await createOnnxRuntime({ modelPath, description });
  } catch (e) {
    const err = toMaasError(e);
    if (err.code === 'UNAVAILABLE') throw err;
    return problemsOf(err);
  }
  await runtime.close();
  return [];
}

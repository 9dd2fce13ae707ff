// Writes small ONNX models (opset 13, IR version 8) from trained weights: an MLP classifier and a
// linear regression, both with standardization inside the graph so that clients send raw features.
// The batch dimension is symbolic ("N"), so one session serves any batch size.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 13;
export const IR_VERSION = 8;
const PRODUCER = 'maas-examples';

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: readonly number[]): onnxProto.onnx.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`initializer ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  // raw_data is little-endian float32, which is what Float32Array holds on every platform Node runs on.
  const raw = new Float32Array(values);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(raw.buffer) };
}

function node(opType: string, inputs: string[], outputs: string[], attributes: onnxProto.onnx.IAttributeProto[] = []): onnxProto.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0] ?? opType, attribute: attributes };
}

const intAttr = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function checkStandardizer(features: number, mean: readonly number[], std: readonly number[]): void {
  if (mean.length !== features || std.length !== features) throw new Error(`mean/std must have ${features} values`);
  if (std.some((s) => !(s > 0))) throw new Error('std values must be positive (use 1 for constant columns)');
}

/** Standardization nodes: `input` -> `standardized`. */
function standardizeNodes(
  mean: readonly number[],
  std: readonly number[],
): { nodes: onnxProto.onnx.INodeProto[]; initializers: onnxProto.onnx.ITensorProto[] } {
  return {
    nodes: [node('Sub', ['input', 'feature_mean'], ['centered']), node('Div', ['centered', 'feature_std'], ['standardized'])],
    initializers: [floatTensor('feature_mean', [mean.length], mean), floatTensor('feature_std', [std.length], std)],
  };
}

function encodeModel(graph: onnxProto.onnx.IGraphProto, metadata: Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: PRODUCER,
    producerVersion: '1',
    modelVersion: 1,
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface MlpClassifierGraph {
  features: number;
  hidden: number;
  classes: number;
  mean: readonly number[];
  std: readonly number[];
  /** Row-major `[features, hidden]`. */
  w1: readonly number[];
  b1: readonly number[];
  /** Row-major `[hidden, classes]`. */
  w2: readonly number[];
  b2: readonly number[];
  /** Class labels, stored as model metadata (`labels`, JSON) for tools that inspect the file. */
  labels?: readonly string[];
  featureNames?: readonly string[];
  name?: string;
}

/**
 * `input` float [N, F] -> Sub(mean) -> Div(std) -> MatMul(W1) -> Add(b1) -> Relu -> MatMul(W2)
 * -> Add(b2) -> Softmax(axis 1) -> `probabilities` float [N, C], and ArgMax(axis 1) of the logits
 * -> `label` int64 [N].
 */
export function mlpClassifierOnnx(m: MlpClassifierGraph): Uint8Array {
  checkStandardizer(m.features, m.mean, m.std);
  const std = standardizeNodes(m.mean, m.std);
  const graph: onnxProto.onnx.IGraphProto = {
    name: m.name ?? 'mlp_classifier',
    input: [valueInfo('input', onnx.TensorProto.DataType.FLOAT, ['N', m.features])],
    output: [valueInfo('probabilities', onnx.TensorProto.DataType.FLOAT, ['N', m.classes]), valueInfo('label', onnx.TensorProto.DataType.INT64, ['N'])],
    initializer: [
      ...std.initializers,
      floatTensor('w1', [m.features, m.hidden], m.w1),
      floatTensor('b1', [m.hidden], m.b1),
      floatTensor('w2', [m.hidden, m.classes], m.w2),
      floatTensor('b2', [m.classes], m.b2),
    ],
    node: [
      ...std.nodes,
      node('MatMul', ['standardized', 'w1'], ['hidden_mm']),
      node('Add', ['hidden_mm', 'b1'], ['hidden_pre']),
      node('Relu', ['hidden_pre'], ['hidden']),
      node('MatMul', ['hidden', 'w2'], ['logits_mm']),
      node('Add', ['logits_mm', 'b2'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], [intAttr('axis', 1)]),
      node('ArgMax', ['logits'], ['label'], [intAttr('axis', 1), intAttr('keepdims', 0)]),
    ],
  };
  const metadata: Record<string, string> = {};
  if (m.labels) metadata.labels = JSON.stringify(m.labels);
  if (m.featureNames) metadata.features = JSON.stringify(m.featureNames);
  return encodeModel(graph, metadata);
}

export interface LinearRegressionGraph {
  mean: readonly number[];
  std: readonly number[];
  /** One weight per standardized feature. */
  weights: readonly number[];
  bias: number;
  featureNames?: readonly string[];
  name?: string;
}

/** `input` float [N, F] -> Sub(mean) -> Div(std) -> MatMul(w [F, 1]) -> Add(b) -> `value` float [N, 1]. */
export function linearRegressionOnnx(m: LinearRegressionGraph): Uint8Array {
  const f = m.weights.length;
  checkStandardizer(f, m.mean, m.std);
  const std = standardizeNodes(m.mean, m.std);
  const graph: onnxProto.onnx.IGraphProto = {
    name: m.name ?? 'linear_regression',
    input: [valueInfo('input', onnx.TensorProto.DataType.FLOAT, ['N', f])],
    output: [valueInfo('value', onnx.TensorProto.DataType.FLOAT, ['N', 1])],
    initializer: [...std.initializers, floatTensor('weights', [f, 1], m.weights), floatTensor('bias', [1], [m.bias])],
    node: [...std.nodes, node('MatMul', ['standardized', 'weights'], ['value_mm']), node('Add', ['value_mm', 'bias'], ['value'])],
  };
  return encodeModel(graph, m.featureNames ? { features: JSON.stringify(m.featureNames) } : {});
}

// Builds the OIP infer response: JSON text, or a JSON header plus raw tensors (binary tensor
// extension). The static parts (model name, version) are serialized once per model, so a request
// only serializes its id and its numbers.
import type { Prediction } from '../runtime.js';
import type { ServedModel } from './model.js';
import { bytesTensor, fp32Tensor } from './binary-tensors.js';

export interface ResponseEncoder {
  /** `outputs` = requested output names (undefined = all the model has). */
  encode(id: string, rows: number, prediction: Prediction, outputs: readonly string[] | undefined): string;
  /**
   * The binary tensor form: a JSON header, then the raw bytes of each output named in `binary`
   * (the others stay JSON), in output order.
   */
  encodeBinary(id: string, rows: number, prediction: Prediction, outputs: readonly string[] | undefined, binary: ReadonlySet<string>): BinaryResponse;
}

export interface BinaryResponse {
  header: string;
  data: Buffer;
}

/** Labels from probabilities when the runtime gave only those. */
export function labelsOf(model: ServedModel, p: Prediction, rows: number): string[] | undefined {
  if (p.labels) return p.labels;
  if (!p.probabilities || model.labels.length === 0) return undefined;
  const out = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    const row = p.probabilities[r] ?? [];
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    out[r] = model.labels[best] ?? String(best);
  }
  return out;
}

function flatten(matrix: number[][]): number[] {
  if (matrix.length === 1) return matrix[0]!;
  const out: number[] = [];
  for (const row of matrix) for (const x of row) out.push(x);
  return out;
}

interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** JSON data and, on demand, the same values as binary. */
  json: () => string;
  binary: () => Buffer;
}

export function createResponseEncoder(model: ServedModel): ResponseEncoder {
  const head = `{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)},"id":`;
  // Class names are not repeated per response: a parameter may only be a string, number or
  // boolean, and GET /v2/models/{name} lists them with the probabilities output.
  function tensors(rows: number, prediction: Prediction, outputs: readonly string[] | undefined): OutputTensor[] {
    const want = (name: string): boolean => outputs === undefined || outputs.includes(name);
    const out: OutputTensor[] = [];
    if (model.classification) {
      const labels = want('label') ? labelsOf(model, prediction, rows) : undefined;
      if (labels) out.push({ name: 'label', datatype: 'BYTES', shape: [rows], json: () => JSON.stringify(labels), binary: () => bytesTensor(labels) });
      const probs = prediction.probabilities;
      if (probs && want('probabilities')) {
        const classes = probs[0]?.length ?? model.labels.length;
        const flat = flatten(probs);
        out.push({ name: 'probabilities', datatype: 'FP32', shape: [rows, classes], json: () => JSON.stringify(flat), binary: () => fp32Tensor(flat) });
      }
    } else if (prediction.values && want('value')) {
      const values = prediction.values;
      out.push({ name: 'value', datatype: 'FP32', shape: [rows], json: () => JSON.stringify(values), binary: () => fp32Tensor(values) });
    }
    return out;
  }
  const meta = (t: OutputTensor): string => `{"name":"${t.name}","datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
  return {
    encode(id, rows, prediction, outputs) {
      const parts = tensors(rows, prediction, outputs).map((t) => `${meta(t)},"data":${t.json()}}`);
      return `${head}${JSON.stringify(id)},"outputs":[${parts.join(',')}]}`;
    },
    encodeBinary(id, rows, prediction, outputs, binary) {
      const parts: string[] = [];
      const data: Buffer[] = [];
      for (const t of tensors(rows, prediction, outputs)) {
        if (!binary.has(t.name)) {
          parts.push(`${meta(t)},"data":${t.json()}}`);
          continue;
        }
        const bytes = t.binary();
        data.push(bytes);
        parts.push(`${meta(t)},"parameters":{"binary_data_size":${bytes.length}}}`);
      }
      return { header: `${head}${JSON.stringify(id)},"outputs":[${parts.join(',')}]}`, data: Buffer.concat(data) };
    },
  };
}

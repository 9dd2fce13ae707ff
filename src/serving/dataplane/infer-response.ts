// Builds the OIP infer response text. The static parts (model name, version, class labels) are
// serialized once per model, so a request only serializes its id and its numbers.
import type { Prediction } from '../runtime.js';
import type { ServedModel } from './model.js';

export interface ResponseEncoder {
  /** `outputs` = requested output names (undefined = all the model has). */
  encode(id: string, rows: number, prediction: Prediction, outputs: readonly string[] | undefined): string;
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

export function createResponseEncoder(model: ServedModel): ResponseEncoder {
  const head = `{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)},"id":`;
  const labelsParam = JSON.stringify({ labels: model.labels });
  return {
    encode(id, rows, prediction, outputs) {
      const want = (name: string): boolean => outputs === undefined || outputs.includes(name);
      const parts: string[] = [];
      if (model.classification) {
        const labels = want('label') ? labelsOf(model, prediction, rows) : undefined;
        if (labels) parts.push(`{"name":"label","datatype":"BYTES","shape":[${rows}],"data":${JSON.stringify(labels)}}`);
        const probs = prediction.probabilities;
        if (probs && want('probabilities')) {
          const classes = probs[0]?.length ?? model.labels.length;
          parts.push(
            `{"name":"probabilities","datatype":"FP32","shape":[${rows},${classes}],"parameters":${labelsParam},"data":${JSON.stringify(flatten(probs))}}`,
          );
        }
      } else if (prediction.values && want('value')) {
        parts.push(`{"name":"value","datatype":"FP32","shape":[${rows}],"data":${JSON.stringify(prediction.values)}}`);
      }
      return `${head}${JSON.stringify(id)},"outputs":[${parts.join(',')}]}`;
    },
  };
}

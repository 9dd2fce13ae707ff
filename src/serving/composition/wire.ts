// What the router sends its members and reads back: an OIP v2 JSON request with one named input per
// feature (so a member that lists the features in another order reads the same row), and the
// member's answer (label, probabilities or value) turned into the composition's label order.
import type { EncodedRows } from '../dataplane/types.js';
import { decodeValue, type FeatureCodec } from '../dataplane/model.js';
import { remapProbabilities } from '../../compose/aggregate.js';

/**
 * The JSON body for a member: the rows as the client meant them (category values, booleans, null
 * for missing), one column input per feature. Numbers are the float32 values the composition
 * encoded, written shortest, so the member encodes exactly the same float32 matrix.
 */
export function memberRequestBody(features: readonly FeatureCodec[], rows: EncodedRows): string {
  const F = features.length;
  const inputs = features.map((f, j) => {
    const data = new Array<unknown>(rows.rows);
    for (let r = 0; r < rows.rows; r++) data[r] = decodeValue(f, rows.values[r * F + j]!);
    return { name: f.name, shape: [rows.rows], datatype: f.datatype, data };
  });
  return JSON.stringify({ inputs });
}

/** A member's answer in the composition's terms. */
export interface MemberPrediction {
  /** The member's request id (its rows are `<id>:<row>`, or the id itself for one row). */
  id: string;
  labels?: string[];
  /** In the composition's label order. */
  probabilities?: number[][];
  values?: number[];
}

/** How to read one member's answers. */
export interface AnswerShape {
  task: 'classification' | 'regression';
  /** The composition's labels (classification; may be empty when it lists none). */
  labels: readonly string[];
  /** Member class index -> composition index, when the member orders its labels differently. */
  mapping?: Int32Array;
}

interface OutputTensor {
  name?: unknown;
  shape?: unknown;
  data?: unknown;
}

function flat(data: unknown[]): unknown[] {
  return data.length > 0 && Array.isArray(data[0]) ? (data as unknown[][]).flat() : data;
}

/** Reads a member's infer response; throws an Error saying what does not fit. */
export function readMemberAnswer(text: string, rows: number, shape: AnswerShape): MemberPrediction {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('the member answered something other than JSON');
  }
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { outputs?: unknown }).outputs))
    throw new Error('the member answered without outputs');
  const { id, outputs } = body as { id?: unknown; outputs: OutputTensor[] };
  const out = (name: string): unknown[] | undefined => {
    const o = outputs.find((t) => t.name === name);
    return o && Array.isArray(o.data) ? flat(o.data) : undefined;
  };
  const answer: MemberPrediction = { id: typeof id === 'string' ? id : '' };
  if (shape.task === 'regression') {
    const values = out('value');
    if (!values) throw new Error('the member answered no "value" output');
    if (values.length !== rows) throw new Error(`the member answered ${values.length} values for ${rows} rows`);
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error('the member answered a value that is not a finite number');
    answer.values = values as number[];
    return answer;
  }
  const labels = out('label');
  if (labels) {
    if (labels.length !== rows) throw new Error(`the member answered ${labels.length} labels for ${rows} rows`);
    answer.labels = labels.map(String);
  }
  const probs = out('probabilities');
  if (probs && rows > 0) {
    const width = probs.length / rows;
    if (!Number.isInteger(width) || !probs.every((p) => typeof p === 'number')) throw new Error('the member answered probabilities that do not fit its rows');
    const expected = shape.mapping?.length ?? shape.labels.length;
    if (expected > 0 && width !== expected) throw new Error(`the member answered ${width} probability columns, the composition has ${expected} labels`);
    const matrix: number[][] = new Array<number[]>(rows);
    for (let r = 0; r < rows; r++) matrix[r] = probs.slice(r * width, (r + 1) * width);
    answer.probabilities = shape.mapping ? remapProbabilities(matrix, shape.mapping, shape.labels.length) : matrix;
  }
  if (!answer.labels && !answer.probabilities) throw new Error('the member answered neither "label" nor "probabilities"');
  if (!answer.labels && shape.labels.length > 0) {
    // Labels from probabilities, as the model server would give them.
    answer.labels = answer.probabilities!.map((row) => {
      let best = 0;
      for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
      return shape.labels[best] ?? String(best);
    });
  }
  return answer;
}

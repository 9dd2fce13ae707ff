// How an ensemble combines its members' answers to one request, row by row. Pure: the router
// (serving/composition/) gathers the answers, maps each member's probabilities into the
// composition's label order once (mapLabels / remapProbabilities), and calls aggregate().
//
// Rules, fixed so that the same answers always give the same result:
// - A failed or timed-out member (`{ key, failed: true }`) is left out of that answer; when no
//   member answered, aggregate() throws NoAnswerError (code UNAVAILABLE, HTTP 503).
// - Weights: a member's weight counts when it is finite and > 0, else as 0. When every answering
//   member weighs 0, they all count equally (weight 1) rather than the request failing.
// - majority / weighted: each member votes for its label (one vote, or its weight). A member that
//   sent probabilities but no labels votes for its most probable class. Ties between the labels
//   with the most votes are broken by the highest summed probability of the tied labels (summed
//   over the counted members that sent probabilities, each weighted as its vote is), then by the
//   composition's label order (the first listed wins). Labels outside the composition's list
//   (or all labels, when the composition has none) rank after the listed ones, by string order.
// - mean-proba: the weighted mean of the probability rows; the answer is its most probable class,
//   ties to the composition's label order. The mean probabilities are returned too.
// - mean: the weighted mean of the values. median: the median of the values (an even count gives
//   the mean of the two middle ones); weights are ignored, as a weighted median would let a
//   heavy member alone decide.
// - Sums that differ by at most 1e-9 (relative to the larger one, at least 1) count as equal, so
//   that 0.1 + 0.2 ties with 0.3.
import { MaasError } from '../core/errors.js';
import type { Aggregation } from '../domain/composition.js';

/** Per row, in the composition's label order: rows of numbers, or one flat row-major Float64Array (rows x labels). */
export type ProbabilityRows = Float64Array | readonly (readonly number[])[];

/** What one member answered to a request of `rows` rows. */
export interface MemberAnswer {
  key: string;
  weight: number;
  /** Classification: the predicted label per row, by the composition's label names. */
  labels?: readonly string[];
  /** Classification: class probabilities per row, in the composition's label order. */
  probabilities?: ProbabilityRows;
  /** Regression: the predicted value per row. */
  values?: readonly number[];
}

/** A member that failed or did not answer in time. */
export interface FailedAnswer {
  key: string;
  failed: true;
}

export type AnswerInput = MemberAnswer | FailedAnswer;

export interface Aggregated {
  /** Classification: the composition's label per row. */
  labels?: string[];
  /** mean-proba: the weighted mean probabilities per row, in the composition's label order. */
  probabilities?: number[][];
  /** Regression: the composition's value per row. */
  values?: number[];
  /** Keys of the members whose answers were aggregated (every member that answered), in input order. */
  used: string[];
}

/** No member answered (all failed or timed out), or none could take the request. The router answers 503. */
export class NoAnswerError extends MaasError {
  /** The members that were asked. */
  readonly members: string[];
  constructor(members: readonly string[], message?: string) {
    super('UNAVAILABLE', message ?? (members.length === 0 ? 'the composition has no member to answer' : `no member answered (${members.join(', ')} failed)`), {
      hint: 'check the members with `maas compose status`; the request can be retried',
      details: { members: [...members] },
    });
    this.name = 'NoAnswerError';
    this.members = [...members];
  }
}

/** Members answered without what the aggregation needs (no probabilities for mean-proba, the wrong number of rows...). */
export class MemberOutputError extends MaasError {
  /** The offending members. */
  readonly members: string[];
  constructor(problems: readonly { key: string; problem: string }[]) {
    super('FAILURE', `members answered what the aggregation cannot use: ${problems.map((p) => `${p.key}: ${p.problem}`).join('; ')}`, {
      hint: 'every member must predict the same outputs; check each member with `maas compose status`',
      details: { problems: problems.map((p) => ({ ...p })) },
    });
    this.name = 'MemberOutputError';
    this.members = problems.map((p) => p.key);
  }
}

/** Whether every member must answer class probabilities (checked by the router at startup). */
export function needsProbabilities(kind: Aggregation): boolean {
  return kind === 'mean-proba';
}

/** Whether the aggregation combines regression values (`mean`, `median`) rather than labels. */
export function isRegressionAggregation(kind: Aggregation): boolean {
  return kind === 'mean' || kind === 'median';
}

export function isFailed(a: AnswerInput): a is FailedAnswer {
  return 'failed' in a && a.failed;
}

const EPS = 1e-9;

function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= EPS * Math.max(1, Math.abs(a), Math.abs(b));
}

function probabilityShapeProblem(p: ProbabilityRows, rows: number, width: number): string | undefined {
  if (p instanceof Float64Array) {
    return p.length === rows * width ? undefined : `${p.length} probabilities for ${rows} rows of ${width} classes`;
  }
  if (p.length !== rows) return `probabilities for ${p.length} rows, asked ${rows}`;
  for (let r = 0; r < rows; r++) {
    if (p[r]!.length !== width) return `${p[r]!.length} probabilities in row ${r}, expected ${width} classes`;
  }
  return undefined;
}

/**
 * What is wrong with an answer for this aggregation, or undefined when it can be used. aggregate()
 * throws MemberOutputError for such answers; a router that prefers to go on without them can
 * check first and pass them as failed.
 */
export function checkAnswer(kind: Aggregation, labels: readonly string[] | undefined, answer: MemberAnswer, rows: number): string | undefined {
  const width = labels?.length ?? 0;
  if (isRegressionAggregation(kind)) {
    const v = answer.values;
    if (!v) return 'no values';
    if (v.length !== rows) return `${v.length} values, asked ${rows} rows`;
    for (let r = 0; r < rows; r++) if (!Number.isFinite(v[r])) return `value in row ${r} is not a finite number`;
    return undefined;
  }
  if (kind === 'mean-proba') {
    if (!answer.probabilities) return 'no probabilities (mean-proba needs class probabilities from every member)';
    return probabilityShapeProblem(answer.probabilities, rows, width);
  }
  // majority / weighted: labels, or probabilities to take the most probable class from.
  if (answer.labels) {
    if (answer.labels.length !== rows) return `${answer.labels.length} labels, asked ${rows} rows`;
  } else if (!answer.probabilities || width === 0) {
    return 'no labels';
  }
  return answer.probabilities && width > 0 ? probabilityShapeProblem(answer.probabilities, rows, width) : undefined;
}

function probabilityAt(p: ProbabilityRows, width: number, r: number, j: number): number {
  return p instanceof Float64Array ? p[r * width + j]! : p[r]![j]!;
}

/** Index of the largest of values[from, from + width), the first one among equals. */
function argmax(values: ArrayLike<number>, from: number, width: number): number {
  let best = 0;
  let top = values[from]!;
  for (let j = 1; j < width; j++) {
    const x = values[from + j]!;
    if (x > top && !same(x, top)) {
      top = x;
      best = j;
    }
  }
  return best;
}

function rowArgmax(p: ProbabilityRows, width: number, r: number): number {
  return p instanceof Float64Array ? argmax(p, r * width, width) : argmax(p[r]!, 0, width);
}

/**
 * Combines the members' answers to one request of `rows` rows. `labels` are the composition's
 * labels in its order (classification). Throws NoAnswerError when no member answered and
 * MemberOutputError when an answer lacks what `kind` needs.
 */
export function aggregate(kind: Aggregation, labels: readonly string[] | undefined, answers: readonly AnswerInput[], rows: number): Aggregated {
  if (kind === 'mean-proba' && (!labels || labels.length === 0)) {
    throw new MaasError('VALIDATION', 'mean-proba needs the composition labels (outputs.labels) to know the class order');
  }
  const ok: MemberAnswer[] = [];
  for (const a of answers) if (!isFailed(a)) ok.push(a);
  if (ok.length === 0) throw new NoAnswerError(answers.map((a) => a.key));
  const problems: { key: string; problem: string }[] = [];
  for (const a of ok) {
    const problem = checkAnswer(kind, labels, a, rows);
    if (problem !== undefined) problems.push({ key: a.key, problem });
  }
  if (problems.length > 0) throw new MemberOutputError(problems);

  const used = ok.map((a) => a.key);
  const weights = weightsOf(ok, kind !== 'majority');
  switch (kind) {
    case 'majority':
    case 'weighted':
      return { labels: vote(labels ?? [], ok, weights, rows), used };
    case 'mean-proba':
      return { ...meanProba(labels!, ok, weights, rows), used };
    case 'mean':
      return { values: weightedMean(ok, weights, rows), used };
    case 'median':
      return { values: median(ok, rows), used };
  }
}

function weightsOf(ok: readonly MemberAnswer[], weighted: boolean): Float64Array {
  const w = new Float64Array(ok.length);
  let total = 0;
  for (let i = 0; i < ok.length; i++) {
    const x = ok[i]!.weight;
    w[i] = !weighted ? 1 : Number.isFinite(x) && x > 0 ? x : 0;
    total += w[i]!;
  }
  if (total === 0) w.fill(1);
  return w;
}

function vote(labels: readonly string[], ok: readonly MemberAnswer[], weights: Float64Array, rows: number): string[] {
  const width = labels.length;
  const names = [...labels];
  const index = new Map<string, number>();
  labels.forEach((l, i) => {
    if (!index.has(l)) index.set(l, i);
  });
  const indexOf = (label: string): number => {
    let i = index.get(label);
    if (i === undefined) {
      i = names.length;
      names.push(label);
      index.set(label, i);
    }
    return i;
  };
  // Each member's vote per row, as an index into names.
  const votes = ok.map((a) => {
    const v = new Int32Array(rows);
    for (let r = 0; r < rows; r++) v[r] = a.labels ? indexOf(a.labels[r]!) : rowArgmax(a.probabilities!, width, r);
    return v;
  });
  const withProbabilities = width > 0 && ok.some((a) => a.probabilities);
  // Listed labels first (by their order), then the others by string order.
  const before = (i: number, j: number): boolean => (i < width || j < width ? i < j : names[i]! < names[j]!);

  const tally = new Float64Array(names.length);
  const seenInRow = new Int32Array(names.length).fill(-1);
  const touched: number[] = [];
  const out: string[] = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    touched.length = 0;
    for (let m = 0; m < ok.length; m++) {
      const i = votes[m]![r]!;
      if (seenInRow[i] !== r) {
        seenInRow[i] = r;
        touched.push(i);
      }
      tally[i]! += weights[m]!;
    }
    let top = -Infinity;
    for (const i of touched) if (tally[i]! > top) top = tally[i]!;
    let tied = touched.filter((i) => same(tally[i]!, top));
    if (tied.length > 1 && withProbabilities) {
      const mass = tied.map((i) => {
        if (i >= width) return 0;
        let s = 0;
        for (let m = 0; m < ok.length; m++) {
          const p = ok[m]!.probabilities;
          if (p) s += weights[m]! * probabilityAt(p, width, r, i);
        }
        return s;
      });
      const most = Math.max(...mass);
      tied = tied.filter((_, k) => same(mass[k]!, most));
    }
    let winner = tied[0]!;
    for (const i of tied) if (before(i, winner)) winner = i;
    out[r] = names[winner]!;
    for (const i of touched) tally[i] = 0;
  }
  return out;
}

function meanProba(
  labels: readonly string[],
  ok: readonly MemberAnswer[],
  weights: Float64Array,
  rows: number,
): { labels: string[]; probabilities: number[][] } {
  const width = labels.length;
  let total = 0;
  for (const w of weights) total += w;
  const acc = new Float64Array(rows * width);
  for (let m = 0; m < ok.length; m++) {
    const w = weights[m]!;
    if (w === 0) continue;
    const p = ok[m]!.probabilities!;
    for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) acc[r * width + j]! += w * probabilityAt(p, width, r, j);
  }
  const probabilities: number[][] = new Array<number[]>(rows);
  const out: string[] = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    const row = new Array<number>(width);
    for (let j = 0; j < width; j++) row[j] = acc[r * width + j]! / total;
    probabilities[r] = row;
    out[r] = labels[argmax(row, 0, width)]!;
  }
  return { labels: out, probabilities };
}

function weightedMean(ok: readonly MemberAnswer[], weights: Float64Array, rows: number): number[] {
  let total = 0;
  for (const w of weights) total += w;
  const out = new Array<number>(rows).fill(0);
  for (let m = 0; m < ok.length; m++) {
    const w = weights[m]!;
    if (w === 0) continue;
    const v = ok[m]!.values!;
    for (let r = 0; r < rows; r++) out[r]! += w * v[r]!;
  }
  for (let r = 0; r < rows; r++) out[r] = out[r]! / total;
  return out;
}

function median(ok: readonly MemberAnswer[], rows: number): number[] {
  const n = ok.length;
  const scratch = new Float64Array(n);
  const out = new Array<number>(rows);
  const mid = n >> 1;
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < n; m++) scratch[m] = ok[m]!.values![r]!;
    scratch.sort();
    out[r] = n % 2 === 1 ? scratch[mid]! : (scratch[mid - 1]! + scratch[mid]!) / 2;
  }
  return out;
}

/**
 * For a member whose label order differs from the composition's: per member class index, the
 * composition's index of the same label, or -1 when the composition does not list it (its
 * probability is then dropped by remapProbabilities; the router should refuse such a member).
 */
export function mapLabels(memberLabels: readonly string[], compositionLabels: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  compositionLabels.forEach((l, i) => {
    if (!index.has(l)) index.set(l, i);
  });
  const mapping = new Int32Array(memberLabels.length);
  memberLabels.forEach((l, i) => {
    mapping[i] = index.get(l) ?? -1;
  });
  return mapping;
}

/**
 * Probability rows in a member's class order -> rows in the composition's order, by a mapping from
 * mapLabels. A flat Float64Array has `mapping.length` values per row. `width` is the number of
 * composition labels (default: the mapping's length, i.e. the same label set); composition labels
 * the member lacks get 0.
 */
export function remapProbabilities(rows: ProbabilityRows, mapping: Int32Array, width = mapping.length): number[][] {
  const from = mapping.length;
  const n = rows instanceof Float64Array ? Math.floor(rows.length / Math.max(1, from)) : rows.length;
  const out: number[][] = new Array<number[]>(n);
  for (let r = 0; r < n; r++) {
    const row = new Array<number>(width).fill(0);
    for (let i = 0; i < from; i++) {
      const j = mapping[i]!;
      if (j >= 0 && j < width) row[j]! += probabilityAt(rows, from, r, i);
    }
    out[r] = row;
  }
  return out;
}

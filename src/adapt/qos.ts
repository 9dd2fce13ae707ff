// The QoS score of a composition (stage 1 of adaptive recomposition, DESIGN.md "Composition and
// adaptive recomposition") and the measures it is made of. Pure.
//
// Choices where the method leaves room:
// - Latency term: 1 - min(T/Tmax, 1), clamped to [0, 1]: a composition at or over its budget gets
//   0, an instant one 1. A budget that is not a positive number (or a latency that is not a number)
//   gives 0: without a budget, latency earns nothing. A negative latency counts as 0 ms.
// - Effectiveness, classification: the share of rows whose answer equals the truth (label indexes);
//   a row without an answer is wrong.
// - Effectiveness, regression: 1 - min(1, MAE / range), where range = max - min of the truth over
//   the rows (1 when the truth is constant); a row without an answer (or a non-finite one) counts
//   as an error of the whole range, i.e. as bad as an answer can be. No rows: 0.
// - Quality: the mean of the last `lastWindows` (default 5) windows of an accuracy history; an empty
//   history gives the fallback (the effectiveness measured now).
import type { QosWeights } from './types.js';

/** What Q(C) is computed from. */
export interface QosInputs {
  /** Accuracy (classification) or 1 - normalised MAE (regression), 0..1. */
  effectiveness: number;
  /** Quality: recent accuracy per window, 0..1. */
  quality: number;
  /** The composition's latency in ms (p95). */
  latencyMs: number;
  /** Tmax: the latency budget in ms. */
  latencyBudgetMs: number;
  /** Share of requests answered, 0..1. */
  reliability: number;
}

export type Task = 'classification' | 'regression';

/** Windows of a quality history that count as "recent". */
export const DEFAULT_QUALITY_WINDOWS = 5;

/** Rows per window when a history is made from recorded rows. */
export const DEFAULT_WINDOW_ROWS = 50;

/** 1 - min(T/Tmax, 1), clamped to [0, 1]; 0 without a usable budget or latency. */
export function latencyTerm(latencyMs: number, latencyBudgetMs: number): number {
  if (!(latencyBudgetMs > 0) || Number.isNaN(latencyMs)) return 0;
  const t = 1 - Math.min(Math.max(latencyMs, 0) / latencyBudgetMs, 1);
  return Math.min(1, Math.max(0, t));
}

/** Q(C) = wE*E + wQ*q + wT*(1 - min(T/Tmax, 1)) + wR*R. */
export function qosScore(x: QosInputs, w: QosWeights): number {
  return w.effectiveness * x.effectiveness + w.quality * x.quality + w.latency * latencyTerm(x.latencyMs, x.latencyBudgetMs) + w.reliability * x.reliability;
}

/**
 * Effectiveness of answers against the rows' truth: accuracy for classification (answers and truth
 * are label indexes), 1 - min(1, MAE / range of truth) for regression. Missing answers are wrong.
 */
export function effectiveness(rows: readonly { truth: number }[], answers: readonly (number | undefined)[], task: Task): number {
  const n = rows.length;
  if (n === 0) return 0;
  if (task === 'classification') {
    let right = 0;
    for (let r = 0; r < n; r++) if (answers[r] !== undefined && answers[r] === rows[r]!.truth) right++;
    return right / n;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of rows) {
    if (row.truth < lo) lo = row.truth;
    if (row.truth > hi) hi = row.truth;
  }
  const range = hi - lo > 0 && Number.isFinite(hi - lo) ? hi - lo : 1;
  let error = 0;
  for (let r = 0; r < n; r++) {
    const a = answers[r];
    error += a === undefined || !Number.isFinite(a) ? range : Math.abs(a - rows[r]!.truth);
  }
  return 1 - Math.min(1, error / n / range);
}

/** Effectiveness per consecutive window of `size` rows (the last window may be shorter), oldest first. */
export function windowedEffectiveness(
  rows: readonly { truth: number }[],
  answers: readonly (number | undefined)[],
  task: Task,
  size = DEFAULT_WINDOW_ROWS,
): number[] {
  const step = Math.max(1, Math.floor(size));
  const out: number[] = [];
  for (let from = 0; from < rows.length; from += step) {
    out.push(effectiveness(rows.slice(from, from + step), answers.slice(from, from + step), task));
  }
  return out;
}

/** Mean of the last `lastWindows` entries of a history (oldest first); `fallback` when it is empty. */
export function quality(history: readonly number[], fallback: number, lastWindows = DEFAULT_QUALITY_WINDOWS): number {
  const recent = history.slice(-Math.max(1, Math.floor(lastWindows))).filter((x) => Number.isFinite(x));
  if (recent.length === 0) return fallback;
  let sum = 0;
  for (const x of recent) sum += x;
  return sum / recent.length;
}

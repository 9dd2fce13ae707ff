// The meters a composition router updates on every request: per member (requests, answers,
// errors, timeouts, latency, agreement with the composition, quality from feedback and its
// history) and for the composition as a whole. Every update is O(1) and memory is bounded; the
// work happens when a snapshot is taken (GET /v2/models/{composition}/members). Pure: times come
// in as epoch milliseconds.
import { MaasError } from '../core/errors.js';
import type { CompositionMode, MemberRole } from '../domain/composition.js';
import type { CompositionStatsWire, HistoryWire, LatencyWire, MemberStatsWire, QualityWire } from '../protocol/composition-stats.js';

export const DEFAULT_LATENCY_SAMPLES = 10_000;
/** Labelled predictions per history window when the policy does not say (AdaptationPolicy.historyWindow). */
export const DEFAULT_HISTORY_WINDOW = 100;
/** History points kept (the partial window, when shown, counts as one). */
export const MAX_HISTORY_POINTS = 200;

/**
 * Latency of the last `capacity` answers (default 10,000) in a ring, with exact quantiles on
 * demand. Chosen over a log-bucket histogram because (a) the quantiles are exact (numpy's default
 * linear interpolation between order statistics), not within a bucket's width; (b) the window
 * follows the member's current behaviour, which is what recomposition acts on, where a histogram
 * since the start would never forget a slow hour; (c) the cost is fixed and small: 80 KB per meter,
 * O(1) per record, and a sort of at most 10,000 doubles (well under a millisecond) per summary,
 * cached until the next record.
 */
export class LatencyRecorder {
  private readonly ring: Float64Array;
  private next = 0;
  private size = 0;
  private sorted: Float64Array | undefined;

  constructor(readonly capacity = DEFAULT_LATENCY_SAMPLES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new MaasError('INTERNAL', `latency window must be a positive integer, got ${capacity}`);
    this.ring = new Float64Array(capacity);
  }

  /** Records one latency in ms; a negative one counts as 0, a non-finite one is ignored. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.ring[this.next] = ms < 0 ? 0 : ms;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.size < this.capacity) this.size++;
    this.sorted = undefined;
  }

  /** Samples in the window. */
  get count(): number {
    return this.size;
  }

  private sortedSamples(): Float64Array {
    this.sorted ??= this.ring.slice(0, this.size).sort();
    return this.sorted;
  }

  /** The q-quantile (0..1) of the window, interpolating linearly between order statistics; null when empty. */
  quantile(q: number): number | null {
    if (this.size === 0) return null;
    const s = this.sortedSamples();
    const h = (s.length - 1) * Math.min(1, Math.max(0, q));
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
  }

  mean(): number | null {
    if (this.size === 0) return null;
    let sum = 0;
    for (let i = 0; i < this.size; i++) sum += this.ring[i]!;
    return sum / this.size;
  }

  summary(): LatencyWire {
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), mean: this.mean() };
  }
}

export type Task = 'classification' | 'regression';

/** Ground truth for one prediction: right or wrong (classification), or the absolute error (regression). */
export type QualityOutcome = boolean | { absError: number };

/**
 * Quality from labelled predictions: totals (accuracy, or MAE and RMSE) and a history of windows
 * of `window` labelled predictions. Each closed window becomes a point stamped with its last
 * prediction's time; the window being filled is shown as the last point (labelled < window) once
 * it has a labelled prediction, as the wire's "the last one may be partial" allows. At most
 * `maxPoints` points are shown, the partial one included; older closed windows are dropped.
 */
export class QualityTracker {
  labelled = 0;
  correct = 0;
  private absSum = 0;
  private sqSum = 0;
  // The window being filled.
  private wLabelled = 0;
  private wCorrect = 0;
  private wAbs = 0;
  private wEnd = 0;
  // Closed windows, a ring of the last maxPoints.
  private readonly ends: Float64Array;
  private readonly counts: Int32Array;
  private readonly values: Float64Array;
  private head = 0;
  private closed = 0;

  constructor(
    readonly task: Task,
    readonly window = DEFAULT_HISTORY_WINDOW,
    readonly maxPoints = MAX_HISTORY_POINTS,
  ) {
    if (!Number.isInteger(window) || window < 1) throw new MaasError('INTERNAL', `history window must be a positive integer, got ${window}`);
    if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new MaasError('INTERNAL', `history points must be a positive integer, got ${maxPoints}`);
    this.ends = new Float64Array(maxPoints);
    this.counts = new Int32Array(maxPoints);
    this.values = new Float64Array(maxPoints);
  }

  /** One labelled prediction at `at` (epoch ms). A non-finite absolute error is ignored. */
  add(outcome: QualityOutcome, at: number): void {
    if (this.task === 'classification') {
      if (typeof outcome !== 'boolean') throw new MaasError('INTERNAL', 'classification quality takes right or wrong (a boolean), not an error');
      this.labelled++;
      this.wLabelled++;
      if (outcome) {
        this.correct++;
        this.wCorrect++;
      }
    } else {
      if (typeof outcome === 'boolean') throw new MaasError('INTERNAL', 'regression quality takes an absolute error, not right or wrong');
      if (!Number.isFinite(outcome.absError)) return;
      const e = Math.abs(outcome.absError);
      this.labelled++;
      this.absSum += e;
      this.sqSum += e * e;
      this.wLabelled++;
      this.wAbs += e;
    }
    if (this.wLabelled === 1 || at > this.wEnd) this.wEnd = at;
    if (this.wLabelled === this.window) this.close();
  }

  private close(): void {
    this.ends[this.head] = this.wEnd;
    this.counts[this.head] = this.wLabelled;
    this.values[this.head] = this.task === 'classification' ? this.wCorrect / this.wLabelled : this.wAbs / this.wLabelled;
    this.head = (this.head + 1) % this.maxPoints;
    if (this.closed < this.maxPoints) this.closed++;
    this.wLabelled = 0;
    this.wCorrect = 0;
    this.wAbs = 0;
  }

  quality(): QualityWire {
    const n = this.labelled;
    if (this.task === 'classification') return { labelled: n, correct: this.correct, accuracy: n > 0 ? this.correct / n : null };
    return { labelled: n, mae: n > 0 ? this.absSum / n : null, rmse: n > 0 ? Math.sqrt(this.sqSum / n) : null };
  }

  history(): HistoryWire {
    const partial = this.wLabelled > 0;
    const shown = Math.min(this.closed, this.maxPoints - (partial ? 1 : 0));
    const points: HistoryWire['points'] = [];
    for (let k = shown; k > 0; k--) {
      const i = (this.head - k + this.maxPoints) % this.maxPoints;
      points.push(this.point(this.ends[i]!, this.counts[i]!, this.values[i]!));
    }
    if (partial) {
      const value = this.task === 'classification' ? this.wCorrect / this.wLabelled : this.wAbs / this.wLabelled;
      points.push(this.point(this.wEnd, this.wLabelled, value));
    }
    return { window: this.window, points };
  }

  private point(end: number, labelled: number, value: number): HistoryWire['points'][number] {
    const iso = new Date(end).toISOString();
    return this.task === 'classification' ? { end: iso, labelled, accuracy: value } : { end: iso, labelled, mae: value };
  }
}

/**
 * Whether a member's regression answer agrees with the composition's: within 10 % of the
 * composition's value (within 1e-9 when that is 0), and the absolute difference.
 */
export function regressionAgreement(member: number, composition: number): { same: boolean; absDiff: number } {
  const absDiff = Math.abs(member - composition);
  return { same: absDiff <= (composition === 0 ? 1e-9 : 0.1 * Math.abs(composition)), absDiff };
}

export interface MeterOptions {
  task: Task;
  /** Labelled predictions per history window (default 100). */
  historyWindow?: number;
  /** Latency samples kept (default 10,000). */
  latencySamples?: number;
  /** History points kept (default 200). */
  maxHistoryPoints?: number;
}

export type MemberOutcome = 'answered' | 'error' | 'timeout';

/** What the router knows of a member and the meter does not. */
export interface MemberMeta {
  key: string;
  deployment: string;
  role: MemberRole;
  weight: number;
}

export class MemberMeter {
  requests = 0;
  answered = 0;
  errors = 0;
  timeouts = 0;
  readonly latency: LatencyRecorder;
  readonly tracker: QualityTracker;
  private compared = 0;
  private agreed = 0;
  private diffs = 0;
  private diffSum = 0;

  constructor(readonly options: MeterOptions) {
    this.latency = new LatencyRecorder(options.latencySamples);
    this.tracker = new QualityTracker(options.task, options.historyWindow, options.maxHistoryPoints);
  }

  /** One request sent to the member and how it ended; the latency counts for answers only (a timeout's is the deadline). */
  record(outcome: MemberOutcome, latencyMs?: number): void {
    this.requests++;
    if (outcome === 'answered') {
      this.answered++;
      if (latencyMs !== undefined) this.latency.record(latencyMs);
    } else if (outcome === 'error') this.errors++;
    else this.timeouts++;
  }

  /** One answer compared with the composition's (per row or per request, as the router chooses); `absDiff` for regression. */
  agreement(sameAsComposition: boolean, absDiff?: number): void {
    this.compared++;
    if (sameAsComposition) this.agreed++;
    if (absDiff !== undefined && Number.isFinite(absDiff)) {
      this.diffs++;
      this.diffSum += Math.abs(absDiff);
    }
  }

  /** One of the member's predictions with ground truth, at `at` (epoch ms). */
  quality(correct: QualityOutcome, at: number): void {
    this.tracker.add(correct, at);
  }

  snapshot(meta: MemberMeta): MemberStatsWire {
    const agreement: MemberStatsWire['agreement'] = { compared: this.compared, rate: this.compared > 0 ? this.agreed / this.compared : null };
    if (this.options.task === 'regression') agreement.meanAbsDiff = this.diffs > 0 ? this.diffSum / this.diffs : null;
    return {
      key: meta.key,
      deployment: meta.deployment,
      role: meta.role,
      weight: meta.weight,
      requests: this.requests,
      answered: this.answered,
      errors: this.errors,
      timeouts: this.timeouts,
      reliability: this.requests > 0 ? this.answered / this.requests : null,
      latencyMs: this.latency.summary(),
      agreement,
      quality: this.tracker.quality(),
      history: this.tracker.history(),
    };
  }
}

export interface CompositionMeterOptions extends MeterOptions {
  /** `NAME@VERSION` of the composition. */
  composition: string;
  mode: CompositionMode;
  /** Ensemble only. */
  aggregation?: string;
  /** When measuring began (the router's start), epoch ms. */
  since: number;
}

export class CompositionMeter {
  requests = 0;
  errors = 0;
  readonly latency: LatencyRecorder;
  readonly tracker: QualityTracker;

  constructor(readonly options: CompositionMeterOptions) {
    this.latency = new LatencyRecorder(options.latencySamples);
    this.tracker = new QualityTracker(options.task, options.historyWindow, options.maxHistoryPoints);
  }

  /** One request to the composition: answered (with its end-to-end latency), or an error (no member answered). */
  record(outcome: 'answered' | 'error', latencyMs?: number): void {
    this.requests++;
    if (outcome === 'error') this.errors++;
    else if (latencyMs !== undefined) this.latency.record(latencyMs);
  }

  /** One of the composition's predictions with ground truth, at `at` (epoch ms). */
  quality(correct: QualityOutcome, at: number): void {
    this.tracker.add(correct, at);
  }

  snapshot(members: MemberStatsWire[]): CompositionStatsWire {
    const { composition, mode, aggregation, since } = this.options;
    return {
      composition,
      mode,
      ...(aggregation !== undefined ? { aggregation } : {}),
      since: new Date(since).toISOString(),
      requests: this.requests,
      errors: this.errors,
      latencyMs: this.latency.summary(),
      quality: this.tracker.quality(),
      history: this.tracker.history(),
      members,
    };
  }
}

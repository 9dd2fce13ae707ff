// Live statistics of what the model serves, over a sliding window of recent rows, kept
// incrementally as requests arrive so that drift checks read them without the raw log:
// per-feature histograms and counts (missing, out of range, unseen categories), a uniform
// reservoir of rows, the prediction distribution, live quality from feedback and the feedback
// stream in arrival order. The window is a ring of chunks; the oldest chunk drops as a new one
// starts, so the window holds between (chunks-1)/chunks and all of `windowRows` rows; with a
// maximum age, a chunk also starts every age/chunks and chunks whose newest row is older than
// the age drop. Under strict placement no raw row is kept: no reservoir, no min/max.
import type { Clock, Random } from '../core/clock.js';
import type { FeatureStats, NumericSummary, StatsSnapshot } from '../protocol/stats.js';
import { decodeValue, type ServedModel } from './dataplane/model.js';
import { Reservoir, mergeSamples } from '../drift/reservoir.js';
import type { FeedbackStream } from '../drift/concept.js';
import type { DriftSide, SideFeature } from '../drift/data-drift.js';
import { NumericAccumulator, geometryFor, geometryFromEdges, summarize, type BinGeometry } from './stats/numeric.js';

export type { StatsSnapshot };

export const DEFAULT_WINDOW_ROWS = 10_000;

/** Sampled values of a feature: numbers, or codes into `names` (category values; booleans false/true). */
export type WindowSample = { kind: 'numeric'; values: Float64Array } | { kind: 'codes'; codes: Float64Array; names: readonly string[] };

/** A feature of the window for a drift check: what the drift side holds, values still compact. */
export interface WindowFeature extends Omit<SideFeature, 'values'> {
  sample?: WindowSample;
}

/** The window for a drift check: cheap to take and to send to another thread. */
export interface WindowSide {
  rows: number;
  source: string;
  features: ReadonlyMap<string, WindowFeature>;
}

/** The window as a drift side: category codes become the values' strings. */
export function windowSide(w: WindowSide): DriftSide {
  const features = new Map<string, SideFeature>();
  for (const [name, f] of w.features) {
    const { sample, ...side } = f;
    const out: SideFeature = side;
    if (sample?.kind === 'numeric') out.values = { kind: 'numeric', values: sample.values };
    else if (sample) out.values = { kind: 'categorical', values: Array.from(sample.codes, (c) => sample.names[c] ?? String(c)) };
    features.set(name, out);
  }
  return { rows: w.rows, source: w.source, features };
}
export const STRICT_WITHHELD = 'strict placement: raw rows stay on the node';

export interface StatsOptions {
  /** Most rows in the window (default 10,000). */
  windowRows?: number;
  chunks?: number;
  /** Rows of the sample `/stats` answers with (default 1000). */
  reservoirSize?: number;
  /** Rows of the window the drift check reads as values (0: none; kept besides the `/stats` sample). */
  driftSample?: number;
  /** Rows older than this (ms) leave the window, a chunk at a time; undefined: no age limit. */
  maxAgeMs?: number;
  /** Histogram edges per feature name (the reference profile's), so that window and reference share bins. */
  edges?: ReadonlyMap<string, readonly number[]>;
  /** Strict placement: no raw rows (no reservoir, no drift sample), no min/max, coarse warm-up bins. */
  strict?: boolean;
  /** Feedback items kept in arrival order for concept drift (default: the window's capacity). */
  feedbackCapacity?: number;
  bins?: number;
  /** Values used to fix histogram bins when a feature declares no range. */
  warmup?: number;
  random: Random;
  clock: Pick<Clock, 'now'>;
}

/** What one inference call contributes (the fields match the request log's batch). */
export interface ObservedBatch {
  rows: number;
  values: Float32Array;
  labels?: readonly string[] | undefined;
  probabilities?: readonly (readonly number[])[] | undefined;
  predictions?: readonly number[] | undefined;
}

export interface ObservedFeedback {
  label?: string;
  value?: number;
  predictedLabel: string | null;
  predictedValue: number | null;
}

const CONFUSION_MAX_CLASSES = 50;

interface SampledRow {
  values: Float32Array;
  prediction: string | number | null;
}

/** The last `capacity` feedback items (1/0 correct, or absolute errors) with their arrival times. */
class FeedbackRing {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private start = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  push(value: number, at: number): void {
    if (this.capacity === 0) return;
    let i: number;
    if (this.size < this.capacity) i = (this.start + this.size++) % this.capacity;
    else {
      i = this.start;
      this.start = (this.start + 1) % this.capacity;
    }
    this.values[i] = value;
    this.times[i] = at;
  }

  /** Values that arrived at or after `since`, oldest first. */
  since(since: number): Float64Array {
    const out = new Float64Array(this.size);
    let n = 0;
    for (let k = 0; k < this.size; k++) {
      const i = (this.start + k) % this.capacity;
      if (this.times[i]! >= since) out[n++] = this.values[i]!;
    }
    return n === out.length ? out : out.slice(0, n);
  }
}

class Chunk {
  rows = 0;
  /** When its newest row (or feedback) arrived; the window's age limit reads this. */
  lastAt: number;
  readonly numeric: (NumericAccumulator | undefined)[];
  readonly counts: (Uint32Array | undefined)[];
  /** Missing values of category and boolean features (numeric ones count in their accumulator). */
  readonly missing: Uint32Array;
  readonly outOfRange: Uint32Array;
  readonly unseen: Uint32Array;
  readonly labelCounts: Uint32Array;
  confidenceSum = 0;
  confidenceCount = 0;
  readonly predicted = new NumericAccumulator();
  labelled = 0;
  correct = 0;
  absError = 0;
  squaredError = 0;
  readonly confusion: Uint32Array | undefined;
  /** Slots into `sampleValues`/`samplePredictions`: rows are copied into one buffer, not allocated each. */
  readonly reservoir: Reservoir<number>;
  private sampleValues: Float32Array | undefined;
  private readonly samplePredictions: (string | number | null)[] = [];

  constructor(
    model: ServedModel,
    reservoirSize: number,
    random: Random,
    readonly startedAt: number,
  ) {
    this.numeric = model.features.map((f) => (f.type === 'number' || f.type === 'integer' ? new NumericAccumulator() : undefined));
    this.counts = model.features.map((f) => (f.type === 'category' ? new Uint32Array(f.values.length) : f.type === 'boolean' ? new Uint32Array(2) : undefined));
    this.missing = new Uint32Array(model.features.length);
    this.outOfRange = new Uint32Array(model.features.length);
    this.unseen = new Uint32Array(model.features.length);
    this.lastAt = startedAt;
    // One extra slot counts labels the description does not list.
    this.labelCounts = new Uint32Array(model.labels.length + 1);
    const C = model.labels.length;
    this.confusion = C > 0 && C <= CONFUSION_MAX_CLASSES ? new Uint32Array(C * C) : undefined;
    this.reservoir = new Reservoir<number>(reservoirSize, random);
    this.features = model.features.length;
  }

  private readonly features: number;

  /** Offers row `r` of a batch to the sample (copied only when kept). */
  sample(values: Float32Array, r: number, prediction: string | number | null): void {
    const slot = this.reservoir.slot();
    if (slot < 0) return;
    const F = this.features;
    const buf = (this.sampleValues ??= new Float32Array(this.reservoir.capacity * F));
    const at = slot * F;
    const from = r * F;
    for (let k = 0; k < F; k++) buf[at + k] = values[from + k]!;
    this.samplePredictions[slot] = prediction;
    this.reservoir.put(slot, slot);
  }

  /** The sampled rows (views into the buffer), for merging into the window's sample. */
  sampled(): { items: SampledRow[]; seen: number } {
    const F = this.features;
    const buf = this.sampleValues;
    const items = buf ? this.reservoir.items.map((s) => ({ values: buf.subarray(s * F, s * F + F), prediction: this.samplePredictions[s] ?? null })) : [];
    return { items, seen: this.reservoir.seen };
  }
}

export class ServingStats {
  private readonly chunks: Chunk[] = [];
  private readonly chunkRows: number;
  private readonly maxChunks: number;
  private readonly reservoirSize: number;
  /** Rows each chunk samples: enough for the `/stats` sample and for the drift sample. */
  private readonly sampleCapacity: number;
  private readonly driftSample: number;
  private readonly maxAgeMs: number | undefined;
  private readonly strict: boolean;
  /** Declared bounds as float32 (what the encoded values are compared with). */
  private readonly rangeLo: Float64Array;
  private readonly rangeHi: Float64Array;
  private readonly totalMissing: Float64Array;
  private readonly totalOutOfRange: Float64Array;
  private readonly totalUnseen: Float64Array;
  private readonly feedbackStream: FeedbackRing;
  private readonly bins: number;
  private readonly warmup: number;
  /** Per feature (numeric ones), then the regression prediction as the last entry. */
  private readonly geometry: (BinGeometry | undefined)[];
  private readonly warmed: number[];
  private readonly labelIndex: Map<string, number>;
  private totalRows = 0;
  private totalFeedback = 0;

  constructor(
    private readonly model: ServedModel,
    private readonly opts: StatsOptions,
  ) {
    const windowRows = Math.max(1, opts.windowRows ?? DEFAULT_WINDOW_ROWS);
    this.maxChunks = Math.max(1, opts.chunks ?? 8);
    this.chunkRows = Math.max(1, Math.ceil(windowRows / this.maxChunks));
    this.strict = opts.strict === true;
    this.reservoirSize = this.strict ? 0 : Math.max(0, opts.reservoirSize ?? 1000);
    this.driftSample = this.strict ? 0 : Math.max(0, opts.driftSample ?? 0);
    // A chunk that keeps all its rows makes the merged drift sample exact for any size.
    this.sampleCapacity = Math.max(this.reservoirSize, Math.min(this.chunkRows, this.driftSample));
    this.maxAgeMs = opts.maxAgeMs !== undefined && opts.maxAgeMs > 0 ? opts.maxAgeMs : undefined;
    this.bins = Math.max(1, opts.bins ?? 20);
    this.warmup = Math.max(1, opts.warmup ?? 100);
    this.geometry = model.features.map((f) => {
      const edges = opts.edges?.get(f.name);
      const fromProfile = edges && (f.type === 'number' || f.type === 'integer') ? geometryFromEdges(edges) : undefined;
      if (fromProfile) return fromProfile;
      return Number.isFinite(f.min) && Number.isFinite(f.max) ? geometryFor(f.min, f.max, f.min, f.max, this.bins) : undefined;
    });
    const F = model.features.length;
    this.rangeLo = Float64Array.from(model.features, (f) => Math.fround(f.min));
    this.rangeHi = Float64Array.from(model.features, (f) => Math.fround(f.max));
    this.totalMissing = new Float64Array(F);
    this.totalOutOfRange = new Float64Array(F);
    this.totalUnseen = new Float64Array(F);
    this.feedbackStream = new FeedbackRing(Math.max(0, opts.feedbackCapacity ?? this.chunkRows * this.maxChunks));
    this.geometry.push(undefined);
    this.warmed = this.geometry.map(() => 0);
    this.labelIndex = new Map(model.labels.map((l, i) => [l, i]));
  }

  get capacity(): number {
    return this.chunkRows * this.maxChunks;
  }

  /** Whether the window keeps raw rows (not under strict placement). */
  get keepsRows(): boolean {
    return !this.strict;
  }

  /** Drops chunks whose newest row is older than the age limit. */
  private expire(now: number): void {
    if (this.maxAgeMs === undefined) return;
    const oldest = now - this.maxAgeMs;
    while (this.chunks.length > 0 && this.chunks[0]!.lastAt < oldest) this.chunks.shift();
  }

  private current(now: number): Chunk {
    this.expire(now);
    let c = this.chunks[this.chunks.length - 1];
    const stale = c !== undefined && this.maxAgeMs !== undefined && now - c.startedAt >= this.maxAgeMs / this.maxChunks;
    if (!c || c.rows >= this.chunkRows || stale) {
      c = new Chunk(this.model, this.sampleCapacity, this.opts.random, now);
      this.chunks.push(c);
      if (this.chunks.length > this.maxChunks) this.chunks.shift();
    }
    c.lastAt = now;
    return c;
  }

  /**
   * A value refused before it reached the model (an unseen category; an out-of-range value when
   * the model rejects those): counted for the feature at `index` in the window and the totals.
   */
  countRefused(index: number, reason: 'unseen' | 'out_of_range'): void {
    if (index < 0 || index >= this.model.features.length) return;
    const c = this.current(this.opts.clock.now());
    if (reason === 'unseen') {
      c.unseen[index]!++;
      this.totalUnseen[index]!++;
    } else {
      c.outOfRange[index]!++;
      this.totalOutOfRange[index]!++;
    }
  }

  /** Counts since start, per feature (what the Prometheus counters report). */
  featureTotals(): { feature: string; missing: number; outOfRange: number; unseen: number }[] {
    return this.model.features.map((f, j) => ({
      feature: f.name,
      missing: this.totalMissing[j]!,
      outOfRange: this.totalOutOfRange[j]!,
      unseen: this.totalUnseen[j]!,
    }));
  }

  private addNumeric(acc: NumericAccumulator, slot: number, x: number, declaredMin: number, declaredMax: number): void {
    if (slot < this.model.features.length && x === x) {
      if (x < this.rangeLo[slot]! || x > this.rangeHi[slot]!) this.outOfRange(slot);
    }
    const g = this.geometry[slot];
    acc.add(x, g);
    if (g || Number.isNaN(x)) return;
    if (++this.warmed[slot]! >= this.warmup) {
      // Fix the bins from every value seen so far, then bin what waited.
      let lo = Infinity;
      let hi = -Infinity;
      const accs = this.accumulators(slot);
      for (const a of accs) {
        if (a.min < lo) lo = a.min;
        if (a.max > hi) hi = a.max;
      }
      const fixed = geometryFor(declaredMin, declaredMax, lo, hi, this.bins, this.strict);
      this.geometry[slot] = fixed;
      for (const a of accs) a.settle(fixed);
    }
  }

  private accumulators(slot: number): NumericAccumulator[] {
    return this.chunks.map((ch) => (slot < this.model.features.length ? ch.numeric[slot]! : ch.predicted));
  }

  private outOfRange(slot: number): void {
    this.chunks[this.chunks.length - 1]!.outOfRange[slot]!++;
    this.totalOutOfRange[slot]!++;
  }

  /** Adds the rows of one inference call, chunk by chunk, feature by feature (column loops). */
  observe(batch: ObservedBatch): void {
    const now = this.opts.clock.now();
    for (let r = 0; r < batch.rows;) {
      const c = this.current(now);
      const n = Math.min(batch.rows - r, this.chunkRows - c.rows);
      this.observeRows(c, batch, r, r + n);
      c.rows += n;
      this.totalRows += n;
      r += n;
    }
  }

  private observeRows(c: Chunk, batch: ObservedBatch, from: number, to: number): void {
    const features = this.model.features;
    const F = features.length;
    const { values, labels, probabilities, predictions } = batch;
    for (let j = 0; j < F; j++) {
      const acc = c.numeric[j];
      if (!acc) {
        const counts = c.counts[j]!;
        let missing = 0;
        for (let r = from; r < to; r++) {
          const x = values[r * F + j]!;
          if (x !== x) missing++;
          else counts[x]!++;
        }
        c.missing[j]! += missing;
        this.totalMissing[j]! += missing;
        continue;
      }
      const missingBefore = acc.missing;
      const g = this.geometry[j];
      if (!g) {
        const f = features[j]!;
        for (let r = from; r < to; r++) this.addNumeric(acc, j, values[r * F + j]!, f.min, f.max);
        this.totalMissing[j]! += acc.missing - missingBefore;
        continue;
      }
      // The hot loop: bins fixed, accumulate in locals.
      const bins = (acc.counts ??= new Uint32Array(g.bins));
      const scale = g.bins / (g.hi - g.lo);
      const last = g.bins - 1;
      let count = acc.count;
      let sum = acc.sum;
      let sumSq = acc.sumSq;
      let min = acc.min;
      let max = acc.max;
      let missing = acc.missing;
      let underflow = acc.underflow;
      let overflow = acc.overflow;
      const lo = g.lo;
      const hi = g.hi;
      const edges = g.edges;
      const rangeLo = this.rangeLo[j]!;
      const rangeHi = this.rangeHi[j]!;
      let outside = 0;
      for (let r = from; r < to; r++) {
        const x = values[r * F + j]!;
        if (x !== x) {
          missing++;
          continue;
        }
        count++;
        sum += x;
        sumSq += x * x;
        if (x < min) min = x;
        if (x > max) max = x;
        if (x < rangeLo || x > rangeHi) outside++;
        if (x < lo) underflow++;
        else if (x > hi) overflow++;
        else {
          let b = Math.floor((x - lo) * scale);
          if (b > last) b = last;
          if (edges) {
            // On a profile's edges: the bin its binary search would pick, also for values on an edge.
            while (b > 0 && x < edges[b]!) b--;
            while (b < last && x >= edges[b + 1]!) b++;
          }
          bins[b]!++;
        }
      }
      c.outOfRange[j]! += outside;
      this.totalOutOfRange[j]! += outside;
      this.totalMissing[j]! += missing - missingBefore;
      acc.count = count;
      acc.sum = sum;
      acc.sumSq = sumSq;
      acc.min = min;
      acc.max = max;
      acc.missing = missing;
      acc.underflow = underflow;
      acc.overflow = overflow;
    }
    for (let r = from; r < to; r++) {
      let prediction: string | number | null = null;
      if (labels) {
        const label = labels[r]!;
        prediction = label;
        c.labelCounts[this.labelIndex.get(label) ?? this.model.labels.length]!++;
        const p = probabilities?.[r];
        if (p && p.length > 0) {
          let m = p[0]!;
          for (let k = 1; k < p.length; k++) if (p[k]! > m) m = p[k]!;
          c.confidenceSum += m;
          c.confidenceCount++;
        }
      } else if (predictions) {
        prediction = predictions[r]!;
        this.addNumeric(c.predicted, F, prediction, -Infinity, Infinity);
      }
      if (this.sampleCapacity > 0) c.sample(values, r, prediction);
    }
  }

  /** Adds ground truth joined to logged predictions (counted in the current chunk). */
  observeFeedback(items: readonly ObservedFeedback[]): void {
    if (items.length === 0) return;
    const now = this.opts.clock.now();
    const c = this.current(now);
    for (const it of items) {
      this.totalFeedback++;
      c.labelled++;
      if (it.label !== undefined) {
        const correct = it.label === it.predictedLabel;
        if (correct) c.correct++;
        this.feedbackStream.push(correct ? 1 : 0, now);
        const t = this.labelIndex.get(it.label);
        const p = it.predictedLabel === null ? undefined : this.labelIndex.get(it.predictedLabel);
        if (c.confusion && t !== undefined && p !== undefined) c.confusion[t * this.model.labels.length + p]!++;
      } else if (it.value !== undefined && it.predictedValue !== null) {
        const e = it.value - it.predictedValue;
        c.absError += Math.abs(e);
        c.squaredError += e * e;
        this.feedbackStream.push(Math.abs(e), now);
      }
    }
  }

  private numericSummary(slot: number, declaredMin: number, declaredMax: number): NumericSummary {
    const accs = this.accumulators(slot);
    let g = this.geometry[slot];
    if (!g) {
      // Still warming up: bin with a provisional geometry from what has been seen.
      let lo = Infinity;
      let hi = -Infinity;
      for (const a of accs) {
        if (a.min < lo) lo = a.min;
        if (a.max > hi) hi = a.max;
      }
      g = Number.isFinite(lo)
        ? geometryFor(declaredMin, declaredMax, lo, hi, this.bins, this.strict)
        : geometryFor(declaredMin, declaredMax, 0, 1, this.bins, this.strict);
    }
    const summary = summarize(accs, g);
    // The extremes of the inputs are raw values: they stay on the node under strict placement.
    return this.strict && slot < this.model.features.length ? { ...summary, min: null, max: null } : summary;
  }

  private featureCounts(j: number): { out_of_range: number; unseen: number; total: { missing: number; out_of_range: number; unseen: number } } {
    let outOfRange = 0;
    let unseen = 0;
    for (const c of this.chunks) {
      outOfRange += c.outOfRange[j]!;
      unseen += c.unseen[j]!;
    }
    return {
      out_of_range: outOfRange,
      unseen,
      total: { missing: this.totalMissing[j]!, out_of_range: this.totalOutOfRange[j]!, unseen: this.totalUnseen[j]! },
    };
  }

  /** Category and boolean counts of the window by value (booleans as "false"/"true"). */
  private categoryCounts(j: number): { counts: Record<string, number>; count: number; missing: number } {
    const f = this.model.features[j]!;
    const counts: Record<string, number> = {};
    const keys = f.type === 'boolean' ? ['false', 'true'] : f.values.map(String);
    keys.forEach((k) => (counts[k] = 0));
    let missing = 0;
    let count = 0;
    for (const c of this.chunks) {
      missing += c.missing[j]!;
      const cc = c.counts[j]!;
      for (let i = 0; i < keys.length; i++) {
        counts[keys[i]!]! += cc[i]!;
        count += cc[i]!;
      }
    }
    return { counts, count, missing };
  }

  snapshot(): StatsSnapshot {
    const model = this.model;
    this.expire(this.opts.clock.now());
    const chunks = this.chunks;
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    const features: FeatureStats[] = model.features.map((f, j) => {
      if (f.type === 'number' || f.type === 'integer') return { name: f.name, type: f.type, ...this.numericSummary(j, f.min, f.max), ...this.featureCounts(j) };
      const { counts, count, missing } = this.categoryCounts(j);
      return { name: f.name, type: f.type, count, missing, counts, ...this.featureCounts(j) };
    });

    let predictions: StatsSnapshot['predictions'];
    if (model.classification) {
      const counts: Record<string, number> = {};
      model.labels.forEach((l) => (counts[l] = 0));
      let other = 0;
      let confSum = 0;
      let confCount = 0;
      for (const c of chunks) {
        model.labels.forEach((l, i) => (counts[l]! += c.labelCounts[i]!));
        other += c.labelCounts[model.labels.length]!;
        confSum += c.confidenceSum;
        confCount += c.confidenceCount;
      }
      if (other > 0) counts['(other)'] = other;
      predictions = { counts, mean_confidence: confCount > 0 ? confSum / confCount : null };
    } else predictions = this.numericSummary(model.features.length, -Infinity, Infinity);

    const labelled = chunks.reduce((n, c) => n + c.labelled, 0);
    const feedback: StatsSnapshot['feedback'] = { labelled };
    if (model.classification) {
      const correct = chunks.reduce((n, c) => n + c.correct, 0);
      feedback.accuracy = labelled > 0 ? correct / labelled : null;
      const C = model.labels.length;
      if (C > 0 && C <= CONFUSION_MAX_CLASSES) {
        const matrix = Array.from({ length: C }, () => new Array<number>(C).fill(0));
        for (const c of chunks) for (let i = 0; i < C * C; i++) matrix[Math.floor(i / C)]![i % C]! += c.confusion![i]!;
        feedback.confusion = { labels: model.labels, matrix };
      }
    } else {
      const abs = chunks.reduce((n, c) => n + c.absError, 0);
      const sq = chunks.reduce((n, c) => n + c.squaredError, 0);
      feedback.mae = labelled > 0 ? abs / labelled : null;
      feedback.rmse = labelled > 0 ? Math.sqrt(sq / labelled) : null;
    }

    const sample = mergeSamples(
      chunks.map((c) => c.sampled()),
      this.reservoirSize,
      this.opts.random,
    );
    const reservoir: StatsSnapshot['reservoir'] = {
      capacity: this.reservoirSize,
      features: model.features.map((f) => f.name),
      rows: sample.map((s) => model.features.map((f, j) => decodeValue(f, s.values[j]!))),
      predictions: sample.map((s) => s.prediction),
      ...(this.strict ? { withheld: STRICT_WITHHELD } : {}),
    };

    return {
      model_name: model.name,
      model_version: model.version,
      window: {
        capacity: this.capacity,
        rows,
        since: chunks.length > 0 ? new Date(chunks[0]!.startedAt).toISOString() : null,
        until: new Date(this.opts.clock.now()).toISOString(),
      },
      total: { rows: this.totalRows, feedback: this.totalFeedback },
      features,
      predictions,
      feedback,
      reservoir,
    };
  }

  /** The window's time span: since its oldest chunk started, until now. */
  span(): { since: string | null; until: string } {
    const now = this.opts.clock.now();
    this.expire(now);
    return { since: this.chunks.length > 0 ? new Date(this.chunks[0]!.startedAt).toISOString() : null, until: new Date(now).toISOString() };
  }

  /**
   * The window as the current side of a drift check: per feature its counts and histogram (on the
   * profile's edges when given), and unless strict the present values of the drift sample, read
   * in one pass over the sampled rows; category values stay codes (`windowSide` expands them).
   */
  driftWindow(source: string): WindowSide {
    const model = this.model;
    this.expire(this.opts.clock.now());
    const chunks = this.chunks;
    const F = model.features.length;
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    const sample =
      this.driftSample > 0
        ? mergeSamples(
            chunks.map((c) => c.sampled()),
            this.driftSample,
            this.opts.random,
          )
        : undefined;
    // Column j of the sample, missing values left out: row-major reads, one pass.
    const columns = sample ? model.features.map(() => new Float64Array(sample.length)) : [];
    const present = new Int32Array(F);
    if (sample)
      for (const r of sample) {
        const v = r.values;
        for (let j = 0; j < F; j++) {
          const x = v[j]!;
          if (x === x) columns[j]![present[j]!++] = x;
        }
      }
    const features = new Map<string, WindowFeature>();
    model.features.forEach((f, j) => {
      const { out_of_range: outOfRange, unseen } = this.featureCounts(j);
      const column = columns[j];
      const values = column && (present[j] === column.length ? column : column.slice(0, present[j]));
      if (f.type === 'number' || f.type === 'integer') {
        const s = this.numericSummary(j, f.min, f.max);
        features.set(f.name, {
          count: s.count,
          missing: s.missing,
          histogram: {
            kind: 'numeric',
            edges: s.histogram.edges,
            counts: s.histogram.counts,
            underflow: s.histogram.underflow,
            overflow: s.histogram.overflow,
          },
          outOfRange,
          unseen,
          ...(values ? { sample: { kind: 'numeric', values } } : {}),
        });
        return;
      }
      const { counts, count, missing } = this.categoryCounts(j);
      const seen: Record<string, number> = {};
      for (const [k, v] of Object.entries(counts)) if (v > 0) seen[k] = v;
      const names = f.type === 'boolean' ? ['false', 'true'] : f.values.map(String);
      features.set(f.name, {
        count,
        missing,
        histogram: { kind: 'categorical', counts: seen },
        distinct: Object.keys(seen).length,
        outOfRange,
        unseen,
        ...(values ? { sample: { kind: 'codes', codes: values, names } } : {}),
      });
    });
    return { rows, source, features };
  }

  /** The window's feedback in arrival order: 1/0 correct (classification) or absolute errors. */
  feedback(): FeedbackStream | undefined {
    const since = this.maxAgeMs === undefined ? -Infinity : this.opts.clock.now() - this.maxAgeMs;
    const values = this.feedbackStream.since(since);
    if (values.length === 0) return undefined;
    return this.model.classification ? { kind: 'classification', correct: values } : { kind: 'regression', absErrors: values };
  }
}

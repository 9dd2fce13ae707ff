// Live statistics of what the model serves, over a sliding window of recent rows, kept
// incrementally as requests arrive so that drift checks read them without the raw log:
// per-feature histograms, a uniform reservoir of rows, the prediction distribution and live
// quality from feedback. The window is a ring of chunks; the oldest chunk drops as a new one
// starts, so the window holds between (chunks-1)/chunks and all of `windowRows` rows.
import type { Clock, Random } from '../core/clock.js';
import type { FeatureStats, NumericSummary, StatsSnapshot } from '../protocol/stats.js';
import { decodeValue, type ServedModel } from './dataplane/model.js';
import { Reservoir, mergeSamples } from './stats/reservoir.js';
import { NumericAccumulator, geometryFor, summarize, type BinGeometry } from './stats/numeric.js';

export type { StatsSnapshot };

export interface StatsOptions {
  windowRows?: number;
  chunks?: number;
  reservoirSize?: number;
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

class Chunk {
  rows = 0;
  readonly numeric: (NumericAccumulator | undefined)[];
  readonly counts: (Uint32Array | undefined)[];
  readonly missing: Uint32Array;
  readonly labelCounts: Uint32Array;
  confidenceSum = 0;
  confidenceCount = 0;
  readonly predicted = new NumericAccumulator();
  labelled = 0;
  correct = 0;
  absError = 0;
  squaredError = 0;
  readonly confusion: Uint32Array | undefined;
  readonly reservoir: Reservoir<SampledRow>;

  constructor(
    model: ServedModel,
    reservoirSize: number,
    random: Random,
    readonly startedAt: number,
  ) {
    this.numeric = model.features.map((f) => (f.type === 'number' || f.type === 'integer' ? new NumericAccumulator() : undefined));
    this.counts = model.features.map((f) => (f.type === 'category' ? new Uint32Array(f.values.length) : f.type === 'boolean' ? new Uint32Array(2) : undefined));
    this.missing = new Uint32Array(model.features.length);
    // One extra slot counts labels the description does not list.
    this.labelCounts = new Uint32Array(model.labels.length + 1);
    const C = model.labels.length;
    this.confusion = C > 0 && C <= CONFUSION_MAX_CLASSES ? new Uint32Array(C * C) : undefined;
    this.reservoir = new Reservoir<SampledRow>(reservoirSize, random);
  }
}

export class ServingStats {
  private readonly chunks: Chunk[] = [];
  private readonly chunkRows: number;
  private readonly maxChunks: number;
  private readonly reservoirSize: number;
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
    const windowRows = Math.max(1, opts.windowRows ?? 100_000);
    this.maxChunks = Math.max(1, opts.chunks ?? 8);
    this.chunkRows = Math.max(1, Math.ceil(windowRows / this.maxChunks));
    this.reservoirSize = Math.max(0, opts.reservoirSize ?? 1000);
    this.bins = Math.max(1, opts.bins ?? 20);
    this.warmup = Math.max(1, opts.warmup ?? 100);
    this.geometry = model.features.map((f) =>
      Number.isFinite(f.min) && Number.isFinite(f.max) ? geometryFor(f.min, f.max, f.min, f.max, this.bins) : undefined,
    );
    this.geometry.push(undefined);
    this.warmed = this.geometry.map(() => 0);
    this.labelIndex = new Map(model.labels.map((l, i) => [l, i]));
  }

  get capacity(): number {
    return this.chunkRows * this.maxChunks;
  }

  private current(): Chunk {
    let c = this.chunks[this.chunks.length - 1];
    if (!c || c.rows >= this.chunkRows) {
      c = new Chunk(this.model, this.reservoirSize, this.opts.random, this.opts.clock.now());
      this.chunks.push(c);
      if (this.chunks.length > this.maxChunks) this.chunks.shift();
    }
    return c;
  }

  private addNumeric(acc: NumericAccumulator, slot: number, x: number, declaredMin: number, declaredMax: number): void {
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
      const fixed = geometryFor(declaredMin, declaredMax, lo, hi, this.bins);
      this.geometry[slot] = fixed;
      for (const a of accs) a.settle(fixed);
    }
  }

  private accumulators(slot: number): NumericAccumulator[] {
    return this.chunks.map((ch) => (slot < this.model.features.length ? ch.numeric[slot]! : ch.predicted));
  }

  /** Adds the rows of one inference call, chunk by chunk, feature by feature (column loops). */
  observe(batch: ObservedBatch): void {
    for (let r = 0; r < batch.rows;) {
      const c = this.current();
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
        for (let r = from; r < to; r++) {
          const x = values[r * F + j]!;
          if (x !== x) c.missing[j]!++;
          else counts[x]!++;
        }
        continue;
      }
      const g = this.geometry[j];
      if (!g) {
        const f = features[j]!;
        for (let r = from; r < to; r++) this.addNumeric(acc, j, values[r * F + j]!, f.min, f.max);
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
        if (x < lo) underflow++;
        else if (x > hi) overflow++;
        else {
          const b = Math.floor((x - lo) * scale);
          bins[b > last ? last : b]!++;
        }
      }
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
      if (this.reservoirSize > 0) {
        const slot = c.reservoir.slot();
        if (slot >= 0) c.reservoir.put(slot, { values: values.slice(r * F, r * F + F), prediction });
      }
    }
  }

  /** Adds ground truth joined to logged predictions (counted in the current chunk). */
  observeFeedback(items: readonly ObservedFeedback[]): void {
    const c = this.current();
    for (const it of items) {
      this.totalFeedback++;
      c.labelled++;
      if (it.label !== undefined) {
        if (it.label === it.predictedLabel) c.correct++;
        const t = this.labelIndex.get(it.label);
        const p = it.predictedLabel === null ? undefined : this.labelIndex.get(it.predictedLabel);
        if (c.confusion && t !== undefined && p !== undefined) c.confusion[t * this.model.labels.length + p]!++;
      } else if (it.value !== undefined && it.predictedValue !== null) {
        const e = it.value - it.predictedValue;
        c.absError += Math.abs(e);
        c.squaredError += e * e;
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
      g = Number.isFinite(lo) ? geometryFor(declaredMin, declaredMax, lo, hi, this.bins) : geometryFor(declaredMin, declaredMax, 0, 1, this.bins);
    }
    return summarize(accs, g);
  }

  snapshot(): StatsSnapshot {
    const model = this.model;
    const chunks = this.chunks;
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    const features: FeatureStats[] = model.features.map((f, j) => {
      if (f.type === 'number' || f.type === 'integer') return { name: f.name, type: f.type, ...this.numericSummary(j, f.min, f.max) };
      const counts: Record<string, number> = {};
      const keys = f.type === 'boolean' ? ['false', 'true'] : f.values.map(String);
      keys.forEach((k) => (counts[k] = 0));
      let missing = 0;
      let count = 0;
      for (const c of chunks) {
        missing += c.missing[j]!;
        const cc = c.counts[j]!;
        for (let i = 0; i < keys.length; i++) {
          counts[keys[i]!]! += cc[i]!;
          count += cc[i]!;
        }
      }
      return { name: f.name, type: f.type, count, missing, counts };
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
      chunks.map((c) => c.reservoir),
      this.reservoirSize,
      this.opts.random,
    );
    const reservoir = {
      capacity: this.reservoirSize,
      features: model.features.map((f) => f.name),
      rows: sample.map((s) => model.features.map((f, j) => decodeValue(f, s.values[j]!))),
      predictions: sample.map((s) => s.prediction),
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
}

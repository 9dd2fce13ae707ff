// ADWIN (Bifet & Gavaldà 2007), ported from River 0.26.1: river/drift/adwin.py and its helper
// AdaptiveWindowing, rust_src/adwin.rs (online-ml/river commit 8551920107f5827f13cf51c7fcc6a2a268ffc609),
// itself a bit-identical port of river/drift/adwin_c.pyx as of River 0.24. The order of
// floating-point operations follows that code so that the same indices are flagged.
//
// Since River 0.24 the cut loop visits every bucket of a row; River <= 0.23 skipped the newest
// bucket of each row (`range(current_idx - 1)`, online-ml/river#1539) and flags other indices.
import { checkFinite, DETECTOR_DEFAULTS, type AdwinParams, type DriftDetector } from './types.js';

/**
 * One row of the exponential histogram: up to maxBuckets + 1 buckets of 2^row values each, oldest
 * first. A bucket is its total and its variance (sum of squared deviations).
 */
interface BucketRow {
  size: number;
  totals: number[];
  variances: number[];
}

function newRow(maxBuckets: number): BucketRow {
  return { size: 0, totals: new Array<number>(maxBuckets + 1).fill(0), variances: new Array<number>(maxBuckets + 1).fill(0) };
}

/** Drops the `n` oldest buckets of a row. */
function compressRow(row: BucketRow, n: number): void {
  const remaining = row.size - n;
  for (let i = 0; i < remaining; i++) {
    row.totals[i] = row.totals[i + n]!;
    row.variances[i] = row.variances[i + n]!;
  }
  for (let i = Math.max(remaining, 0); i < row.size; i++) {
    row.totals[i] = 0;
    row.variances[i] = 0;
  }
  row.size -= n;
}

/** River's AdaptiveWindowing: the window as bucket rows plus its width, total and variance. */
export class AdaptiveWindowing {
  width = 0;
  total = 0;
  /** Sum of squared deviations from the window mean (River's `variance`). */
  variance = 0;
  nDetections = 0;
  /** Row r holds buckets of 2^r values; row 0 receives new values. */
  readonly rows: BucketRow[];
  private tick = 0;

  constructor(readonly params: Readonly<AdwinParams>) {
    this.rows = [newRow(params.maxBuckets)];
  }

  /** Adds a value; true when a cut was made (a change detected). */
  update(value: number): boolean {
    this.insert(value);
    return this.detectChange();
  }

  private insert(value: number): void {
    const row = this.rows[0]!;
    row.totals[row.size] = value;
    row.variances[row.size] = 0;
    row.size += 1;

    this.width += 1;
    let incremental = 0;
    if (this.width > 1) {
      const d = value - this.total / (this.width - 1);
      incremental = ((this.width - 1) * d * d) / this.width;
    }
    this.variance += incremental;
    this.total += value;

    this.compress();
  }

  /** Merges the two oldest buckets of a full row into the next row, cascading up. */
  private compress(): void {
    const { maxBuckets } = this.params;
    for (let idx = 0; idx < this.rows.length; idx++) {
      const row = this.rows[idx]!;
      if (row.size !== maxBuckets + 1) break;
      const n1 = 2 ** idx;
      const t0 = row.totals[0]!;
      const t1 = row.totals[1]!;
      const mu1 = t0 / n1;
      const mu2 = t1 / n1;
      const total12 = t0 + t1;
      // n1 * n2 / (n1 + n2) with n1 == n2.
      const temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
      const v12 = row.variances[0]! + row.variances[1]! + temp;
      if (idx + 1 >= this.rows.length) this.rows.push(newRow(maxBuckets));
      const next = this.rows[idx + 1]!;
      next.totals[next.size] = total12;
      next.variances[next.size] = v12;
      next.size += 1;
      compressRow(row, 2);
      if (next.size <= maxBuckets) break;
    }
  }

  /** Removes the oldest bucket (the first of the last row). */
  private deleteOldest(): void {
    const last = this.rows.length - 1;
    const row = this.rows[last]!;
    const n = 2 ** last;
    const u = row.totals[0]!;
    const v = row.variances[0]!;
    const mu = u / n;

    this.width -= n;
    this.total -= u;
    const muWindow = this.total / this.width;
    this.variance -= v + (n * this.width * (mu - muWindow) * (mu - muWindow)) / (n + this.width);

    compressRow(row, 1);
    if (row.size === 0) this.rows.pop();
  }

  private detectChange(): boolean {
    let changed = false;
    this.tick += 1;
    if (this.tick % this.params.clock !== 0 || !(this.width > this.params.gracePeriod)) return false;

    // Cut the window between every pair of adjacent buckets, oldest first; on a significant
    // difference of means drop the oldest bucket and start over.
    let reduce = true;
    while (reduce) {
      reduce = false;
      let n0 = 0;
      let n1 = this.width;
      let u0 = 0;
      let u1 = this.total;
      scan: for (let idx = this.rows.length - 1; idx >= 0; idx--) {
        const row = this.rows[idx]!;
        const size = 2 ** idx;
        for (let k = 0; k < row.size; k++) {
          const t = row.totals[k]!;
          n0 += size;
          n1 -= size;
          u0 += t;
          u1 -= t;
          if (idx === 0 && k === row.size - 1) break scan;
          const deltaMean = u0 / n0 - u1 / n1;
          if (n1 >= this.params.minWindowLength && n0 >= this.params.minWindowLength && this.cut(n0, n1, deltaMean)) {
            reduce = true;
            changed = true;
            if (this.width > 0) {
              this.deleteOldest();
              break scan;
            }
          }
        }
      }
    }
    if (changed) this.nDetections += 1;
    return changed;
  }

  private cut(n0: number, n1: number, deltaMean: number): boolean {
    const { delta, minWindowLength } = this.params;
    const deltaPrime = Math.log((2 * Math.log(this.width)) / delta);
    const mRecip = 1 / (n0 - minWindowLength + 1) + 1 / (n1 - minWindowLength + 1);
    const epsilon = Math.sqrt(2 * mRecip * (this.variance / this.width) * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
    return Math.abs(deltaMean) > epsilon;
  }
}

export class Adwin implements DriftDetector {
  readonly params: Readonly<AdwinParams>;
  readonly warningDetected = false;
  private drift = false;
  private helper: AdaptiveWindowing;

  constructor(params: Partial<AdwinParams> = {}) {
    this.params = { ...DETECTOR_DEFAULTS.adwin, ...params };
    this.helper = new AdaptiveWindowing(this.params);
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  /** Values in the current window. */
  get width(): number {
    return this.helper.width;
  }

  /** Mean of the current window (River's `estimation`). */
  get estimation(): number {
    return this.helper.width === 0 ? 0 : this.helper.total / this.helper.width;
  }

  update(x: number): void {
    checkFinite(x, 'ADWIN');
    // River replaces the whole window after reporting a drift.
    if (this.drift) this.helper = new AdaptiveWindowing(this.params);
    this.drift = this.helper.update(x);
  }
}

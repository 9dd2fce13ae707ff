// River's stats.Mean and stats.Var (river/stats/mean.py, var.py) with unit weights, keeping
// River's order of floating-point operations so that the detectors built on them flag the same
// indices as River.

/** stats.Mean: `n += w; mean += (w / n) * (x - mean)`. */
export class RunningMean {
  n = 0;
  mean = 0;

  update(x: number): void {
    this.n += 1;
    this.mean += (1 / this.n) * (x - this.mean);
  }

  get(): number {
    return this.mean;
  }
}

/** stats.Var(ddof=1): Welford's `S += (x - old mean) * (x - new mean)`, `S / (n - ddof)` once n > ddof. */
export class RunningVar {
  readonly mean = new RunningMean();
  s = 0;

  constructor(readonly ddof = 1) {}

  get n(): number {
    return this.mean.n;
  }

  update(x: number): void {
    const old = this.mean.get();
    this.mean.update(x);
    this.s += (x - old) * (x - this.mean.get());
  }

  get(): number {
    return this.n > this.ddof ? this.s / (this.n - this.ddof) : 0;
  }
}

// DDM (Gama et al. 2004), ported from River 0.26.1 river/drift/binary/ddm.py
// (online-ml/river commit 7cb995639c9185b236a7d45696b85583a175268e).
import { RunningMean } from './running-stats.js';
import { checkBinary, DETECTOR_DEFAULTS, type DdmParams, type DriftDetector } from './types.js';

export class Ddm implements DriftDetector {
  readonly params: Readonly<DdmParams>;
  private drift = false;
  private warning = false;
  private p = new RunningMean();
  private pMin = Infinity;
  private sMin = Infinity;
  private psMin = Infinity;

  constructor(params: Partial<DdmParams> = {}) {
    this.params = { ...DETECTOR_DEFAULTS.ddm, ...params };
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  get warningDetected(): boolean {
    return this.warning;
  }

  /** Error rate so far (since the last drift). */
  get errorRate(): number {
    return this.p.get();
  }

  private reset(): void {
    this.drift = false;
    this.warning = false;
    this.p = new RunningMean();
    this.pMin = Infinity;
    this.sMin = Infinity;
    this.psMin = Infinity;
  }

  update(x: number): void {
    checkBinary(x, 'DDM');
    if (this.drift) this.reset();

    this.p.update(x);
    const pI = this.p.get();
    const n = this.p.n;
    // Standard deviation of a Bernoulli rate estimated from n trials.
    const sI = Math.sqrt((pI * (1 - pI)) / n);

    // River compares with `>`: nothing happens until warmStart + 1 values have been seen.
    if (n > this.params.warmStart) {
      if (pI + sI <= this.psMin) {
        this.pMin = pI;
        this.sMin = sI;
        this.psMin = this.pMin + this.sMin;
      }
      this.warning = pI + sI > this.pMin + this.params.warningThreshold * this.sMin;
      if (pI + sI > this.pMin + this.params.driftThreshold * this.sMin) {
        this.drift = true;
        this.warning = false;
      }
    }
  }
}

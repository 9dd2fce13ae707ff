// EDDM (Baena-García et al. 2006), ported from River 0.26.1 river/drift/binary/eddm.py
// (online-ml/river commit 7cb995639c9185b236a7d45696b85583a175268e).
import { RunningVar } from './running-stats.js';
import { checkBinary, DETECTOR_DEFAULTS, type DriftDetector, type EddmParams } from './types.js';

export class Eddm implements DriftDetector {
  readonly params: Readonly<EddmParams>;
  private drift = false;
  private warning = false;
  /** Distances (in values) between consecutive errors. */
  private distances = new RunningVar();
  private n = 0;
  private lastError = 0;
  private errors = 0;
  private p2sMax = -1;

  constructor(params: Partial<EddmParams> = {}) {
    this.params = { ...DETECTOR_DEFAULTS.eddm, ...params };
    if (this.params.alpha < this.params.beta) throw new RangeError("EDDM: 'alpha' must be greater or equal to 'beta'");
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  /**
   * As in River, only re-evaluated when an error arrives after the warm start, and not cleared on
   * the update that detects a drift (the next update resets it).
   */
  get warningDetected(): boolean {
    return this.warning;
  }

  private reset(): void {
    this.drift = false;
    this.warning = false;
    this.distances = new RunningVar();
    this.n = 0;
    this.lastError = 0;
    this.errors = 0;
    this.p2sMax = -1;
  }

  update(x: number): void {
    checkBinary(x, 'EDDM');
    if (this.drift) this.reset();

    this.n += 1;
    if (x !== 1) return;

    this.errors += 1;
    this.distances.update(this.n - this.lastError);
    if (this.n > this.params.warmStart) {
      // River writes `var ** 0.5` (libm pow); Math.sqrt is the correctly rounded root. The fixture
      // script checks that the one-ulp differences pow shows on a few values never move an index.
      const p2s = this.distances.mean.get() + 2 * Math.sqrt(this.distances.get());
      if (p2s > this.p2sMax) {
        this.p2sMax = p2s;
      } else if (this.errors > this.params.warmStart) {
        const level = p2s / this.p2sMax;
        if (level < this.params.beta) this.drift = true;
        else this.warning = level < this.params.alpha;
      }
    }
    this.lastError = this.n;
  }
}

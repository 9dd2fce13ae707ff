// Page-Hinkley test, ported from River 0.26.1 river/drift/page_hinkley.py (the two-sided version
// with `mode`): cumulative deviations from the running mean, faded by `alpha`, against `threshold`.
import { RunningMean } from './running-stats.js';
import { checkFinite, DETECTOR_DEFAULTS, type DriftDetector, type PageHinkleyParams } from './types.js';

const MODES: readonly string[] = ['up', 'down', 'both'];

export class PageHinkley implements DriftDetector {
  readonly params: Readonly<PageHinkleyParams>;
  readonly warningDetected = false;
  private drift = false;
  private mean = new RunningMean();
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  // River starts the maximum at -1, not -Infinity; the first update always lifts it above -1.
  private maxDecrease = -1;

  constructor(params: Partial<PageHinkleyParams> = {}) {
    this.params = { ...DETECTOR_DEFAULTS['page-hinkley'], ...params };
    if (!MODES.includes(this.params.mode)) throw new RangeError(`Page-Hinkley: invalid mode '${String(this.params.mode)}'; valid: ${MODES.join(', ')}`);
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  private reset(): void {
    this.drift = false;
    this.mean = new RunningMean();
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -1;
  }

  update(x: number): void {
    checkFinite(x, 'Page-Hinkley');
    if (this.drift) this.reset();

    this.mean.update(x);
    const dev = x - this.mean.get();
    const { alpha, delta, threshold, mode } = this.params;
    this.sumIncrease = alpha * this.sumIncrease + dev - delta;
    this.sumDecrease = alpha * this.sumDecrease + dev + delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;

    if (this.mean.n >= this.params.minInstances) {
      const up = this.sumIncrease - this.minIncrease > threshold;
      const down = this.maxDecrease - this.sumDecrease > threshold;
      this.drift = mode === 'up' ? up : mode === 'down' ? down : up || down;
    }
  }
}

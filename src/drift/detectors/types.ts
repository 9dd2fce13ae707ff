// Shared shapes of the concept-drift detectors. Ported from River 0.26.1 (online-ml/river,
// river/drift/): parameter names are River's in camelCase and the defaults are River's.

export interface DriftDetector {
  /** Feeds one value (binary detectors: 1 = error/incorrect, 0 = correct; ADWIN/Page-Hinkley: any real, e.g. absolute error). */
  update(x: number): void;
  /** True right after the update that detected a drift; the next update starts afresh, as in River. */
  readonly driftDetected: boolean;
  /** True while in the warning zone; always false for detectors without one (ADWIN, Page-Hinkley). */
  readonly warningDetected: boolean;
}

export type DetectorName = 'ddm' | 'eddm' | 'adwin' | 'page-hinkley';

export const DETECTOR_NAMES: readonly DetectorName[] = ['ddm', 'eddm', 'adwin', 'page-hinkley'];

/** river.drift.binary.DDM(warm_start, warning_threshold, drift_threshold). */
export interface DdmParams {
  warmStart: number;
  warningThreshold: number;
  driftThreshold: number;
}

/** river.drift.binary.EDDM(warm_start, alpha, beta). */
export interface EddmParams {
  warmStart: number;
  alpha: number;
  beta: number;
}

/** river.drift.ADWIN(delta, clock, max_buckets, min_window_length, grace_period). */
export interface AdwinParams {
  delta: number;
  clock: number;
  maxBuckets: number;
  minWindowLength: number;
  gracePeriod: number;
}

export type PageHinkleyMode = 'up' | 'down' | 'both';

/** river.drift.PageHinkley(min_instances, delta, threshold, alpha, mode). */
export interface PageHinkleyParams {
  minInstances: number;
  delta: number;
  threshold: number;
  alpha: number;
  mode: PageHinkleyMode;
}

export interface DetectorParams {
  ddm: DdmParams;
  eddm: EddmParams;
  adwin: AdwinParams;
  'page-hinkley': PageHinkleyParams;
}

/** Per-detector parameter overrides, as taken by `runDetectors`. */
export type DetectorParamsOverrides = { readonly [N in DetectorName]?: Partial<DetectorParams[N]> };

/** River's defaults (`1 - 0.0001` is written as River writes it so that the double is the same). */
export const DETECTOR_DEFAULTS: { readonly [N in DetectorName]: Readonly<DetectorParams[N]> } = {
  ddm: { warmStart: 30, warningThreshold: 2.0, driftThreshold: 3.0 },
  eddm: { warmStart: 30, alpha: 0.95, beta: 0.9 },
  adwin: { delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 },
  'page-hinkley': { minInstances: 30, delta: 0.005, threshold: 50.0, alpha: 1 - 0.0001, mode: 'both' },
};

export interface DetectorEvent {
  index: number;
  kind: 'warning' | 'drift';
}

export interface DetectorRun {
  detector: DetectorName;
  params: Record<string, number | string>;
  events: DetectorEvent[];
  /** After the last value: `drift` if it detected a drift, else `warning` if in the warning zone, else `stable`. */
  state: 'stable' | 'warning' | 'drift';
  /** Values fed so far. */
  seen: number;
  lastDriftIndex: number | null;
}

/** Binary detectors take 1 (error) or 0 (correct); anything else is a caller bug, not a rate. */
export function checkBinary(x: number, detector: string): void {
  if (x !== 0 && x !== 1) throw new RangeError(`${detector} takes 1 (error) or 0 (correct), got ${String(x)}`);
}

/** A NaN or an infinity would poison every later statistic of a real-valued detector. */
export function checkFinite(x: number, detector: string): void {
  if (!Number.isFinite(x)) throw new RangeError(`${detector} takes finite numbers, got ${String(x)}`);
}

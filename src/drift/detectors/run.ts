// Creating detectors by name and running them over a stream, in one go (`runDetectors`) or one
// value at a time (`DetectorMonitor`, for the model server that feeds labelled outcomes as they come).
import { Adwin } from './adwin.js';
import { Ddm } from './ddm.js';
import { Eddm } from './eddm.js';
import { PageHinkley } from './page-hinkley.js';
import {
  DETECTOR_DEFAULTS,
  DETECTOR_NAMES,
  type DetectorEvent,
  type DetectorName,
  type DetectorParams,
  type DetectorParamsOverrides,
  type DetectorRun,
  type DriftDetector,
} from './types.js';

/** Parameters that count things, checked to be non-negative integers (clock and maxBuckets at least 1). */
const COUNTS: Record<string, number> = { warmStart: 0, clock: 1, maxBuckets: 1, minWindowLength: 1, gracePeriod: 0, minInstances: 0 };

/** River's defaults overlaid with `params`; rejects unknown names and values that would break the detector. */
export function resolveParams<N extends DetectorName>(name: N, params: Partial<DetectorParams[N]> = {}): DetectorParams[N] {
  const defaults = DETECTOR_DEFAULTS[name] as Readonly<Record<string, number | string>>;
  if (defaults === undefined) throw new RangeError(`unknown drift detector '${String(name)}'; known: ${DETECTOR_NAMES.join(', ')}`);
  const out: Record<string, number | string> = { ...defaults };
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(defaults, key)) throw new RangeError(`${name} has no parameter '${key}'; known: ${Object.keys(defaults).join(', ')}`);
    if (typeof value !== typeof defaults[key]) throw new TypeError(`${name}.${key} must be a ${typeof defaults[key]}, got ${typeof value}`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new RangeError(`${name}.${key} must be finite, got ${value}`);
      const least = COUNTS[key];
      if (least !== undefined && (!Number.isInteger(value) || value < least)) {
        throw new RangeError(`${name}.${key} must be an integer >= ${least}, got ${value}`);
      }
    }
    out[key] = value as number | string;
  }
  if (name === 'adwin' && !((out.delta as number) > 0 && (out.delta as number) < 1)) throw new RangeError(`adwin.delta must lie in (0, 1), got ${out.delta}`);
  return out as unknown as DetectorParams[N];
}

/** A detector with River's defaults overlaid with `params`. */
export function createDetector<N extends DetectorName>(name: N, params: Partial<DetectorParams[N]> = {}): DriftDetector {
  const resolved = resolveParams(name, params);
  switch (name) {
    case 'ddm':
      return new Ddm(resolved as DetectorParams['ddm']);
    case 'eddm':
      return new Eddm(resolved as DetectorParams['eddm']);
    case 'adwin':
      return new Adwin(resolved as DetectorParams['adwin']);
    case 'page-hinkley':
      return new PageHinkley(resolved as DetectorParams['page-hinkley']);
  }
  throw new RangeError(`unknown drift detector '${String(name)}'`);
}

export interface MonitorOptions {
  /** Keep only the most recent events (a long-lived server); all by default. */
  maxEvents?: number;
}

/**
 * One detector fed one value at a time, remembering its events.
 *
 * Event rule: a `drift` event at every index where `driftDetected` is true after that value; a
 * `warning` event only on entry into the warning zone, i.e. where `warningDetected` is true and was
 * false after the previous value (or there was no previous value). A warning zone that ends in a
 * drift therefore gives one warning event, then the drift event; DDM and EDDM restart after a drift
 * (River resets on the next update), so a later warning zone gives a new warning event.
 */
export class DetectorMonitor<N extends DetectorName = DetectorName> {
  readonly params: Record<string, number | string>;
  private readonly detector: DriftDetector;
  private readonly maxEvents: number;
  private events: DetectorEvent[] = [];
  private seen = 0;
  private lastDrift: number | null = null;
  private warning = false;

  constructor(
    readonly name: N,
    params: Partial<DetectorParams[N]> = {},
    options: MonitorOptions = {},
  ) {
    const resolved = resolveParams(name, params);
    this.params = { ...(resolved as unknown as Record<string, number | string>) };
    this.detector = createDetector(name, resolved);
    this.maxEvents = options.maxEvents ?? Infinity;
    if (!(this.maxEvents >= 0)) throw new RangeError(`maxEvents must be >= 0, got ${String(options.maxEvents)}`);
  }

  /** Feeds the next value of the stream; returns the events it raised (0, 1 or 2). */
  update(x: number): DetectorEvent[] {
    this.detector.update(x);
    const index = this.seen++;
    const raised: DetectorEvent[] = [];
    const warning = this.detector.warningDetected;
    if (warning && !this.warning) raised.push({ index, kind: 'warning' });
    this.warning = warning;
    if (this.detector.driftDetected) {
      raised.push({ index, kind: 'drift' });
      this.lastDrift = index;
    }
    if (raised.length > 0) {
      this.events.push(...raised);
      if (this.events.length > this.maxEvents) this.events = this.events.slice(this.events.length - this.maxEvents);
    }
    return raised;
  }

  get state(): DetectorRun['state'] {
    if (this.detector.driftDetected) return 'drift';
    return this.detector.warningDetected ? 'warning' : 'stable';
  }

  /** A plain (JSON-ready) copy of where the detector stands. */
  run(): DetectorRun {
    return {
      detector: this.name,
      params: { ...this.params },
      events: this.events.map((e) => ({ ...e })),
      state: this.state,
      seen: this.seen,
      lastDriftIndex: this.lastDrift,
    };
  }
}

/**
 * Runs detectors over a stream in arrival order (all four by default); events are 0-based indices
 * into `values`, recorded by the rule documented on `DetectorMonitor`.
 */
export function runDetectors(values: ArrayLike<number>, names: readonly DetectorName[] = DETECTOR_NAMES, params: DetectorParamsOverrides = {}): DetectorRun[] {
  return names.map((name) => {
    const monitor = new DetectorMonitor(name, params[name]);
    for (let i = 0; i < values.length; i++) monitor.update(values[i]!);
    return monitor.run();
  });
}

// Concept-drift detectors over a stream of model outcomes: faithful ports of River's DDM, EDDM,
// ADWIN and Page-Hinkley (River 0.26.1), flagging the same indices as River on the same input.
export { Adwin, AdaptiveWindowing } from './adwin.js';
export { Ddm } from './ddm.js';
export { Eddm } from './eddm.js';
export { PageHinkley } from './page-hinkley.js';
export { RunningMean, RunningVar } from './running-stats.js';
export { createDetector, DetectorMonitor, resolveParams, runDetectors, type MonitorOptions } from './run.js';
export {
  DETECTOR_DEFAULTS,
  DETECTOR_NAMES,
  type AdwinParams,
  type DdmParams,
  type DetectorEvent,
  type DetectorName,
  type DetectorParams,
  type DetectorParamsOverrides,
  type DetectorRun,
  type DriftDetector,
  type EddmParams,
  type PageHinkleyMode,
  type PageHinkleyParams,
} from './types.js';

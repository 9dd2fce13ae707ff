// Synthetic human activity recognition data: summary features of 2.56 s windows of a waist-worn
// phone's accelerometer (in g) and gyroscope (in rad/s). Each window comes from a small physical
// model (posture sets the gravity direction, gait sets vibration, rotation and step frequency) with
// per-subject variation, so classes overlap the way real HAR data does: sitting vs standing and the
// three walking kinds are the hard pairs.
//
//   node dist/examples/har/generate.js --out examples/out/har/train.csv --rows 6000 --seed 1
//   node dist/examples/har/generate.js --requests examples/out/har/requests.json --request-rows 50 --seed 2
//   node dist/examples/har/generate.js --out drifted.csv --shift 1 [--label-shift] --seed 3
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatCsv } from '../../src/protocol/csv.js';
import { integerOption, isMain, numberOption, runMain, UsageError } from '../lib/program.js';
import { logNormal, normal, pickWeighted, rngFor, uniform, type Random } from '../lib/random.js';

export const ACTIVITIES = ['walking', 'walking_upstairs', 'walking_downstairs', 'sitting', 'standing', 'laying'] as const;
export type Activity = (typeof ACTIVITIES)[number];

export const HAR_FEATURES = [
  'acc_x_mean',
  'acc_y_mean',
  'acc_z_mean',
  'acc_x_std',
  'acc_y_std',
  'acc_z_std',
  'acc_mag_mean',
  'acc_mag_std',
  'acc_dom_freq',
  'gyro_x_std',
  'gyro_y_std',
  'gyro_z_std',
  'gyro_mag_mean',
  'gyro_mag_std',
] as const;

export const HAR_TARGET = 'activity';

export const FEATURE_DESCRIPTIONS: Record<(typeof HAR_FEATURES)[number], string> = {
  acc_x_mean: 'Mean acceleration along the vertical device axis (g)',
  acc_y_mean: 'Mean acceleration along the lateral device axis (g)',
  acc_z_mean: 'Mean acceleration along the forward device axis (g)',
  acc_x_std: 'Standard deviation of vertical acceleration (g)',
  acc_y_std: 'Standard deviation of lateral acceleration (g)',
  acc_z_std: 'Standard deviation of forward acceleration (g)',
  acc_mag_mean: 'Mean magnitude of the acceleration vector (g)',
  acc_mag_std: 'Standard deviation of the acceleration magnitude (g)',
  acc_dom_freq: 'Dominant frequency of the acceleration magnitude (Hz)',
  gyro_x_std: 'Standard deviation of angular velocity around the vertical axis (rad/s)',
  gyro_y_std: 'Standard deviation of angular velocity around the lateral axis (rad/s)',
  gyro_z_std: 'Standard deviation of angular velocity around the forward axis (rad/s)',
  gyro_mag_mean: 'Mean magnitude of the angular velocity (rad/s)',
  gyro_mag_std: 'Standard deviation of the angular velocity magnitude (rad/s)',
};

/** How an activity looks to the sensor: [mean, sd] of normal draws, [median, log sd] of log-normal ones. */
interface Profile {
  weight: number;
  tiltDeg: [number, number];
  azimuthDeg: [number, number];
  intensity: [number, number];
  stepHz: [number, number] | null;
  rotation: [number, number];
}

const PROFILES: Record<Activity, Profile> = {
  walking: { weight: 0.17, tiltDeg: [10, 5], azimuthDeg: [20, 25], intensity: [0.22, 0.2], stepHz: [1.9, 0.12], rotation: [0.45, 0.25] },
  walking_upstairs: { weight: 0.15, tiltDeg: [20, 6], azimuthDeg: [20, 25], intensity: [0.18, 0.2], stepHz: [1.55, 0.12], rotation: [0.5, 0.3] },
  walking_downstairs: { weight: 0.14, tiltDeg: [5, 5], azimuthDeg: [20, 25], intensity: [0.35, 0.2], stepHz: [2.15, 0.14], rotation: [0.6, 0.3] },
  sitting: { weight: 0.17, tiltDeg: [35, 8], azimuthDeg: [15, 25], intensity: [0.012, 0.5], stepHz: null, rotation: [0.025, 0.5] },
  standing: { weight: 0.18, tiltDeg: [10, 6], azimuthDeg: [15, 25], intensity: [0.015, 0.5], stepHz: null, rotation: [0.03, 0.5] },
  laying: { weight: 0.19, tiltDeg: [80, 10], azimuthDeg: [60, 40], intensity: [0.008, 0.5], stepHz: null, rotation: [0.015, 0.5] },
};

/** Concept change: the same movements now carry other labels (e.g. a new wearing position). */
const CONCEPT_SWAP: Record<Activity, Activity> = {
  walking: 'walking',
  walking_upstairs: 'walking_downstairs',
  walking_downstairs: 'walking_upstairs',
  sitting: 'standing',
  standing: 'sitting',
  laying: 'laying',
};

export interface HarOptions {
  rows: number;
  seed: number;
  /**
   * Covariate shift, 0 = none, 1 = a clearly miscalibrated sensor: accelerometer offset on two
   * axes, higher vibration gain (looser mount), higher gyroscope noise floor.
   */
  shift?: number;
  /** Concept change: movements are generated from another activity's profile than their label. */
  labelShift?: boolean;
  /** Number of simulated people; each has their own posture, vigour and cadence. */
  subjects?: number;
}

export interface HarData {
  features: string[];
  /** One row per window, values in `features` order. */
  rows: number[][];
  labels: Activity[];
}

interface Subject {
  tiltDeg: number;
  vigour: number;
  cadenceHz: number;
}

const DEG = Math.PI / 180;
/** Values are rounded so that a CSV round trip reproduces them exactly. */
const round = (v: number): number => Math.round(v * 1e5) / 1e5;
const hypot = (...v: number[]): number => Math.sqrt(v.reduce((a, b) => a + b * b, 0));

function sampleWindow(rng: Random, p: Profile, s: Subject, shift: number): number[] {
  const tilt = (normal(rng, p.tiltDeg[0], p.tiltDeg[1]) + s.tiltDeg) * DEG;
  const azimuth = normal(rng, p.azimuthDeg[0], p.azimuthDeg[1]) * DEG;
  const intensity = logNormal(rng, p.intensity[0], p.intensity[1]) * s.vigour;
  // Gravity seen by the device; body acceleration averages out over a window but leaves jitter.
  const jitter = 0.015 + 0.08 * intensity;
  const gain = 1 + 0.25 * shift;
  const mean = [
    Math.cos(tilt) + normal(rng, 0, jitter) + 0.08 * shift,
    Math.sin(tilt) * Math.cos(azimuth) + normal(rng, 0, jitter),
    Math.sin(tilt) * Math.sin(azimuth) + normal(rng, 0, jitter) - 0.05 * shift,
  ];
  const floor = 0.004;
  const sd = [1.0, 0.55, 0.7].map((axis) => gain * hypot(intensity * axis * logNormal(rng, 1, 0.15), floor));
  const [sx, sy, sz] = sd as [number, number, number];
  const magMean = hypot(mean[0] ?? 0, mean[1] ?? 0, mean[2] ?? 0, 0.7 * sx, 0.7 * sy, 0.7 * sz) + normal(rng, 0, 0.01);
  const magSd = 0.85 * Math.sqrt((sx * sx + sy * sy + sz * sz) / 1.5) * logNormal(rng, 1, 0.1);
  // Standing still has no gait peak: the dominant frequency of noise is anywhere.
  const stepHz = p.stepHz ? normal(rng, p.stepHz[0] + s.cadenceHz, p.stepHz[1]) : uniform(rng, 0.2, 4);
  const rot = logNormal(rng, p.rotation[0], p.rotation[1]) * s.vigour;
  const gyroFloor = 0.005 + 0.04 * shift;
  const gyro = [0.6, 1.0, 0.8].map((axis) => hypot(rot * axis * logNormal(rng, 1, 0.2), gyroFloor));
  const [gx, gy, gz] = gyro as [number, number, number];
  const gyroRms = hypot(gx, gy, gz);
  return [
    ...mean,
    sx,
    sy,
    sz,
    magMean,
    magSd,
    Math.max(0.05, stepHz),
    gx,
    gy,
    gz,
    0.8 * gyroRms * logNormal(rng, 1, 0.1),
    0.55 * gyroRms * logNormal(rng, 1, 0.1),
  ].map(round);
}

/** Generates `rows` labelled windows; the same options always give the same data. */
export function generateHar(opts: HarOptions): HarData {
  const shift = opts.shift ?? 0;
  const subjectRng = rngFor(opts.seed, 0);
  const subjects: Subject[] = Array.from({ length: opts.subjects ?? 30 }, () => ({
    tiltDeg: normal(subjectRng, 0, 4),
    vigour: logNormal(subjectRng, 1, 0.15),
    cadenceHz: normal(subjectRng, 0, 0.08),
  }));
  const rng = rngFor(opts.seed, 1);
  const weights = ACTIVITIES.map((a) => PROFILES[a].weight);
  const rows: number[][] = [];
  const labels: Activity[] = [];
  for (let i = 0; i < opts.rows; i++) {
    const activity = ACTIVITIES[pickWeighted(rng, weights)] as Activity;
    const subject = subjects[Math.floor(rng.next() * subjects.length)] as Subject;
    const profile = PROFILES[opts.labelShift ? CONCEPT_SWAP[activity] : activity];
    rows.push(sampleWindow(rng, profile, subject, shift));
    labels.push(activity);
  }
  return { features: [...HAR_FEATURES], rows, labels };
}

export function harToCsv(data: HarData): string {
  return formatCsv({
    header: [...data.features, HAR_TARGET],
    rows: data.rows.map((r, i) => [...r.map(String), data.labels[i] ?? '']),
  });
}

/** Prediction request rows: objects keyed by feature name, without the label. */
export function harToRequests(data: HarData): Record<string, number>[] {
  return data.rows.map((r) => Object.fromEntries(data.features.map((f, j) => [f, r[j] ?? 0])));
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const USAGE = `usage: generate [--out FILE.csv] [--rows N] [--requests FILE.json] [--request-rows N]
                [--request-labels FILE.json] [--seed S] [--shift AMOUNT] [--label-shift]`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      rows: { type: 'string' },
      requests: { type: 'string' },
      'request-rows': { type: 'string' },
      'request-labels': { type: 'string' },
      seed: { type: 'string' },
      shift: { type: 'string' },
      'label-shift': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.out && !values.requests) throw new UsageError(`nothing to write: give --out and/or --requests\n${USAGE}`);
  const base = {
    seed: integerOption('seed', values.seed, 1, 0, 2 ** 32 - 1),
    shift: numberOption('shift', values.shift, 0, 0, 10),
    labelShift: values['label-shift'],
  };
  if (values.out) {
    const data = generateHar({ ...base, rows: integerOption('rows', values.rows, 6000, 1, 10_000_000) });
    write(values.out, harToCsv(data));
    process.stdout.write(`wrote ${data.rows.length} rows to ${values.out}\n`);
  }
  if (values.requests) {
    // A different seed stream than the CSV, so request rows are unseen windows.
    const data = generateHar({ ...base, seed: (base.seed + 0x5bd1e995) >>> 0, rows: integerOption('request-rows', values['request-rows'], 100, 1, 1_000_000) });
    write(
      values.requests,
      `[\n${harToRequests(data)
        .map((r) => JSON.stringify(r))
        .join(',\n')}\n]\n`,
    );
    process.stdout.write(`wrote ${data.rows.length} request rows to ${values.requests}\n`);
    if (values['request-labels']) {
      write(values['request-labels'], `${JSON.stringify(data.labels)}\n`);
      process.stdout.write(`wrote their true labels to ${values['request-labels']}\n`);
    }
  }
}

if (isMain(import.meta.url)) runMain(main);

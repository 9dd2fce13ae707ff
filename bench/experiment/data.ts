// The two tasks of the adaptive recomposition experiment, as plain arrays: synthetic HAR
// (examples/har/generate.ts) and the UCI optical digits (data/digits.csv). Each task comes with a
// pool the clients train on, its covariate-shifted twin (same labels, drifted inputs), a clean
// held-out set (declared accuracy) and a drifted evaluation stream (what the composition serves
// after the drift). Seeded: the same seed always gives the same arrays.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ACTIVITIES, generateHar, HAR_FEATURES } from '../../examples/har/generate.js';
import { normal, rngFor, shuffled, type Random } from '../../examples/lib/random.js';

export interface Labelled {
  rows: number[][];
  /** Class indexes into the task's labels. */
  y: number[];
}

export interface TaskData {
  name: 'har' | 'digits';
  features: string[];
  labels: string[];
  modality: string;
  /** What the clients' local data is drawn from. */
  pool: Labelled;
  /** The same rows (same labels) after the covariate shift. */
  shiftedPool: Labelled;
  /** Clean rows no client trained on: every service's declared accuracy. */
  heldOut: Labelled;
  /** The drifted stream the composition serves after the drift (labelled for the experiment). */
  stream: Labelled;
  /** Concept change: class index -> the class the changed clients now call it. */
  conceptSwap: number[];
}

/** HAR: 3,000 pool windows, their shifted twins (sensor shift 1), 600 clean held-out, 1,200 drifted stream windows. */
export function harTask(seed: number): TaskData {
  const index = new Map<string, number>(ACTIVITIES.map((a, i) => [a, i]));
  const toLabelled = (d: { rows: number[][]; labels: string[] }): Labelled => ({ rows: d.rows, y: d.labels.map((l) => index.get(l)!) });
  // The same seed with and without the shift draws the same activities and subjects.
  const pool = toLabelled(generateHar({ rows: 3000, seed, subjects: 30 }));
  const shiftedPool = toLabelled(generateHar({ rows: 3000, seed, subjects: 30, shift: 1 }));
  const heldOut = toLabelled(generateHar({ rows: 600, seed: seed + 1, subjects: 30 }));
  const stream = toLabelled(generateHar({ rows: 1200, seed: seed + 2, subjects: 30, shift: 1 }));
  // walking_upstairs <-> walking_downstairs, sitting <-> standing (examples/har/generate.ts CONCEPT_SWAP).
  const conceptSwap = [0, 2, 1, 4, 3, 5];
  return { name: 'har', features: [...HAR_FEATURES], labels: [...ACTIVITIES], modality: 'imu', pool, shiftedPool, heldOut, stream, conceptSwap };
}

/** Reads data/digits.csv (copied from ../shared/data with its attribution in data/README.md). */
export function readDigits(repoRoot: string): Labelled {
  const file = resolve(repoRoot, 'data', 'digits.csv');
  if (!existsSync(file)) throw new Error(`${file} is missing: copy ../shared/data/digits.csv there (see data/README.md)`);
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const rows: number[][] = [];
  const y: number[] = [];
  for (const line of lines.slice(1)) {
    const v = line.split(',').map(Number);
    if (v.length !== 65 || v.some((x) => !Number.isFinite(x))) throw new Error(`${file}: bad row "${line.slice(0, 40)}..."`);
    rows.push(v.slice(0, 64));
    y.push(v[64]!);
  }
  return { rows, y };
}

/**
 * The digits' covariate shift: a scanner whose frame moved, so every image arrives one pixel to
 * the right (the left column blank), as a re-mounted camera in the field would deliver it.
 */
export function shiftDigit(px: readonly number[]): number[] {
  return px.map((_, i) => (i % 8 === 0 ? 0 : px[i - 1]!));
}

/** Digits: 1,100 pool images, the other 697 both as the clean held-out set and (shifted) as the drifted stream. */
export function digitsTask(repoRoot: string, seed: number): TaskData {
  const all = readDigits(repoRoot);
  const order = shuffled(
    all.rows.map((_, i) => i),
    rngFor(seed, 20),
  );
  const take = (idx: number[], shift: boolean): Labelled => ({
    rows: idx.map((i) => (shift ? shiftDigit(all.rows[i]!) : all.rows[i]!)),
    y: idx.map((i) => all.y[i]!),
  });
  const poolIdx = order.slice(0, 1100);
  const restIdx = order.slice(1100);
  return {
    name: 'digits',
    features: Array.from({ length: 64 }, (_, i) => `px${i}`),
    labels: Array.from({ length: 10 }, (_, i) => String(i)),
    modality: 'image',
    pool: take(poolIdx, false),
    shiftedPool: take(poolIdx, true),
    heldOut: take(restIdx, false),
    stream: take(restIdx, true),
    // 1 <-> 7, 3 <-> 8, 4 <-> 9: the changed clients' new labelling.
    conceptSwap: [0, 7, 2, 8, 9, 5, 6, 1, 3, 4],
  };
}

/** Gamma(shape, 1) draw (Marsaglia-Tsang; shape < 1 by the usual boost). */
export function gamma(rng: Random, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rng);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Non-IID client data by Dirichlet label skew: each client draws its class mix p ~ Dirichlet(alpha)
 * and then `rows` pool rows (without replacement within the client; clients may share rows) whose
 * labels follow p. Returns row indexes per client.
 */
export function dirichletSplit(y: readonly number[], classes: number, clients: number, alpha: number, rows: number, rng: Random): number[][] {
  const byClass = Array.from({ length: classes }, (_, k) => y.flatMap((label, i) => (label === k ? [i] : [])));
  return Array.from({ length: clients }, () => {
    const g = Array.from({ length: classes }, () => gamma(rng, alpha));
    const total = g.reduce((a, b) => a + b, 0);
    const out: number[] = [];
    byClass.forEach((idx, k) => {
      const want = Math.min(idx.length, Math.round((g[k]! / total) * rows));
      out.push(...shuffled(idx, rng).slice(0, want));
    });
    return shuffled(out, rng);
  });
}

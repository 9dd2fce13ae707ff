// The training set of a retraining run: the description's training data and `--data` files
// (base) together with labelled feedback from the request log, deduplicated, with contradictions
// resolved in favour of feedback, and weighted. Pure: rows in, rows out (ready for formatCsv).
//
// Rules, in order:
// 1. Feedback older than `weighting.since` is dropped.
// 2. Contradictions: rows with the same features and a different target. When one of them is a
//    feedback row, the newest feedback row wins: older feedback and base rows with those features
//    and another target are dropped (counted in `contradictions`). Base rows that disagree only
//    with each other are kept (noisy training data is the training program's business).
// 3. Duplicates: identical rows (features and target) are kept once, the first of their group;
//    a base row identical to a feedback row gives way to the feedback copy, so that weighting and
//    `feedback-only` see it (counted in `duplicates`).
// 4. Weighting (training programs take no sample weights, so weight is replication):
//    - `all`: every remaining row once.
//    - `weighted`: feedback rows `feedbackWeight` times (an integer >= 1; without one, the weight
//      `auto` would pick).
//    - `feedback-only`: the feedback rows only.
//    - `auto`: without concept drift `all`: the world has not changed, so all data counts alike.
//      With concept drift, recent labelled data must dominate: `feedback-only` once there are at
//      least FEEDBACK_ONLY_MIN_ROWS feedback rows (enough to train on alone); below that
//      `weighted`, each feedback row counting as much as base/feedback base rows (at least
//      MIN_DRIFT_WEIGHT, at most MAX_FEEDBACK_WEIGHT copies), so the feedback weighs as much as
//      all base rows together; with no feedback at all, `all`, and the reason says so.
import { MaasError } from '../core/errors.js';

export type WeightingMode = 'auto' | 'all' | 'weighted' | 'feedback-only';

export interface TrainingSetInput {
  features: readonly string[];
  target: string;
  /** The description's training data and `--data` files; each row = features + target, as strings. */
  base: readonly { source: string; rows: readonly (readonly string[])[] }[];
  /** Labelled feedback, oldest first; `times[i]` (ISO 8601) is when row i was predicted. */
  feedback?: { rows: readonly (readonly string[])[]; times: readonly string[] };
  weighting: { mode: WeightingMode; feedbackWeight?: number; since?: string };
  /** The concept drift detectors fired. */
  conceptDrift: boolean;
  /** Classification sets get `classBalance` (default: regression, none). */
  task?: 'classification' | 'regression';
}

export interface TrainingSet {
  /** Features in the given order, then the target. */
  header: string[];
  rows: string[][];
  counts: {
    /** Distinct base rows in `rows` (0 under `feedback-only`). */
    base: number;
    /** Distinct feedback rows in `rows`, each counted once whatever its weight. */
    feedback: number;
    duplicates: number;
    contradictions: number;
    /** Rows of `rows`, replication included. */
    total: number;
  };
  /** Classification: rows per target value in `rows`. */
  classBalance?: Record<string, number>;
  weighting: { mode: Exclude<WeightingMode, 'auto'>; feedbackWeight: number; reason: string };
}

/** With concept drift, this many feedback rows are enough to train on alone. */
export const FEEDBACK_ONLY_MIN_ROWS = 200;
/** With concept drift and fewer feedback rows, each counts at least this many times... */
export const MIN_DRIFT_WEIGHT = 2;
/** ...and at most this many, so that a handful of rows is not simply memorized. */
export const MAX_FEEDBACK_WEIGHT = 50;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The weight `auto` gives feedback under concept drift: feedback about as heavy as all base rows. */
export function driftWeight(baseRows: number, feedbackRows: number): number {
  if (feedbackRows === 0) return 1;
  return Math.min(MAX_FEEDBACK_WEIGHT, Math.max(MIN_DRIFT_WEIGHT, Math.ceil(baseRows / feedbackRows)));
}

function checkRows(rows: readonly (readonly string[])[], width: number, what: string): void {
  rows.forEach((r, i) => {
    if (r.length !== width) throw new MaasError('VALIDATION', `${what} row ${i + 1} has ${r.length} values; expected ${width} (the features and the target)`);
  });
}

function sinceMs(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const ms = Date.parse(since);
  if (!Number.isFinite(ms)) throw new MaasError('USAGE', `weighting.since must be an ISO 8601 time; got ${JSON.stringify(since)}`);
  return ms;
}

export function assembleTrainingSet(input: TrainingSetInput): TrainingSet {
  const F = input.features.length;
  const width = F + 1;
  for (const b of input.base) checkRows(b.rows, width, b.source);
  const fb = input.feedback ?? { rows: [], times: [] };
  checkRows(fb.rows, width, 'feedback');
  if (fb.times.length !== fb.rows.length) throw new MaasError('VALIDATION', `feedback has ${fb.rows.length} rows but ${fb.times.length} times`);
  const { mode, feedbackWeight } = input.weighting;
  if (feedbackWeight !== undefined && (!Number.isSafeInteger(feedbackWeight) || feedbackWeight < 1))
    throw new MaasError('USAGE', `the feedback weight must be a whole number >= 1; got ${feedbackWeight}`);

  // 1. Feedback since the cut-off.
  const cut = sinceMs(input.weighting.since);
  const recent = fb.rows.filter((_, i) => cut === undefined || Date.parse(fb.times[i]!) >= cut);
  const stale = fb.rows.length - recent.length;

  // 2. The newest feedback target per feature vector.
  const featureKey = (r: readonly string[]): string => JSON.stringify(r.slice(0, F));
  const rowKey = (r: readonly string[]): string => JSON.stringify(r);
  const newest = new Map<string, string>();
  for (const r of recent) newest.set(featureKey(r), r[F]!);
  let contradictions = 0;
  const contradicted = (r: readonly string[]): boolean => {
    const t = newest.get(featureKey(r));
    return t !== undefined && t !== r[F];
  };

  // 3. Feedback first (its copy wins), then base, each kept once.
  const seen = new Set<string>();
  let duplicates = 0;
  const feedbackRows: string[][] = [];
  for (const r of recent) {
    if (contradicted(r)) contradictions++;
    else if (seen.has(rowKey(r))) duplicates++;
    else {
      seen.add(rowKey(r));
      feedbackRows.push([...r]);
    }
  }
  const baseRows: string[][] = [];
  for (const b of input.base)
    for (const r of b.rows) {
      if (contradicted(r)) contradictions++;
      else if (seen.has(rowKey(r))) duplicates++;
      else {
        seen.add(rowKey(r));
        baseRows.push([...r]);
      }
    }

  // 4. Weighting.
  const B = baseRows.length;
  const N = feedbackRows.length;
  const since = stale > 0 ? ` (${plural(stale, 'older feedback row')} dropped)` : '';
  let resolved: TrainingSet['weighting'];
  if (mode === 'all') resolved = { mode: 'all', feedbackWeight: 1, reason: `all data once: ${plural(B, 'base row')} and ${plural(N, 'feedback row')}${since}` };
  else if (mode === 'feedback-only') {
    if (N === 0) throw new MaasError('USAGE', `feedback-only weighting needs labelled feedback; there is none${since}`);
    resolved = { mode: 'feedback-only', feedbackWeight: 1, reason: `feedback only: training on ${plural(N, 'feedback row')}${since}` };
  } else if (mode === 'weighted') {
    const w = feedbackWeight ?? driftWeight(B, N);
    resolved = { mode: 'weighted', feedbackWeight: w, reason: `${plural(N, 'feedback row')} weighted ${w}x against ${plural(B, 'base row')}${since}` };
  } else if (!input.conceptDrift)
    resolved = { mode: 'all', feedbackWeight: 1, reason: `no concept drift: all data once, ${plural(B, 'base row')} and ${plural(N, 'feedback row')}${since}` };
  else if (N === 0)
    resolved = { mode: 'all', feedbackWeight: 1, reason: `concept drift detected but no labelled feedback${since}: training on ${plural(B, 'base row')}` };
  else if (N >= FEEDBACK_ONLY_MIN_ROWS)
    resolved = { mode: 'feedback-only', feedbackWeight: 1, reason: `concept drift detected: training on ${plural(N, 'feedback row')} only${since}` };
  else {
    const w = feedbackWeight ?? driftWeight(B, N);
    const share = Math.round((100 * w * N) / (B + w * N));
    resolved = {
      mode: 'weighted',
      feedbackWeight: w,
      reason: `concept drift detected with fewer than ${FEEDBACK_ONLY_MIN_ROWS} feedback rows: ${plural(N, 'feedback row')} weighted ${w}x against ${plural(B, 'base row')} (${share}% of the rows)${since}`,
    };
  }

  // Loops, not spreads: a training set can hold more rows than a call takes arguments.
  const rows: string[][] = resolved.mode === 'feedback-only' ? [] : baseRows;
  const copies = resolved.mode === 'weighted' ? resolved.feedbackWeight : 1;
  for (let k = 0; k < copies; k++) for (const r of feedbackRows) rows.push(k === 0 ? r : [...r]);

  const out: TrainingSet = {
    header: [...input.features, input.target],
    rows,
    counts: { base: resolved.mode === 'feedback-only' ? 0 : B, feedback: N, duplicates, contradictions, total: rows.length },
    weighting: resolved,
  };
  if (input.task === 'classification') {
    const balance: Record<string, number> = {};
    for (const r of rows) balance[r[F]!] = (balance[r[F]!] ?? 0) + 1;
    out.classBalance = balance;
  }
  return out;
}

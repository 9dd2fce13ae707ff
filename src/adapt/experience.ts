// What a composition has learnt from its own adaptations: every replacement an adaptation chose is
// recorded with the bandit context it had then; once it has served, the router's labelled records
// say how accurate it really was. These (context, measured accuracy) pairs are the bandit's reward
// "once a replacement serves": the next adaptation starts LinUCB from them. Pure: history and
// records in, experience out.
import type { CompositionEvent } from '../domain/composition.js';
import type { CompositionRecordsWire } from '../protocol/composition-records.js';
import type { Experience } from './strategies.js';

/** Labelled rows a replacement must have answered before its accuracy counts as measured. */
export const MIN_SERVED_ROWS = 10;

/** What an adaptation stores per chosen replacement, in its history event's `detail.learning`. */
export interface LearningEntry {
  member: string;
  candidate: string;
  context: number[];
}

export interface ServedReplacement {
  key: string;
  /** Accuracy (classification) or 1 / (1 + MAE) (regression) on the labelled rows it answered since it was chosen. */
  reward: number;
  rows: number;
  /** When the adaptation that chose it ran. */
  since: string;
}

function learningOf(event: CompositionEvent): LearningEntry[] {
  const raw = event.detail?.learning;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (e): e is LearningEntry =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as LearningEntry).candidate === 'string' &&
      Array.isArray((e as LearningEntry).context) &&
      (e as LearningEntry).context.every((x) => typeof x === 'number' && Number.isFinite(x)),
  );
}

/**
 * The replacements chosen by earlier adaptations with their measured reward on the labelled rows
 * they answered after being chosen (at least `minRows`), and the bandit experience from them. A
 * candidate chosen twice counts from its latest choice.
 */
export function experienceFrom(
  history: readonly CompositionEvent[],
  records: CompositionRecordsWire,
  minRows = MIN_SERVED_ROWS,
): { experience: Experience[]; served: Map<string, ServedReplacement> } {
  const latest = new Map<string, { since: string; context: number[] }>();
  for (const e of history) {
    if (e.event !== 'adapted') continue;
    for (const l of learningOf(e)) latest.set(l.candidate, { since: e.at, context: l.context });
  }
  const experience: Experience[] = [];
  const served = new Map<string, ServedReplacement>();
  for (const [key, { since, context }] of latest) {
    const from = Date.parse(since);
    let rows = 0;
    let right = 0;
    let absError = 0;
    for (const r of records.records) {
      if (!r.truth || Date.parse(r.time) < from) continue;
      const a = r.members[key];
      if (a?.outcome !== 'answered') continue;
      if ('label' in r.truth) {
        if (a.label === undefined) continue;
        rows++;
        if (a.label === r.truth.label) right++;
      } else {
        if (a.value === undefined) continue;
        rows++;
        absError += Math.abs(a.value - r.truth.value);
      }
    }
    if (rows < minRows) continue;
    const reward = records.task === 'classification' ? right / rows : 1 / (1 + absError / rows);
    served.set(key, { key, reward, rows, since });
    experience.push({ key, context: Float64Array.from(context), reward });
  }
  return { experience, served };
}

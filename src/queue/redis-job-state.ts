// BullMQ's view of a job as ours: its states folded into the four of the port, its log lines
// stamped with the time they were written (BullMQ keeps bare strings).
import type { JobState } from './port.js';

/** BullMQ job types that are "queued" for us: waiting in some form for a worker. */
export const BULL_QUEUED = ['waiting', 'delayed', 'prioritized', 'waiting-children', 'paused'] as const;

export const BULL_TYPES: Record<JobState, readonly string[]> = {
  queued: BULL_QUEUED,
  running: ['active'],
  succeeded: ['completed'],
  failed: ['failed'],
};

/** Undefined for a job BullMQ no longer knows ("unknown"). */
export function fromBullState(state: string): JobState | undefined {
  for (const [ours, theirs] of Object.entries(BULL_TYPES) as [JobState, readonly string[]][]) {
    if (theirs.includes(state) || (ours === 'queued' && state === 'wait')) return ours;
  }
  return undefined;
}

const STAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) ([\s\S]*)$/;

export function stampLogLine(at: string, message: string): string {
  return `${at} ${message}`;
}

/** A line written by someone else (no stamp) keeps `fallbackAt`. */
export function parseLogLine(line: string, fallbackAt: string): { at: string; message: string } {
  const m = STAMPED.exec(line);
  return m ? { at: m[1] as string, message: m[2] as string } : { at: fallbackAt, message: line };
}

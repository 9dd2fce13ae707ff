// Server events (startup, shutdown, errors, optional access log) as one JSON object per line.
import { isoNow, systemClock, type Clock } from '../core/clock.js';

export type EventSink = (event: Record<string, unknown>) => void;

export function jsonLines(stream: { write(chunk: string): unknown }, clock: Pick<Clock, 'now'> = systemClock): EventSink {
  return (event) => {
    stream.write(`${JSON.stringify({ time: isoNow(clock), ...event })}\n`);
  };
}

export const noEvents: EventSink = () => {};

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Server events (startup, shutdown, errors, optional access log) as one JSON object per line.

export type EventSink = (event: Record<string, unknown>) => void;

export function jsonLines(stream: { write(chunk: string): unknown }, now: () => number = Date.now): EventSink {
  return (event) => {
    stream.write(`${JSON.stringify({ time: new Date(now()).toISOString(), ...event })}\n`);
  };
}

export const noEvents: EventSink = () => {};

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

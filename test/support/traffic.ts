// Clients that keep predicting through a deployment's switch: each loop resolves the endpoint the
// way consumers do (the deployment's endpoint.json) and posts one request, until stopped or `max`
// requests each. Used to show that a rollout drops no request.
import { readFileSync } from 'node:fs';

export interface Answer {
  start: number;
  end: number;
  ok: boolean;
  version?: string;
  requestId?: string;
  error?: string;
}

export function traffic(o: { endpointFile: string; model: string; body: string; clients: number; max?: number; pauseMs?: number }): {
  stop: () => Promise<Answer[]>;
  /** Answers so far. */
  count: () => number;
} {
  const answers: Answer[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    for (let n = 0; running && n < (o.max ?? 5_000); n++) {
      const start = performance.now();
      try {
        const { url } = JSON.parse(readFileSync(o.endpointFile, 'utf8')) as { url: string };
        const res = await fetch(`${url}/v2/models/${o.model}/infer`, { method: 'POST', body: o.body, headers: { 'content-type': 'application/json' } });
        const answer = (await res.json()) as { model_version?: string; id?: string; error?: string };
        answers.push({
          start,
          end: performance.now(),
          ok: res.status === 200,
          ...(answer.model_version !== undefined ? { version: answer.model_version } : {}),
          ...(answer.id !== undefined ? { requestId: answer.id } : {}),
          ...(res.status !== 200 ? { error: `${res.status} ${answer.error ?? ''}` } : {}),
        });
      } catch (e) {
        answers.push({ start, end: performance.now(), ok: false, error: (e as Error).message });
      }
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const loops = Array.from({ length: o.clients }, loop);
  return {
    count: () => answers.length,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answers.sort((a, b) => a.end - b.end);
    },
  };
}

/** The longest time between two successful answers within [from, to] (ms). */
export function switchGap(answers: readonly Answer[], from = -Infinity, to = Infinity): number {
  const ends = answers.filter((a) => a.ok && a.end >= from && a.end <= to).map((a) => a.end);
  let gap = 0;
  for (let i = 1; i < ends.length; i++) gap = Math.max(gap, ends[i]! - ends[i - 1]!);
  return gap;
}

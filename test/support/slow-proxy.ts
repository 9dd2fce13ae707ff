// A proxy in front of the Kubernetes API server substitute (or any HTTP server) on 127.0.0.1 that
// delays some requests and keeps others unanswered, so that a test can catch a process in the
// middle of its calls to the cluster: a job provably still running, its next call outstanding.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

/** What to do with a request: forward it, forward it after this many ms, or never answer it. */
export type ProxyRule = (req: IncomingMessage) => 'pass' | 'hold' | number;

export interface SlowProxy {
  url: string;
  /** Requests delayed and held so far. */
  state: { active: boolean; delayed: number; held: number };
  /** Lets everything through from now on; the held requests are dropped (their client is gone or gives up). */
  release(): void;
  close(): Promise<void>;
}

/** While active, `rule` decides the fate of each request; afterwards everything passes. */
export async function slowProxy(target: string, rule: ProxyRule): Promise<SlowProxy> {
  const held: ServerResponse[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { active: true, delayed: 0, held: 0 };
  const server = createServer((req, res) => {
    res.on('error', () => {});
    const forward = (): void => {
      const up = request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    const what = state.active ? rule(req) : 'pass';
    if (what === 'hold') {
      state.held++;
      held.push(res);
    } else if (typeof what === 'number') {
      state.delayed++;
      const t = setTimeout(() => {
        timers.delete(t);
        forward();
      }, what);
      timers.add(t);
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    state,
    release() {
      state.active = false;
      for (const res of held.splice(0)) res.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

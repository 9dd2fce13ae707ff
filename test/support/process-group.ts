// Real maas processes for end-to-end tests: the built CLI spawned with a fixed environment, its
// output kept per process for assertions and failure messages, and all of them stopped at the end
// (SIGTERM, then SIGKILL for any that do not exit in time).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, spawnCli } from './cli.js';
import { freePort, waitForExit } from './redis.js';

export class ProcessGroup {
  readonly processes: ChildProcess[] = [];
  private readonly output = new Map<ChildProcess, string>();

  constructor(private readonly env: Record<string, string | undefined>) {}

  /** `maas ARGS` from the built bin, in the background. */
  start(args: string[]): ChildProcess {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.output.set(child, '');
    const keep = (d: Buffer): void => void this.output.set(child, (this.output.get(child) ?? '') + d.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.processes.push(child);
    return child;
  }

  /** Everything the process wrote so far (stdout and stderr). */
  logs(child: ChildProcess): string {
    return this.output.get(child) ?? '';
  }

  async stopAll(timeoutMs = 15_000): Promise<void> {
    for (const p of this.processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(this.processes.map((p) => waitForExit(p, timeoutMs).catch(() => p.kill('SIGKILL'))));
  }
}

/** Polls `probe` until it gives a value (errors count as not yet), at most `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An admin token made on the server's home with the built CLI, as an operator makes the first one. */
export async function createAdminToken(home: string): Promise<string> {
  const r = await spawnCli(['token', 'create', '--name', 'admin', '--scope', 'admin', '-o', 'json'], { home });
  if (r.code !== 0) throw new Error(`maas token create failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

/** `maas server` of the group on a free loopback port with its jobs on `queue`; its URL once ready. */
export async function startServerProcess(group: ProcessGroup, queue: string): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  group.start(['server', '--listen', `127.0.0.1:${port}`, '--queue', queue, '--log-level', 'warn']);
  await until('the server', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
  return url;
}

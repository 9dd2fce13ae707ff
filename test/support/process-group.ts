// Real maas processes for end-to-end tests: the built CLI spawned with a fixed environment, its
// output kept per process for assertions and failure messages, and all of them stopped at the end
// (SIGTERM, then SIGKILL for any that do not exit in time).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';
import { waitForExit } from './redis.js';

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

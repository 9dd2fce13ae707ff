// Detached child processes that outlive the CLI, and the checks that tell whether one still runs.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../../core/clock.js';
import { pollUntil } from '../../core/poll.js';

export function spawnDetached(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, cwd: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env, cwd });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    // Reap it if it dies while we are still running, but never keep the CLI alive for it.
    child.on('error', () => {});
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `pid` is a live (non-zombie) process whose command line contains `marker`; the marker
 * guards against a recycled PID belonging to some other program.
 */
export function isAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (marker) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    // No /proc (macOS): trust kill(0).
  }
  return true;
}

/** SIGTERM (graceful drain), then SIGKILL after the grace period. Resolves once it is gone. */
export async function stopProcess(
  pid: number,
  marker: string | undefined,
  graceMs = 10_000,
  clock: Clock = systemClock,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid, marker)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const gone = await pollUntil(
    async () => !isAlive(pid, marker),
    (g) => g,
    { clock, deadline: clock.now() + graceMs, initialMs: 20, maxMs: 50 },
  );
  if (gone.value) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  await pollUntil(
    async () => !isAlive(pid, marker),
    (g) => g,
    { clock, deadline: clock.now() + 2_000, initialMs: 20, maxMs: 20 },
  );
  return 'killed';
}

/** The last `lines` lines of a (possibly large) log file, reading only its end. */
export async function tailFile(path: string, lines: number): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return '';
  }
  const want = Math.min(size, Math.max(4096, lines * 400));
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(want);
    await handle.read(buf, 0, want, size - want);
    const text = buf.toString('utf8');
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

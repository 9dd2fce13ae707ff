// Training on this machine: the description's `spec.training.code.command` as a child process
// (no shell; `$DATA`, `$OUT` and `$VERSION` replaced inside each argument) in the job's workDir,
// its output streamed line by line. The child leads its own process group, so a timeout or an
// abort stops everything it started: SIGTERM to the group, SIGKILL after a grace period.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { MaasError } from '../../core/errors.js';
import { TRAINING_LOG_TAIL, type OutputStream, type TrainingIo, type TrainingJob, type TrainingOutcome, type TrainingRunner } from '../../domain/training.js';
import type { ModelDescription } from '../../spec/schema.js';

/** Default time between SIGTERM and SIGKILL when a run is stopped. */
export const TRAINING_KILL_GRACE_MS = 5_000;

/** The command of a description, or a USAGE error saying what to add. */
export function trainingCommand(description: ModelDescription): string[] {
  const command = description.spec.training?.code?.command;
  const { name, version } = description.metadata;
  if (!command || command.length === 0) {
    throw new MaasError('USAGE', `${name}@${version} has no training command (spec.training.code.command)`, {
      hint: 'add spec.training.code.command to the description, e.g. [node, train.js, --data, $DATA, --out, $OUT, --version, $VERSION], and register it as a new version',
    });
  }
  return command;
}

/** `$DATA`, `$OUT` and `$VERSION` (also `${DATA}` ...) replaced inside each argument; nothing else is interpreted. */
export function resolvePlaceholders(command: readonly string[], values: { data: string; out: string; version: string }): string[] {
  const map: Record<string, string> = { DATA: values.data, OUT: values.out, VERSION: values.version };
  return command.map((arg) => arg.replace(/\$\{(DATA|OUT|VERSION)\}|\$(DATA|OUT|VERSION)(?![A-Za-z0-9_])/g, (_, a?: string, b?: string) => map[(a ?? b)!]!));
}

/** The last `max` lines seen, for error messages. */
export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = TRAINING_LOG_TAIL) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  get(): string[] {
    return [...this.lines];
  }
}

/** Splits a byte stream into lines (LF or CRLF); `flush` emits an unterminated last line. */
export function lineSplitter(emit: (line: string) => void): { write(chunk: Buffer | string): void; flush(): void } {
  let rest = '';
  return {
    write(chunk) {
      rest += chunk.toString();
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) emit(p.endsWith('\r') ? p.slice(0, -1) : p);
    },
    flush() {
      if (rest !== '') emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
      rest = '';
    },
  };
}

/** The tail as an indented block for messages. */
export function formatTail(tail: readonly string[]): string {
  return tail.length === 0 ? '  (no output)' : tail.map((l) => `  | ${l}`).join('\n');
}

export interface LocalTrainingOptions {
  /** Time between SIGTERM and SIGKILL (default TRAINING_KILL_GRACE_MS). */
  graceMs?: number;
  /** Environment of the program (default this process's); MAAS_DATA, MAAS_OUT and MAAS_VERSION are added. */
  env?: NodeJS.ProcessEnv;
}

export class LocalTrainingRunner implements TrainingRunner {
  constructor(private readonly options: LocalTrainingOptions = {}) {}

  async train(job: TrainingJob, io: TrainingIo): Promise<TrainingOutcome> {
    const command = trainingCommand(job.description);
    const [file, ...args] = resolvePlaceholders(command, { data: job.dataFile, out: job.outDir, version: job.version });
    const what = `training of ${job.description.metadata.name}@${job.version}`;
    if (io.signal?.aborted) throw new MaasError('INTERRUPTED', `${what} was interrupted before it started`);
    await mkdir(job.outDir, { recursive: true });
    const tail = new LogTail();
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 10) / 100;
    const child = spawn(file!, args, {
      cwd: job.workDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(this.options.env ?? process.env), MAAS_DATA: job.dataFile, MAAS_OUT: job.outDir, MAAS_VERSION: job.version },
    });
    const splitters = (['stdout', 'stderr'] as const).map((stream: OutputStream) => {
      const s = lineSplitter((line) => {
        tail.push(line);
        io.onOutput(line, stream);
      });
      child[stream].on('data', (c: Buffer) => s.write(c));
      return s;
    });

    let stopping: 'timeout' | 'interrupted' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'interrupted') => {
      if (stopping || child.pid === undefined || child.exitCode !== null) return;
      stopping = why;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), this.options.graceMs ?? TRAINING_KILL_GRACE_MS);
    };
    // Real timers: the program runs in real time, which no injected clock can shorten.
    const timeout = setTimeout(() => stop('timeout'), job.timeoutMs);
    const onAbort = () => stop('interrupted');
    io.signal?.addEventListener('abort', onAbort, { once: true });

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      io.signal?.removeEventListener('abort', onAbort);
      for (const s of splitters) s.flush();
    });
    // Whatever the group leader did, nothing of the run may outlive it.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');

    const logTail = tail.get();
    const details = { command: [file, ...args], workDir: job.workDir, seconds: seconds(), logTail };
    if ('error' in exit) {
      const notFound = exit.error.code === 'ENOENT';
      throw new MaasError('FAILURE', `${what} could not start "${file}": ${notFound ? 'no such program (or workDir missing)' : exit.error.message}`, {
        hint: notFound
          ? `check spec.training.code.command and that ${job.workDir} exists; the program must be on PATH or relative to it`
          : 'check spec.training.code.command',
        cause: exit.error,
        details,
      });
    }
    if (stopping === 'timeout') {
      throw new MaasError(
        'TIMEOUT',
        `${what} did not finish within ${Math.round(job.timeoutMs / 1000)} s and was stopped; last lines:\n${formatTail(logTail)}`,
        {
          hint: 'raise the timeout, or train on less data',
          details,
        },
      );
    }
    if (stopping === 'interrupted') {
      throw new MaasError('INTERRUPTED', `${what} was interrupted and stopped; nothing was registered`, { details });
    }
    if (exit.code !== 0) {
      const how = exit.code === null ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exit.code}`;
      throw new MaasError('FAILURE', `${what} failed: the training program ${how}; last ${logTail.length} lines:\n${formatTail(logTail)}`, {
        hint: `run it by hand in ${job.workDir} to debug: ${[file, ...args].join(' ')}`,
        details: { ...details, exitCode: exit.code ?? -1 },
      });
    }
    return { exitCode: 0, seconds: seconds(), logTail, outDir: job.outDir };
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

// Runs the CLI in-process with captured output, or as a spawned process of the built bin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { main, type MainDeps } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO_ROOT, 'bin', 'maas.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  home?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  tty?: boolean;
  /** Clock and service overrides for main() (in-process runs only). */
  deps?: MainDeps;
}

function capture(isTTY: boolean): { stream: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  const chunks: string[] = [];
  return { stream: { write: (s: string) => (chunks.push(String(s)), true), isTTY }, text: () => chunks.join('') };
}

export async function runCli(argv: string[], opts: CliOptions = {}): Promise<CliResult> {
  const out = capture(opts.tty ?? false);
  const err = capture(opts.tty ?? false);
  const stdin = Readable.from(opts.stdin !== undefined ? [opts.stdin] : []) as unknown as Io['stdin'];
  const io: Io = {
    stdout: out.stream,
    stderr: err.stream,
    stdin,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', ...(opts.home ? { MAAS_HOME: opts.home } : {}), ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
  };
  const code = await main(argv, io, opts.deps);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Runs the built CLI (`bin/maas.js`, needs `npm run build`) as a real process. */
export function spawnCli(argv: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: opts.cwd ?? process.cwd(),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', ...(opts.home ? { MAAS_HOME: opts.home } : {}), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A fresh MAAS_HOME (or any scratch dir) removed by the returned cleanup. */
export function tempDir(prefix = 'maas-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

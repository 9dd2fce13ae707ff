// Entry point: parse argv, run one command, render its result, map any failure to an exit code.
// Never calls process.exit; returns the code for the bin shim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../spec/package-files.js';
import { processIo, type Io } from './io.js';
import type { MainDeps } from './program.js';

export type { MainDeps };

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** `deps` replaces the clock or parts of the services (tests); the defaults are the real ones. */
export async function main(argv: string[], io?: Io, deps: MainDeps = {}): Promise<number> {
  // Fast path: `maas --version` loads nothing else, so CI steps and shells start instantly.
  const out = io ?? processIo();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    out.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const { runProgram } = await import('./program.js');
  // The real process answers Ctrl-C itself; callers that pass their own io decide for themselves.
  const interrupts = deps.interrupts ?? (io === undefined ? sigint : undefined);
  return runProgram(argv, out, { ...deps, ...(interrupts ? { interrupts } : {}) });
}

function sigint(handler: () => void): () => void {
  process.once('SIGINT', handler);
  return () => void process.removeListener('SIGINT', handler);
}

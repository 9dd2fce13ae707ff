// Entry point: parse argv, run one command, render its result, map any failure to an exit code.
// Never calls process.exit; returns the code for the bin shim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../spec/package-files.js';
import { processIo, type Io } from './io.js';
import type { CommandResult } from './output.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // Fast path: `maas --version` loads nothing else, so CI steps and shells start instantly.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const { runProgram } = await import('./program.js');
  return runProgram(argv, io);
}

export type { CommandResult };

// Shared plumbing of the example programs: run main only when executed directly, report errors
// with a non-zero exit code.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

/** Error for bad command-line arguments (exit code 2, like the maas CLI). */
export class UsageError extends Error {}

export function runMain(main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((e: unknown) => {
    const usage = e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = usage ? 2 : 1;
  });
}

/** Parses a numeric option, rejecting anything that is not a finite number in [min, max]. */
export function numberOption(name: string, value: string | undefined, fallback: number, min = -Infinity, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number between ${min} and ${max}, got "${value}"`);
  }
  return n;
}

export function integerOption(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = numberOption(name, value, fallback, min, max);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  return n;
}

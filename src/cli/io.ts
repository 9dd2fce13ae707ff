// The process boundary of the CLI: streams, environment and working directory, passed in so that
// tests run main() in-process with captured output.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface OutStream {
  /** false asks the writer to wait for 'drain' before writing more. */
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Present on real streams; writers of large output wait for 'drain' through it. */
  once?(event: 'drain', listener: () => void): unknown;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Reads all of stdin (for `--data -` and `-f -`). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A file named on the command line (relative to the caller's directory), or stdin for `-`. */
export async function readSource(io: Io, source: string): Promise<string> {
  if (source === '-') return readAll(io.stdin);
  return readFile(resolve(io.cwd, source), 'utf8');
}

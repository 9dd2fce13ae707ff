// Whole-process timing: spawn a command many times (interleaved with its baseline so that machine
// noise hits both alike) and summarise wall-clock times.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Command {
  label: string;
  args: string[];
  env?: Record<string, string>;
}

export interface Timing {
  label: string;
  runs: number;
  median: number;
  p90: number;
  min: number;
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarise(label: string, samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  return { label, runs: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), min: s[0] ?? NaN };
}

/** Runs `node <args>` once and returns its wall-clock milliseconds; throws when it fails. */
export function timeNode(cmd: Command): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, cmd.args, { env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${cmd.label} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

/** Times every command `runs` times, round-robin, after `warmup` untimed rounds. */
export function timeAll(commands: Command[], runs: number, warmup = 3): Timing[] {
  const samples = commands.map(() => [] as number[]);
  for (let round = 0; round < warmup + runs; round++) {
    commands.forEach((c, i) => {
      const ms = timeNode(c);
      if (round >= warmup) samples[i]?.push(ms);
    });
  }
  return commands.map((c, i) => summarise(c.label, samples[i] ?? []));
}

export const ms = (n: number): string => `${n.toFixed(1)} ms`;

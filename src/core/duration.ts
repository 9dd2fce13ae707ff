// Human durations (`90s`, `15m`, `24h`, `7d`, `1h30m`) to milliseconds.
import { MaasError } from './errors.js';

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed)) !== null) {
    total += Number(m[1]) * (UNIT[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length) {
    throw new MaasError('USAGE', `invalid ${what} "${text}"`, { hint: 'use a number with a unit: 30s, 5m, 24h, 7d (plain numbers are seconds)' });
  }
  return total;
}

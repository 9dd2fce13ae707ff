// Flag value parsers shared by several commands.
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { MaasError } from '../core/errors.js';

/** `--consumer NAME`: not empty, and given once (a second one would silently win otherwise). */
export function consumerFlag(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError(`given twice ("${previous}" and "${value}"); a command acts for one consumer`);
  if (value.trim() === '') throw new InvalidArgumentError('a consumer name cannot be empty');
  return value.trim();
}

/** A repeatable option's values in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A size flag (`--max-body 16Mi`, `1000000`) in bytes; USAGE for anything else. */
export async function bytes(text: string, flag: string): Promise<number> {
  const { memoryBytes } = await import('../domain/quantity.js');
  const n = memoryBytes(text);
  if (n === undefined || n <= 0) throw new MaasError('USAGE', `${flag} expects a size in bytes (e.g. 16Mi, 1000000), got "${text}"`);
  return n;
}

/** A positive integer flag; USAGE for anything else. */
export function positiveInteger(text: string, flag: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new MaasError('USAGE', `${flag} expects an integer >= ${min}, got "${text}"`);
  return n;
}

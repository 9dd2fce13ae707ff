// Flag value parsers shared by several commands.
import { InvalidArgumentError } from '@commander-js/extra-typings';

/** `--consumer NAME`: not empty, and given once (a second one would silently win otherwise). */
export function consumerFlag(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError(`given twice ("${previous}" and "${value}"); a command acts for one consumer`);
  if (value.trim() === '') throw new InvalidArgumentError('a consumer name cannot be empty');
  return value.trim();
}

/** A repeatable option's values in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

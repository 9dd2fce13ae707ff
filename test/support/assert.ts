// Shared assertions for tests.
import { expect } from 'vitest';
import { MaasError } from '../../src/core/errors.js';

/** Awaits a promise that must reject with a MaasError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<MaasError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MaasError);
  return e as MaasError;
}

/** Calls a function that must throw an error of `type` (MaasError by default), and returns it. */
export function thrown<T extends Error = MaasError>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => T = MaasError as unknown as abstract new (...args: never[]) => T,
): T {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  return caught as T;
}

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

import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../src/targets/kubernetes/client-node-api.js';
import { EXIT, MaasError } from '../../src/core/errors.js';

describe('withDeadline', () => {
  it('passes results and errors through when the call settles in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'reading', 'https://k')).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000, 'reading', 'https://k')).rejects.toThrow('boom');
  });
  it('turns a call that never answers into a TIMEOUT naming the server and the action', async () => {
    const hung = new Promise<never>(() => {});
    const err = await withDeadline(hung, 20, 'applying Deployment maas-d-1', 'https://k:6443').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaasError);
    expect((err as MaasError).exitCode).toBe(EXIT.TIMEOUT);
    expect((err as MaasError).message).toMatch(/https:\/\/k:6443 did not answer within 0s while applying Deployment maas-d-1/);
  });
});

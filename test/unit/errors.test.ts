import { describe, expect, it } from 'vitest';
import { EXIT, MaasError, fromHttpStatus, toMaasError } from '../../src/core/errors.js';

function sys(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} happened`), { code, ...extra });
}

describe('toMaasError', () => {
  it('keeps MaasErrors as they are', () => {
    const e = new MaasError('CONFLICT', 'x');
    expect(toMaasError(e)).toBe(e);
    expect(e.exitCode).toBe(EXIT.CONFLICT);
  });
  it.each([
    ['ENOENT', 'NOT_FOUND', /no such file/],
    ['EACCES', 'FAILURE', /permission denied/],
    ['ECONNREFUSED', 'UNAVAILABLE', /connection refused/],
    ['ETIMEDOUT', 'TIMEOUT', /timed out/],
    ['ENOTFOUND', 'UNAVAILABLE', /host not found/],
    ['SQLITE_BUSY', 'UNAVAILABLE', /busy/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UNAVAILABLE', /TLS/],
  ])('maps %s to %s with a hint', (code, expected, message) => {
    const m = toMaasError(sys(code, { path: '/x', address: '127.0.0.1', port: 1 }));
    expect(m.code).toBe(expected);
    expect(m.message).toMatch(message);
    expect(m.hint).toBeTruthy();
    expect(m.cause).toBeInstanceOf(Error);
  });
  it('maps Kubernetes API statuses from an error with a Status body', () => {
    const e = Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', message: 'deployments.apps is forbidden: User "x" cannot create resource "deployments"' }) });
    const m = toMaasError(e);
    expect(m.code).toBe('KUBERNETES');
    expect(m.exitCode).toBe(EXIT.KUBERNETES);
    expect(m.message).toContain('cannot create resource "deployments"');
    expect(m.hint).toMatch(/rbac/i);
  });
  it.each([
    [401, 'KUBERNETES'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [413, 'USAGE'],
    [422, 'KUBERNETES'],
    [503, 'UNAVAILABLE'],
    [500, 'UNAVAILABLE'],
  ])('maps HTTP %i', (status, code) => {
    expect(fromHttpStatus(status, 'm').code).toBe(code);
  });
  it('turns non-errors into INTERNAL failures', () => {
    expect(toMaasError('boom').code).toBe('INTERNAL');
    expect(toMaasError(new Error('plain')).exitCode).toBe(EXIT.FAILURE);
  });
  it('serialises code, message, hint and cause', () => {
    const m = new MaasError('USAGE', 'bad', { hint: 'do x', cause: new Error('root') });
    expect(m.toJSON()).toEqual({ code: 'USAGE', message: 'bad', hint: 'do x', cause: 'root' });
  });
});

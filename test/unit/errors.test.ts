import { describe, expect, it } from 'vitest';
import { BUG_REPORT_URL, ERROR_CODES, EXIT, MaasError, fromHttpStatus, toMaasError } from '../../src/core/errors.js';

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
    const e = Object.assign(new Error('HTTP-Code: 403'), {
      code: 403,
      body: JSON.stringify({ kind: 'Status', message: 'deployments.apps is forbidden: User "x" cannot create resource "deployments"' }),
    });
    const m = toMaasError(e);
    expect(m.code).toBe('FORBIDDEN');
    expect(m.exitCode).toBe(EXIT.REFUSED);
    expect(m.httpStatus).toBe(403);
    expect(m.message).toContain('cannot create resource "deployments"');
    expect(m.hint).toMatch(/rbac/i);
  });
  it.each([
    [401, 'UNAUTHORIZED'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [413, 'USAGE'],
    [422, 'REJECTED'],
    [503, 'UNAVAILABLE'],
    [500, 'UNAVAILABLE'],
  ])('maps HTTP %i', (status, code) => {
    expect(fromHttpStatus(status, 'm').code).toBe(code);
  });
  it("does not repeat the model server's own advice in a hint, and names the model in a 400 hint", () => {
    const big = fromHttpStatus(
      413,
      'request body is larger than the limit of 16MiB (16777216 bytes); send fewer rows per request or use a data_ref',
      undefined,
      'model-server',
    );
    expect(big.hint).toBeUndefined();
    expect(fromHttpStatus(400, 'bad', undefined, 'model-server', 'har-classifier').hint).toContain('maas describe har-classifier');
  });
  it('turns non-errors into INTERNAL failures that say they are a bug and where to report it', () => {
    expect(toMaasError('boom').code).toBe('INTERNAL');
    const plain = toMaasError(new Error('plain'));
    expect(plain.exitCode).toBe(EXIT.FAILURE);
    expect(plain.message).toContain('a bug in maas');
    expect(plain.hint).toContain(BUG_REPORT_URL);
  });
  it('maps every code to one exit code and one HTTP status from a single table', () => {
    for (const [code, { exit, http }] of Object.entries(ERROR_CODES)) {
      const e = new MaasError(code as keyof typeof ERROR_CODES, 'x');
      expect(e.exitCode).toBe(exit);
      expect(e.httpStatus).toBe(http);
      expect(http).toBeGreaterThanOrEqual(400);
    }
    expect(new MaasError('NOT_FOUND', 'x').httpStatus).toBe(404);
    expect(new MaasError('USAGE', 'x').exitCode).toBe(2);
  });
  it('serialises code, message, hint and cause', () => {
    const m = new MaasError('USAGE', 'bad', { hint: 'do x', cause: new Error('root') });
    expect(m.toJSON()).toEqual({ code: 'USAGE', message: 'bad', hint: 'do x', cause: 'root' });
  });
});

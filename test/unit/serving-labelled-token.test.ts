// The labelled-rows token check of a strict model server: the bearer token against the trimmed
// token file, read again on every call; every failure is the same `false`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerToken, labelledTokenAccepted } from '../../src/serving/labelled-token.js';
import { tempDir } from '../support/cli.js';

const dir = tempDir('maas-labelled-token-');
afterAll(() => dir.cleanup());

const TOKEN = 'c2VjcmV0LXRva2VuLTEyMw';

describe('bearerToken', () => {
  it('reads the token of a Bearer header, the scheme in any case', () => {
    expect(bearerToken(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerToken(`bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerToken(`BEARER   ${TOKEN}  `)).toBe(TOKEN);
  });

  it('is undefined for no header, another scheme or no token', () => {
    for (const h of [undefined, '', 'Bearer', 'Bearer   ', `Basic ${TOKEN}`, TOKEN, `Bearer${TOKEN}`, `Token ${TOKEN}`])
      expect(bearerToken(h), String(h)).toBeUndefined();
  });
});

describe('labelledTokenAccepted', () => {
  const file = join(dir.path, 'token');

  it('accepts exactly the trimmed file contents as a Bearer token', async () => {
    writeFileSync(file, `${TOKEN}\n`);
    expect(await labelledTokenAccepted(file, `Bearer ${TOKEN}`)).toBe(true);
    expect(await labelledTokenAccepted(file, `bearer ${TOKEN}`)).toBe(true);
  });

  it('refuses a missing header, another scheme and any other token', async () => {
    writeFileSync(file, `  ${TOKEN}\n\n`);
    for (const h of [undefined, '', 'Bearer ', `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.toUpperCase()}`])
      expect(await labelledTokenAccepted(file, h), String(h)).toBe(false);
  });

  it('reads the file on every call: a rotated token takes effect at once, a deleted or empty file lets nobody in', async () => {
    writeFileSync(file, TOKEN);
    expect(await labelledTokenAccepted(file, `Bearer ${TOKEN}`)).toBe(true);
    writeFileSync(file, 'rotated-token\n');
    expect(await labelledTokenAccepted(file, `Bearer ${TOKEN}`)).toBe(false);
    expect(await labelledTokenAccepted(file, 'Bearer rotated-token')).toBe(true);
    for (const empty of ['', '  \n\t\n']) {
      writeFileSync(file, empty);
      expect(await labelledTokenAccepted(file, 'Bearer ')).toBe(false);
      expect(await labelledTokenAccepted(file, 'Bearer rotated-token')).toBe(false);
      expect(await labelledTokenAccepted(file, undefined)).toBe(false);
    }
    rmSync(file);
    expect(await labelledTokenAccepted(file, 'Bearer rotated-token')).toBe(false);
    expect(await labelledTokenAccepted(file, undefined)).toBe(false);
  });

  it('a path that is not a readable file (a directory) refuses, never throws', async () => {
    const sub = join(dir.path, 'a-dir');
    mkdirSync(sub);
    expect(await labelledTokenAccepted(sub, `Bearer ${TOKEN}`)).toBe(false);
  });
});

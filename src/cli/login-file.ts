// Which maas server the CLI works against: MAAS_SERVER and MAAS_TOKEN, else what `maas login`
// saved in MAAS_HOME/login.json (readable by the user only: it holds a token).
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MaasError } from '../core/errors.js';
import type { MaasHome } from '../core/home.js';
import { makeDir } from '../core/make-dir.js';

export interface ServerLogin {
  url: string;
  token?: string;
  /** Where it came from: `env` or the login file. */
  from: 'env' | 'login';
}

export const loginFile = (home: MaasHome): string => join(home.root, 'login.json');

export async function readLogin(home: MaasHome, env: Readonly<Record<string, string | undefined>>): Promise<ServerLogin | undefined> {
  const url = env.MAAS_SERVER?.trim();
  if (url) return { url, ...(env.MAAS_TOKEN ? { token: env.MAAS_TOKEN.trim() } : {}), from: 'env' };
  let text: string;
  try {
    text = await readFile(loginFile(home), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const saved = JSON.parse(text) as { url?: unknown; token?: unknown };
  if (typeof saved.url !== 'string')
    throw new MaasError('USAGE', `${loginFile(home)} names no server`, { hint: '`maas logout`, then `maas login URL --token T`' });
  return { url: saved.url, ...(typeof saved.token === 'string' ? { token: env.MAAS_TOKEN?.trim() || saved.token } : {}), from: 'login' };
}

export async function writeLogin(home: MaasHome, login: { url: string; token: string }): Promise<string> {
  await makeDir(home.root);
  const file = loginFile(home);
  await writeFile(file, `${JSON.stringify({ url: login.url, token: login.token }, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/** True when a login was removed. */
export async function removeLogin(home: MaasHome): Promise<boolean> {
  try {
    await rm(loginFile(home));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

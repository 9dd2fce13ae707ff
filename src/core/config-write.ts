// Writes one config key, keeping the user's comments and layout (yaml Document API), atomically.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { MaasHome } from './home.js';
import type { ConfigKey } from './config.js';
import { makeDir } from './make-dir.js';

/** Sets `key` to `value`, or removes it when `value` is undefined. */
export async function writeConfigValue(home: MaasHome, key: ConfigKey, value: string | undefined): Promise<void> {
  const { parseDocument } = await import('yaml');
  await makeDir(home.root);
  let text = '';
  try {
    text = await readFile(home.configFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const doc = parseDocument(text);
  const path = key.split('.');
  if (value === undefined) {
    doc.deleteIn(path);
    // An emptied section goes too, so `unset` leaves no `kubernetes: {}` behind.
    if (path.length > 1 && Object.keys((doc.getIn(path.slice(0, -1)) as { items?: unknown[] } | undefined)?.items ?? [1]).length === 0)
      doc.deleteIn(path.slice(0, -1));
  } else doc.setIn(path, value);
  const tmp = `${home.configFile}.${process.pid}.tmp`;
  await writeFile(tmp, doc.toString(), 'utf8');
  await rename(tmp, home.configFile);
}

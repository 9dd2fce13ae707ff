// Writes one config key, keeping the user's comments and layout (yaml Document API), atomically.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { MaasHome } from './home.js';
import type { ConfigKey } from './config.js';

export async function writeConfigValue(home: MaasHome, key: ConfigKey, value: string): Promise<void> {
  const { parseDocument } = await import('yaml');
  await mkdir(home.root, { recursive: true });
  let text = '';
  try {
    text = await readFile(home.configFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const doc = parseDocument(text);
  doc.setIn(key.split('.'), value);
  const tmp = `${home.configFile}.${process.pid}.tmp`;
  await writeFile(tmp, doc.toString(), 'utf8');
  await rename(tmp, home.configFile);
}

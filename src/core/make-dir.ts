// Creating a directory and its missing parents, one level at a time. Node's own recursive mkdir
// never returns on some pseudo file systems (`mkdir -p /proc/x` loops forever in Node 20); this
// walk is bounded by the depth of the path and fails with the error of the level that failed.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeDirSync(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const info = statSync(at, { throwIfNoEntry: false });
    if (info) {
      if (!info.isDirectory()) throw Object.assign(new Error(`not a directory: ${at}`), { code: 'ENOTDIR', path: at });
      break;
    }
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Another process may have created it meanwhile.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** The same, for async callers (directory creation is quick; it stays synchronous inside). */
export async function makeDir(dir: string): Promise<void> {
  makeDirSync(dir);
}

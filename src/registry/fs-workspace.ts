// Scratch directories under $MAAS_HOME/work, created private (0700) and removed when done.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir } from '../core/make-dir.js';
import type { WorkDir, Workspace } from '../core/workspace.js';

export class FsWorkspace implements Workspace {
  constructor(private readonly root: string) {}

  async create(prefix: string): Promise<WorkDir> {
    await makeDir(this.root);
    const path = await mkdtemp(join(this.root, `${prefix.replace(/[^A-Za-z0-9_.-]/g, '-')}-`));
    return {
      path,
      async write(name, text) {
        const file = join(path, name);
        await writeFile(file, text, { mode: 0o600 });
        return file;
      },
      dispose: () => rm(path, { recursive: true, force: true }),
    };
  }
}

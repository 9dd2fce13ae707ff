// Opens the stores of a MAAS_HOME. The embedded backend is the default: a SQLite file for models,
// deployments and compositions, a content-addressed directory for artifacts. `location` is the
// seam for the config's `registry:` setting (`file://...` picks another database file; a remote
// `https://...` backend implementing the same ports plugs in here).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MaasError } from '../core/errors.js';
import type { MaasHome } from '../core/home.js';
import type { Stores } from './ports.js';
import { makeDirSync } from '../core/make-dir.js';

export interface OpenOptions {
  /** Where the registry is: `file:///abs/registry.db` or, later, `https://registry.example.com`. */
  location?: string;
}

function databaseFile(home: MaasHome, location: string | undefined): string {
  if (location === undefined || location === '') return home.registryDb;
  if (location.startsWith('file:')) return fileURLToPath(location);
  if (/^https?:\/\//.test(location)) {
    throw new MaasError('USAGE', `remote registries (${location}) are not supported by this version of maas`, {
      hint: 'remove the registry setting to use the embedded registry in MAAS_HOME',
    });
  }
  throw new MaasError('USAGE', `unknown registry location "${location}"`, { hint: 'use file:///path/to/registry.db or an https:// URL' });
}

export async function openStores(home: MaasHome, options: OpenOptions = {}): Promise<Stores> {
  const file = databaseFile(home, options.location);
  makeDirSync(home.root);
  makeDirSync(dirname(file));
  const [{ SqliteRegistry }, { FsArtifactStore }] = await Promise.all([import('./sqlite/sqlite-registry.js'), import('./fs-artifact-store.js')]);
  const db = SqliteRegistry.open({ file });
  return {
    models: db,
    deployments: db.deployments,
    compositions: db.compositions,
    artifacts: new FsArtifactStore(home.blobs),
    database: db.db,
    close: () => db.close(),
  };
}

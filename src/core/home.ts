// The layout of MAAS_HOME: every file maas keeps lives under this one root.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface MaasHome {
  root: string;
  registryDb: string;
  configFile: string;
  /** Content-addressed artifact store: blobs/sha256/<hex>. */
  blobs: string;
  deployments: string;
  tmp: string;
}

export function resolveHome(env: Record<string, string | undefined>, cwd: string, override?: string): MaasHome {
  const raw = override ?? env.MAAS_HOME ?? join(homedir(), '.maas');
  const root = isAbsolute(raw) ? raw : resolve(cwd, raw);
  return {
    root,
    registryDb: join(root, 'registry.db'),
    configFile: join(root, 'config.yaml'),
    blobs: join(root, 'blobs', 'sha256'),
    deployments: join(root, 'deployments'),
    tmp: join(root, 'tmp'),
  };
}

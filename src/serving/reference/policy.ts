// Which data references the server may fetch: schemes, hosts, the directory file:// may read,
// and how many bytes a reference may have.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

export interface ReferencePolicy {
  /** Allowed URI schemes without the colon (default file, http, https). */
  schemes: readonly string[];
  /** Allowed hosts: `name`, `name:port` or `*.domain`; empty = any host. */
  hosts: readonly string[];
  /** The only directory tree file:// references may read (resolved, symlinks followed). */
  fileRoot: string;
  maxBytes: number;
  timeoutMs: number;
}

export const DEFAULT_REF_MAX_BYTES = 64 * 2 ** 20;
export const DEFAULT_REF_TIMEOUT_MS = 30_000;

export function referencePolicy(opts: Partial<ReferencePolicy> & { fileRoot?: string } = {}): ReferencePolicy {
  const root = resolve(opts.fileRoot ?? process.cwd());
  let fileRoot = root;
  try {
    fileRoot = realpathSync(root);
  } catch {
    // A root that does not exist yet allows nothing; keep it as given.
  }
  return {
    schemes: (opts.schemes && opts.schemes.length > 0 ? opts.schemes : ['file', 'http', 'https']).map((s) => s.replace(/:$/, '').toLowerCase()),
    hosts: (opts.hosts ?? []).map((h) => h.toLowerCase()),
    fileRoot,
    maxBytes: opts.maxBytes ?? DEFAULT_REF_MAX_BYTES,
    timeoutMs: opts.timeoutMs ?? DEFAULT_REF_TIMEOUT_MS,
  };
}

/** Whether `url`'s host is allowed (`host` is `name[:port]` as in URL.host). */
export function hostAllowed(policy: ReferencePolicy, url: URL): boolean {
  if (policy.hosts.length === 0) return true;
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  return policy.hosts.some((h) => {
    if (h.startsWith('*.')) return hostname.endsWith(h.slice(1));
    return h.includes(':') && !h.startsWith('[') ? h === host : h === hostname || h === host;
  });
}

// Content-addressed artifact store on a directory: blobs/sha256/<hex>. Bytes are hashed while
// they are copied to a temporary file inside the store, then renamed into place. rename(2) is
// atomic, so concurrent stores of the same bytes both succeed and leave one intact blob.
// Remote artifacts (https, s3, gs, ...) are recorded by URI without being fetched: their digest is
// the one the description declares, or empty when it declares none, and their size is 0 (unknown).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MaasError } from '../core/errors.js';
import type { ArtifactRef, ArtifactSource } from '../domain/model.js';
import type { ArtifactStore } from './ports.js';
import { makeDir } from '../core/make-dir.js';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** Blobs younger than this are kept by pruning: a registration may be between storing and recording. */
export const BLOB_GRACE_MS = 60 * 60 * 1000;

/** Path of the blob for a `sha256:<hex>` digest. */
export function blobPath(blobsDir: string, digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new MaasError('VALIDATION', `"${digest}" is not a sha256 digest`, { hint: 'digests look like sha256:<64 hex digits>' });
  return join(blobsDir, m[1] as string);
}

function localPath(source: ArtifactSource): string | undefined {
  if (source.path) return source.path;
  if (!source.uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(source.uri);
  } catch (e) {
    throw new MaasError('VALIDATION', `artifact URI ${source.uri} is not an absolute file URI`, {
      hint: 'relative file URIs are resolved from the description file; register through `maas register FILE`',
      cause: e,
    });
  }
}

function checkDigest(digest: string | undefined): void {
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw new MaasError('VALIDATION', `artifact digest "${digest}" is not a sha256 digest`, { hint: 'write it as sha256:<64 lowercase hex digits>' });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class FsArtifactStore implements ArtifactStore {
  constructor(private readonly dir: string) {}

  async put(bytes: Readable, expected: { digest?: string; uri?: string } = {}): Promise<{ digest: string; size: number }> {
    checkDigest(expected.digest);
    await makeDir(this.dir);
    const temp = join(this.dir, `.incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(bytes, tap, createWriteStream(temp, { flags: 'wx' }));
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (expected.digest !== undefined && expected.digest !== digest) {
      await unlink(temp).catch(() => undefined);
      throw new MaasError(
        'VALIDATION',
        `artifact${expected.uri ? ` ${expected.uri}` : ''} has digest ${digest}, but the description declares ${expected.digest}`,
        {
          hint: 'the file changed since the digest was written: fix spec.artifact.digest or point the URI at the right file',
        },
      );
    }
    const final = blobPath(this.dir, digest);
    if (await exists(final)) {
      await unlink(temp).catch(() => undefined);
    } else {
      // Blobs are immutable; read-only makes accidental edits fail loudly.
      await chmod(temp, 0o444);
      await rename(temp, final);
    }
    return { digest, size };
  }

  async store(source: ArtifactSource): Promise<ArtifactRef> {
    checkDigest(source.digest);
    const path = localPath(source);
    if (path === undefined) return { digest: source.digest ?? '', size: 0, uri: source.uri };
    try {
      // Opened first, so a missing file fails here rather than as a stream error nobody listens to.
      const handle = await open(path, 'r');
      const { digest, size } = await this.put(handle.createReadStream(), {
        ...(source.digest !== undefined ? { digest: source.digest } : {}),
        uri: source.uri,
      });
      return { digest, size, uri: source.uri };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') {
        throw new MaasError('VALIDATION', `artifact ${source.uri} cannot be read: ${code === 'ENOENT' ? 'no such file' : 'it is a directory'} (${path})`, {
          hint: 'check spec.artifact.uri; relative file URIs resolve from the description file',
          cause: e,
        });
      }
      throw e;
    }
  }

  async has(digest: string): Promise<boolean> {
    return DIGEST.test(digest) && (await exists(blobPath(this.dir, digest)));
  }

  async size(digest: string): Promise<number | undefined> {
    if (!DIGEST.test(digest)) return undefined;
    try {
      return (await stat(blobPath(this.dir, digest))).size;
    } catch {
      return undefined;
    }
  }

  async open(digest: string): Promise<Readable> {
    return createReadStream(await this.localPath(digest));
  }

  async localPath(digest: string): Promise<string> {
    const path = digest ? blobPath(this.dir, digest) : '';
    if (!path || !(await exists(path))) {
      throw new MaasError('NOT_FOUND', `artifact ${digest || '(remote, no digest)'} is not in the local store`, {
        hint: 'the artifact is remote or was removed; re-register the model from a description whose artifact is a file',
      });
    }
    return path;
  }

  /** Removes unreferenced blobs (and temporary files of interrupted copies); returns their digests. */
  async prune(referenced: ReadonlySet<string>, opts: { now: number; graceMs?: number; dryRun?: boolean }): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const removed: string[] = [];
    for (const name of names) {
      const isBlob = /^[a-f0-9]{64}$/.test(name);
      if (!isBlob && !name.startsWith('.incoming-')) continue;
      if (isBlob && referenced.has(`sha256:${name}`)) continue;
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info || opts.now - info.mtimeMs < (opts.graceMs ?? BLOB_GRACE_MS)) continue;
      if (!opts.dryRun) await unlink(path).catch(() => undefined);
      if (isBlob) removed.push(`sha256:${name}`);
    }
    return removed;
  }
}

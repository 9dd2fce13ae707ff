// The content-addressed artifact store on a real directory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { FsArtifactStore, blobPath } from '../../src/registry/fs-artifact-store.js';
import { MaasError } from '../../src/core/errors.js';
import { tempDir } from '../support/cli.js';
import { rejection } from '../support/assert.js';

let dir: { path: string; cleanup: () => void };
let blobs: string;
let store: FsArtifactStore;
const storeArtifact = (_dir: string, source: Parameters<FsArtifactStore['store']>[0]) => store.store(source);

beforeEach(() => {
  dir = tempDir('maas-blobs-');
  blobs = join(dir.path, 'home', 'blobs', 'sha256');
  store = new FsArtifactStore(blobs);
});

afterEach(() => dir.cleanup());

function file(name: string, content: string | Buffer): { path: string; digest: string } {
  const path = join(dir.path, name);
  writeFileSync(path, content);
  return { path, digest: `sha256:${createHash('sha256').update(content).digest('hex')}` };
}

describe('FsArtifactStore', () => {
  it('copies a local file to blobs/sha256/<hex> and reports digest and size', async () => {
    const f = file('model.onnx', 'weights');
    const ref = await storeArtifact(blobs, { uri: 'file://./model.onnx', path: f.path });
    expect(ref).toEqual({ digest: f.digest, size: 7, uri: 'file://./model.onnx' });
    expect(await store.localPath(ref.digest)).toBe(join(blobs, f.digest.slice(7)));
    expect(readFileSync(await store.localPath(ref.digest), 'utf8')).toBe('weights');
    expect(await store.size(ref.digest)).toBe(7);
    expect(await store.has(ref.digest)).toBe(true);
  });

  it('reads absolute file URIs without a separate path', async () => {
    const f = file('abs.onnx', 'abs');
    const ref = await storeArtifact(blobs, { uri: pathToFileURL(f.path).href });
    expect(ref.digest).toBe(f.digest);
  });

  it('stores identical bytes once, also when stored concurrently, and leaves no temporary files', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const a = file('a.onnx', big);
    const b = file('b.onnx', big);
    const refs = await Promise.all([a, b, a, b, a].map((f) => storeArtifact(blobs, { uri: 'file://x', path: f.path })));
    expect(new Set(refs.map((r) => r.digest)).size).toBe(1);
    expect(readdirSync(blobs)).toEqual([a.digest.slice(7)]);
    expect(readFileSync(await store.localPath(a.digest)).equals(big)).toBe(true);
  });

  it('accepts a matching declared digest', async () => {
    const f = file('m.onnx', 'bytes');
    expect((await storeArtifact(blobs, { uri: 'file://m', path: f.path, digest: f.digest })).digest).toBe(f.digest);
  });

  it('fails with VALIDATION on a digest mismatch and stores nothing', async () => {
    const f = file('m.onnx', 'bytes');
    const declared = `sha256:${'0'.repeat(64)}`;
    const e = await rejection(storeArtifact(blobs, { uri: 'file://./m.onnx', path: f.path, digest: declared }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain(f.digest);
    expect(e.message).toContain(declared);
    expect(e.hint).toContain('spec.artifact.digest');
    expect(readdirSync(blobs)).toEqual([]);
  });

  it('fails with VALIDATION when the file is missing', async () => {
    const e = await rejection(storeArtifact(blobs, { uri: 'file://./gone.onnx', path: join(dir.path, 'gone.onnx') }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain('no such file');
  });

  it('records remote artifacts by URI without fetching them', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(await storeArtifact(blobs, { uri: 'https://models.example.com/m.onnx', digest })).toEqual({
      digest,
      size: 0,
      uri: 'https://models.example.com/m.onnx',
    });
    expect(await storeArtifact(blobs, { uri: 's3://bucket/m.onnx' })).toEqual({ digest: '', size: 0, uri: 's3://bucket/m.onnx' });
  });

  it('puts a stream, opens it again, and says NOT_FOUND for what it does not hold', async () => {
    const put = await store.put(Readable.from([Buffer.from('stream '), Buffer.from('bytes')]));
    expect(put).toEqual({ digest: `sha256:${createHash('sha256').update('stream bytes').digest('hex')}`, size: 12 });
    const chunks: Buffer[] = [];
    for await (const c of await store.open(put.digest)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('stream bytes');
    const missing = `sha256:${'d'.repeat(64)}`;
    expect(await store.has(missing)).toBe(false);
    expect(await store.size(missing)).toBeUndefined();
    expect((await rejection(store.localPath(missing))).code).toBe('NOT_FOUND');
  });

  it('maps digests to blob paths and rejects malformed ones', () => {
    expect(blobPath('/b', `sha256:${'c'.repeat(64)}`)).toBe(join('/b', 'c'.repeat(64)));
    expect(() => blobPath('/b', 'md5:abc')).toThrow(MaasError);
  });
});

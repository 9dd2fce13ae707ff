// The file-system data reader: paths and file: URIs (relative ones from the base directory), the
// digest and header at open, streamed records and their count, and clear refusals of what it
// cannot read (other schemes, other formats, a missing file).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
const reader = new FsDatasetReader();
const TEXT = 'a,b\r\n1,x\r\n2,"y, z"\r\n\r\n3,\r\n';

beforeEach(() => {
  dir = tempDir('maas-datasets-');
  mkdirSync(join(dir.path, 'data'));
  writeFileSync(join(dir.path, 'data', 'train.csv'), TEXT);
});
afterEach(() => dir.cleanup());

describe('FsDatasetReader', () => {
  it('opens a path or a file: URI, relative ones from the base directory, with digest, size and header', async () => {
    const abs = join(dir.path, 'data', 'train.csv');
    const digest = `sha256:${createHash('sha256').update(TEXT).digest('hex')}`;
    for (const uri of ['data/train.csv', './data/train.csv', abs, 'file://./data/train.csv', 'file:data/train.csv', `file://${abs}`]) {
      const d = await reader.open(uri, { baseDir: dir.path });
      expect(d, uri).toMatchObject({
        uri: `file://${abs}`,
        path: abs,
        format: 'csv',
        digest,
        bytes: Buffer.byteLength(TEXT),
        columns: ['a', 'b'],
        rows: undefined,
      });
    }
  });

  it('streams the records keyed by column and counts them; every pass reads the file again', async () => {
    const d = await reader.open('data/train.csv', { baseDir: dir.path });
    const seen: Readonly<Record<string, string>>[] = [];
    for await (const r of d.records()) seen.push(r);
    expect(seen).toEqual([
      { a: '1', b: 'x' },
      { a: '2', b: 'y, z' },
      { a: '3', b: '' },
    ]);
    expect(d.rows).toBe(3);
    writeFileSync(join(dir.path, 'data', 'train.csv'), 'a,b\n9,9\n');
    let n = 0;
    for await (const _r of d.records()) n++;
    expect([n, d.rows]).toEqual([1, 1]);
  });

  it('refuses other schemes and formats, saying what it reads; a missing file is NOT_FOUND', async () => {
    const remote = await rejection(reader.open('https://data.example.com/train.csv', { baseDir: dir.path }));
    expect(remote).toMatchObject({ code: 'USAGE', details: { unsupported: 'scheme', scheme: 'https' } });
    expect(remote.message).toContain('only local files are read here (a path or a file:// URI), not https://');
    expect(await rejection(reader.open('s3://bucket/train.csv', { baseDir: dir.path }))).toMatchObject({ details: { unsupported: 'scheme' } });
    const json = await rejection(reader.open('data/rows.json', { baseDir: dir.path }));
    expect(json).toMatchObject({ code: 'USAGE', details: { unsupported: 'format', format: 'json' } });
    expect(json.message).toContain('only CSV with a header row is supported for now');
    // A declared format wins over the extension.
    expect(await rejection(reader.open('data/train.csv', { baseDir: dir.path, format: 'parquet' }))).toMatchObject({ details: { format: 'parquet' } });
    expect((await reader.open('data/train.csv', { baseDir: dir.path, format: 'csv' })).columns).toEqual(['a', 'b']);
    const missing = await rejection(reader.open('file://./nope.csv', { baseDir: dir.path }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(`data file not found: ${join(dir.path, 'nope.csv')}`);
    expect((await rejection(reader.open('data', { baseDir: dir.path }))).code).toBe('USAGE');
  });

  it('refuses a broken file at open (its header) or while streaming (a ragged row), naming it', async () => {
    writeFileSync(join(dir.path, 'dup.csv'), 'a,a\n1,2\n');
    expect((await rejection(reader.open('dup.csv', { baseDir: dir.path }))).message).toBe(
      `data file ${join(dir.path, 'dup.csv')} header names column "a" twice; give every column a distinct name`,
    );
    writeFileSync(join(dir.path, 'ragged.csv'), 'a,b\n1,2\n3\n');
    const d = await reader.open('ragged.csv', { baseDir: dir.path });
    const e = await rejection(
      (async () => {
        for await (const _r of d.records());
      })(),
    );
    expect(e.message).toBe(`data file ${join(dir.path, 'ragged.csv')} line 3 has 1 cell, the header has 2`);
  });
});

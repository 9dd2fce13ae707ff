// The register use case: files validated first, artifacts into the artifact store, all versions
// recorded together or none.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { register } from '../../src/app/register.js';
import { searchModels } from '../../src/app/search.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';

let dir: { path: string; cleanup: () => void };
let stores: MemoryStores;

beforeEach(() => {
  dir = tempDir('maas-app-register-');
  stores = memoryStores();
  writeFileSync(join(dir.path, 'model.onnx'), 'weights');
});
afterEach(() => dir.cleanup());

const write = (file: string, ...docs: unknown[]): string => {
  writeFileSync(join(dir.path, file), docs.map((d) => stringify(d)).join('---\n'));
  return file;
};

describe('register', () => {
  it('stores the artifact by digest and records every version, idempotently', async () => {
    const file = write('m.yaml', modelDescription({ name: 'har', version: '1' }), modelDescription({ name: 'har', version: '2' }));
    const rows = await register(stores, { files: [file], cwd: dir.path });
    expect(rows.map((r) => [r.name, r.version, r.status])).toEqual([
      ['har', '1', 'created'],
      ['har', '2', 'created'],
    ]);
    expect(stores.artifacts.blobs.size).toBe(1);
    expect(await stores.artifacts.has(rows[0]!.artifactDigest)).toBe(true);
    expect((await register(stores, { files: [file], cwd: dir.path })).map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect((await searchModels(stores, { task: 'classification' })).hits).toHaveLength(2);
  });

  it('registers nothing when one document is invalid or conflicts', async () => {
    const bad = write('bad.yaml', modelDescription({ name: 'har', version: '1' }), { ...modelDescription({ name: 'Bad Name', version: '1' }) });
    const e = await rejection(register(stores, { files: [bad], cwd: dir.path }));
    expect(e.code).toBe('VALIDATION');
    expect(stores.models.versions.size).toBe(0);

    await register(stores, { files: [write('one.yaml', modelDescription({ name: 'har', version: '1' }))], cwd: dir.path });
    const clash = write('clash.yaml', modelDescription({ name: 'other', version: '1' }), modelDescription({ name: 'har', version: '1', algorithm: 'MLP' }));
    expect((await rejection(register(stores, { files: [clash], cwd: dir.path }))).code).toBe('CONFLICT');
    expect([...stores.models.versions.keys()]).toEqual(['har@1']);
  });
});

describe('search', () => {
  it('names a requested metric no registered model reports, with the closest known one', async () => {
    const file = write('m.yaml', modelDescription({ name: 'har', version: '1', metrics: { accuracy: 0.9 } }));
    await register(stores, { files: [file], cwd: dir.path });
    const known = await stores.models.metricNames();
    expect(known).toContain('accuracy');
    const result = await searchModels(stores, { minMetrics: { acuracy: 0.5, accuracy: 0.5 } });
    expect(result.unknownMetrics).toEqual([{ name: 'acuracy', suggestion: 'accuracy' }]);
    expect((await searchModels(stores, { minMetrics: { accuracy: 0.5 } })).unknownMetrics).toBeUndefined();
  });
});

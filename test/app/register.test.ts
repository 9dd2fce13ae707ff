// The register use case: files validated first, artifacts into the artifact store, all versions
// recorded together or none; local training data profiled on the way, remote data noted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { NOT_PROFILED_ELSEWHERE, PROFILED_WHERE_THE_DATA_IS, register, type RegisteredVersion } from '../../src/app/register.js';
import { searchModels } from '../../src/app/search.js';
import { ManualClock, seededRandom } from '../../src/core/clock.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';

let dir: { path: string; cleanup: () => void };
let stores: MemoryStores;
/** What register is given: the stores, the real data reader, a fixed clock. */
let services: MemoryStores & { datasets: FsDatasetReader; clock: ManualClock };

beforeEach(() => {
  dir = tempDir('maas-app-register-');
  stores = memoryStores();
  services = { ...stores, datasets: new FsDatasetReader(), clock: new ManualClock(Date.UTC(2026, 1, 1)) };
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
    const rows = await register(services, { files: [file], cwd: dir.path });
    expect(rows.map((r) => [r.name, r.version, r.status])).toEqual([
      ['har', '1', 'created'],
      ['har', '2', 'created'],
    ]);
    expect(stores.artifacts.blobs.size).toBe(1);
    expect(await stores.artifacts.has(rows[0]!.artifactDigest)).toBe(true);
    expect((await register(services, { files: [file], cwd: dir.path })).map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect((await searchModels(services, { task: 'classification' })).hits).toHaveLength(2);
  });

  it('registers nothing when one document is invalid or conflicts', async () => {
    const bad = write('bad.yaml', modelDescription({ name: 'har', version: '1' }), { ...modelDescription({ name: 'Bad Name', version: '1' }) });
    const e = await rejection(register(services, { files: [bad], cwd: dir.path }));
    expect(e.code).toBe('VALIDATION');
    expect(stores.models.versions.size).toBe(0);

    await register(services, { files: [write('one.yaml', modelDescription({ name: 'har', version: '1' }))], cwd: dir.path });
    const clash = write('clash.yaml', modelDescription({ name: 'other', version: '1' }), modelDescription({ name: 'har', version: '1', algorithm: 'MLP' }));
    expect((await rejection(register(services, { files: [clash], cwd: dir.path }))).code).toBe('CONFLICT');
    expect([...stores.models.versions.keys()]).toEqual(['har@1']);
  });
});

describe('search', () => {
  it('names a requested metric no registered model reports, with the closest known one', async () => {
    const file = write('m.yaml', modelDescription({ name: 'har', version: '1', metrics: { accuracy: 0.9 } }));
    await register(services, { files: [file], cwd: dir.path });
    const known = await stores.models.metricNames();
    expect(known).toContain('accuracy');
    const result = await searchModels(services, { minMetrics: { acuracy: 0.5, accuracy: 0.5 } });
    expect(result.unknownMetrics).toEqual([{ name: 'acuracy', suggestion: 'accuracy' }]);
    expect((await searchModels(services, { minMetrics: { accuracy: 0.5 } })).unknownMetrics).toBeUndefined();
  });
});

/** A description with two features and training data at `uri`. */
function withData(version: string, data: NonNullable<ModelDescription['spec']['training']>['data']): ModelDescription {
  const d = modelDescription({
    name: 'har',
    version,
    features: [
      ['x', 'number'],
      ['device', 'category'],
    ],
  });
  return { ...d, spec: { ...d.spec, training: { ...(data ? { data } : {}) } } };
}

const CSV = 'x,device,label\n1,a,yes\n2,b,no\n3,a,yes\n,b,yes\n';

describe('register with training data', () => {
  it('profiles local data resolved from the description directory and stores it with the version', async () => {
    mkdirSync(join(dir.path, 'models', 'data'), { recursive: true });
    writeFileSync(join(dir.path, 'models', 'model.onnx'), 'weights');
    writeFileSync(join(dir.path, 'models', 'data', 'train.csv'), CSV);
    writeFileSync(join(dir.path, 'models', 'm.yaml'), stringify(withData('1', { uri: 'file://./data/train.csv', format: 'csv', target: 'label' })));
    const rows = await register(services, { files: ['models/m.yaml'], cwd: dir.path });
    expect(rows[0]).toMatchObject({ name: 'har', version: '1', status: 'created', profile: { rows: 4, features: 2 } });
    const profile = await stores.models.getProfile('har', '1');
    expect(profile).toMatchObject({
      rows: 4,
      source: { uri: `file://${join(dir.path, 'models', 'data', 'train.csv')}`, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      createdAt: '2026-02-01T00:00:00.000Z',
      target: { name: 'label', kind: 'categorical', count: 4, counts: { yes: 3, no: 1 } },
    });
    expect(profile!.features.map((f) => [f.name, f.count, f.missing])).toEqual([
      ['x', 3, 1],
      ['device', 4, 0],
    ]);
  });

  it('does not read the data again for an unchanged version that has a profile', async () => {
    writeFileSync(join(dir.path, 'train.csv'), CSV);
    const file = write('m.yaml', withData('1', { uri: 'file://./train.csv' }));
    await register(services, { files: [file], cwd: dir.path });
    const stored = await stores.models.getProfile('har', '1');
    // Unreadable now: a second register must not even open it.
    writeFileSync(join(dir.path, 'train.csv'), 'x\n"unclosed\n');
    services.clock.advance(60_000);
    const again = await register(services, { files: [file], cwd: dir.path });
    expect(again[0]).toMatchObject({ status: 'unchanged', profile: { rows: 4, features: 2 } });
    expect(await stores.models.getProfile('har', '1')).toEqual(stored);
  });

  it('registers nothing when local training data is missing or lacks a feature column', async () => {
    const missing = write('m.yaml', withData('1', { uri: 'file://./nope.csv' }));
    const e = await rejection(register(services, { files: [missing], cwd: dir.path }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain(join(dir.path, 'nope.csv'));
    expect(stores.models.versions.size).toBe(0);
    expect(stores.artifacts.blobs.size).toBe(0);

    writeFileSync(join(dir.path, 'bad.csv'), 'x,devise\n1,a\n');
    const typo = write('typo.yaml', withData('1', { uri: 'file://./bad.csv' }));
    const t = await rejection(register(services, { files: [typo], cwd: dir.path }));
    expect(t.code).toBe('VALIDATION');
    expect(t.message).toContain('no column for feature "device" (did you mean "devise"?)');
    expect(stores.models.versions.size).toBe(0);
  });

  it('records why remote or non-CSV data has no profile, and registers the version', async () => {
    const file = write(
      'm.yaml',
      withData('1', { uri: 'https://data.example.com/train.csv' }),
      withData('2', { uri: 's3://bucket/train.csv', format: 'csv' }),
      withData('3', { uri: 'file://./train.parquet', format: 'parquet' }),
      modelDescription({ name: 'plain', version: '1' }),
    );
    const rows = await register(services, { files: [file], cwd: dir.path });
    expect(rows.map((r: RegisteredVersion) => [r.version, r.status, r.profile])).toEqual([
      ['1', 'created', 'no profile: data not local'],
      ['2', 'created', 'no profile: data not local'],
      ['3', 'created', 'no profile: parquet data is not supported (CSV only)'],
      ['1', 'created', 'no training data'],
    ]);
    expect(stores.models.profiles.size).toBe(0);
  });

  it('stores no profile when another version of the same run conflicts', async () => {
    await register(services, { files: [write('one.yaml', modelDescription({ name: 'other', version: '1' }))], cwd: dir.path });
    writeFileSync(join(dir.path, 'train.csv'), CSV);
    const clash = write('clash.yaml', withData('1', { uri: 'file://./train.csv' }), modelDescription({ name: 'other', version: '1', algorithm: 'MLP' }));
    expect((await rejection(register(services, { files: [clash], cwd: dir.path }))).code).toBe('CONFLICT');
    expect(stores.models.profiles.size).toBe(0);
    expect([...stores.models.versions.keys()]).toEqual(['other@1']);
  });
});

/** A profile of x/device rows as the retraining Job computes it on the node: no sample rows. */
function nodeProfile(): ReferenceProfile {
  const b = new ProfileBuilder(
    [
      { name: 'x', type: 'number' },
      { name: 'device', type: 'category' },
    ],
    { random: seededRandom(1), target: { name: 'label', kind: 'categorical' } },
  );
  for (let i = 0; i < 7; i++) b.add({ x: String(i), device: i % 2 ? 'a' : 'b', label: 'yes' });
  const p = b.finish({ source: { uri: 'file:///maas/work/train.csv', digest: `sha256:${'0'.repeat(64)}` }, createdAt: '2026-01-31T00:00:00.000Z' });
  return { ...p, sample: { ...p.sample, rows: [] } };
}

describe('register a version trained where its data stayed (trainedElsewhere)', () => {
  it('stores the given profile; the training data file it names need not exist', async () => {
    const file = write('m.yaml', withData('2', { uri: 'file://./train.csv', target: 'label' }));
    const given = nodeProfile();
    const rows = await register(services, {
      files: [file],
      cwd: dir.path,
      trainedElsewhere: { profile: JSON.parse(JSON.stringify(given)), from: 'out/maas-profile.json' },
    });
    expect(rows[0]).toMatchObject({ name: 'har', version: '2', status: 'created', profile: { rows: 7, features: 2, note: PROFILED_WHERE_THE_DATA_IS } });
    expect(await stores.models.getProfile('har', '2')).toEqual(given);
    expect((await stores.models.profileSummary('har', '2'))?.sampleRows).toBe(0);
  });

  it('registers without a profile when none came, and refuses one that does not fit the description', async () => {
    const file = write('m.yaml', withData('2', { uri: 'file://./train.csv' }));
    const rows = await register(services, { files: [file], cwd: dir.path, trainedElsewhere: { from: 'out/maas-profile.json' } });
    expect(rows[0]).toMatchObject({ status: 'created', profile: NOT_PROFILED_ELSEWHERE });
    expect(stores.models.profiles.size).toBe(0);

    const other = write('o.yaml', withData('3', { uri: 'file://./train.csv' }));
    const misfit = { ...nodeProfile(), features: nodeProfile().features.filter((f) => f.name === 'x') };
    const e = await rejection(register(services, { files: [other], cwd: dir.path, trainedElsewhere: { profile: misfit, from: 'out/maas-profile.json' } }));
    expect(e).toMatchObject({
      code: 'VALIDATION',
      message: 'the reference profile out/maas-profile.json does not fit har@3: the profile has no feature device',
    });
    const bad = await rejection(register(services, { files: [other], cwd: dir.path, trainedElsewhere: { profile: { rows: 'many' }, from: 'p.json' } }));
    expect(bad.code).toBe('VALIDATION');
    expect(bad.message).toMatch(/^p\.json is not a reference profile: /);
    expect([...stores.models.versions.keys()]).toEqual(['har@2']);
  });

  it('applies to one description only', async () => {
    const file = write('m.yaml', withData('1', { uri: './train.csv' }), withData('2', { uri: 'file://./train.csv' }));
    const e = await rejection(register(services, { files: [file], cwd: dir.path, trainedElsewhere: { profile: nodeProfile(), from: 'p.json' } }));
    expect(e.code).toBe('VALIDATION');
    expect(stores.models.versions.size).toBe(0);
  });
});

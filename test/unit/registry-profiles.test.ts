// Reference profiles in the model stores: the same contract on the embedded SQLite registry (a
// real file) and the in-memory store the use-case tests use. Round trip, replace, NOT_FOUND for
// versions that are not registered, stored with registerModels all or nothing, deleted with the
// version; plus the SQLite migration that adds the table to an existing registry.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { seededRandom } from '../../src/core/clock.js';
import type { ArtifactRef } from '../../src/domain/model.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import type { ModelStore } from '../../src/registry/ports.js';
import { openDatabase } from '../../src/registry/sqlite/database.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/registry/sqlite/migrations.js';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { MemoryModelStore } from '../support/memory-stores.js';

const artifact: ArtifactRef = { digest: `sha256:${'1'.repeat(64)}`, size: 10, uri: 'file:///models/m.onnx' };

function profile(rows: number, seed = 1): ReferenceProfile {
  const b = new ProfileBuilder(
    [
      { name: 'x', type: 'number' },
      { name: 'c', type: 'category' },
    ],
    { random: seededRandom(seed), sampleSize: 5, target: { name: 'y', kind: 'categorical' } },
  );
  for (let i = 0; i < rows; i++) b.add({ x: String(i * 1.5), c: `k${i % 3}`, y: i % 2 ? 'yes' : 'no' });
  return b.finish({ source: { uri: 'file:///data/train.csv', digest: `sha256:${'a'.repeat(64)}` }, createdAt: '2026-01-01T00:00:00.000Z' });
}

let dir: { path: string; cleanup: () => void };
const opened: SqliteRegistry[] = [];
const sqlite = (): SqliteRegistry => {
  const r = SqliteRegistry.open({ file: join(dir.path, 'registry.db') });
  opened.push(r);
  return r;
};

beforeEach(() => {
  dir = tempDir('maas-profiles-');
});
afterEach(() => {
  for (const r of opened.splice(0)) r.close();
  dir.cleanup();
});

const backends: [string, () => ModelStore][] = [
  ['sqlite', sqlite],
  ['memory', () => new MemoryModelStore()],
];

for (const [backend, make] of backends) {
  describe(`profiles in the ${backend} store`, () => {
    it('round-trips a profile exactly, with a summary that reads no JSON', async () => {
      const store = make();
      await store.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
      expect(await store.getProfile('har', '1')).toBeUndefined();
      expect(await store.profileSummary('har', '1')).toBeUndefined();
      const p = profile(40);
      await store.setProfile('har', '1', p);
      expect(await store.getProfile('har', '1')).toEqual(p);
      expect(await store.profileSummary('har', '1')).toEqual({ rows: 40, features: 2, sampleRows: 5, source: p.source, createdAt: p.createdAt });
    });

    it('replaces the profile of an immutable version', async () => {
      const store = make();
      await store.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
      await store.setProfile('har', '1', profile(40));
      const newer = profile(7, 2);
      await store.setProfile('har', '1', newer);
      expect(await store.getProfile('har', '1')).toEqual(newer);
      expect((await store.profileSummary('har', '1'))?.rows).toBe(7);
    });

    it('is NOT_FOUND for a version that is not registered', async () => {
      const store = make();
      await store.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
      for (const call of [store.setProfile('har', '2', profile(3)), store.getProfile('har', '2'), store.profileSummary('nope', '1')]) {
        const e = await rejection(call);
        expect(e.code).toBe('NOT_FOUND');
        expect(e.message).toMatch(/is not registered/);
      }
    });

    it('stores profiles with registerModels, all or nothing', async () => {
      const store = make();
      const p = profile(10);
      const out = await store.registerModels([
        { description: modelDescription({ name: 'har', version: '1' }), artifact, profile: p },
        { description: modelDescription({ name: 'har', version: '2' }), artifact },
      ]);
      expect(out.map((o) => o.created)).toEqual([true, true]);
      expect(await store.getProfile('har', '1')).toEqual(p);
      expect(await store.getProfile('har', '2')).toBeUndefined();

      // A conflict in one item stores neither the new version nor any profile.
      const clash = [
        { description: modelDescription({ name: 'other', version: '1' }), artifact, profile: profile(3) },
        { description: modelDescription({ name: 'har', version: '2' }), artifact, profile: profile(4) },
        { description: modelDescription({ name: 'har', version: '1', algorithm: 'MLP' }), artifact },
      ];
      expect((await rejection(store.registerModels(clash))).code).toBe('CONFLICT');
      expect(await store.getModel('other', '1')).toBeUndefined();
      expect(await store.getProfile('har', '2')).toBeUndefined();

      // An unchanged version given a profile gets it.
      const again = await store.registerModels([{ description: modelDescription({ name: 'har', version: '2' }), artifact, profile: profile(4) }]);
      expect(again[0]?.created).toBe(false);
      expect((await store.profileSummary('har', '2'))?.rows).toBe(4);
    });

    it('deletes the profile with its version', async () => {
      const store = make();
      await store.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
      await store.setProfile('har', '1', profile(5));
      await store.deleteModel('har', '1');
      await store.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
      expect(await store.getProfile('har', '1')).toBeUndefined();
    });
  });
}

describe('profiles in SQLite', () => {
  it('persist in the file, in their own table keyed by the version row and cascaded on delete', async () => {
    const a = sqlite();
    await a.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
    const p = profile(12);
    await a.setProfile('har', '1', p);
    a.close();
    const b = sqlite();
    expect(await b.getProfile('har', '1')).toEqual(p);
    expect(b.db.prepare('SELECT count(*) AS n FROM model_profiles').get()).toEqual({ n: 1 });
    await b.deleteModel('har', '1');
    expect(b.db.prepare('SELECT count(*) AS n FROM model_profiles').get()).toEqual({ n: 0 });
  });

  it('migrates a registry made before profiles existed; its versions take profiles', async () => {
    const file = join(dir.path, 'old.db');
    const db = openDatabase(file);
    const v2 = MIGRATIONS.filter((m) => m.version <= 2);
    migrate(db, v2);
    expect(schemaVersion(db)).toBe(2);
    db.close();
    // A version registered by the previous schema (the v1 and v2 tables are unchanged).
    const old = SqliteRegistry.open({ file });
    opened.push(old);
    expect(schemaVersion(old.db)).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.find((m) => m.version === 3)).toMatchObject({ version: 3, name: 'reference profiles of model versions' });
    await old.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
    await old.setProfile('har', '1', profile(2));
    expect((await old.profileSummary('har', '1'))?.rows).toBe(2);
  });
});

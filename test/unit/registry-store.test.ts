// The embedded registry on real SQLite files: registration, idempotency, conflicts, "latest",
// listing, deletion and the delete-protection hook.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import type { ArtifactRef } from '../../src/domain/model.js';
import type { MaasError } from '../../src/core/errors.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { tempDir } from '../support/cli.js';
import { rejection } from '../support/assert.js';

const artifact = (n = 1): ArtifactRef => ({ digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 10, uri: 'file:///models/m.onnx' });

let dir: { path: string; cleanup: () => void };
let registry: SqliteRegistry;
let clock = 0;

function open(): SqliteRegistry {
  return SqliteRegistry.open({ file: join(dir.path, 'registry.db'), clock: { now: () => Date.UTC(2025, 0, 1) + clock++ * 1000 } });
}

beforeEach(() => {
  dir = tempDir('maas-registry-');
  registry = open();
  clock = 0;
});

afterEach(() => {
  registry.close();
  dir.cleanup();
});

describe('registerModel', () => {
  it('stores a version and returns the full record', async () => {
    const d = modelDescription({ name: 'har', version: '3', metrics: { accuracy: 0.94 }, labels: { team: 'vision' } });
    const { record, created } = await registry.registerModel(d, artifact());
    expect(created).toBe(true);
    expect(record).toMatchObject({ name: 'har', version: '3', artifact: artifact(), registeredAt: '2025-01-01T00:00:00.000Z' });
    expect(record.specDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(record.description).toEqual(d);
    expect(await registry.getModel('har', '3')).toEqual(record);
  });

  it('is a no-op success for identical content, whatever the key order', async () => {
    const d = modelDescription({ name: 'har', version: '3' });
    const first = await registry.registerModel(d, artifact());
    const reordered = JSON.parse(JSON.stringify({ spec: d.spec, metadata: d.metadata, kind: d.kind, apiVersion: d.apiVersion })) as typeof d;
    const again = await registry.registerModel(reordered, artifact());
    expect(again.created).toBe(false);
    expect(again.record).toEqual(first.record);
    expect(await registry.listVersions('har')).toHaveLength(1);
  });

  it('refuses different content under an existing name@version with CONFLICT (exit 5)', async () => {
    await registry.registerModel(modelDescription({ name: 'har', version: '3', description: 'one' }), artifact());
    const e = await rejection(registry.registerModel(modelDescription({ name: 'har', version: '3', description: 'two' }), artifact()));
    expect(e.code).toBe('CONFLICT');
    expect(e.exitCode).toBe(5);
    expect(e.message).toBe('har@3 is already registered with different content');
    expect(e.hint).toBe('versions are immutable; bump metadata.version');
    expect((await registry.getModel('har', '3'))?.description.metadata.description).toBe('one');
  });

  it('refuses the same description with different artifact bytes', async () => {
    await registry.registerModel(modelDescription({ name: 'har', version: '3' }), artifact(1));
    const e = await rejection(registry.registerModel(modelDescription({ name: 'har', version: '3' }), artifact(2)));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('different artifact bytes');
  });

  it('keeps records across connections', async () => {
    await registry.registerModel(modelDescription({ name: 'har', version: '1' }), artifact());
    registry.close();
    registry = open();
    expect((await registry.getModel('har'))?.version).toBe('1');
  });
});

describe('latest version', () => {
  it('orders integer versions numerically, not as text', async () => {
    for (const v of ['2', '10', '9']) await registry.registerModel(modelDescription({ name: 'm', version: v }), artifact());
    expect((await registry.getModel('m'))?.version).toBe('10');
    expect((await registry.listVersions('m')).map((r) => r.version)).toEqual(['10', '9', '2']);
  });

  it('follows semver precedence (prereleases below releases)', async () => {
    for (const v of ['1.2.0', '1.10.0-rc.1', '1.10.0', '1.9.9', '1.10.0-rc.2'])
      await registry.registerModel(modelDescription({ name: 'm', version: v }), artifact());
    expect((await registry.getModel('m'))?.version).toBe('1.10.0');
    expect((await registry.listVersions('m')).map((r) => r.version)).toEqual(['1.10.0', '1.10.0-rc.2', '1.10.0-rc.1', '1.9.9', '1.2.0']);
  });

  it('ranks an integer N like N.0.0 and keeps exactly one latest flag', async () => {
    for (const v of ['1.5.0', '2', '1']) await registry.registerModel(modelDescription({ name: 'm', version: v }), artifact());
    expect((await registry.getModel('m'))?.version).toBe('2');
    const flags = registry.db.prepare('SELECT version, is_latest FROM model_versions WHERE name = ? ORDER BY version').all('m');
    expect(flags).toEqual([
      { version: '1', is_latest: 0 },
      { version: '1.5.0', is_latest: 0 },
      { version: '2', is_latest: 1 },
    ]);
  });
});

describe('list, versions, get', () => {
  it('lists models with their latest version, version count, task and algorithm', async () => {
    await registry.registerModel(modelDescription({ name: 'b', version: '1', task: 'regression', algorithm: 'Ridge' }), artifact());
    await registry.registerModel(modelDescription({ name: 'a', version: '1' }), artifact());
    await registry.registerModel(modelDescription({ name: 'a', version: '2', algorithm: 'MLP' }), artifact());
    expect(await registry.listModels()).toEqual([
      { name: 'a', latest: '2', versions: 2, task: 'classification', algorithm: 'MLP', registeredAt: '2025-01-01T00:00:02.000Z' },
      { name: 'b', latest: '1', versions: 1, task: 'regression', algorithm: 'Ridge', registeredAt: '2025-01-01T00:00:00.000Z' },
    ]);
  });

  it('returns undefined and empty lists for unknown models', async () => {
    expect(await registry.getModel('nope')).toBeUndefined();
    expect(await registry.getModel('nope', '1')).toBeUndefined();
    expect(await registry.listVersions('nope')).toEqual([]);
    expect(await registry.listModels()).toEqual([]);
  });
});

describe('deleteModel', () => {
  it('removes one version with its search rows and moves "latest" back', async () => {
    await registry.registerModel(modelDescription({ name: 'm', version: '1', metrics: { accuracy: 0.9 }, labels: { a: 'b' } }), artifact());
    await registry.registerModel(modelDescription({ name: 'm', version: '2', metrics: { accuracy: 0.9 }, labels: { a: 'b' } }), artifact());
    await registry.deleteModel('m', '2');
    expect((await registry.getModel('m'))?.version).toBe('1');
    for (const table of ['model_specs', 'model_features', 'model_metrics', 'model_labels']) {
      expect(registry.db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 1 });
    }
    expect((await registry.searchModels({ text: 'm' })).hits.map((h) => h.version)).toEqual(['1']);
    await registry.deleteModel('m', '1');
    expect(await registry.listModels()).toEqual([]);
  });

  it('says NOT_FOUND (exit 4) with a hint for a missing version', async () => {
    const e = await rejection(registry.deleteModel('m', '9'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.exitCode).toBe(4);
    expect(e.hint).toContain('maas versions m');
  });

  it('has no dependents until deployments exist', async () => {
    await registry.registerModel(modelDescription({ name: 'm', version: '1' }), artifact());
    expect(await registry.dependents('m', '1')).toEqual([]);
  });

  it('says to purge when only cached deployments hold a version, and to decommission when running ones do', async () => {
    await registry.registerModel(modelDescription({ name: 'm', version: '1' }), artifact());
    const d = await registry.deployments.createDeployment(
      { id: 'd-1', model: 'm', version: '1', target: 'local', mode: 'open', consumer: 'a' },
      '2026-01-01T00:00:00Z',
    );
    const running = await rejection(registry.deleteModel('m', '1'));
    expect(running).toMatchObject({ code: 'IN_USE', message: 'm@1 is in use by deployment d-1' });
    expect(running.hint).toMatch(/^decommission those first/);
    await registry.deployments.setDeploymentState(d.id, 'cached', '2026-01-01T00:01:00Z');
    const cached = await rejection(registry.deleteModel('m', '1'));
    expect(cached.message).toBe('m@1 is in use by deployment d-1 (cached)');
    expect(cached.hint).toMatch(/^purge the cached deployments first/);
  });

  it('refuses with IN_USE (exit 5) while something depends on the version', async () => {
    class InUse extends SqliteRegistry {
      protected override dependentsOf(name: string, version: string): string[] {
        return [`d-${name}-${version}`];
      }
    }
    registry.close();
    registry = InUse.open({ file: join(dir.path, 'registry.db') });
    await registry.registerModel(modelDescription({ name: 'm', version: '1' }), artifact());
    const e = await rejection(registry.deleteModel('m', '1'));
    expect(e.code).toBe('IN_USE');
    expect(e.exitCode).toBe(5);
    expect(e.message).toContain('d-m-1');
    expect(await registry.getModel('m', '1')).toBeDefined();
  });
});

describe('rollout claims', () => {
  it('let one version change run at a time, taken over only when stale, released by its token', async () => {
    await registry.registerModel(modelDescription({ name: 'm', version: '1' }), artifact());
    await registry.deployments.createDeployment({ id: 'd-1', model: 'm', version: '1', target: 'local', mode: 'open', consumer: 'a' }, '2026-01-01T00:00:00Z');
    const claims = registry.deployments;
    expect(await claims.claimRollout('d-1', 'first', '2026-01-01T00:05:00Z', '2026-01-01T00:00:00Z')).toBe(true);
    expect(await claims.claimRollout('d-1', 'second', '2026-01-01T00:06:00Z', '2026-01-01T00:01:00Z')).toBe(false);
    await claims.releaseRollout('d-1', 'second');
    expect(await claims.claimRollout('d-1', 'second', '2026-01-01T00:06:00Z', '2026-01-01T00:01:00Z')).toBe(false);
    expect(await claims.claimRollout('d-1', 'third', '2026-01-01T00:30:00Z', '2026-01-01T00:10:00Z')).toBe(true);
    await claims.releaseRollout('d-1', 'third');
    expect(await claims.claimRollout('d-1', 'fourth', '2026-01-01T00:31:00Z', '2026-01-01T00:11:00Z')).toBe(true);
    expect((await rejection(claims.claimRollout('nope', 't', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'))).code).toBe('NOT_FOUND');
  });
});

describe('importModels', () => {
  it('bulk-loads versions and sets the latest flags once', async () => {
    const items = ['1', '3', '2'].map((v) => ({ description: modelDescription({ name: 'bulk', version: v }), artifact: artifact() }));
    expect(registry.importModels(items)).toBe(3);
    expect((await registry.getModel('bulk'))?.version).toBe('3');
    const e = (() => {
      try {
        registry.importModels(items.slice(0, 1));
      } catch (err) {
        return err as MaasError;
      }
      return undefined;
    })();
    expect(e?.code).toBe('CONFLICT');
    expect(await registry.listVersions('bulk')).toHaveLength(3);
  });
});

describe('openStores', () => {
  it('creates MAAS_HOME when missing and opens the database there', async () => {
    const { openStores } = await import('../../src/registry/open.js');
    const { resolveHome } = await import('../../src/core/home.js');
    const home = resolveHome({}, dir.path, join(dir.path, 'a', 'new', 'home'));
    const r = await openStores(home);
    await r.models.registerModel(modelDescription({ name: 'm', version: '1' }), artifact());
    r.close();
    const again = SqliteRegistry.open({ file: home.registryDb });
    expect((await again.getModel('m'))?.version).toBe('1');
    again.close();
  });

  it('takes another database file by file: URL and refuses remote locations for now', async () => {
    const { openStores } = await import('../../src/registry/open.js');
    const { resolveHome } = await import('../../src/core/home.js');
    const home = resolveHome({}, dir.path, join(dir.path, 'home'));
    const other = await openStores(home, { location: pathToFileURL(join(dir.path, 'elsewhere', 'r.db')).href });
    other.close();
    const e = await rejection(openStores(home, { location: 'https://registry.example.com' }));
    expect(e.code).toBe('USAGE');
  });
});

describe('equivalent versions', () => {
  it('refuses 2.0.0 when 2 is registered (and 1.0.0+b after 1.0.0+a), naming the registered one', async () => {
    await registry.registerModel(modelDescription({ name: 'm', version: '2' }), artifact());
    const e = await rejection(registry.registerModel(modelDescription({ name: 'm', version: '2.0.0' }), artifact()));
    expect(e).toMatchObject({ code: 'CONFLICT', message: 'm@2.0.0 is the same version as the registered m@2' });
    await registry.registerModel(modelDescription({ name: 'm', version: '1.0.0+a' }), artifact());
    expect((await rejection(registry.registerModel(modelDescription({ name: 'm', version: '1.0.0+b' }), artifact()))).code).toBe('CONFLICT');
    await registry.registerModel(modelDescription({ name: 'm', version: '2.0.1' }), artifact());
    expect((await registry.listVersions('m')).map((v) => v.version)).toEqual(['2.0.1', '2', '1.0.0+a']);
  });
});

// Compositions in the embedded registry (a real SQLite file): save, read, list, delete, the
// history, the upsert that keeps createdAt; the kind of deployments (a composition's router);
// migration 7 on a registry made before compositions existed; compositions as dependents that
// keep a model version from being deleted. The in-memory store the use-case tests use keeps the
// same contract.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import type { CompositionDescription, CompositionEvent, CompositionRecord, CompositionStore } from '../../src/domain/composition.js';
import type { ArtifactRef } from '../../src/domain/model.js';
import { openDatabase } from '../../src/registry/sqlite/database.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/registry/sqlite/migrations.js';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';
import { memoryStores } from '../support/memory-stores.js';

const artifact: ArtifactRef = { digest: `sha256:${'1'.repeat(64)}`, size: 10, uri: 'file:///models/m.onnx' };

function description(name: string, version = '1', members = ['har@1', 'har@2']): CompositionDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name, version },
    spec: {
      task: 'classification',
      features: ['x'],
      outputs: { labels: ['walking', 'sitting'] },
      mode: 'ensemble',
      aggregation: 'majority',
      members: members.map((m) => ({ model: m })),
    },
  };
}

function record(name: string, version = '1', members = ['har@1', 'har@2']): Omit<CompositionRecord, 'history' | 'createdAt' | 'updatedAt'> {
  return {
    name,
    version,
    description: description(name, version, members),
    specDigest: `sha256:${version.repeat(64).slice(0, 64)}`,
    router: `router-${name}`,
    members: members.map((key, i) => ({ key, deployment: `d-${i + 1}`, weight: 1, role: 'member', timeoutMs: 1000, created: i === 0 })),
  };
}

const event = (at: string, e: CompositionEvent['event'] = 'applied', extra: Partial<CompositionEvent> = {}): CompositionEvent => ({
  at,
  event: e,
  version: '1',
  summary: `${e} at ${at}`,
  ...extra,
});

let dir: { path: string; cleanup: () => void };
const opened: SqliteRegistry[] = [];
const sqlite = (file = join(dir.path, 'registry.db')): SqliteRegistry => {
  const r = SqliteRegistry.open({ file });
  opened.push(r);
  return r;
};

beforeEach(() => {
  dir = tempDir('maas-compositions-');
});

afterEach(() => {
  for (const r of opened.splice(0)) r.close();
  dir.cleanup();
});

const stores: [string, () => CompositionStore][] = [
  ['sqlite', () => sqlite().compositions],
  ['memory', () => memoryStores().compositions],
];

describe.each(stores)('CompositionStore (%s)', (_, make) => {
  it('saves, reads, lists by name and deletes a composition', async () => {
    const store = make();
    expect(await store.getComposition('ens')).toBeUndefined();
    expect(await store.listCompositions()).toEqual([]);
    const saved = await store.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z', 'applied', { detail: { plan: [1, 2] } }));
    expect(saved).toEqual({
      ...record('ens'),
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      history: [event('2026-01-01T00:00:00.000Z', 'applied', { detail: { plan: [1, 2] } })],
    });
    expect(await store.getComposition('ens')).toEqual(saved);
    await store.saveComposition(record('abc'), event('2026-01-01T00:01:00.000Z'));
    expect((await store.listCompositions()).map((c) => c.name)).toEqual(['abc', 'ens']);

    await store.deleteComposition('ens');
    expect(await store.getComposition('ens')).toBeUndefined();
    expect((await store.listCompositions()).map((c) => c.name)).toEqual(['abc']);
    await store.deleteComposition('ens'); // absent is fine
  });

  it('upserts by name, keeping createdAt and appending to the history oldest first', async () => {
    const store = make();
    await store.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z'));
    await store.addCompositionEvent('ens', event('2026-01-01T00:05:00.000Z', 'adapted', { summary: 'dry run', detail: { scores: [0.5] } }));
    const updated = await store.saveComposition(record('ens', '2', ['har@2']), event('2026-01-01T00:10:00.000Z', 'updated', { version: '2' }));
    expect(updated).toMatchObject({ version: '2', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:10:00.000Z' });
    expect(updated.members.map((m) => m.key)).toEqual(['har@2']);
    expect(updated.description.metadata.version).toBe('2');
    expect(updated.history.map((h) => [h.event, h.at])).toEqual([
      ['applied', '2026-01-01T00:00:00.000Z'],
      ['adapted', '2026-01-01T00:05:00.000Z'],
      ['updated', '2026-01-01T00:10:00.000Z'],
    ]);
    expect(updated.history[1]).toEqual(event('2026-01-01T00:05:00.000Z', 'adapted', { summary: 'dry run', detail: { scores: [0.5] } }));
    expect(updated.history[0]).not.toHaveProperty('detail');
    expect(await store.getComposition('ens')).toEqual(updated);
  });

  it('adds an event only to a composition that exists (NOT_FOUND otherwise)', async () => {
    const store = make();
    const e = await rejection(store.addCompositionEvent('nope', event('2026-01-01T00:00:00.000Z', 'adapted')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain('nope');
    expect(await store.getComposition('nope')).toBeUndefined();
  });

  it('starts a fresh history when a deleted name is applied again', async () => {
    const store = make();
    await store.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z'));
    await store.saveComposition(record('ens'), event('2026-01-01T00:01:00.000Z', 'updated'));
    await store.deleteComposition('ens');
    const again = await store.saveComposition(record('ens'), event('2026-01-02T00:00:00.000Z'));
    expect(again.createdAt).toBe('2026-01-02T00:00:00.000Z');
    expect(again.history).toEqual([event('2026-01-02T00:00:00.000Z')]);
  });
});

describe('compositions in the SQLite registry', () => {
  it('keep their history in composition_events and delete it with them', async () => {
    const r = sqlite();
    await r.compositions.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z'));
    await r.compositions.addCompositionEvent('ens', event('2026-01-01T00:01:00.000Z', 'adapted'));
    expect(r.db.prepare('SELECT name, seq, event FROM composition_events ORDER BY seq').all()).toEqual([
      { name: 'ens', seq: 1, event: 'applied' },
      { name: 'ens', seq: 2, event: 'adapted' },
    ]);
    await r.compositions.deleteComposition('ens');
    expect(r.db.prepare('SELECT count(*) AS n FROM composition_events').get()).toEqual({ n: 0 });
  });

  it('survive reopening the file', async () => {
    const a = sqlite();
    const saved = await a.compositions.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z'));
    a.close();
    expect(await sqlite().compositions.getComposition('ens')).toEqual(saved);
  });
});

describe('deployment kind', () => {
  const base = { target: 'local', mode: 'open', consumer: 'a' } as const;

  it('round-trips a router; model deployments read without a kind', async () => {
    const r = sqlite();
    const router = await r.deployments.createDeployment({ ...base, id: 'd-r', kind: 'composition', model: 'ens', version: '1' }, '2026-01-01T00:00:00Z');
    expect(router.kind).toBe('composition');
    const model = await r.deployments.createDeployment({ ...base, id: 'd-m', kind: 'model', model: 'har', version: '1' }, '2026-01-01T00:00:00Z');
    const plain = await r.deployments.createDeployment({ ...base, id: 'd-p', model: 'har', version: '2' }, '2026-01-01T00:00:00Z');
    expect(model).not.toHaveProperty('kind');
    expect(plain).not.toHaveProperty('kind');
    expect((await r.deployments.getDeployment('d-r'))?.kind).toBe('composition');
    expect((await r.deployments.listDeployments()).map((d) => [d.id, d.kind])).toEqual([
      ['d-m', undefined],
      ['d-p', undefined],
      ['d-r', 'composition'],
    ]);
    expect(r.db.prepare('SELECT id, kind FROM deployments ORDER BY id').all()).toEqual([
      { id: 'd-m', kind: 'model' },
      { id: 'd-p', kind: 'model' },
      { id: 'd-r', kind: 'composition' },
    ]);
    const changed = await r.deployments.setDeploymentState('d-r', 'ready', '2026-01-01T00:01:00Z', { endpoint: 'http://127.0.0.1:9000' });
    expect(changed.kind).toBe('composition');
  });

  it('is kept the same way by the in-memory store', async () => {
    const { deployments } = memoryStores();
    expect((await deployments.createDeployment({ ...base, id: 'd-r', kind: 'composition', model: 'ens', version: '1' }, '2026-01-01T00:00:00Z')).kind).toBe(
      'composition',
    );
    expect(await deployments.createDeployment({ ...base, id: 'd-m', kind: 'model', model: 'har', version: '1' }, '2026-01-01T00:00:00Z')).not.toHaveProperty(
      'kind',
    );
  });
});

describe('migration 7', () => {
  it('adds the compositions tables', () => {
    expect(MIGRATIONS.find((m) => m.version === 7)).toMatchObject({ version: 7, name: 'compositions, their history, and the kind of each deployment' });
    const r = sqlite();
    const tables = (r.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['compositions', 'composition_events']));
  });

  it('keeps the deployments of a version-6 registry as model deployments', async () => {
    const file = join(dir.path, 'old.db');
    const db = openDatabase(file);
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 6),
    );
    expect(schemaVersion(db)).toBe(6);
    db.prepare(
      `INSERT INTO deployments (id, model, version, target, mode, state, created_at, updated_at)
       VALUES ('d-old', 'har', '1', 'local', 'open', 'ready', '2025-06-01T00:00:00Z', '2025-06-01T00:00:00Z')`,
    ).run();
    db.prepare("INSERT INTO deployment_consumers (deployment_id, consumer, added_at) VALUES ('d-old', 'a', '2025-06-01T00:00:00Z')").run();
    db.close();

    const r = sqlite(file);
    expect(schemaVersion(r.db)).toBe(MIGRATIONS.length);
    expect(r.db.prepare('SELECT id, kind FROM deployments').all()).toEqual([{ id: 'd-old', kind: 'model' }]);
    const old = await r.deployments.getDeployment('d-old');
    expect(old).toMatchObject({ id: 'd-old', model: 'har', version: '1', state: 'ready', consumers: ['a'] });
    expect(old).not.toHaveProperty('kind');
    await r.compositions.saveComposition(record('ens'), event('2026-01-01T00:00:00.000Z'));
    expect((await r.compositions.listCompositions()).map((c) => c.name)).toEqual(['ens']);
  });
});

describe('dependents', () => {
  it('lists the compositions a version is a member of, and deleting it says IN_USE', async () => {
    const r = sqlite();
    await r.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
    await r.registerModel(modelDescription({ name: 'har', version: '2' }), artifact);
    await r.registerModel(modelDescription({ name: 'har', version: '3' }), artifact);
    await r.compositions.saveComposition(record('ens', '1', ['har@1', 'har@2']), event('2026-01-01T00:00:00.000Z'));
    await r.compositions.saveComposition(record('alt', '1', ['har@2']), event('2026-01-01T00:00:00.000Z'));
    await r.deployments.createDeployment({ id: 'd-1', model: 'har', version: '2', target: 'local', mode: 'open', consumer: 'a' }, '2026-01-01T00:00:00Z');

    expect(await r.dependents('har', '1')).toEqual(['composition ens']);
    expect(await r.dependents('har', '2')).toEqual(['deployment d-1', 'composition alt', 'composition ens']);
    expect(await r.dependents('har', '3')).toEqual([]);

    const e = await rejection(r.deleteModel('har', '1'));
    expect(e).toMatchObject({ code: 'IN_USE', message: 'har@1 is in use by composition ens', details: { dependents: ['composition ens'] } });
    expect(e.exitCode).toBe(5);
    expect(e.hint).toMatch(/compositions/);
    expect(await r.getModel('har', '1')).toBeDefined();

    await r.compositions.deleteComposition('ens');
    await r.deleteModel('har', '1');
    expect(await r.getModel('har', '1')).toBeUndefined();
  });

  it("does not count a composition's router as a deployment of a model with its name", async () => {
    const r = sqlite();
    await r.registerModel(modelDescription({ name: 'ens', version: '1' }), artifact);
    await r.deployments.createDeployment(
      { id: 'd-r', kind: 'composition', model: 'ens', version: '1', target: 'local', mode: 'open', consumer: 'a' },
      '2026-01-01T00:00:00Z',
    );
    expect(await r.dependents('ens', '1')).toEqual([]);
  });

  it('are the same in the in-memory model store', async () => {
    const s = memoryStores();
    await s.models.registerModel(modelDescription({ name: 'har', version: '1' }), artifact);
    await s.compositions.saveComposition(record('ens', '1', ['har@1']), event('2026-01-01T00:00:00.000Z'));
    expect(await s.models.dependents('har', '1')).toEqual(['composition ens']);
    expect((await rejection(s.models.deleteModel('har', '1'))).code).toBe('IN_USE');
  });
});

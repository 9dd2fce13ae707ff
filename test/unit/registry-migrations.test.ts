// Schema migrations on fresh and existing database files.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/registry/sqlite/database.js';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from '../../src/registry/sqlite/migrations.js';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import { MaasError } from '../../src/core/errors.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
let file: string;
const open: Db[] = [];

function db(): Db {
  const d = openDatabase(file);
  open.push(d);
  return d;
}

beforeEach(() => {
  dir = tempDir('maas-migrations-');
  file = join(dir.path, 'registry.db');
});

afterEach(() => {
  for (const d of open.splice(0)) if (d.open) d.close();
  dir.cleanup();
});

function thrown(fn: () => unknown): MaasError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MaasError);
    return e as MaasError;
  }
  throw new Error('expected a MaasError');
}

describe('migrate', () => {
  it('creates the whole schema on a fresh file and records each migration', () => {
    const d = db();
    expect(schemaVersion(d)).toBe(0);
    expect(migrate(d)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(schemaVersion(d)).toBe(MIGRATIONS.length);
    const tables = (d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'schema_migrations',
        'model_versions',
        'model_specs',
        'model_features',
        'model_metrics',
        'model_labels',
        'model_text',
        'deployments',
        'compositions',
        'composition_events',
        'jobs',
        'job_logs',
        'api_tokens',
        'audit_log',
        'idempotency_keys',
      ]),
    );
    // Deployments say what they run (7); the control plane's tables are there (8).
    expect(MIGRATIONS.at(-1)?.version).toBe(8);
    expect((d.prepare('PRAGMA table_info(deployments)').all() as { name: string }[]).map((c) => c.name)).toContain('kind');
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(d.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(d.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('is a no-op on an up-to-date file', () => {
    migrate(db());
    const again = db();
    expect(migrate(again)).toEqual([]);
    expect(again.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
  });

  it('applies only the new migrations to an existing file and keeps its data', async () => {
    const registry = SqliteRegistry.open({ file });
    await registry.registerModel(modelDescription({ name: 'kept', version: '1' }), { digest: '', size: 0, uri: 'https://x/m.onnx' });
    registry.close();

    const next: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'test: add a column',
      up: (d) => d.exec('ALTER TABLE model_versions ADD COLUMN note TEXT'),
    };
    const d = db();
    expect(migrate(d, [...MIGRATIONS, next])).toEqual([next.version]);
    expect(schemaVersion(d)).toBe(next.version);
    expect(d.prepare('SELECT name, note FROM model_versions').all()).toEqual([{ name: 'kept', note: null }]);
  });

  it('rolls a failing migration back entirely', () => {
    migrate(db());
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'test: fails halfway',
      up: (d) => {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        d.exec('SELECT * FROM no_such_table');
      },
    };
    const d = db();
    expect(() => migrate(d, [...MIGRATIONS, broken])).toThrow();
    expect(schemaVersion(d)).toBe(MIGRATIONS.length);
    expect(d.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
  });

  it('refuses a file from a newer maas', () => {
    const d = db();
    migrate(d, [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'future', up: () => undefined }]);
    const e = thrown(() => migrate(db()));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toContain('newer');
    expect(e.hint).toContain('upgrade maas');
  });

  it('rejects a list with gaps or out of order', () => {
    const m = (version: number): Migration => ({ version, name: `m${version}`, up: () => undefined });
    expect(thrown(() => migrate(db(), [m(1), m(3)])).code).toBe('INTERNAL');
    expect(thrown(() => migrate(db(), [m(2), m(1)])).code).toBe('INTERNAL');
  });
});

// Versioned schema migrations. Each migration runs in its own BEGIN IMMEDIATE transaction that
// first re-checks schema_migrations, so several processes opening a fresh MAAS_HOME at once apply
// each migration exactly once: the others wait on the write lock, then find it applied.
// Append new migrations to the list; never edit one that has shipped.
import { MaasError } from '../../core/errors.js';
import type { Db } from './database.js';
import { MODEL_VERSIONS_V1 } from './schema-v1.js';
import {
  DEPLOYMENT_KIND_MIGRATION_SQL,
  DEPLOYMENT_VERSIONS_MIGRATION_SQL,
  DEPLOYMENTS_MIGRATION_SQL,
  ROLLOUT_CLAIMS_MIGRATION_SQL,
} from './deployments-table.js';
import { COMPOSITIONS_MIGRATION_SQL } from './compositions-table.js';
import { PROFILES_MIGRATION_SQL } from './profiles-table.js';
import { LINEAGE_MIGRATION_SQL } from './lineage-table.js';
import { CONTROL_PLANE_MIGRATION_SQL } from './control-plane-tables.js';
import { isoNow, systemClock, type Clock } from '../../core/clock.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'model versions, features, metrics, labels, full-text index', up: (db) => db.exec(MODEL_VERSIONS_V1) },
  { version: 2, name: 'deployments, their consumers and state history', up: (db) => db.exec(DEPLOYMENTS_MIGRATION_SQL) },
  { version: 3, name: 'reference profiles of model versions', up: (db) => db.exec(PROFILES_MIGRATION_SQL) },
  { version: 4, name: 'lineage of retrained model versions', up: (db) => db.exec(LINEAGE_MIGRATION_SQL) },
  { version: 5, name: 'served version changes of deployments (rollouts)', up: (db) => db.exec(DEPLOYMENT_VERSIONS_MIGRATION_SQL) },
  { version: 6, name: 'one running rollout per deployment', up: (db) => db.exec(ROLLOUT_CLAIMS_MIGRATION_SQL) },
  {
    version: 7,
    name: 'compositions, their history, and the kind of each deployment',
    up: (db) => db.exec(DEPLOYMENT_KIND_MIGRATION_SQL + COMPOSITIONS_MIGRATION_SQL),
  },
  { version: 8, name: 'control plane: jobs, API tokens, audit log, idempotency keys', up: (db) => db.exec(CONTROL_PLANE_MIGRATION_SQL) },
];

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/** Highest applied migration, 0 for a fresh database. Reads only. */
export function schemaVersion(db: Db): number {
  const ledger = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!ledger) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies the missing migrations in order; returns the versions this call applied. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, clock: Pick<Clock, 'now'> = systemClock): number[] {
  const target = migrations.reduce((v, m, i) => {
    if (m.version <= v || (i > 0 && m.version !== (migrations[i - 1] as Migration).version + 1)) {
      throw new MaasError('INTERNAL', `migration ${m.version} is out of order`);
    }
    return m.version;
  }, 0);
  const current = schemaVersion(db);
  if (current > target) {
    throw new MaasError('FAILURE', `the registry schema is version ${current}, newer than this maas understands (${target})`, {
      hint: 'upgrade maas, or point MAAS_HOME at another directory',
    });
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    const ran = db
      .transaction(() => {
        db.exec(LEDGER);
        if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return false;
        m.up(db);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, isoNow(clock));
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}

// Deployment records in the embedded registry: one row per deployment, its consumers and its
// state history. A unique slot index makes concurrent deploys of the same model and target join
// one deployment instead of starting two.
import type Database from 'better-sqlite3';
import { MaasError } from '../../core/errors.js';
import type {
  DeploymentEvent,
  DeploymentPatch,
  DeploymentRecord,
  DeploymentState,
  DeploymentStore,
  NewDeployment,
  PlacementMode,
  TargetName,
  VersionChange,
  VersionChangeReason,
} from '../../domain/deployment.js';
import { DataVersion } from './data-version.js';
import { prepared } from './statement-cache.js';

export const DEPLOYMENTS_MIGRATION_SQL = `
CREATE TABLE deployments (
  id          TEXT PRIMARY KEY,
  model       TEXT NOT NULL,
  version     TEXT NOT NULL,
  target      TEXT NOT NULL,
  mode        TEXT NOT NULL,
  node        TEXT NOT NULL DEFAULT '',
  namespace   TEXT NOT NULL DEFAULT '',
  cluster     TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL,
  reason      TEXT,
  endpoint    TEXT,
  runtime     TEXT NOT NULL DEFAULT '{}',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  expires_at  TEXT
);
CREATE UNIQUE INDEX deployments_slot ON deployments (model, version, target, mode, node, namespace, cluster);
CREATE TABLE deployment_consumers (
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  consumer      TEXT NOT NULL,
  added_at      TEXT NOT NULL,
  PRIMARY KEY (deployment_id, consumer)
);
CREATE TABLE deployment_events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  at            TEXT NOT NULL,
  state         TEXT NOT NULL,
  reason        TEXT
);
CREATE INDEX deployment_events_by_deployment ON deployment_events (deployment_id, seq);
`;

/** Migration 5: the served version's changes (rollouts and rollbacks), per deployment. */
export const DEPLOYMENT_VERSIONS_MIGRATION_SQL = `
CREATE TABLE deployment_versions (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  at            TEXT NOT NULL,
  from_version  TEXT NOT NULL,
  to_version    TEXT NOT NULL,
  reason        TEXT NOT NULL,
  comparison    TEXT
);
CREATE INDEX deployment_versions_by_deployment ON deployment_versions (deployment_id, seq);
`;

/** One running version change per deployment: a claim row, taken over only when stale. */
export const ROLLOUT_CLAIMS_MIGRATION_SQL = `
CREATE TABLE rollout_claims (
  deployment_id TEXT PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
  token         TEXT NOT NULL,
  at            TEXT NOT NULL
);
`;

/** Migration 7 (with the compositions tables): what a deployment runs; rows from before serve models. */
export const DEPLOYMENT_KIND_MIGRATION_SQL = `
ALTER TABLE deployments ADD COLUMN kind TEXT NOT NULL DEFAULT 'model';
`;

interface Row {
  id: string;
  kind: string;
  model: string;
  version: string;
  target: string;
  mode: string;
  node: string;
  namespace: string;
  cluster: string;
  state: string;
  reason: string | null;
  endpoint: string | null;
  runtime: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

/**
 * The deployments that serve the model version `name@version` (the registry refuses to delete
 * those). A composition's router names the composition, not a model, so it is not one of them.
 */
export function deploymentsOf(db: Database.Database, name: string, version: string): { id: string; state: string }[] {
  return db.prepare("SELECT id, state FROM deployments WHERE model = ? AND version = ? AND kind = 'model' ORDER BY id").all(name, version) as {
    id: string;
    state: string;
  }[];
}

// Reads use statements prepared once per connection: status requests read a deployment each time.
export class SqliteDeploymentStore implements DeploymentStore {
  /**
   * A row with its consumers, history and rollouts in one read transaction: one snapshot, and one
   * lock taken instead of four.
   */
  private readonly read: (id: string) => DeploymentRecord | undefined;
  private readonly readAll: (sql: string, params: string[]) => DeploymentRecord[];
  /** Bumped after every write below (even a failed one: it may have changed nothing, never harm). */
  private readonly version: DataVersion;

  constructor(private readonly db: Database.Database) {
    this.version = DataVersion.of(db);
    this.read = db.transaction((id: string) => {
      const r = this.row(id);
      return r ? this.hydrate(r) : undefined;
    });
    this.readAll = db.transaction((sql: string, params: string[]) => (prepared(db, sql).all(...params) as Row[]).map((r) => this.hydrate(r)));
  }

  private hydrate(row: Row): DeploymentRecord {
    const consumers = (
      prepared(this.db, 'SELECT consumer FROM deployment_consumers WHERE deployment_id = ? ORDER BY added_at, consumer').all(row.id) as { consumer: string }[]
    ).map((c) => c.consumer);
    const history = (
      prepared(this.db, 'SELECT at, state, reason FROM deployment_events WHERE deployment_id = ? ORDER BY seq').all(row.id) as {
        at: string;
        state: DeploymentState;
        reason: string | null;
      }[]
    ).map((e): DeploymentEvent => (e.reason ? { at: e.at, state: e.state, reason: e.reason } : { at: e.at, state: e.state }));
    const rollouts = (
      prepared(this.db, 'SELECT at, from_version, to_version, reason, comparison FROM deployment_versions WHERE deployment_id = ? ORDER BY seq').all(
        row.id,
      ) as {
        at: string;
        from_version: string;
        to_version: string;
        reason: string;
        comparison: string | null;
      }[]
    ).map((v): VersionChange => ({
      at: v.at,
      from: v.from_version,
      to: v.to_version,
      reason: v.reason as VersionChangeReason,
      ...(v.comparison !== null ? { comparison: JSON.parse(v.comparison) as unknown } : {}),
    }));
    const record: DeploymentRecord = {
      id: row.id,
      // Only a router says what it is: model deployments read as they did before kinds existed.
      ...(row.kind === 'composition' ? { kind: row.kind } : {}),
      model: row.model,
      version: row.version,
      target: row.target,
      mode: row.mode as PlacementMode,
      state: row.state as DeploymentState,
      runtime: JSON.parse(row.runtime) as Record<string, unknown>,
      consumers,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      history,
    };
    if (row.node) record.node = row.node;
    if (row.namespace) record.namespace = row.namespace;
    if (row.cluster) record.cluster = row.cluster;
    if (row.reason) record.reason = row.reason;
    if (row.endpoint) record.endpoint = row.endpoint;
    if (row.expires_at) record.expiresAt = row.expires_at;
    if (rollouts.length > 0) record.rollouts = rollouts;
    return record;
  }

  private row(id: string): Row | undefined {
    return prepared(this.db, 'SELECT * FROM deployments WHERE id = ?').get(id) as Row | undefined;
  }

  private must(id: string): Row {
    const r = this.row(id);
    if (!r) throw new MaasError('NOT_FOUND', `no deployment "${id}"`, { hint: 'list deployments with `maas ps`' });
    return r;
  }

  async createDeployment(d: NewDeployment, at: string): Promise<DeploymentRecord> {
    try {
      const tx = this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO deployments (id, kind, model, version, target, mode, node, namespace, cluster, state, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
          )
          .run(d.id, d.kind ?? 'model', d.model, d.version, d.target, d.mode, d.node ?? '', d.namespace ?? '', d.cluster ?? '', at, at);
        this.db.prepare('INSERT INTO deployment_consumers (deployment_id, consumer, added_at) VALUES (?, ?, ?)').run(d.id, d.consumer, at);
        this.db.prepare("INSERT INTO deployment_events (deployment_id, at, state) VALUES (?, ?, 'queued')").run(d.id, at);
      });
      try {
        tx.immediate();
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new MaasError('CONFLICT', `a deployment of ${d.model}@${d.version} on ${d.target} already exists`, { cause: e });
        }
        throw e;
      }
      return this.hydrate(this.must(d.id));
    } finally {
      this.version.bump();
    }
  }

  /** Grows after this store's writes and other connections' commits: equal numbers, equal reads. */
  dataVersion(): number {
    return this.version.current();
  }

  async getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    return this.read(id);
  }

  async listDeployments(filter: { model?: string; version?: string; target?: TargetName } = {}): Promise<DeploymentRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    for (const [col, value] of [
      ['model', filter.model],
      ['version', filter.version],
      ['target', filter.target],
    ] as const) {
      if (value !== undefined) {
        where.push(`${col} = ?`);
        params.push(value);
      }
    }
    return this.readAll(`SELECT * FROM deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params);
  }

  async setDeploymentState(id: string, state: DeploymentState, at: string, patch: DeploymentPatch = {}): Promise<DeploymentRecord> {
    try {
      const tx = this.db.transaction(() => {
        const current = this.must(id);
        const sets = ['state = ?', 'updated_at = ?'];
        const params: unknown[] = [state, at];
        const changes: [string, unknown][] = [
          ['reason', patch.reason],
          ['endpoint', patch.endpoint],
          ['runtime', patch.runtime === undefined ? undefined : JSON.stringify(patch.runtime)],
          ['expires_at', patch.expiresAt],
        ];
        for (const [column, value] of changes) {
          if (value === undefined) continue;
          sets.push(`${column} = ?`);
          params.push(value);
        }
        this.db.prepare(`UPDATE deployments SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
        const reason = patch.reason === undefined ? current.reason : patch.reason;
        // History records transitions, not every refresh of the same state.
        if (current.state !== state || (state === 'failed' && reason !== current.reason)) {
          this.db.prepare('INSERT INTO deployment_events (deployment_id, at, state, reason) VALUES (?, ?, ?, ?)').run(id, at, state, reason ?? null);
        }
      });
      tx.immediate();
      return this.hydrate(this.must(id));
    } finally {
      this.version.bump();
    }
  }

  async claimRollout(id: string, token: string, at: string, staleBefore: string): Promise<boolean> {
    try {
      this.must(id);
      // One statement: insert, or take over a stale claim; a live claim of someone else stays.
      const r = this.db
        .prepare(
          'INSERT INTO rollout_claims (deployment_id, token, at) VALUES (?, ?, ?) ON CONFLICT (deployment_id) DO UPDATE SET token = excluded.token, at = excluded.at WHERE rollout_claims.at < ?',
        )
        .run(id, token, at, staleBefore);
      return r.changes === 1;
    } finally {
      this.version.bump();
    }
  }

  async releaseRollout(id: string, token: string): Promise<void> {
    try {
      this.db.prepare('DELETE FROM rollout_claims WHERE deployment_id = ? AND token = ?').run(id, token);
    } finally {
      this.version.bump();
    }
  }

  async changeVersion(id: string, change: VersionChange, patch: DeploymentPatch = {}): Promise<DeploymentRecord> {
    try {
      const tx = this.db.transaction(() => {
        const current = this.must(id);
        if (current.version !== change.from) {
          throw new MaasError('CONFLICT', `deployment ${id} serves ${current.model}@${current.version} now, not @${change.from}`, {
            hint: 'another rollout changed it meanwhile; see `maas history ' + id + '`',
          });
        }
        const sets = ['version = ?', 'updated_at = ?'];
        const params: unknown[] = [change.to, change.at];
        for (const [column, value] of [
          ['reason', patch.reason],
          ['endpoint', patch.endpoint],
          ['runtime', patch.runtime === undefined ? undefined : JSON.stringify(patch.runtime)],
          ['expires_at', patch.expiresAt],
        ] as const) {
          if (value === undefined) continue;
          sets.push(`${column} = ?`);
          params.push(value);
        }
        this.db.prepare(`UPDATE deployments SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
        this.db
          .prepare('INSERT INTO deployment_versions (deployment_id, at, from_version, to_version, reason, comparison) VALUES (?, ?, ?, ?, ?, ?)')
          .run(id, change.at, change.from, change.to, change.reason, change.comparison === undefined ? null : JSON.stringify(change.comparison));
      });
      try {
        tx.immediate();
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new MaasError('CONFLICT', `another deployment already serves ${change.to} in the same place as ${id}`, { cause: e });
        }
        throw e;
      }
      return this.hydrate(this.must(id));
    } finally {
      this.version.bump();
    }
  }

  async addConsumer(id: string, consumer: string, at: string): Promise<DeploymentRecord> {
    try {
      this.must(id);
      this.db.prepare('INSERT OR IGNORE INTO deployment_consumers (deployment_id, consumer, added_at) VALUES (?, ?, ?)').run(id, consumer, at);
      return this.hydrate(this.must(id));
    } finally {
      this.version.bump();
    }
  }

  async removeConsumer(id: string, consumer: string): Promise<DeploymentRecord> {
    try {
      this.must(id);
      this.db.prepare('DELETE FROM deployment_consumers WHERE deployment_id = ? AND consumer = ?').run(id, consumer);
      return this.hydrate(this.must(id));
    } finally {
      this.version.bump();
    }
  }

  async deleteDeployment(id: string): Promise<void> {
    try {
      this.db.prepare('DELETE FROM deployments WHERE id = ?').run(id);
    } finally {
      this.version.bump();
    }
  }
}

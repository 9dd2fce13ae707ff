// The embedded registry: one SQLite file in MAAS_HOME, shared safely by parallel processes.
// Every write is a BEGIN IMMEDIATE transaction, so check-then-insert sequences (idempotent
// registration, the "latest" flag) cannot interleave with another process's writes.
import { MaasError } from '../../core/errors.js';
import { isoNow, systemClock, type Clock } from '../../core/clock.js';
import { SqliteDeploymentStore, deploymentsOf } from './deployments-table.js';
import { SqliteCompositionStore, compositionsOf } from './compositions-table.js';
import type { DeploymentStore } from '../../domain/deployment.js';
import type { CompositionStore } from '../../domain/composition.js';
import { compareVersions, sameVersion } from '../../domain/version.js';
import type { ModelDescription } from '../../spec/schema.js';
import { specDigest } from '../canonical.js';
import type { ArtifactRef, ModelSummary, ModelVersionRecord, RegisterOutcome, SearchRequest, SearchResult } from '../../domain/model.js';
import type { ReferenceProfile } from '../../drift/profile.js';
import type { ModelStore, ProfileSummary, RegisterItem } from '../ports.js';
import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db } from './database.js';
import { DataVersion } from './data-version.js';
import { migrate } from './migrations.js';
import { putProfile, readProfile, readProfileSummary } from './profiles-table.js';
import { putLineage, readLineage } from './lineage-table.js';
import type { ModelLineage } from '../../domain/training.js';
import { toRows, type VersionRows } from './rows.js';
import { executeSearch } from '../search/executor.js';

export interface SqliteRegistryOptions {
  /** The database file (MAAS_HOME/registry.db). */
  file: string;
  clock?: Pick<Clock, 'now'>;
  busyTimeoutMs?: number;
}

interface StoredRow {
  id: number;
  name: string;
  version: string;
  spec: string;
  spec_digest: string;
  artifact_digest: string;
  artifact_size: number;
  artifact_uri: string;
  registered_at: string;
}

const RECORD = `SELECT mv.id, mv.name, mv.version, s.spec, mv.spec_digest, mv.artifact_digest, mv.artifact_size, mv.artifact_uri, mv.registered_at
  FROM model_versions mv JOIN model_specs s ON s.version_id = mv.id`;

const INSERT_VERSION = `INSERT INTO model_versions (name, version, spec_digest, artifact_digest, artifact_size, artifact_uri, artifact_path,
    registered_at, task, algorithm, cpu_millis, memory_bytes, gpu, latency_ms, reliability)
  VALUES (@name, @version, @spec_digest, @artifact_digest, @artifact_size, @artifact_uri, @artifact_path,
    @registered_at, @task, @algorithm, @cpu_millis, @memory_bytes, @gpu, @latency_ms, @reliability)`;

function toRecord(row: StoredRow): ModelVersionRecord {
  const artifact: ArtifactRef = { digest: row.artifact_digest, size: row.artifact_size, uri: row.artifact_uri };
  return {
    name: row.name,
    version: row.version,
    specDigest: row.spec_digest,
    artifact,
    registeredAt: row.registered_at,
    description: JSON.parse(row.spec) as ModelDescription,
  };
}

export interface ImportItem {
  description: ModelDescription;
  artifact: ArtifactRef;
  registeredAt?: string;
}

export class SqliteRegistry implements ModelStore {
  readonly db: Db;
  private readonly clock: Pick<Clock, 'now'>;
  private wrote = false;
  private readonly statements = new Map<string, Statement>();
  private readonly version: DataVersion;

  readonly deployments: DeploymentStore;
  readonly compositions: CompositionStore;

  protected constructor(db: Db, options: SqliteRegistryOptions) {
    this.db = db;
    this.version = DataVersion.of(db);
    this.deployments = new SqliteDeploymentStore(db);
    this.compositions = new SqliteCompositionStore(db);
    this.clock = options.clock ?? systemClock;
  }

  /** Opens (creating and migrating when needed) the database file. */
  static open(options: SqliteRegistryOptions): SqliteRegistry {
    const db = openDatabase(options.file, options.busyTimeoutMs);
    try {
      migrate(db, undefined, options.clock);
    } catch (e) {
      db.close();
      throw e;
    }
    return new this(db, options);
  }

  async registerModel(description: ModelDescription, artifact: ArtifactRef): Promise<RegisterOutcome> {
    const [outcome] = await this.registerModels([{ description, artifact }]);
    return outcome as RegisterOutcome;
  }

  async registerModels(items: readonly RegisterItem[]): Promise<RegisterOutcome[]> {
    // One transaction: a conflict in any item registers none of them (nor any profile).
    const outcomes = this.db
      .transaction(() =>
        items.map((i) => {
          const { id, outcome } = this.registerOne(i.description, i.artifact);
          if (i.profile) putProfile(this.db, id, i.profile);
          if (i.lineage) putLineage(this.db, id, i.lineage);
          return outcome;
        }),
      )
      .immediate();
    if (outcomes.some((o) => o.created) || items.some((i) => i.profile || i.lineage)) this.changed();
    return outcomes;
  }

  private registerOne(description: ModelDescription, artifact: ArtifactRef): { id: number; outcome: RegisterOutcome } {
    const digest = specDigest(description);
    const { name, version } = description.metadata;
    const existing = this.db.prepare('SELECT id, spec_digest, artifact_digest FROM model_versions WHERE name = ? AND version = ?').get(name, version) as
      { id: number; spec_digest: string; artifact_digest: string } | undefined;
    if (existing) {
      const sameArtifact = existing.artifact_digest === artifact.digest || artifact.digest === '' || existing.artifact_digest === '';
      if (existing.spec_digest === digest && sameArtifact) return { id: existing.id, outcome: { record: this.byId(existing.id), created: false } };
      throw new MaasError(
        'CONFLICT',
        `${name}@${version} is already registered with different ${existing.spec_digest === digest ? 'artifact bytes' : 'content'}`,
        {
          hint: 'versions are immutable; bump metadata.version',
          details: { name, version, registered: existing.spec_digest, given: digest },
        },
      );
    }
    const twin = (this.stmt('SELECT version FROM model_versions WHERE name = ?').all(name) as { version: string }[]).find((v) =>
      sameVersion(v.version, version),
    );
    if (twin) {
      throw new MaasError('CONFLICT', `${name}@${version} is the same version as the registered ${name}@${twin.version}`, {
        hint: `write the version as "${twin.version}" to refer to it, or bump it for a new one`,
      });
    }
    const id = this.insert(toRows(description, artifact, digest, isoNow(this.clock)));
    this.refreshLatest(name);
    return { id, outcome: { record: this.byId(id), created: true } };
  }

  /** The row id of name@version; NOT_FOUND when it is not registered. */
  private versionId(name: string, version: string): number {
    const row = this.stmt('SELECT id FROM model_versions WHERE name = ? AND version = ?').get(name, version) as { id: number } | undefined;
    if (!row) {
      throw new MaasError('NOT_FOUND', `model ${name}@${version} is not registered`, {
        hint: `list its versions with \`maas versions ${name}\`, or all models with \`maas list\``,
      });
    }
    return row.id;
  }

  async setProfile(name: string, version: string, profile: ReferenceProfile): Promise<void> {
    this.db.transaction(() => putProfile(this.db, this.versionId(name, version), profile)).immediate();
    this.changed();
  }

  async getProfile(name: string, version: string): Promise<ReferenceProfile | undefined> {
    return readProfile(this.db, this.versionId(name, version));
  }

  async profileSummary(name: string, version: string): Promise<ProfileSummary | undefined> {
    return readProfileSummary(this.db, this.versionId(name, version));
  }

  async setLineage(name: string, version: string, lineage: ModelLineage): Promise<void> {
    this.db.transaction(() => putLineage(this.db, this.versionId(name, version), lineage)).immediate();
    this.changed();
  }

  async getLineage(name: string, version: string): Promise<ModelLineage | undefined> {
    return readLineage(this.db, this.versionId(name, version));
  }

  /**
   * Bulk load in one transaction (benchmarks, imports): skips the per-row checks and sets the
   * latest flags once per name at the end. Existing name@version pairs are a CONFLICT.
   */
  importModels(items: readonly ImportItem[]): number {
    const names = new Set<string>();
    const cache = this.db.pragma('cache_size', { simple: true }) as number;
    // A large page cache keeps index pages in memory while millions of rows go in.
    this.db.pragma('cache_size = -262144');
    try {
      this.db
        .transaction(() => {
          for (const item of items) {
            const at = item.registeredAt ?? isoNow(this.clock);
            this.insert(toRows(item.description, item.artifact, specDigest(item.description), at));
            names.add(item.description.metadata.name);
          }
          for (const name of names) this.refreshLatest(name);
        })
        .immediate();
    } finally {
      this.db.pragma(`cache_size = ${cache}`);
    }
    this.changed();
    // Fresh statistics let the query planner pick the most selective index for each search.
    this.db.pragma('analysis_limit = 1000');
    this.db.exec('ANALYZE');
    return items.length;
  }

  /**
   * Grows after this registry's writes to models and after any commit by another connection to
   * the file (another process, or another connection of this one), so a model read made at an
   * equal number may be reused. Writes on this connection that do not go through this class
   * (deployments, tokens, jobs) never change what the model reads answer.
   */
  dataVersion(): number {
    return this.version.current();
  }

  private changed(): void {
    this.wrote = true;
    this.version.bump();
  }

  /** Prepared once per connection: preparing is a large share of a small statement's cost. */
  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private insert(rows: VersionRows): number {
    let id: number;
    try {
      id = Number(this.stmt(INSERT_VERSION).run(rows.row).lastInsertRowid);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new MaasError('CONFLICT', `${rows.row.name}@${rows.row.version} is already registered`, {
          hint: 'versions are immutable; bump metadata.version',
          cause: e,
        });
      }
      throw e;
    }
    this.stmt('INSERT INTO model_specs (version_id, spec) VALUES (?, ?)').run(id, rows.spec);
    const feature = this.stmt('INSERT INTO model_features (version_id, name, type, position) VALUES (?, ?, ?, ?)');
    for (const f of rows.features) feature.run(id, f.name, f.type, f.position);
    // Metric names are case-insensitive; a later duplicate in another case wins.
    const metric = this.stmt('INSERT OR REPLACE INTO model_metrics (version_id, name, value) VALUES (?, ?, ?)');
    for (const m of rows.metrics) metric.run(id, m.name, m.value);
    const label = this.stmt('INSERT INTO model_labels (version_id, key, value) VALUES (?, ?, ?)');
    for (const l of rows.labels) label.run(id, l.key, l.value);
    const { text } = rows;
    this.stmt('INSERT INTO model_text (rowid, name, description, algorithm, labels, features) VALUES (?, ?, ?, ?, ?, ?)').run(
      id,
      text.name,
      text.description,
      text.algorithm,
      text.labels,
      text.features,
    );
    return id;
  }

  /** Sets is_latest on the highest version of `name` (by compareVersions) and clears it elsewhere. */
  private refreshLatest(name: string): void {
    const versions = this.stmt('SELECT id, version FROM model_versions WHERE name = ?').all(name) as { id: number; version: string }[];
    let best: { id: number; version: string } | undefined;
    for (const v of versions) if (!best || compareVersions(v.version, best.version) > 0) best = v;
    this.stmt('UPDATE model_versions SET is_latest = (id = @id) WHERE name = @name AND is_latest != (id = @id)').run({ id: best?.id ?? -1, name });
  }

  private byId(id: number): ModelVersionRecord {
    return toRecord(this.stmt(`${RECORD} WHERE mv.id = ?`).get(id) as StoredRow);
  }

  async getModel(name: string, version?: string): Promise<ModelVersionRecord | undefined> {
    const row = (
      version === undefined
        ? this.stmt(`${RECORD} WHERE mv.name = ? AND mv.is_latest = 1`).get(name)
        : this.stmt(`${RECORD} WHERE mv.name = ? AND mv.version = ?`).get(name, version)
    ) as StoredRow | undefined;
    return row && toRecord(row);
  }

  async listModels(): Promise<ModelSummary[]> {
    const rows = this.stmt(
      `SELECT mv.name, mv.version, mv.task, mv.algorithm, mv.registered_at, (SELECT count(*) FROM model_versions v WHERE v.name = mv.name) AS versions
         FROM model_versions mv WHERE mv.is_latest = 1 ORDER BY mv.name`,
    ).all() as { name: string; version: string; task: ModelSummary['task']; algorithm: string; registered_at: string; versions: number }[];
    return rows.map((r) => ({ name: r.name, latest: r.version, versions: r.versions, task: r.task, algorithm: r.algorithm, registeredAt: r.registered_at }));
  }

  /** All versions of a model, highest first. */
  async listVersions(name: string): Promise<ModelVersionRecord[]> {
    const rows = this.stmt(`${RECORD} WHERE mv.name = ?`).all(name) as StoredRow[];
    return rows.sort((a, b) => compareVersions(b.version, a.version)).map(toRecord);
  }

  /** Deployments and compositions that still use name@version; they block deletion. */
  async dependents(name: string, version: string): Promise<string[]> {
    return this.dependentsOf(name, version);
  }

  protected dependentsOf(name: string, version: string): string[] {
    return [
      ...deploymentsOf(this.db, name, version).map((d) => `deployment ${d.id}${d.state === 'cached' ? ' (cached)' : ''}`),
      ...compositionsOf(this.db, name, version).map((c) => `composition ${c}`),
    ];
  }

  async deleteModel(name: string, version: string): Promise<void> {
    this.db
      .transaction(() => {
        const row = { id: this.versionId(name, version) };
        const users = this.dependentsOf(name, version);
        if (users.length > 0) {
          // A cached deployment only waits for its purge; a running one still has consumers.
          const onlyCached = users.every((u) => u.endsWith(' (cached)'));
          const compositions = users.some((u) => u.startsWith('composition '));
          const deployments = users.some((u) => u.startsWith('deployment '));
          throw new MaasError('IN_USE', `${name}@${version} is in use by ${users.join(', ')}`, {
            hint: compositions
              ? `remove the version from those compositions (re-apply them without it) or delete them${deployments ? ', decommission the deployments' : ''}, then delete`
              : onlyCached
                ? 'purge the cached deployments first (`maas decommission ID --purge`, or `maas gc --all`), then delete'
                : 'decommission those first (`maas decommission ID`, and `--purge` once cached), then delete',
            details: { dependents: users },
          });
        }
        // Contentless FTS5 with contentless_delete: rows are removed by rowid. The specs,
        // features, metrics, labels and profile go with the version (ON DELETE CASCADE).
        this.db.prepare('DELETE FROM model_text WHERE rowid = ?').run(row.id);
        this.db.prepare('DELETE FROM model_versions WHERE id = ?').run(row.id);
        this.refreshLatest(name);
      })
      .immediate();
    this.changed();
    // The artifact blob stays: other versions may share it (content-addressed).
  }

  async artifactDigests(): Promise<Set<string>> {
    const rows = this.db.prepare("SELECT DISTINCT artifact_digest AS d FROM model_versions WHERE artifact_digest != ''").all() as { d: string }[];
    return new Set(rows.map((r) => r.d));
  }

  async searchModels(request: SearchRequest): Promise<SearchResult> {
    return executeSearch(this.db, request);
  }

  async metricNames(): Promise<string[]> {
    const rows = this.stmt('SELECT DISTINCT name FROM model_metrics ORDER BY name').all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  close(): void {
    if (!this.db.open) return;
    if (this.wrote) {
      // Keeps the planner's statistics current after writes, bounded so it stays cheap.
      try {
        this.db.pragma('analysis_limit = 1000');
        this.db.pragma('optimize');
      } catch {
        // Statistics are an optimisation; a busy database must not fail the command.
      }
    }
    this.db.close();
  }
}

// Compositions in the embedded registry: one row per composition (by name: one live version),
// its description and applied members as JSON, and its history of applies and adaptations. The
// router deployment is referenced by ID without a foreign key: the app deletes the composition and
// its router in order. The history goes with the composition (ON DELETE CASCADE).
import { MaasError } from '../../core/errors.js';
import type { AppliedMember, CompositionDescription, CompositionEvent, CompositionRecord, CompositionStore } from '../../domain/composition.js';
import type { Db } from './database.js';

/** Migration 7 (with the deployments' kind column): compositions and their history. */
export const COMPOSITIONS_MIGRATION_SQL = `
CREATE TABLE compositions (
  name        TEXT PRIMARY KEY,
  version     TEXT NOT NULL,
  description TEXT NOT NULL,
  spec_digest TEXT NOT NULL,
  router      TEXT NOT NULL,
  members     TEXT NOT NULL DEFAULT '[]',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE TABLE composition_events (
  name    TEXT NOT NULL REFERENCES compositions(name) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  at      TEXT NOT NULL,
  event   TEXT NOT NULL,
  version TEXT NOT NULL,
  summary TEXT NOT NULL,
  detail  TEXT,
  PRIMARY KEY (name, seq)
);
`;

interface Row {
  name: string;
  version: string;
  description: string;
  spec_digest: string;
  router: string;
  members: string;
  created_at: string;
  updated_at: string;
}

interface EventRow {
  at: string;
  event: string;
  version: string;
  summary: string;
  detail: string | null;
}

/** The compositions whose members include `name@version` (the registry refuses to delete those versions). */
export function compositionsOf(db: Db, name: string, version: string): string[] {
  const rows = db
    .prepare(
      `SELECT DISTINCT c.name FROM compositions c, json_each(c.members) m
       WHERE json_extract(m.value, '$.key') = ? ORDER BY c.name`,
    )
    .all(`${name}@${version}`) as { name: string }[];
  return rows.map((r) => r.name);
}

export class SqliteCompositionStore implements CompositionStore {
  constructor(private readonly db: Db) {}

  private hydrate(row: Row): CompositionRecord {
    const history = (
      this.db.prepare('SELECT at, event, version, summary, detail FROM composition_events WHERE name = ? ORDER BY seq').all(row.name) as EventRow[]
    ).map((e): CompositionEvent => ({
      at: e.at,
      event: e.event as CompositionEvent['event'],
      version: e.version,
      summary: e.summary,
      ...(e.detail !== null ? { detail: JSON.parse(e.detail) as Record<string, unknown> } : {}),
    }));
    return {
      name: row.name,
      version: row.version,
      description: JSON.parse(row.description) as CompositionDescription,
      specDigest: row.spec_digest,
      router: row.router,
      members: JSON.parse(row.members) as AppliedMember[],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      history,
    };
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM compositions WHERE name = ?').get(name) as Row | undefined;
  }

  /** Appends to the history of an existing composition (call inside a write transaction). */
  private append(name: string, event: CompositionEvent): void {
    this.db
      .prepare(
        `INSERT INTO composition_events (name, seq, at, event, version, summary, detail)
         VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM composition_events WHERE name = ?), ?, ?, ?, ?, ?)`,
      )
      .run(name, name, event.at, event.event, event.version, event.summary, event.detail === undefined ? null : JSON.stringify(event.detail));
  }

  async getComposition(name: string): Promise<CompositionRecord | undefined> {
    const r = this.row(name);
    return r ? this.hydrate(r) : undefined;
  }

  async listCompositions(): Promise<CompositionRecord[]> {
    const rows = this.db.prepare('SELECT * FROM compositions ORDER BY name').all() as Row[];
    return rows.map((r) => this.hydrate(r));
  }

  async saveComposition(record: Omit<CompositionRecord, 'history' | 'createdAt' | 'updatedAt'>, event: CompositionEvent): Promise<CompositionRecord> {
    this.db
      .transaction(() => {
        // An upsert, not INSERT OR REPLACE: replacing would delete the row and cascade to its history.
        this.db
          .prepare(
            `INSERT INTO compositions (name, version, description, spec_digest, router, members, created_at, updated_at)
             VALUES (@name, @version, @description, @spec_digest, @router, @members, @at, @at)
             ON CONFLICT (name) DO UPDATE SET version = excluded.version, description = excluded.description,
               spec_digest = excluded.spec_digest, router = excluded.router, members = excluded.members, updated_at = excluded.updated_at`,
          )
          .run({
            name: record.name,
            version: record.version,
            description: JSON.stringify(record.description),
            spec_digest: record.specDigest,
            router: record.router,
            members: JSON.stringify(record.members),
            at: event.at,
          });
        this.append(record.name, event);
      })
      .immediate();
    return this.hydrate(this.row(record.name) as Row);
  }

  async addCompositionEvent(name: string, event: CompositionEvent): Promise<void> {
    this.db
      .transaction(() => {
        if (!this.row(name)) {
          throw new MaasError('NOT_FOUND', `no composition "${name}"`, { hint: 'apply one with `maas compose apply FILE`' });
        }
        this.append(name, event);
      })
      .immediate();
  }

  async deleteComposition(name: string): Promise<void> {
    // The history goes with it (ON DELETE CASCADE).
    this.db.prepare('DELETE FROM compositions WHERE name = ?').run(name);
  }
}

// The data version of a connection: a number that grows after writes made through the stores on
// it (each store bumps it once its write is done) and after any commit by another connection to
// the file (SQLite's `PRAGMA data_version`, which changes exactly then, for any table). Equal
// numbers mean nothing those stores read has changed, so a read may be reused. One per
// connection, shared by its stores, so a write through any of them is seen by all. Reading the
// pragma costs a read transaction (shared-memory locks of the WAL), so it is read once per
// event-loop turn: requests handled in the same turn are concurrent with another process's
// commit anyway, and the next turn sees it. Writes on this connection count at once.
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

export class DataVersion {
  private version = 0;
  private seen: unknown;
  private statement: Statement | undefined;
  private checkedThisTurn = false;

  private constructor(private readonly db: Db) {}

  private static readonly byConnection = new WeakMap<Db, DataVersion>();

  static of(db: Db): DataVersion {
    let v = DataVersion.byConnection.get(db);
    if (!v) {
      v = new DataVersion(db);
      DataVersion.byConnection.set(db, v);
    }
    return v;
  }

  current(): number {
    if (this.checkedThisTurn) return this.version;
    this.checkedThisTurn = true;
    setImmediate(() => (this.checkedThisTurn = false)).unref();
    this.statement ??= this.db.prepare('PRAGMA data_version').pluck();
    const seen = this.statement.get();
    if (seen !== this.seen) {
      this.seen = seen;
      this.version++;
    }
    return this.version;
  }

  /** After a write on this connection (which data_version does not count), once it is done. */
  bump(): void {
    this.version++;
  }
}

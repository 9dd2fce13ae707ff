// The data version of a connection: a number that grows after writes made through the stores on
// it (each store bumps it once its write is done) and after any commit by another connection to
// the file (SQLite's `PRAGMA data_version`, which changes exactly then, for any table). Equal
// numbers mean nothing those stores read has changed, so a read may be reused. One per
// connection, shared by its stores, so a write through any of them is seen by all. Reading it
// costs one read transaction.
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

export class DataVersion {
  private version = 0;
  private seen: unknown;
  private statement: Statement | undefined;

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

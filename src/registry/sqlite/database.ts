// Opens the registry database file with the settings every connection needs: a busy timeout so
// parallel CLI processes wait for each other instead of failing, WAL so readers never block the
// writer, and enforced foreign keys.
import Database from 'better-sqlite3';

export type Db = Database.Database;

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export function openDatabase(file: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Db {
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    useWal(db, busyTimeoutMs);
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * WAL is persistent in the file; switching a fresh file needs a lock, so retry while busy. Opening
 * is synchronous (better-sqlite3), so this is the one wait that cannot use the async poll loop.
 */
function useWal(db: Db, busyTimeoutMs: number): void {
  if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

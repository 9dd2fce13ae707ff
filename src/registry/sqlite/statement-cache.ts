// Prepared statements kept per connection: preparing is a large share of a small read's cost (a
// status or search request prepares the same few statements every time otherwise). The SQL text
// is the key; search plans vary in shape with the request, so the cache is bounded and drops the
// least recently used statement when full. Only for get/all/run: a statement being iterated
// cannot be shared.
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

export const MAX_CACHED_STATEMENTS = 256;

const caches = new WeakMap<Db, Map<string, Statement>>();

export function prepared(db: Db, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (s) {
    cache.delete(sql);
    cache.set(sql, s);
    return s;
  }
  s = db.prepare(sql);
  cache.set(sql, s);
  if (cache.size > MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
  return s;
}

// Runs a search plan on the registry database and turns rows into hits with reasons and near
// misses with the requirement that excluded them.
import type { Db } from '../sqlite/database.js';
import { prepared } from '../sqlite/statement-cache.js';
import type { NearMiss, SearchHit, SearchRequest, SearchResult } from '../../domain/model.js';
import type { TaskKind } from '../../spec/schema.js';
import { NEAR_MISS_LIMIT, planSearch, type SearchPlan, type SqlQuery } from './planner.js';
import { judge, type Facts, type Requirement } from './requirements.js';

interface Row {
  id: number;
  name: string;
  version: string;
  task: string;
  algorithm: string;
  cpu_millis: number | null;
  memory_bytes: number | null;
  gpu: number;
  latency_ms: number | null;
  registered_at: string;
  score?: number;
  total?: number;
  t?: number;
  [column: string]: unknown;
}

function all<T>(db: Db, q: SqlQuery): T[] {
  return prepared(db, q.sql).all(q.params) as T[];
}

function count(db: Db, q: SqlQuery): number {
  return (prepared(db, q.sql).get(q.params) as { n: number }).n;
}

/** Facts for judging a row; side-table values come from the columns the planner named after the requirement index. */
function factsOf(row: Row, requirements: Requirement[], passed: boolean): Facts {
  const facts: Facts = {
    task: row.task,
    algorithm: row.algorithm,
    cpuMillis: row.cpu_millis,
    memoryBytes: row.memory_bytes,
    gpu: row.gpu,
    latencyMs: row.latency_ms,
    metrics: new Map(),
    features: new Map(),
    labels: new Map(),
    textMatch: passed || row.t === 1,
  };
  requirements.forEach((r, i) => {
    if (r.kind === 'metric' && typeof row[`m${i}`] === 'number') facts.metrics.set(r.name.toLowerCase(), row[`m${i}`] as number);
    if (r.kind === 'feature' && typeof row[`f${i}`] === 'string') facts.features.set(r.name, row[`f${i}`] as string);
    if (r.kind === 'label') {
      const value = passed ? r.value : row[`l${i}`];
      if (typeof value === 'string') facts.labels.set(r.key, value);
    }
  });
  return facts;
}

function toHit(row: Row, requirements: Requirement[]): SearchHit {
  const facts = factsOf(row, requirements, true);
  return {
    name: row.name,
    version: row.version,
    task: row.task as TaskKind,
    algorithm: row.algorithm,
    score: Math.round((row.score ?? 0) * 1000) / 1000,
    registeredAt: row.registered_at,
    reasons: requirements.map((r) => judge(r, facts).reason),
  };
}

function nearMisses(db: Db, plan: SearchPlan): NearMiss[] {
  const found = new Map<number, number[]>();
  for (const { failed, query } of plan.nearMisses) {
    for (const { id } of all<{ id: number }>(db, query)) found.set(id, [...(found.get(id) ?? []), failed]);
  }
  if (found.size === 0) return [];
  const rows = all<Row>(db, plan.facts([...found.keys()]));
  return rows
    .sort((a, b) => (a.registered_at < b.registered_at ? 1 : a.registered_at > b.registered_at ? -1 : b.id - a.id))
    .slice(0, NEAR_MISS_LIMIT)
    .map((row) => {
      const facts = factsOf(row, plan.requirements, false);
      return {
        name: row.name,
        version: row.version,
        failed: plan.requirements.flatMap((r) => {
          const v = judge(r, facts);
          return v.ok ? [] : [v.reason];
        }),
      };
    });
}

export function executeSearch(db: Db, request: SearchRequest): SearchResult {
  const plan = planSearch(request);
  // One read transaction: hits, totals and near misses see the same snapshot.
  return db.transaction((): SearchResult => {
    const rows = all<Row>(db, plan.hits);
    const hits = rows.map((row) => toHit(row, plan.requirements));
    const result: SearchResult = { hits, total: rows[0]?.total ?? 0, scanned: count(db, plan.scanned) };
    if (request.explain) result.nearMisses = nearMisses(db, plan);
    return result;
  })();
}

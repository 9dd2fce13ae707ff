// The search planner: a pure function from a search request to the SQL that answers it.
//
// Shape of the hit query, chosen so that 100,000 versions stay fast:
// - Requirements held in side tables (features, metrics, labels, free text) each become a set
//   of version ids read from a covering index; the sets are INTERSECTed (a merge of id lists)
//   instead of probing every version with correlated subqueries.
// - Requirements on the version row itself (scope, task, algorithm, resource and latency
//   ceilings) are one more set over the covering index `model_versions_search`.
// - Ranking selects only ids and the score columns and keeps the best LIMIT rows; names, spec
//   and reason data are fetched afterwards for those rows only. The spec JSON is never read.
//
// Score, in [0, 1], a weighted mean of:
//   metric margins (weight 3): how far each requested metric clears its floor, relative to the
//     room left (to 1 for metrics bounded by 1, else to the floor's magnitude);
//   advertised QoS (weight 1): latency (headroom under --max-latency, else 100 / (100 + ms))
//     and reliability, missing values counting 0;
//   resource headroom (weight 1, when a ceiling is given): share of each ceiling left unused;
//   text relevance (weight 2, when text is given): bm25 mapped to [0, 1).
// Ties go to the newer registration.
//
// Near misses (explain): for each requirement i, the versions in scope that satisfy every other
// requirement but not i: the others intersected as above, then i tested on those few rows.
import type { SearchRequest } from '../../domain/model.js';
import { requirementsOf, type Requirement } from './requirements.js';

export type SqlValue = string | number;

export interface SqlQuery {
  sql: string;
  params: Record<string, SqlValue>;
}

export interface NearMissQuery {
  /** Index into requirements of the one requirement these candidates fail. */
  failed: number;
  query: SqlQuery;
}

export interface SearchPlan {
  requirements: Requirement[];
  latestOnly: boolean;
  limit: number;
  /**
   * Columns: id, name, version, task, algorithm, cpu_millis, memory_bytes, gpu, latency_ms,
   * registered_at, score, total (how many versions match in all), m<i>, f<i>.
   */
  hits: SqlQuery;
  /** Columns: n (versions in scope). */
  scanned: SqlQuery;
  nearMisses: NearMissQuery[];
  /** What judging near misses needs, for the given ids (same columns as hits plus l<i>, t). */
  facts(ids: readonly number[]): SqlQuery;
}

export const DEFAULT_LIMIT = 20;
export const NEAR_MISS_LIMIT = 10;

const WEIGHT = { metrics: 3, qos: 1, headroom: 1, text: 2 } as const;

/** Versions-row condition for a requirement held on model_versions, else undefined. */
function rowCondition(r: Requirement, i: number): string | undefined {
  switch (r.kind) {
    case 'task':
      return `mv.task = @r${i}`;
    case 'algorithm':
      return `mv.algorithm = @r${i}`;
    case 'cpu':
      return `mv.cpu_millis <= @r${i}`;
    case 'memory':
      return `mv.memory_bytes <= @r${i}`;
    case 'gpu':
      return `mv.gpu <= @r${i}`;
    case 'latency':
      return `mv.latency_ms <= @r${i}`;
    default:
      return undefined;
  }
}

/**
 * Id set of the versions satisfying a side-table requirement, else undefined. `textCte`: the
 * free-text matches are already in the `text` CTE (with their bm25 rank).
 */
function sideSet(r: Requirement, i: number, textCte = false): string | undefined {
  switch (r.kind) {
    case 'feature':
      return r.type === undefined
        ? `SELECT version_id FROM model_features WHERE name = @r${i}n`
        : `SELECT version_id FROM model_features WHERE name = @r${i}n AND type = @r${i}`;
    case 'metric':
      return `SELECT version_id FROM model_metrics WHERE name = @r${i}n AND value ${r.lowerIsBetter ? '<=' : '>='} @r${i}`;
    case 'label':
      return `SELECT version_id FROM model_labels WHERE key = @r${i}n AND value = @r${i}`;
    case 'text':
      return textCte ? 'SELECT id FROM text' : `SELECT rowid FROM model_text WHERE model_text MATCH @r${i}`;
    default:
      return undefined;
  }
}

function paramsOf(requirements: Requirement[]): Record<string, SqlValue> {
  const p: Record<string, SqlValue> = {};
  requirements.forEach((r, i) => {
    switch (r.kind) {
      case 'task':
        p[`r${i}`] = r.task;
        break;
      case 'algorithm':
        p[`r${i}`] = r.algorithm;
        break;
      case 'feature':
        p[`r${i}n`] = r.name;
        if (r.type !== undefined) p[`r${i}`] = r.type;
        break;
      case 'metric':
        p[`r${i}n`] = r.name;
        p[`r${i}`] = r.bound;
        break;
      case 'label':
        p[`r${i}n`] = r.key;
        p[`r${i}`] = r.value;
        break;
      case 'text':
        p[`r${i}`] = r.match;
        break;
      default:
        p[`r${i}`] = r.max;
    }
  });
  return p;
}

interface Candidates {
  /** Conditions on the versions row (scope, task, ceilings...), ANDed. */
  rowConds: string[];
  /** Id sets from side tables, INTERSECTed. */
  sets: string[];
  /** Near misses: a per-row test that the negated side-table requirement fails. */
  probe?: string;
}

/** A correlated test that `mv` fails a side-table requirement; run on few rows only (near misses). */
function failsSide(r: Requirement, i: number): string {
  switch (r.kind) {
    case 'feature':
      return `NOT EXISTS (SELECT 1 FROM model_features x WHERE x.version_id = mv.id AND x.name = @r${i}n${r.type === undefined ? '' : ` AND x.type = @r${i}`})`;
    case 'metric':
      return `NOT EXISTS (SELECT 1 FROM model_metrics x WHERE x.version_id = mv.id AND x.name = @r${i}n AND x.value ${r.lowerIsBetter ? '<=' : '>='} @r${i})`;
    case 'label':
      return `NOT EXISTS (SELECT 1 FROM model_labels x WHERE x.version_id = mv.id AND x.key = @r${i}n AND x.value = @r${i})`;
    case 'text':
      return `mv.id NOT IN (SELECT rowid FROM model_text WHERE model_text MATCH @r${i})`;
    default:
      throw new Error(`${r.kind} is not a side-table requirement`);
  }
}

/**
 * Versions in scope satisfying every requirement except `negate`, which they must fail instead
 * (near misses).
 */
function candidates(requirements: Requirement[], latestOnly: boolean, negate?: number, textCte = false): Candidates {
  const out: Candidates = { rowConds: latestOnly ? ['mv.is_latest = 1'] : [], sets: [] };
  requirements.forEach((r, i) => {
    const cond = rowCondition(r, i);
    if (i === negate) {
      // A missing value fails the requirement, so it counts as a near miss here.
      if (cond) out.rowConds.push(`NOT coalesce(${cond}, 0)`);
      else out.probe = failsSide(r, i);
      return;
    }
    if (cond) out.rowConds.push(cond);
    else out.sets.push(sideSet(r, i, textCte) as string);
  });
  return out;
}

/** The row conditions and side-table sets as one compound SELECT of ids. */
function idSet(c: Candidates): string {
  const sets = [...c.sets];
  if (c.rowConds.length > 0 || sets.length === 0) {
    sets.unshift(`SELECT mv.id FROM model_versions mv${c.rowConds.length ? ` WHERE ${c.rowConds.join(' AND ')}` : ''}`);
  }
  return sets.join('\n    INTERSECT ');
}

/**
 * Near misses failing requirement i: the versions passing all the others (intersected as for
 * hits), then the few of them that fail i, tested row by row.
 */
function nearMissSql(c: Candidates): string {
  const conds = [...(c.sets.length ? [] : c.rowConds), ...(c.probe ? [c.probe] : [])];
  const from = c.sets.length
    ? `WITH near(id) AS MATERIALIZED (\n    ${idSet(c)}\n  )\nSELECT mv.id FROM near JOIN model_versions mv ON mv.id = near.id`
    : 'SELECT mv.id FROM model_versions mv';
  return `${from}${conds.length ? `\n  WHERE ${conds.join(' AND ')}` : ''}\n  ORDER BY mv.registered_at DESC, mv.id DESC LIMIT @nearLimit`;
}

function clip(expr: string): string {
  return `max(0.0, min(1.0, ${expr}))`;
}

function scoreSql(requirements: Requirement[]): string {
  const parts: { weight: number; expr: string }[] = [];
  const metrics = requirements.flatMap((r, i) => {
    if (r.kind !== 'metric') return [];
    if (r.lowerIsBetter) return [clip(`(@r${i} - m${i}.value) / ${Math.max(Math.abs(r.bound), 1e-9)}`)];
    const room = r.bound >= 0 && r.bound < 1 ? 1 - r.bound : Math.max(Math.abs(r.bound), 1e-9);
    return [clip(`(m${i}.value - @r${i}) / ${room}`)];
  });
  if (metrics.length) parts.push({ weight: WEIGHT.metrics, expr: `(${metrics.join(' + ')}) / ${metrics.length}.0` });

  const latencyIndex = requirements.findIndex((r) => r.kind === 'latency');
  const latencyMax = latencyIndex === -1 ? undefined : (requirements[latencyIndex] as { max: number }).max;
  const latency =
    latencyMax !== undefined && latencyMax > 0
      ? `coalesce(1.0 - mv.latency_ms / @r${latencyIndex}, 0.0)`
      : latencyMax === 0
        ? 'coalesce(mv.latency_ms = 0, 0)'
        : 'coalesce(100.0 / (100.0 + mv.latency_ms), 0.0)';
  parts.push({ weight: WEIGHT.qos, expr: `(${latency} + coalesce(mv.reliability, 0.0)) / 2.0` });

  const column = { cpu: 'cpu_millis', memory: 'memory_bytes', gpu: 'gpu' } as const;
  const headroom = requirements.flatMap((r, i) => {
    if (r.kind !== 'cpu' && r.kind !== 'memory' && r.kind !== 'gpu') return [];
    return [r.max > 0 ? clip(`1.0 - coalesce(mv.${column[r.kind]}, @r${i}) * 1.0 / @r${i}`) : '1.0'];
  });
  if (headroom.length) parts.push({ weight: WEIGHT.headroom, expr: `(${headroom.join(' + ')}) / ${headroom.length}.0` });

  if (requirements.some((r) => r.kind === 'text')) parts.push({ weight: WEIGHT.text, expr: '(-t.rank) / (1.0 - t.rank)' });

  const total = parts.reduce((s, p) => s + p.weight, 0);
  return `(${parts.map((p) => `${p.weight} * ${p.expr}`).join('\n      + ')}) / ${total}.0`;
}

const HIT_COLUMNS = 'mv.id, mv.name, mv.version, mv.task, mv.algorithm, mv.cpu_millis, mv.memory_bytes, mv.gpu, mv.latency_ms, mv.registered_at';

/** LEFT JOINs and columns that bring each requirement's per-version value alongside a row. */
function factJoins(requirements: Requirement[], withLabels: boolean): { joins: string[]; columns: string[] } {
  const joins: string[] = [];
  const columns: string[] = [];
  requirements.forEach((r, i) => {
    if (r.kind === 'feature') {
      joins.push(`LEFT JOIN model_features f${i} ON f${i}.version_id = mv.id AND f${i}.name = @r${i}n`);
      columns.push(`f${i}.type AS f${i}`);
    } else if (r.kind === 'label' && withLabels) {
      joins.push(`LEFT JOIN model_labels l${i} ON l${i}.version_id = mv.id AND l${i}.key = @r${i}n`);
      columns.push(`l${i}.value AS l${i}`);
    }
  });
  return { joins, columns };
}

export function planSearch(request: SearchRequest): SearchPlan {
  const requirements = requirementsOf(request);
  const latestOnly = request.latestOnly ?? true;
  const limit = request.limit ?? DEFAULT_LIMIT;
  const params = paramsOf(requirements);
  const text = requirements.findIndex((r) => r.kind === 'text');
  const metricIdx = requirements.flatMap((r, i) => (r.kind === 'metric' ? [i] : []));

  // Without side-table requirements the row conditions go straight into the ranking query, which
  // then reads the covering index alone; otherwise the intersected ids drive it. The CTEs are
  // materialized once and serve both the ranking and the total count.
  const c = candidates(requirements, latestOnly, undefined, text !== -1);
  const ctes: string[] = [];
  if (text !== -1) ctes.push(`text(id, rank) AS MATERIALIZED (\n    SELECT rowid, bm25(model_text) FROM model_text WHERE model_text MATCH @r${text}\n  )`);
  if (c.sets.length > 0) ctes.push(`cand(id) AS MATERIALIZED (\n    ${idSet(c)}\n  )`);
  const cand = c.sets.length > 0;
  const from = cand ? 'cand JOIN model_versions mv ON mv.id = cand.id' : 'model_versions mv';
  const metricJoins = metricIdx.map((i) => `JOIN model_metrics m${i} ON m${i}.version_id = mv.id AND m${i}.name = @r${i}n`);
  const textJoin = text === -1 ? [] : ['JOIN text t ON t.id = mv.id'];
  const where = cand || c.rowConds.length === 0 ? '' : `\n    WHERE ${c.rowConds.join(' AND ')}`;
  const total = cand ? '(SELECT count(*) FROM cand)' : `(SELECT count(*) FROM model_versions mv${where.replace(/\s+/, ' ')})`;
  const facts = factJoins(requirements, false);

  const hits = `${ctes.length ? `WITH ${ctes.join(',\n  ')}\n` : ''}SELECT ${[HIT_COLUMNS, 'ranked.score', `${total} AS total`, ...metricIdx.map((i) => `ranked.m${i}`), ...facts.columns].join(', ')}
  FROM (
    SELECT mv.id, mv.registered_at, ${scoreSql(requirements)} AS score${metricIdx.map((i) => `, m${i}.value AS m${i}`).join('')}
    FROM ${[from, ...metricJoins, ...textJoin].join('\n    ')}${where}
    ORDER BY score DESC, mv.registered_at DESC, mv.id DESC
    LIMIT @limit
  ) ranked
  JOIN model_versions mv ON mv.id = ranked.id
  ${facts.joins.join('\n  ')}
  ORDER BY ranked.score DESC, ranked.registered_at DESC, ranked.id DESC`;

  const scopeSql = `SELECT count(*) AS n FROM model_versions${latestOnly ? ' WHERE is_latest = 1' : ''}`;

  const nearMisses: NearMissQuery[] = [];
  if (request.explain) {
    requirements.forEach((_r, i) => {
      const sql = nearMissSql(candidates(requirements, latestOnly, i));
      nearMisses.push({ failed: i, query: { sql, params: { ...pick(params, sql), nearLimit: NEAR_MISS_LIMIT } } });
    });
  }

  const factSql = (ids: readonly number[]): SqlQuery => {
    const all = factJoins(requirements, true);
    const metricJoinsLeft = metricIdx.map((i) => `LEFT JOIN model_metrics m${i} ON m${i}.version_id = mv.id AND m${i}.name = @r${i}n`);
    const sql = `SELECT ${[HIT_COLUMNS, ...metricIdx.map((i) => `m${i}.value AS m${i}`), ...all.columns, text === -1 ? '1 AS t' : `mv.id IN (SELECT rowid FROM model_text WHERE model_text MATCH @r${text}) AS t`].join(', ')}
  FROM model_versions mv
  ${[...metricJoinsLeft, ...all.joins].join('\n  ')}
  WHERE mv.id IN (SELECT value FROM json_each(@ids))`;
    return { sql, params: { ...pick(params, sql), ids: JSON.stringify(ids) } };
  };

  return {
    requirements,
    latestOnly,
    limit,
    hits: { sql: hits, params: { ...pick(params, hits), limit } },
    scanned: { sql: scopeSql, params: {} },
    nearMisses,
    facts: factSql,
  };
}

/** Only the parameters a statement names (better-sqlite3 rejects unknown named parameters). */
function pick(params: Record<string, SqlValue>, sql: string): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(params)) if (new RegExp(`@${k}\\b`).test(sql)) out[k] = v;
  return out;
}

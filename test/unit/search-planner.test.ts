// The pure parts of search: requirement checking, metric direction, judging with reasons, and
// the SQL the planner emits (no database here).
import { describe, expect, it } from 'vitest';
import { planSearch, DEFAULT_LIMIT } from '../../src/registry/search/planner.js';
import { ftsQuery, judge, requirementsOf, type Facts } from '../../src/registry/search/requirements.js';
import { isLowerBetter } from '../../src/registry/search/metric-direction.js';
import { SEARCH_FEATURE_TYPES, SEARCH_TASKS } from '../../src/registry/search/tasks.js';
import { FEATURE_TYPES, TASK_KINDS } from '../../src/spec/schema.js';
import { MaasError } from '../../src/core/errors.js';
import type { SearchRequest } from '../../src/domain/model.js';

function usage(request: SearchRequest): MaasError {
  try {
    planSearch(request);
  } catch (e) {
    expect(e).toBeInstanceOf(MaasError);
    expect((e as MaasError).code).toBe('USAGE');
    expect((e as MaasError).hint).toBeTruthy();
    return e as MaasError;
  }
  throw new Error('expected a USAGE error');
}

const facts = (over: Partial<Facts> = {}): Facts => ({
  task: 'classification',
  algorithm: 'RandomForest',
  cpuMillis: 500,
  memoryBytes: 256 * 2 ** 20,
  gpu: 0,
  latencyMs: 20,
  metrics: new Map([['accuracy', 0.94]]),
  features: new Map([['acc_x_mean', 'number']]),
  labels: new Map([['team', 'vision']]),
  textMatch: true,
  ...over,
});

describe('search vocabulary', () => {
  it('knows the same task kinds and feature types as the schema', () => {
    expect([...SEARCH_TASKS]).toEqual([...TASK_KINDS]);
    expect([...SEARCH_FEATURE_TYPES]).toEqual([...FEATURE_TYPES]);
  });

  it('treats error, loss and latency metrics as lower-is-better', () => {
    for (const m of [
      'rmse',
      'MAE',
      'mse',
      'loss',
      'log_loss',
      'val_loss',
      'mean_absolute_error',
      'meanSquaredError',
      'latency_p99',
      'p95_ms',
      'error_rate',
      'wer',
    ]) {
      expect(isLowerBetter(m), m).toBe(true);
    }
    for (const m of ['accuracy', 'f1', 'auc', 'r2', 'precision', 'recall', 'ndcg', 'silhouette', 'map']) expect(isLowerBetter(m), m).toBe(false);
  });
});

describe('requirementsOf', () => {
  it('lists requirements in a fixed order', () => {
    const r = requirementsOf({
      text: 'walking',
      labels: { team: 'vision' },
      maxLatencyMs: 50,
      maxGpu: 0,
      maxMemoryBytes: 1024,
      maxCpuMillis: 1000,
      minMetrics: { accuracy: 0.9, rmse: 1.2 },
      features: [{ name: 'acc_x_mean', type: 'number' }, { name: 'steps' }],
      algorithm: ' MLP ',
      task: 'classification',
    });
    expect(r.map((x) => x.kind)).toEqual(['task', 'algorithm', 'feature', 'feature', 'metric', 'metric', 'cpu', 'memory', 'gpu', 'latency', 'label', 'text']);
    expect(r[1]).toEqual({ kind: 'algorithm', algorithm: 'MLP' });
    expect(r[5]).toEqual({ kind: 'metric', name: 'rmse', bound: 1.2, lowerIsBetter: true });
    expect(r[11]).toEqual({ kind: 'text', text: 'walking', match: '"walking"*' });
  });

  it('rejects bad values with USAGE and a hint', () => {
    expect(usage({ task: 'magic' as never }).message).toContain('unknown task "magic"');
    expect(usage({ features: [{ name: 'x', type: 'float' as never }] }).hint).toContain('number, integer, category, boolean');
    expect(usage({ features: [{ name: '' }] }).message).toContain('needs a name');
    expect(usage({ minMetrics: { accuracy: Number.NaN } }).message).toContain('accuracy');
    expect(usage({ maxCpuMillis: -1 }).message).toContain('cpu');
    expect(usage({ maxGpu: 0.5 }).message).toContain('integer');
    expect(usage({ text: '!!!' }).message).toContain('no words');
  });

  it('builds FTS queries from words only, so user text cannot inject query syntax', () => {
    expect(ftsQuery('walking AND "sitting" OR x*')).toBe('"walking"* "AND"* "sitting"* "OR"* "x"*');
    expect(ftsQuery('acc_x_mean')).toBe('"acc"* "x"* "mean"*');
    expect(ftsQuery('  ')).toBeUndefined();
  });
});

describe('judge', () => {
  const [task, feature, metric, ceiling, cpu, memory, gpu, latency, label, text] = requirementsOf({
    task: 'classification',
    features: [{ name: 'acc_x_mean', type: 'number' }],
    minMetrics: { accuracy: 0.9, rmse: 1.2 },
    maxCpuMillis: 1000,
    maxMemoryBytes: 2 ** 30,
    maxGpu: 1,
    maxLatencyMs: 50,
    labels: { team: 'vision' },
    text: 'walking',
  });
  const reasons = (f: Facts) => [task, feature, metric, cpu, memory, gpu, latency, label, text].map((r) => judge(r!, f));

  it('explains why a candidate matches', () => {
    expect(reasons(facts()).map((v) => v.reason)).toEqual([
      'task classification',
      'feature acc_x_mean:number',
      'accuracy 0.94 >= 0.90',
      'cpu 500m <= 1',
      'memory 256Mi <= 1Gi',
      'gpu 0 <= 1',
      'latency 20ms <= 50ms',
      'label team=vision',
      "text matches 'walking'",
    ]);
    expect(reasons(facts()).every((v) => v.ok)).toBe(true);
  });

  it('explains why a candidate fails', () => {
    const bad = facts({
      task: 'regression',
      features: new Map([['acc_x_mean', 'integer']]),
      metrics: new Map([['accuracy', 0.85]]),
      cpuMillis: 2000,
      memoryBytes: null,
      gpu: 2,
      latencyMs: 80,
      labels: new Map([['team', 'audio']]),
      textMatch: false,
    });
    expect(reasons(bad).map((v) => v.reason)).toEqual([
      'task regression, not classification',
      'feature acc_x_mean is integer, not number',
      'accuracy 0.85 < 0.90',
      'cpu 2 > 1',
      'memory not declared',
      'gpu 2 > 1',
      'latency 80ms > 50ms',
      'label team=audio, not vision',
      "text does not match 'walking'",
    ]);
    expect(reasons(bad).some((v) => v.ok)).toBe(false);
    expect(judge(feature!, facts({ features: new Map() })).reason).toBe('no feature acc_x_mean');
    expect(judge(label!, facts({ labels: new Map() })).reason).toBe('no label team');
    expect(judge(metric!, facts({ metrics: new Map() })).reason).toBe('accuracy not declared');
  });

  it('treats error metrics as ceilings', () => {
    expect(judge(ceiling!, facts({ metrics: new Map([['rmse', 0.8]]) }))).toEqual({ ok: true, reason: 'rmse 0.8 <= 1.2' });
    expect(judge(ceiling!, facts({ metrics: new Map([['rmse', 1.5]]) }))).toEqual({ ok: false, reason: 'rmse 1.5 > 1.2' });
  });
});

describe('planSearch', () => {
  it('ranks straight from the versions index when no side table is involved', () => {
    const plan = planSearch({ task: 'classification', maxCpuMillis: 1000 });
    expect(plan.hits.sql).not.toContain('INTERSECT');
    expect(plan.hits.sql).toContain('WHERE mv.is_latest = 1 AND mv.task = @r0 AND mv.cpu_millis <= @r1');
    expect(plan.hits.sql).toMatch(/ORDER BY score DESC, mv.registered_at DESC, mv.id DESC\s+LIMIT @limit/);
    expect(plan.hits.params).toEqual({ r0: 'classification', r1: 1000, limit: DEFAULT_LIMIT });
    expect(plan.nearMisses).toEqual([]);
  });

  it('intersects id sets from indexed side tables instead of probing each row', () => {
    const plan = planSearch({
      task: 'classification',
      features: [{ name: 'acc_x_mean', type: 'number' }],
      minMetrics: { accuracy: 0.9 },
      labels: { team: 'vision' },
      text: 'walking',
      limit: 5,
    });
    const cte = plan.hits.sql.slice(0, plan.hits.sql.indexOf('SELECT mv.id, mv.name'));
    expect(cte.match(/INTERSECT/g)).toHaveLength(4);
    expect(cte).toContain('SELECT mv.id FROM model_versions mv WHERE mv.is_latest = 1 AND mv.task = @r0');
    expect(cte).toContain('SELECT version_id FROM model_features WHERE name = @r1n AND type = @r1');
    expect(cte).toContain('SELECT version_id FROM model_metrics WHERE name = @r2n AND value >= @r2');
    expect(cte).toContain('SELECT version_id FROM model_labels WHERE key = @r3n AND value = @r3');
    expect(cte).toContain('SELECT id FROM text');
    expect(cte).toContain('text(id, rank) AS MATERIALIZED (\n    SELECT rowid, bm25(model_text) FROM model_text WHERE model_text MATCH @r4');
    expect(plan.hits.sql).not.toMatch(/EXISTS|\bspec\b/);
    expect(plan.hits.params).toEqual({
      r0: 'classification',
      r1n: 'acc_x_mean',
      r1: 'number',
      r2n: 'accuracy',
      r2: 0.9,
      r3n: 'team',
      r3: 'vision',
      r4: '"walking"*',
      limit: 5,
    });
    expect(plan.hits.sql).toContain('(SELECT count(*) FROM cand) AS total');
  });

  it('turns ceilings on error metrics into <= sets', () => {
    expect(planSearch({ minMetrics: { rmse: 1.2 } }).hits.sql).toContain('value <= @r0');
  });

  it('searches every version when latestOnly is false', () => {
    const plan = planSearch({ latestOnly: false, features: [{ name: 'x' }] });
    expect(plan.hits.sql).not.toContain('is_latest');
    expect(plan.scanned.sql).toBe('SELECT count(*) AS n FROM model_versions');
    expect(plan.hits.sql).toContain('SELECT version_id FROM model_features WHERE name = @r0n');
  });

  it('plans one near-miss query per requirement, negating exactly that one', () => {
    const plan = planSearch({ task: 'classification', minMetrics: { accuracy: 0.9 }, maxCpuMillis: 1000, explain: true });
    expect(plan.nearMisses.map((n) => n.failed)).toEqual([0, 1, 2]);
    const [task, metric, cpu] = plan.nearMisses.map((n) => n.query.sql);
    expect(task).toContain('NOT coalesce(mv.task = @r0, 0)');
    expect(metric).toContain('NOT EXISTS (SELECT 1 FROM model_metrics x WHERE x.version_id = mv.id AND x.name = @r1n AND x.value >= @r1)');
    expect(cpu).toContain('NOT coalesce(mv.cpu_millis <= @r2, 0)');
    expect(cpu).toContain('mv.task = @r0');
    expect(plan.nearMisses[1]?.query.params).toEqual({ r0: 'classification', r1n: 'accuracy', r1: 0.9, r2: 1000, nearLimit: 10 });
  });

  it('asks for the facts of given ids with every requirement value alongside', () => {
    const plan = planSearch({ features: [{ name: 'f' }], minMetrics: { accuracy: 0.9 }, labels: { team: 'x' }, text: 'walk' });
    const q = plan.facts([3, 1]);
    expect(q.sql).toContain('LEFT JOIN model_features f0');
    expect(q.sql).toContain('LEFT JOIN model_metrics m1');
    expect(q.sql).toContain('LEFT JOIN model_labels l2');
    expect(q.sql).toContain('AS t');
    expect(q.params.ids).toBe('[3,1]');
  });
});

// The compare use case with a scripted evaluator: rows from a data file, from a deployment's
// labelled feedback or given directly; compatibility checks; the errors a user sees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareVersions } from '../../src/app/compare.js';
import { deploy } from '../../src/app/deploy.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { appHarness, scriptedEvaluator, type AppHarness } from '../support/app.js';
import { tempDir } from '../support/cli.js';

let h: AppHarness | undefined;
let work: { path: string; cleanup: () => void };
beforeEach(() => {
  work = tempDir('maas-compare-');
});
afterEach(async () => {
  await h?.services.close();
  h = undefined;
  work.cleanup();
});

function churn(
  version: string,
  o: { labels?: string[]; features?: [string, 'number' | 'category'][]; task?: 'classification' | 'regression' } = {},
): ModelDescription {
  const d = modelDescription({
    name: 'churn',
    version,
    task: o.task ?? 'classification',
    features: o.features ?? [
      ['tenure', 'number'],
      ['spend', 'number'],
    ],
  });
  d.spec.training = { data: { uri: 'file://./train.csv', target: 'churned' } };
  if (o.labels) d.spec.outputs = { labels: o.labels };
  return d;
}

/** `n` rows: tenure = row index, truth alternating no/yes. */
function writeCsv(n: number, header = 'tenure,spend,churned'): string {
  const lines = [header, ...Array.from({ length: n }, (_, i) => `${i},${i * 2},${i % 2 === 0 ? 'no' : 'yes'}`)];
  writeFileSync(join(work.path, 'holdout.csv'), `${lines.join('\n')}\n`);
  return 'holdout.csv';
}

const flip = (l: unknown): string => (l === 'no' ? 'yes' : 'no');
/** Predicts the truth (the CSV row's target) except on rows whose tenure is below `wrongBelow`. */
const wrongOnFirst = (wrongBelow: number) => (rows: readonly Readonly<Record<string, unknown>>[]) => ({
  labels: rows.map((r) => (Number(r.tenure) < wrongBelow ? flip(r.churned) : String(r.churned))),
});

/** Like wrongOnFirst, from the features alone: the truth of tenure i is no for even i, yes for odd. */
const byTenure = (wrongBelow: number) => (rows: readonly Readonly<Record<string, unknown>>[]) => ({
  labels: rows.map((r) => {
    const truth = Number(r.tenure) % 2 ? 'yes' : 'no';
    return Number(r.tenure) < wrongBelow ? flip(truth) : truth;
  }),
});

describe('compareVersions', () => {
  it('evaluates both versions on a data file and says B is better', async () => {
    const evaluator = scriptedEvaluator({ 'churn@1': wrongOnFirst(15), 'churn@2': wrongOnFirst(2) });
    h = await appHarness({ evaluator });
    await h.register(churn('1'));
    // Labels in another order: mapped by name.
    await h.register(churn('2', { labels: ['yes', 'no'] }));
    const r = await compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'file', data: writeCsv(100), baseDir: work.path } });
    expect(evaluator.calls).toEqual([
      { ref: 'churn@1', rows: 100 },
      { ref: 'churn@2', rows: 100 },
    ]);
    expect(r).toMatchObject({
      a: { ref: 'churn@1', metrics: { accuracy: 0.85 } },
      b: { ref: 'churn@2', metrics: { accuracy: 0.98 } },
      primary: { metric: 'accuracy', a: 0.85, b: 0.98 },
      test: { name: 'mcnemar_exact', statistic: 0, discordant: { a_only: 0, b_only: 13 } },
      verdict: 'better',
      rows: 100,
      target: 'churned',
      unlabelled: 0,
      margin: 0,
      alpha: 0.05,
    });
    expect(r.primary.difference).toBeCloseTo(0.13, 12);
    expect(r.test.p_value).toBeCloseTo(2 * 0.5 ** 13, 12);
    expect(r.a.metrics).toHaveProperty('per_class', [
      expect.objectContaining({ label: 'no', support: 50 }),
      expect.objectContaining({ label: 'yes', support: 50 }),
    ]);
  });

  it('takes the primary metric from spec.performance, a margin and alpha, and leaves out unlabelled rows', async () => {
    h = await appHarness({ evaluator: scriptedEvaluator({ 'churn@1': wrongOnFirst(15), 'churn@2': wrongOnFirst(2) }) });
    const a = churn('1');
    a.spec.performance = { f1: 0.8 };
    await h.register(a);
    await h.register(churn('2'));
    writeFileSync(
      join(work.path, 'holdout.csv'),
      `${['tenure,spend,churned', ...Array.from({ length: 40 }, (_, i) => `${i},1,${i >= 38 ? '' : i % 2 ? 'yes' : 'no'}`)].join('\n')}\n`,
    );
    const r = await compareVersions(h.services, {
      a: 'churn@1',
      b: 'churn@2',
      rows: { kind: 'file', data: 'holdout.csv', baseDir: work.path },
      margin: 0.5,
      alpha: 0.01,
    });
    expect(r).toMatchObject({ primary: { metric: 'f1_macro' }, verdict: 'not_better', rows: 38, unlabelled: 2, margin: 0.5, alpha: 0.01 });
    expect(r.reason).toMatch(/less than the margin 0.5/);
  });

  it('says not_enough_data under 30 rows', async () => {
    h = await appHarness({ evaluator: scriptedEvaluator({ 'churn@1': wrongOnFirst(15), 'churn@2': wrongOnFirst(0) }) });
    await h.register(churn('1'));
    await h.register(churn('2'));
    const r = await compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'file', data: writeCsv(20), baseDir: work.path } });
    expect(r.verdict).toBe('not_enough_data');
  });

  it('compares regressions on rows given directly, with a seeded bootstrap', async () => {
    const truthOf = (r: Readonly<Record<string, unknown>>): number => Number(r.tenure) * 3;
    h = await appHarness({
      evaluator: scriptedEvaluator({
        'churn@1': (rows) => ({ values: rows.map((r, i) => truthOf(r) + (i % 2 ? 2 : -2)) }),
        'churn@2': (rows) => ({ values: rows.map((r, i) => truthOf(r) + (i % 2 ? 0.5 : -0.5)) }),
      }),
    });
    await h.register(churn('1', { task: 'regression' }));
    await h.register(churn('2', { task: 'regression' }));
    const rows = Array.from({ length: 50 }, (_, i) => [i, 1, i * 3]);
    const req = {
      a: 'churn@1',
      b: 'churn@2',
      rows: { kind: 'rows' as const, what: 'test rows', features: ['spend', 'tenure'], target: 'y', rows: rows.map(([t, s, y]) => [s!, t!, y!]) },
      seed: 7,
    };
    const r = await compareVersions(h.services, req);
    expect(r).toMatchObject({
      a: { metrics: { rmse: 2, mae: 2 } },
      b: { metrics: { rmse: 0.5, mae: 0.5 } },
      primary: { metric: 'rmse', a: 2, b: 0.5, difference: -1.5 },
      test: { name: 'paired_bootstrap', resamples: 2000 },
      verdict: 'better',
      source: 'test rows',
      target: 'y',
    });
    expect(await compareVersions(h.services, req)).toEqual(r);
  });

  it("reads a deployment's labelled feedback", async () => {
    h = await appHarness({
      // The evaluator gets the feature values only: the truth is the tenure's parity.
      evaluator: scriptedEvaluator({ 'churn@1': byTenure(15), 'churn@2': byTenure(1) }),
      inference: {
        labelled: async () => ({
          model_name: 'churn',
          model_version: '1',
          features: ['tenure', 'spend'],
          target: 'churned',
          rows: Array.from({ length: 60 }, (_, i) => [i, 2, i === 59 ? null : i % 2 ? 'yes' : 'no']),
          ids: [],
          times: [],
          versions: [],
        }),
      },
    });
    await h.register(churn('1'));
    await h.register(churn('2'));
    await deploy(h.services, { model: 'churn', version: '1', target: 'local', mode: 'open', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
    const r = await compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'deployment', deployment: 'churn', timeoutMs: 1000 } });
    expect(r).toMatchObject({
      rows: 59,
      unlabelled: 1,
      target: 'churned',
      source: expect.stringMatching(/labelled feedback of deployment d-/),
      test: { discordant: { a_only: 0, b_only: 14 } },
      verdict: 'better',
    });
  });

  it('refuses versions that differ in task, features or labels, saying what differs', async () => {
    h = await appHarness();
    await h.register(churn('1'));
    await h.register(
      churn('2', {
        features: [
          ['tenure', 'category'],
          ['visits', 'number'],
        ],
      }),
    );
    await h.register(churn('3', { labels: ['no', 'yes', 'maybe'] }));
    await h.register(churn('4', { task: 'regression' }));
    const rows = { kind: 'file' as const, data: writeCsv(40), baseDir: work.path };
    const features = await rejection(compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows }));
    expect(features).toMatchObject({ code: 'USAGE' });
    expect(features.message).toMatch(/features only A has: spend; features only B has: visits; feature types differ: tenure \(A number, B category\)/);
    expect((await rejection(compareVersions(h.services, { a: 'churn@1', b: 'churn@3', rows }))).message).toMatch(
      /labels differ: only A has \(none\); only B has maybe/,
    );
    expect((await rejection(compareVersions(h.services, { a: 'churn@1', b: 'churn@4', rows }))).message).toMatch(/task: A is classification, B is regression/);
    expect(await rejection(compareVersions(h.services, { a: 'churn@1', b: 'churn@1', rows }))).toMatchObject({ code: 'USAGE' });
  });

  it('says which version is unknown, and which column is missing', async () => {
    h = await appHarness();
    await h.register(churn('1'));
    await h.register(churn('2'));
    const unknown = await rejection(
      compareVersions(h.services, { a: 'churn@1', b: 'churn@9', rows: { kind: 'file', data: writeCsv(40), baseDir: work.path } }),
    );
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/^B \(challenger\): model churn@9 is not registered/) });
    const noVersion = await rejection(
      compareVersions(h.services, { a: 'churn', b: 'churn@2', rows: { kind: 'file', data: writeCsv(40), baseDir: work.path } }),
    );
    expect(noVersion).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/needs an explicit version/) });
    const target = await rejection(
      compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'file', data: writeCsv(40, 'tenure,spend,churn'), baseDir: work.path } }),
    );
    expect(target).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/no target column "churned" \(did you mean "churn"\?\)/) });
    const feature = await rejection(
      compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'file', data: writeCsv(40, 'tenure,spends,churned'), baseDir: work.path } }),
    );
    expect(feature).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/no column for feature "spend" \(did you mean "spends"\?\)/) });
    const missing = await rejection(compareVersions(h.services, { a: 'churn@1', b: 'churn@2', rows: { kind: 'file', data: 'nope.csv', baseDir: work.path } }));
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
  });
});

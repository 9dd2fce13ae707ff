// `maas drift check --reference A --current B`: the offline check a CI step runs on batch data,
// through main() in-process with real files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../src/drift/report.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';
import { featureNames, normalRecords, toCsv } from '../support/drift-data.js';

const dir = tempDir('maas-drift-cli-');
const home = join(dir.path, 'home');
const cli = (...argv: string[]): Promise<CliResult> => runCli(argv, { home, cwd: dir.path });
const FEATURES = featureNames(6);

beforeAll(() => {
  const withColour = (records: Record<string, number>[], skew: boolean) =>
    records.map((r, i) => ({ ...r, colour: skew ? (i % 4 === 0 ? 'red' : 'blue') : i % 2 === 0 ? 'red' : 'blue', id: `row-${i}` }));
  writeFileSync(join(dir.path, 'ref.csv'), toCsv(withColour(normalRecords(1, 800, FEATURES), false)));
  writeFileSync(join(dir.path, 'same.csv'), toCsv(withColour(normalRecords(2, 600, FEATURES), false)));
  writeFileSync(join(dir.path, 'shifted.csv'), toCsv(withColour(normalRecords(3, 600, FEATURES, { f02: 1, f05: 1, f06: 1 }), true)));
});
afterAll(() => dir.cleanup());

describe('maas drift check (files)', () => {
  it('finds nothing on data from the same distribution, and exits 0 even with --fail-on-drift', async () => {
    const r = await cli('drift', 'check', '--reference', 'ref.csv', '--current', 'same.csv', '--ignore', 'id', '--fail-on-drift');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No dataset drift');
    expect(r.stdout).toMatch(/f01\s+number\s+ks/);
    expect(r.stdout).toMatch(/colour\s+category\s+z/);
  });

  it('names the shifted features, exits 3 with --fail-on-drift, and prints only data with -o json', async () => {
    const r = await cli('drift', 'check', '--reference', 'ref.csv', '--current', 'shifted.csv', '--ignore', 'id', '--fail-on-drift', '-o', 'json');
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as DriftReport;
    expect(report.schema).toBe('maas.dev/drift/v1');
    expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['f02', 'f05', 'f06', 'colour']);
    expect(report.dataset).toMatchObject({ drifted: true, drifted_features: 4, features: 7, threshold: 0.5 });
    expect(report.drift_detected).toBe(true);
    const ks = report.features.find((f) => f.name === 'f02')!;
    expect(ks).toMatchObject({ test: 'ks', measure: 'p_value', basis: 'values', chosen_by: 'default' });
    expect(ks.p_value).toBeLessThan(1e-10);
    expect(ks.plot?.kind).toBe('numeric');
  });

  it('takes tests and thresholds from flags, per feature or for all', async () => {
    const r = await cli(
      'drift',
      'check',
      '--reference',
      'ref.csv',
      '--current',
      'shifted.csv',
      '--ignore',
      'id',
      '--ignore',
      'colour',
      '--test',
      'wasserstein',
      '--feature-test',
      'f01=psi',
      '--feature-threshold',
      'f02=5',
      '--dataset-share',
      '0.9',
      '-o',
      'json',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DriftReport;
    const byName = Object.fromEntries(report.features.map((f) => [f.name, f]));
    expect(byName.f01).toMatchObject({ test: 'psi', measure: 'distance', chosen_by: 'flag' });
    expect(byName.f02).toMatchObject({ test: 'wasserstein', threshold: 5, drifted: false });
    expect(byName.f05).toMatchObject({ test: 'wasserstein', drifted: true });
    expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(expect.arrayContaining(['f05', 'f06']));
    expect(report.dataset).toMatchObject({ drifted: false, threshold: 0.9, features: 6 });
  });

  it('writes a self-contained HTML report', async () => {
    const r = await cli('drift', 'check', '--reference', 'ref.csv', '--current', 'shifted.csv', '--ignore', 'id', '--report', 'out/../drift.html');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('report written to');
    const html = readFileSync(join(dir.path, 'drift.html'), 'utf8');
    for (const f of [...FEATURES, 'colour']) expect(html).toContain(`data-feature="${f}"`);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--reference', 'ref.csv', '--current', 'same.csv', '--test', 'kss'], 2, /unknown test "kss"/],
      [['--reference', 'ref.csv', '--current', 'same.csv', '--threshold', '-1'], 2, /non-negative/],
      [['--reference', 'ref.csv', '--current', 'same.csv', '--dataset-share', '2'], 2, /between 0 and 1/],
      [['--reference', 'ref.csv', '--current', 'same.csv', '--feature-test', 'f1=ks'], 2, /"f1" is not a feature here \(did you mean f01\?\)/],
      [['--reference', 'ref.csv', '--current', 'same.csv', '--feature-test', 'f01'], 2, /FEATURE=VALUE/],
      [['--reference', 'ref.csv', '--current', 'same.csv', '--ignore', 'nope'], 2, /neither file has that column/],
      [['--reference', 'ref.csv'], 2, /nothing to check/],
      [['--current', 'same.csv'], 2, /exactly one of --model and --reference/],
      [['--reference', 'missing.csv', '--current', 'same.csv', '--report', 'never.html'], 4, /missing\.csv/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli('drift', 'check', ...args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir.path, 'never.html'))).toBe(false);
  });

  it('puts a test that does not fit a feature in that feature, not in the whole check', async () => {
    const r = await cli('drift', 'check', '--reference', 'ref.csv', '--current', 'same.csv', '--ignore', 'id', '--feature-test', 'colour=ks', '-o', 'json');
    expect(r.code).toBe(0);
    const colour = (JSON.parse(r.stdout) as DriftReport).features.find((f) => f.name === 'colour')!;
    expect(colour.error).toMatch(/ks needs numbers/);
    expect(colour.drifted).toBe(false);
  });
});

describe('maas drift check --model (against the stored profile)', () => {
  beforeAll(async () => {
    writeFileSync(join(dir.path, 'model.onnx'), 'weights');
    const d = modelDescription({ name: 'sensor', version: '1', features: FEATURES.map((f) => [f, 'number'] as [string, 'number']) });
    d.spec.training = { data: { uri: 'file://./ref.csv', format: 'csv' } };
    d.spec.monitoring = { features: { f01: { test: 'psi' } }, datasetShare: 0.4 };
    const plain = modelDescription({ name: 'sensor', version: '2', features: [['f01', 'number']] });
    writeFileSync(join(dir.path, 'sensor.yaml'), `${stringify(d)}---\n${stringify(plain)}`);
    const r = await cli('register', 'sensor.yaml', '--no-artifact-check');
    expect(r.code, r.stderr).toBe(0);
  });

  it('compares a batch file with the profile, using the tests the description asks for', async () => {
    const r = await cli('drift', 'check', '--model', 'sensor@1', '--current', 'shifted.csv', '-o', 'json', '--fail-on-drift');
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as DriftReport;
    expect(report.subject).toEqual({ model: 'sensor', version: '1', deployment: null });
    expect(report.reference.rows).toBe(800);
    expect(report.features.map((f) => f.name)).toEqual(FEATURES);
    expect(report.features.find((f) => f.name === 'f01')).toMatchObject({ test: 'psi', chosen_by: 'description' });
    expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(expect.arrayContaining(['f02', 'f05', 'f06']));
    expect(report.dataset.threshold).toBe(0.4);
    const same = await cli('drift', 'check', '--model', 'sensor@1', '--current', 'same.csv', '-o', 'json');
    expect((JSON.parse(same.stdout) as DriftReport).dataset.drifted).toBe(false);
  });

  it('says how to get a profile when the version has none, and names a missing column', async () => {
    const none = await cli('drift', 'check', '--model', 'sensor@2', '--current', 'same.csv');
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/sensor@2 has no reference profile/);
    expect(none.stderr).toMatch(/maas profile set sensor@2 --data FILE/);
    writeFileSync(join(dir.path, 'partial.csv'), 'f01,f02,f03,f04,f05,f6\n1,2,3,4,5,6\n');
    const missing = await cli('drift', 'check', '--model', 'sensor@1', '--current', 'partial.csv');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no column "f06" \(did you mean f6\?\)/);
    const typo = await cli('drift', 'check', '--model', 'sensr@1', '--current', 'same.csv');
    expect(typo.code).toBe(4);
    expect(typo.stderr).toMatch(/did you mean/);
  });
});

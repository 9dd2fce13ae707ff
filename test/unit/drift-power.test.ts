// How often the data-drift check raises false alarms and how often it finds a real shift, on
// seeded synthetic data: 14 standard normal features, 1,000 current rows per run.
import { describe, expect, it } from 'vitest';
import { columnsOf } from '../../src/drift/columns.js';
import { detectDataDrift, sideFromColumns, type DriftFeature } from '../../src/drift/data-drift.js';
import { featureNames, normalRecords } from '../support/drift-data.js';

const FEATURES = featureNames(14);
const SPECS: DriftFeature[] = FEATURES.map((name) => ({ name, type: 'number' }));
const SHIFTED = ['f02', 'f07', 'f11'];
const RUNS = 200;

function run(seed: number, referenceRows: number, shift: number, datasetShare?: number) {
  const side = (s: number, rows: number, sh: Record<string, number>) =>
    sideFromColumns(columnsOf(SPECS, normalRecords(s, rows, FEATURES, sh)), SPECS, 'synthetic');
  const reference = side(seed * 2 + 1, referenceRows, {});
  const current = side(seed * 2 + 2, 1000, Object.fromEntries(SHIFTED.map((f) => [f, shift])));
  return detectDataDrift(SPECS, reference, current, datasetShare === undefined ? {} : { flags: { datasetShare } });
}

describe.each([
  { referenceRows: 1000, test: 'ks' },
  { referenceRows: 2000, test: 'wasserstein' },
])('with $referenceRows reference rows ($test by default)', ({ referenceRows, test }) => {
  it('flags dataset drift on at most 5 % of 200 unshifted streams', () => {
    let alarms = 0;
    let featureAlarms = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const r = run(seed, referenceRows, 0);
      expect(r.features[0]!.test).toBe(test);
      if (r.dataset.drifted) alarms++;
      featureAlarms += r.dataset.drifted_features;
    }
    expect(alarms / RUNS).toBeLessThanOrEqual(0.05);
    // Per feature the p-value tests alarm at about their level (5 %); distances far less.
    expect(featureAlarms / (RUNS * FEATURES.length)).toBeLessThanOrEqual(0.08);
  });

  it('finds a 0.5-sigma mean shift of 3 of 14 features in at least 95 % of 200 runs', () => {
    let found = 0;
    let dataset = 0;
    let extra = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      // 3 of 14 is below the default dataset share (0.5); with a share of 0.2 it is dataset drift.
      const r = run(1000 + seed, referenceRows, 0.5, 0.2);
      const drifted = r.features.filter((f) => f.drifted).map((f) => f.name);
      if (SHIFTED.every((f) => drifted.includes(f))) found++;
      extra += drifted.filter((f) => !SHIFTED.includes(f)).length;
      if (r.dataset.drifted) dataset++;
    }
    expect(found / RUNS).toBeGreaterThanOrEqual(0.95);
    expect(dataset / RUNS).toBeGreaterThanOrEqual(0.95);
    expect(extra / (RUNS * (FEATURES.length - SHIFTED.length))).toBeLessThanOrEqual(0.08);
  });
});

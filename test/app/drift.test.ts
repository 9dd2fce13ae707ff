// The drift-check use case for a deployment: the model server computes the report; the use case
// passes the overrides, names the deployment, and refuses what the server cannot take.
import { afterEach, describe, expect, it } from 'vitest';
import { checkDrift } from '../../src/app/drift.js';
import { deploy } from '../../src/app/deploy.js';
import type { DriftQuery } from '../../src/protocol/inference-api.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { sampleDriftReport } from '../support/drift-report-fixture.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness | undefined;
afterEach(() => h?.services.close());

describe('checkDrift on a deployment', () => {
  it('asks the server with the overrides and names the deployment in the report', async () => {
    const asked: DriftQuery[] = [];
    h = await appHarness({
      inference: { drift: async (q) => (asked.push(q ?? {}), { ...sampleDriftReport(), subject: { model: 'har', version: '1', deployment: null } }) },
    });
    await h.register(modelDescription({ name: 'har', version: '1' }));
    const { deployment } = await deploy(h.services, { model: 'har', target: 'local', mode: 'open', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
    const report = await checkDrift(h.services, {
      subject: { kind: 'deployment', id: 'har' },
      flags: { test: 'ks', threshold: 0.01, datasetShare: 0.3 },
      cwd: '/',
    });
    expect(asked).toEqual([{ test: 'ks', threshold: 0.01, share: 0.3 }]);
    expect(report.subject).toEqual({ model: 'har', version: '1', deployment: deployment.id });
  });

  it('refuses per-feature flags for a deployment, which reads them from its description', async () => {
    h = await appHarness();
    await h.register(modelDescription({ name: 'har', version: '1' }));
    const e = await rejection(checkDrift(h.services, { subject: { kind: 'deployment', id: 'har' }, flags: { features: { x: { test: 'ks' } } }, cwd: '/' }));
    expect(e).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/offline checks only/) });
  });

  it('says a deployment that is not serving cannot be checked', async () => {
    h = await appHarness();
    await h.register(modelDescription({ name: 'har', version: '1' }));
    const { deployment } = await deploy(h.services, { model: 'har', target: 'local', mode: 'open', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
    h.local.running.set(deployment.id, { state: 'failed', reason: 'process 42 is not running' });
    const e = await rejection(checkDrift(h.services, { subject: { kind: 'deployment', id: deployment.id }, cwd: '/' }));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not serving/) });
  });
});

// The retrain use case's decisions before anything trains: --on-drift without drift does nothing
// and says why; feedback needs a deployment; no data is an error; the change point of concept
// drift picks the feedback that teaches the new concept.
import { afterEach, describe, expect, it } from 'vitest';
import { changePoint, retrain, type RetrainRequest } from '../../src/app/retrain.js';
import { deploy } from '../../src/app/deploy.js';
import type { DriftReport } from '../../src/drift/report.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { sampleDriftReport } from '../support/drift-report-fixture.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness | undefined;
afterEach(() => h?.services.close());

const request = (over: Partial<RetrainRequest>): RetrainRequest => ({
  subject: 'har',
  data: [],
  feedback: false,
  onDrift: false,
  target: 'local',
  timeoutMs: 10_000,
  dryRun: false,
  weighting: { mode: 'auto' },
  promote: 'auto',
  cwd: '/',
  ...over,
});
const quiet = { onOutput: () => {} };

function calm(): DriftReport {
  const r = sampleDriftReport();
  return { ...r, dataset: { ...r.dataset, drifted: false, share: 0.1, drifted_features: 1 }, concept: null, drift_detected: false };
}

describe('retrain', () => {
  it('does nothing with --on-drift when the deployment shows no drift, and says why', async () => {
    h = await appHarness({ inference: { drift: async () => calm() } });
    await h.register(modelDescription({ name: 'har', version: '1' }));
    await deploy(h.services, { model: 'har', target: 'local', mode: 'open', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
    const r = await retrain(h.services, request({ onDrift: true, feedback: true }), () => {}, quiet);
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(/^no drift: 1 of 10 features drifted .*nothing retrained$/);
    expect(await h.services.models.getModel('har', '2')).toBeUndefined();
  });

  it('refuses feedback without a deployment, and a model with no training data at all', async () => {
    h = await appHarness();
    await h.register(modelDescription({ name: 'har', version: '1' }));
    expect(await rejection(retrain(h.services, request({ feedback: true }), () => {}, quiet))).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/--feedback needs a deployment/),
    });
    expect(await rejection(retrain(h.services, request({}), () => {}, quiet))).toMatchObject({ code: 'USAGE', message: 'no training data for har@1' });
  });

  it('finds where the concept changed: the earliest last drift of ADWIN and Page-Hinkley', () => {
    const r = sampleDriftReport();
    const concept = {
      ...r.concept!,
      drifted: true,
      labelled: 1000,
      detectors: [
        { detector: 'ddm' as const, state: 'stable' as const, warnings: [], drifts: [100] },
        { detector: 'adwin' as const, state: 'stable' as const, warnings: [], drifts: [300, 640] },
        { detector: 'page-hinkley' as const, state: 'stable' as const, warnings: [], drifts: [700] },
      ],
    };
    expect(changePoint({ ...r, concept })).toEqual({ index: 640, after: 360, detector: 'adwin' });
    expect(changePoint({ ...r, concept: { ...concept, drifted: false } })).toBeUndefined();
    expect(changePoint(undefined)).toBeUndefined();
  });

  it('trains on the feedback of a strict deployment only on its node, in a Kubernetes Job', async () => {
    h = await appHarness();
    await h.register(modelDescription({ name: 'har', version: '1' }));
    await deploy(h.services, { model: 'har', target: 'cluster', mode: 'strict', node: 'n1', consumer: 'ci', wait: true, timeoutMs: 10_000 }, () => {});
    expect(await rejection(retrain(h.services, request({ feedback: true }), () => {}, quiet))).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/placed strictly on node n1: its labelled rows never leave that node, so its feedback is trained on there/),
      hint: expect.stringMatching(/--target kubernetes: a Job on n1/),
    });
    // The fake target is not Kubernetes: no Job can run on its node.
    expect(await rejection(retrain(h.services, request({ feedback: true, target: 'kubernetes' }), () => {}, quiet))).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/only a Kubernetes deployment can train there/),
    });
  });
});

// Rollout, rollback and history use cases over in-memory stores, the scriptable target and a
// manual clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.js';
import { deploymentHistory, rollback, rollout, type RolloutRequest } from '../../src/app/rollout.js';
import { MaasError } from '../../src/core/errors.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness;
const progress: string[] = [];
const say = (m: string) => progress.push(m);
const roll = (o: Partial<RolloutRequest> = {}) => rollout(h.services, { deployment: 'd-0001', to: 'har@2', reason: 'manual', timeoutMs: 10_000, ...o }, say);

beforeEach(async () => {
  h = await appHarness();
  progress.length = 0;
  await h.register(modelDescription({ name: 'har', version: '1' }));
  await h.register(modelDescription({ name: 'har', version: '2', algorithm: 'GradientBoosting' }));
  await deploy(h.services, { model: 'har', version: '1', target: 'local', mode: 'open', consumer: 'alice', wait: true, timeoutMs: 10_000 }, say);
});
afterEach(() => h.services.close());

describe('rollout', () => {
  it('switches the served version in place: same ID and consumers, new endpoint, a history entry, then retires the old server', async () => {
    const comparison = { metric: 'accuracy', from: 0.91, to: 0.94 };
    const r = await roll({ reason: 'retrain', comparison });
    expect(r.changed).toBe(true);
    expect(r.deployment).toMatchObject({ id: 'd-0001', version: '2', state: 'ready', consumers: ['alice'], endpoint: 'http://fake/d-0001/v2' });
    expect(r.deployment.runtime).toMatchObject({ version: '2' });
    expect(r.deployment.rollouts).toEqual([{ at: '2026-01-01T00:00:00.200Z', from: '1', to: '2', reason: 'retrain', comparison }]);
    expect(r.change).toEqual(r.deployment.rollouts?.[0]);
    // The record names the new version before the old server is retired.
    expect(h.local.calls.slice(-2)).toEqual(['rollout d-0001 har@1 -> har@2', 'retire d-0001 1']);
    expect((await h.services.deployments.getDeployment('d-0001'))?.version).toBe('2');
    // Only a version change: the state history is left alone.
    expect(r.deployment.history.map((e) => e.state)).toEqual(['queued', 'deploying', 'ready']);
  });

  it('accepts @VERSION and a bare version; the version served already is a no-op with a message', async () => {
    expect((await roll({ to: '@2' })).deployment.version).toBe('2');
    const same = await roll({ to: '2' });
    expect(same).toMatchObject({ changed: false, deployment: { version: '2' } });
    expect(same.message).toMatch(/already serves har@2; nothing to do/);
    expect(h.local.calls.filter((c) => c.startsWith('rollout'))).toHaveLength(1);
  });

  it('refuses another model (USAGE), another task or other features (VALIDATION), an unknown version (NOT_FOUND)', async () => {
    await h.register(modelDescription({ name: 'other', version: '1' }));
    await h.register(modelDescription({ name: 'har', version: '3', task: 'regression' }));
    await h.register(
      modelDescription({
        name: 'har',
        version: '4',
        features: [
          ['x', 'number'],
          ['y', 'number'],
        ],
      }),
    );
    expect(await rejection(roll({ to: 'other@1' }))).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/serves har; it cannot roll out other/) });
    expect(await rejection(roll({ to: 'har@3' }))).toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/its task is regression, not classification/),
    });
    expect(await rejection(roll({ to: 'har@4' }))).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/its features differ \(position 2/) });
    expect(await rejection(roll({ to: 'har@9' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(h.local.calls.some((c) => c.startsWith('rollout'))).toBe(false);
    expect((await h.services.deployments.getDeployment('d-0001'))?.version).toBe('1');
  });

  it('keeps the old version when the target cannot switch, and refuses a deployment that is not serving', async () => {
    h.local.script.rolloutFails = new MaasError('FAILURE', 'har@2 did not start');
    expect(await rejection(roll())).toMatchObject({ code: 'FAILURE' });
    const d = await h.services.deployments.getDeployment('d-0001');
    expect(d?.version).toBe('1');
    expect(d?.rollouts).toBeUndefined();
    delete h.local.script.rolloutFails;
    h.local.running.set('d-0001', { state: 'cached', reason: 'scaled to zero' });
    expect(await rejection(roll())).toMatchObject({ code: 'UNAVAILABLE', hint: expect.stringMatching(/maas restart d-0001/) });
  });

  it('refuses a version another deployment already serves in the same slot', async () => {
    await deploy(h.services, { model: 'har', version: '2', target: 'local', mode: 'open', consumer: 'bob', wait: true, timeoutMs: 10_000 }, say);
    expect(await rejection(roll())).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/d-0002 already serves har@2/) });
  });

  it('runs one version change at a time: a second one meanwhile is a CONFLICT; a stale claim is taken over', async () => {
    // A claim held by another run (as a concurrent rollout would hold it).
    expect(await h.services.deployments.claimRollout('d-0001', 'other', '2026-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')).toBe(true);
    const e = await rejection(roll());
    expect(e).toMatchObject({ code: 'CONFLICT', message: 'another rollout of deployment d-0001 is running' });
    expect((await h.services.deployments.getDeployment('d-0001'))?.version).toBe('1');
    // The other run died: after the timeout and a minute its claim is stale.
    await h.clock.sleep(10_000 + 61_000);
    expect((await roll()).deployment.version).toBe('2');
    // Released after the switch: the next change may start.
    expect((await roll({ to: '1', reason: 'rollback' })).deployment.version).toBe('1');
  });

  it('gives the target the new version profile to serve with', async () => {
    const profile = { schema: 1, rows: 5 };
    h.stores.models.profiles.set('har@2', profile as never);
    await roll();
    expect(h.local.extras.at(-1)).toEqual({ profile });
  });
});

describe('rollback and history', () => {
  it('goes back to the previous version with reason rollback; a second rollback undoes the first', async () => {
    await roll({ comparison: { accuracy: [0.91, 0.94] } });
    const back = await rollback(h.services, { deployment: 'd-0001', timeoutMs: 10_000 }, say);
    expect(back.deployment.version).toBe('1');
    expect(back.change).toMatchObject({ from: '2', to: '1', reason: 'rollback' });
    const again = await rollback(h.services, { deployment: 'har', timeoutMs: 10_000 }, say);
    expect(again.deployment.version).toBe('2');

    const history = await deploymentHistory(h.services, 'd-0001');
    expect(history).toMatchObject({ deployment: 'd-0001', model: 'har', version: '2' });
    expect(history.entries.map((e) => [e.version, e.from, e.reason, e.current])).toEqual([
      ['1', undefined, 'deployed', false],
      ['2', '1', 'manual', false],
      ['1', '2', 'rollback', false],
      ['2', '1', 'rollback', true],
    ]);
    expect(history.entries[0]?.at).toBe('2026-01-01T00:00:00.000Z');
    expect(history.entries[1]?.comparison).toEqual({ accuracy: [0.91, 0.94] });
  });

  it('has nothing to roll back to before any rollout', async () => {
    expect(await rejection(rollback(h.services, { deployment: 'd-0001', timeoutMs: 10_000 }, say))).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/has only ever served har@1; there is nothing to roll back to/),
    });
    expect((await deploymentHistory(h.services, 'd-0001')).entries).toEqual([
      { at: '2026-01-01T00:00:00.000Z', version: '1', reason: 'deployed', current: true },
    ]);
  });
});

// The deploy use case over in-memory stores, scriptable targets and a manual clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deploy, restart, runDeployJob, type DeployRequest } from '../../src/app/deploy.js';
import { dryRunDeploy } from '../../src/app/dry-run.js';
import { seededRandom } from '../../src/core/clock.js';
import { ProfileBuilder } from '../../src/drift/profile.js';
import { MaasError } from '../../src/core/errors.js';
import { withStartedRuntime } from '../../src/targets/target.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness;
const progress: string[] = [];
const req = (o: Partial<DeployRequest> = {}): DeployRequest => ({
  model: 'har',
  target: 'local',
  mode: 'open',
  consumer: 'alice',
  wait: true,
  timeoutMs: 10_000,
  ...o,
});
const run = (o: Partial<DeployRequest> = {}) => deploy(h.services, req(o), (m) => progress.push(m));

beforeEach(async () => {
  h = await appHarness();
  progress.length = 0;
  await h.register();
});
afterEach(() => h.services.close());

describe('deploy', () => {
  it('creates, launches through the queue, waits on the injected clock and records ready', async () => {
    const start = h.clock.now();
    const r = await run();
    expect(r.outcome).toBe('created');
    expect(r.deployment).toMatchObject({ id: 'd-0001', model: 'har', version: '1', state: 'ready', endpoint: 'http://fake/d-0001', consumers: ['alice'] });
    expect(r.deployment.history.map((e) => e.state)).toEqual(['queued', 'deploying', 'ready']);
    expect(r.deployment.runtime).toMatchObject({ fake: true });
    expect(h.local.calls).toEqual(['start d-0001 har@1', 'waitReady d-0001']);
    // Three polls 100 ms apart, on the manual clock: no real time passed.
    expect(h.clock.now() - start).toBe(200);
    expect(progress).toContain('deployment d-0001 queued');
  });

  it('reuses a ready deployment for a second consumer and attaches to one still deploying', async () => {
    await run();
    const again = await run({ consumer: 'bob' });
    expect(again).toMatchObject({ outcome: 'reused', deployment: { id: 'd-0001', consumers: ['alice', 'bob'] } });
    h.local.running.set('d-0001', { state: 'deploying' });
    const third = await run({ consumer: 'carol', wait: false });
    expect(third.outcome).toBe('attached');
    expect(third.deployment.consumers).toEqual(['alice', 'bob', 'carol']);
    expect(h.local.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
  });

  it('restarts a failed deployment in place, queued again before it starts', async () => {
    await run();
    h.local.running.delete('d-0001');
    const r = await run();
    expect(r.outcome).toBe('restarted');
    expect(r.deployment.id).toBe('d-0001');
    expect(r.deployment.history.map((e) => e.state)).toEqual(['queued', 'deploying', 'ready', 'failed', 'queued', 'deploying', 'ready']);
  });

  it('returns at once with --async and leaves the launch to the queue', async () => {
    const r = await run({ wait: false });
    expect(r.deployment.state).toBe('queued');
    await h.services.queue.idle();
    expect((await h.stores.deployments.getDeployment(r.deployment.id))?.state).toBe('deploying');
    expect(h.local.calls).toEqual([`start ${r.deployment.id} har@1`]);
  });

  it('records a failed launch with its reason and rethrows it', async () => {
    h.local.script.startFails = new MaasError('FAILURE', 'the artifact is not in the local store');
    const e = await rejection(run());
    expect(e.message).toContain('not in the local store');
    const d = await h.stores.deployments.getDeployment('d-0001');
    expect(d).toMatchObject({ state: 'failed', reason: 'the artifact is not in the local store' });
  });

  it('keeps the runtime of a start that failed half way, so that a purge can remove it', async () => {
    h.local.script.startFails = withStartedRuntime(new MaasError('FORBIDDEN', 'cannot apply the Deployment'), { objects: ['ConfigMap/har-v1'] });
    await rejection(run());
    expect((await h.stores.deployments.getDeployment('d-0001'))?.runtime).toEqual({ objects: ['ConfigMap/har-v1'] });
  });

  it('fails with the target reason, or times out on the manual clock', async () => {
    h.local.script.crash = 'model server exited 1';
    const failed = await rejection(run());
    expect(failed).toMatchObject({ code: 'FAILURE' });
    expect(failed.message).toContain('model server exited 1');

    h.local.script = { readyAfterPolls: 1_000 };
    const slow = await rejection(run({ model: 'har', consumer: 'bob', timeoutMs: 1_000 }));
    expect(slow.code).toBe('TIMEOUT');
  });

  it('joins the winner when a concurrent deploy takes the slot first (one retry)', async () => {
    const { deployments } = h.stores;
    const create = deployments.createDeployment.bind(deployments);
    let raced = false;
    deployments.createDeployment = async (n, at) => {
      if (!raced) {
        raced = true;
        await create({ ...n, id: 'd-winner', consumer: 'someone-else' }, at);
      }
      return create(n, at);
    };
    h.local.running.set('d-winner', { state: 'ready', endpoint: 'http://fake/d-winner' });
    const r = await run();
    expect(r).toMatchObject({ outcome: 'reused', deployment: { id: 'd-winner', consumers: ['someone-else', 'alice'] } });
  });

  it('makes the placement part of the identity: another namespace is another deployment', async () => {
    h.cluster.script.placement = { namespace: 'a', cluster: 'https://c1' };
    const a = await run({ target: 'cluster' });
    h.cluster.script.placement = { namespace: 'b', cluster: 'https://c1' };
    const b = await run({ target: 'cluster' });
    expect(a.deployment.id).not.toBe(b.deployment.id);
    expect([a.deployment.namespace, b.deployment.namespace]).toEqual(['a', 'b']);
  });

  it('passes the target flags to the target that declares them, and refuses them elsewhere', async () => {
    await run({ target: 'cluster', targetOptions: { image: 'registry.example/server:1' } });
    expect(h.cluster.options).toContainEqual({ image: 'registry.example/server:1' });
    const e = await rejection(run({ target: 'local', targetOptions: { image: 'x' } }));
    expect(e.code).toBe('USAGE');
    expect(e.message).toBe('--image applies to --target cluster');
  });

  it.each([
    [{ mode: 'strict' as const }, 'strict mode needs --node NAME'],
    [{ node: 'n1' }, '--node only applies to --mode strict'],
    [{ mode: 'strict' as const, node: 'n1' }, 'the local target does not support strict placement; it applies to --target cluster'],
    [{ target: 'mars' }, 'unknown target "mars"'],
  ])('refuses %o with a usage error before recording anything', async (o, message) => {
    const e = await rejection(run(o));
    expect(e).toMatchObject({ code: 'USAGE', message });
    expect(h.stores.deployments.writes).toBe(0);
  });

  it('says NOT_FOUND for a model that is not registered', async () => {
    expect((await rejection(run({ model: 'nope' }))).code).toBe('NOT_FOUND');
    expect((await rejection(run({ version: '9' }))).message).toBe('model har@9 is not registered (har has 1)');
    expect((await rejection(run({ model: 'hra' }))).message).toBe('model hra is not registered (did you mean har?)');
  });

  it('deploys the latest version when none is given', async () => {
    await h.register(modelDescription({ name: 'har', version: '2' }));
    expect((await run()).deployment.version).toBe('2');
  });

  it('records nothing for a model the target can never start', async () => {
    h.local.preflight = async (m) => {
      throw new MaasError('USAGE', `the local target cannot serve ${m.name}@${m.version}`);
    };
    expect((await rejection(run())).message).toBe('the local target cannot serve har@1');
    expect(h.stores.deployments.records.size).toBe(0);
  });

  it("hands the version's stored profile to the target on every start (and dry run), nothing when it has none", async () => {
    await run();
    expect(h.local.extras).toEqual([{}]);
    const b = new ProfileBuilder([{ name: 'x', type: 'number' }], { random: seededRandom(1) });
    for (let i = 0; i < 10; i++) b.add({ x: i });
    const profile = b.finish({ source: { uri: 'file:///train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
    await h.stores.models.setProfile('har', '1', profile);
    // A restart reads the profile stored now.
    await restart(h.services, 'd-0001', { wait: true, timeoutMs: 10_000 }, () => {});
    expect(h.local.extras[1]).toEqual({ profile });
    await dryRunDeploy(h.services, { model: 'har', target: 'cluster', mode: 'open', how: 'client' }, () => {});
    expect(h.cluster.extras).toEqual([{ profile }]);
  });

  it('refuses a malformed job payload as a bug', async () => {
    expect((await rejection(runDeployJob(h.services, { nope: 1 }, () => {}))).code).toBe('INTERNAL');
  });
});

// Compose apply / re-apply / status / delete over in-memory stores and the scriptable target:
// members are deployed or joined as consumers, incompatible members stop everything before it
// starts, the router gets the resolved configuration, re-applies converge, and deletion releases
// members through the two-step path.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { composeApply, type ComposeApplyRequest } from '../../src/app/compose.js';
import { composeDelete, compositionStatus, listCompositions } from '../../src/app/compose-status.js';
import { deploy } from '../../src/app/deploy.js';
import type { CompositionDescription } from '../../src/domain/composition.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness;
const say = (): void => {};

function composition(
  members: CompositionDescription['spec']['members'],
  over: Partial<CompositionDescription['spec']> = {},
  version = '1',
): CompositionDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name: 'ens', version },
    spec: { task: 'classification', features: ['x'], mode: 'ensemble', aggregation: 'majority', members, ...over },
  };
}

const apply = (c: CompositionDescription, o: Partial<ComposeApplyRequest> = {}) =>
  composeApply(h.services, { description: c, target: 'local', async: false, timeoutMs: 10_000, ...o }, say);

beforeEach(async () => {
  h = await appHarness();
  for (const name of ['a', 'b', 'c']) await h.register(modelDescription({ name, version: '1' }));
});
afterEach(() => h.services.close());

describe('compose apply', () => {
  it('deploys members nothing serves, joins the one that runs, and starts a router with the resolved members', async () => {
    const existing = (
      await deploy(h.services, { model: 'b', version: '1', target: 'local', mode: 'open', consumer: 'alice', wait: true, timeoutMs: 10_000 }, say)
    ).deployment;
    const r = await apply(
      composition([{ model: 'a@1', weight: 2 }, { model: 'b@1' }, { model: 'c@1', role: 'shadow', timeout: '250ms' }], { timeout: '500ms' }),
    );
    expect(r.outcome).toBe('created');
    expect(r.members.map((m) => [m.key, m.outcome])).toEqual([
      ['a@1', 'deployed'],
      ['b@1', 'joined'],
      ['c@1', 'deployed'],
    ]);
    expect(r.members[1]!.deployment).toBe(existing.id);
    expect((await h.services.deployments.getDeployment(existing.id))?.consumers).toEqual(['alice', 'composition:ens']);
    expect(r.router).toMatchObject({ kind: 'composition', model: 'ens', version: '1', state: 'ready', consumers: ['composition:ens'] });
    const config = h.local.routerConfigs.get(r.router.id)!.at(-1)!;
    expect(config.members.map((m) => ({ key: m.key, weight: m.weight, role: m.role, timeoutMs: m.timeoutMs }))).toEqual([
      { key: 'a@1', weight: 2, role: 'member', timeoutMs: 500 },
      { key: 'b@1', weight: 1, role: 'member', timeoutMs: 500 },
      { key: 'c@1', weight: 1, role: 'shadow', timeoutMs: 250 },
    ]);
    expect(config.features).toEqual([{ name: 'x', type: 'number' }]);
    expect(config.labels).toEqual(['no', 'yes']);
    expect(config.members[0]!.endpoint).toBe(`http://fake/${r.members[0]!.deployment}`);
    const stored = await h.services.compositions.getComposition('ens');
    expect(stored?.history.map((e) => e.event)).toEqual(['applied']);
    expect(stored?.members.map((m) => m.created)).toEqual([true, false, true]);
  });

  it('refuses members that do not fit before starting anything', async () => {
    await h.register(modelDescription({ name: 'r', version: '1', task: 'regression' }));
    await h.register(modelDescription({ name: 'z', version: '1', features: [['y', 'number']] }));
    const e = await rejection(apply(composition([{ model: 'a@1' }, { model: 'r@1' }, { model: 'z@1' }])));
    expect(e).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/do not fit/) });
    const problems = (e.details as { problems: { path: string; message: string }[] }).problems;
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['spec.members[1].model', 'spec.members[2].model']));
    expect(await h.services.deployments.listDeployments()).toEqual([]);
    expect(await h.services.compositions.getComposition('ens')).toBeUndefined();
  });

  it('names the member that is not registered, and refuses a composition named like a model', async () => {
    expect(await rejection(apply(composition([{ model: 'a@1' }, { model: 'nope@1' }])))).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^spec\.members\[1\]: model nope@1 is not registered/),
    });
    expect(await rejection(apply({ ...composition([{ model: 'a@1' }]), metadata: { name: 'a', version: '1' } }))).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/a registered model is named "a"/),
    });
  });

  it('converges on re-apply: unchanged is a no-op; a swapped member is deployed, the router updated, the old one released', async () => {
    const first = await apply(composition([{ model: 'a@1' }, { model: 'b@1' }]));
    expect((await apply(composition([{ model: 'a@1' }, { model: 'b@1' }]))).outcome).toBe('unchanged');
    const second = await apply(composition([{ model: 'a@1' }, { model: 'c@1' }], {}, '2'));
    expect(second.outcome).toBe('updated');
    expect(second.router.id).toBe(first.router.id);
    expect(second.router.version).toBe('2');
    expect(h.local.calls.filter((c) => c.startsWith('startRouter') || c.startsWith('updateRouter'))).toEqual([
      `startRouter ${first.router.id} a@1,b@1`,
      `updateRouter ${first.router.id} a@1,c@1`,
    ]);
    const b = first.members[1]!.deployment;
    expect(second.released).toEqual([{ key: 'b@1', deployment: b, outcome: 'cached' }]);
    expect((await h.services.deployments.getDeployment(b))?.state).toBe('cached');
    const stored = await h.services.compositions.getComposition('ens');
    expect(stored?.history.map((e) => [e.event, e.summary])).toEqual([
      ['applied', 'created with a@1, b@1'],
      ['updated', 'added c@1; removed b@1'],
    ]);
  });
});

describe('compose status, list, delete', () => {
  it('lists and reports the router and members; measurements come from the router', async () => {
    const r = await apply(composition([{ model: 'a@1' }, { model: 'b@1' }]));
    expect(await listCompositions(h.services)).toMatchObject([
      { name: 'ens', version: '1', mode: 'ensemble', members: 2, router: r.router.id, state: 'ready' },
    ]);
    const st = await compositionStatus(h.services, 'ens', { timeoutMs: 1_000, measure: true });
    expect(st.router?.state).toBe('ready');
    expect(st.members.map((m) => [m.key, m.deployment?.state])).toEqual([
      ['a@1', 'ready'],
      ['b@1', 'ready'],
    ]);
    // The harness' inference fake does not script members(): the status says so instead of failing.
    expect(st.unavailable).toMatch(/did not answer/);
    expect(await rejection(compositionStatus(h.services, 'en', { timeoutMs: 1_000, measure: false }))).toMatchObject({
      code: 'NOT_FOUND',
      message: 'no composition "en" (did you mean ens?)',
    });
  });

  it('delete destroys the router, caches members nobody else uses (purges them with --purge), keeps shared ones', async () => {
    const shared = (
      await deploy(h.services, { model: 'b', version: '1', target: 'local', mode: 'open', consumer: 'alice', wait: true, timeoutMs: 10_000 }, say)
    ).deployment;
    const r = await apply(composition([{ model: 'a@1' }, { model: 'b@1' }]));
    const a = r.members[0]!.deployment;
    const del = await composeDelete(h.services, 'ens', { purge: true });
    expect(del.router).toEqual({ id: r.router.id, outcome: 'purged' });
    expect(del.members).toEqual([
      { key: 'a@1', deployment: a, outcome: 'purged', remainingConsumers: [] },
      { key: 'b@1', deployment: shared.id, outcome: 'released', remainingConsumers: ['alice'] },
    ]);
    expect(await h.services.deployments.getDeployment(a)).toBeUndefined();
    expect((await h.services.deployments.getDeployment(shared.id))?.state).toBe('ready');
    expect(await h.services.compositions.getComposition('ens')).toBeUndefined();
  });
});

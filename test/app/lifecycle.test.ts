// Status, decommission, gc, predict and feedback use cases: read-only observation, the two-step
// end, cache expiry on the manual clock, and refusals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/app/collect-garbage.js';
import { decommission } from '../../src/app/decommission.js';
import { deploy, restart } from '../../src/app/deploy.js';
import { dryRunDeploy } from '../../src/app/dry-run.js';
import { deploymentLogs } from '../../src/app/logs.js';
import { deleteModel, listVersions } from '../../src/app/models.js';
import { deploymentStatus, deploymentTraffic, listDeployments, observeDeployment, watchDeployment } from '../../src/app/status.js';
import { sendFeedback } from '../../src/app/feedback.js';
import { predict } from '../../src/app/predict.js';
import { MaasError } from '../../src/core/errors.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { rejection } from '../support/assert.js';
import { appHarness, type AppHarness } from '../support/app.js';

let h: AppHarness;
const up = async (consumer = 'alice', target = 'local') =>
  (await deploy(h.services, { model: 'har', target, mode: 'open', consumer, wait: true, timeoutMs: 10_000 }, () => {})).deployment;

beforeEach(async () => {
  h = await appHarness();
  await h.register(
    modelDescription({
      name: 'har',
      version: '1',
      features: [
        ['acc_x_mean', 'number'],
        ['code', 'category'],
      ],
    }),
  );
});
afterEach(() => h.services.close());

describe('observing deployments', () => {
  it('reports what the target observes without writing anything', async () => {
    const d = await up();
    h.local.running.set(d.id, { state: 'failed', reason: 'process 42 is not running' });
    const writes = h.stores.deployments.writes;
    const seen = await observeDeployment(h.services, (await h.stores.deployments.getDeployment(d.id))!);
    expect(seen.deployment).toMatchObject({ state: 'failed', reason: 'process 42 is not running' });
    expect(seen.deployment.endpoint).toBeUndefined();
    const listed = await listDeployments(h.services);
    expect(listed[0]?.state).toBe('failed');
    // Flapping back to ready is observed too, and still nothing is stored.
    h.local.running.set(d.id, { state: 'ready', endpoint: 'http://fake/again' });
    expect((await listDeployments(h.services))[0]).toMatchObject({ state: 'ready', endpoint: 'http://fake/again' });
    expect(h.stores.deployments.writes).toBe(writes);
    expect((await h.stores.deployments.getDeployment(d.id))?.history.map((e) => e.state)).toEqual(['queued', 'deploying', 'ready']);
  });

  it('lists every deployment even when one target cannot be observed', async () => {
    await up('alice', 'local');
    await up('alice', 'cluster');
    h.cluster.script.observeFails = new MaasError('UNAVAILABLE', 'connection refused by 10.0.0.1:6443');
    const rows = await listDeployments(h.services);
    expect(rows).toHaveLength(2);
    const broken = rows.find((r) => r.target === 'cluster');
    expect(broken?.reason).toBe('cannot observe it: connection refused by 10.0.0.1:6443');
    expect(rows.find((r) => r.target === 'local')?.state).toBe('ready');
  });

  it('waits read-only with --wait, and times out on the manual clock', async () => {
    const d = (await deploy(h.services, { model: 'har', target: 'local', mode: 'open', consumer: 'a', wait: false, timeoutMs: 0 }, () => {})).deployment;
    await h.services.queue.idle();
    const writes = h.stores.deployments.writes;
    expect((await watchDeployment(h.services, d, 10_000, () => {})).state).toBe('ready');
    expect(h.stores.deployments.writes).toBe(writes);
    h.local.running.set(d.id, { state: 'deploying' });
    h.local.script.readyAfterPolls = 1_000;
    expect((await rejection(watchDeployment(h.services, d, 500, () => {}))).code).toBe('TIMEOUT');
  });
});

describe('decommission and gc', () => {
  it('releases, caches at zero consumers with an expiry, and purges', async () => {
    const d = await up('alice');
    await up('bob');
    expect(await decommission(h.services, { id: d.id, consumer: 'bob', purge: false, force: false })).toMatchObject({
      outcome: 'released',
      remainingConsumers: ['alice'],
    });
    const cached = await decommission(h.services, { id: d.id, consumer: 'alice', purge: false, force: false });
    expect(cached.outcome).toBe('cached');
    expect(cached.deployment?.expiresAt).toBe(new Date(h.clock.now() + h.services.settings.cacheTtlMs).toISOString());
    expect(h.local.calls).toContain(`scaleToZero ${d.id}`);
    expect((await decommission(h.services, { id: d.id, consumer: 'alice', purge: false, force: false })).outcome).toBe('unchanged');
    expect((await decommission(h.services, { id: d.id, consumer: 'alice', purge: true, force: false })).outcome).toBe('purged');
    expect(await h.stores.deployments.getDeployment(d.id)).toBeUndefined();
  });

  it('refuses to purge what others use, and a stranger releasing it', async () => {
    const d = await up('alice');
    await up('bob');
    expect((await rejection(decommission(h.services, { id: d.id, consumer: 'alice', purge: true, force: false }))).code).toBe('IN_USE');
    const stranger = await rejection(decommission(h.services, { id: d.id, consumer: 'mallory', purge: false, force: false }));
    expect(stranger).toMatchObject({ code: 'USAGE', message: `mallory is not a consumer of deployment ${d.id} (consumers: alice, bob)` });
    expect((await decommission(h.services, { id: d.id, consumer: 'x', purge: true, force: true })).outcome).toBe('purged');
  });

  it('collects only caches whose expiry has passed on the clock, and unused artifacts', async () => {
    const d = await up();
    await decommission(h.services, { id: d.id, consumer: 'alice', purge: false, force: false });
    expect((await collectGarbage(h.services, { all: false, dryRun: false })).deployments).toEqual([]);
    h.clock.advance(h.services.settings.cacheTtlMs - 1);
    expect((await collectGarbage(h.services, { all: false, dryRun: false })).deployments).toEqual([]);
    h.clock.advance(1);
    const dry = await collectGarbage(h.services, { all: false, dryRun: true });
    expect(dry.deployments.map((x) => x.id)).toEqual([d.id]);
    expect(await h.stores.deployments.getDeployment(d.id)).toBeDefined();
    const done = await collectGarbage(h.services, { all: false, dryRun: false });
    expect(done.deployments.map((x) => x.id)).toEqual([d.id]);
    expect(h.local.calls).toContain(`destroy ${d.id}`);
    // The version's artifact stays while the version is registered; after deletion it goes.
    expect(done.artifacts).toEqual([]);
    await deleteModel(h.services, 'har', '1');
    expect((await collectGarbage(h.services, { all: false, dryRun: false })).artifacts).toHaveLength(1);
  });

  it('says NOT_FOUND for an unknown deployment everywhere', async () => {
    for (const p of [
      decommission(h.services, { id: 'd-x', consumer: 'a', purge: false, force: false }),
      deploymentLogs(h.services, 'd-x', {}),
      predict(h.services, { deployment: 'd-x', input: { kind: 'text', text: '[]' }, timeoutMs: 1 }),
    ]) {
      expect((await rejection(p)).code).toBe('NOT_FOUND');
    }
  });
});

describe('predict and feedback', () => {
  it('turns rows into a column request for the observed endpoint and reads the answer', async () => {
    const d = await up();
    const r = await predict(h.services, {
      deployment: d.id,
      input: { kind: 'text', text: 'acc_x_mean,code\n0.5,"007"\n', format: 'csv' },
      requestId: 'mine',
      timeoutMs: 1000,
    });
    expect(h.inferred[0]?.endpoint).toBe(`http://fake/${d.id}`);
    expect(h.inferred[0]?.body).toMatchObject({
      id: 'mine',
      inputs: [
        { name: 'acc_x_mean', shape: [1], data: [0.5] },
        { name: 'code', shape: [1], data: ['007'] },
      ],
    });
    expect(r.rows).toEqual([{ row: 0, id: 'r1', label: 'walking' }]);
    expect(r.ignoredColumns).toEqual([]);
    const extra = await predict(h.services, { deployment: d.id, input: { kind: 'text', text: 'acc_x_mean,code,note\n0.5,a,x\n' }, timeoutMs: 1000 });
    expect(extra.ignoredColumns).toEqual(['note']);
    expect(await sendFeedback(h.services, { deployment: d.id, items: [{ id: 'r1', label: 'walking' }], timeoutMs: 1000 })).toMatchObject({ accepted: 1 });
  });

  it('refuses a deployment that is not ready as UNAVAILABLE', async () => {
    const d = await up();
    h.local.running.set(d.id, { state: 'cached' });
    expect((await rejection(predict(h.services, { deployment: d.id, input: { kind: 'reference', uri: 'file:///x.csv' }, timeoutMs: 1 }))).code).toBe(
      'UNAVAILABLE',
    );
  });
});

describe('models and dry runs', () => {
  it('lists versions, refuses deleting a deployed one, and renders a dry run without recording it', async () => {
    expect((await listVersions(h.services, 'har')).map((v) => v.version)).toEqual(['1']);
    expect((await rejection(listVersions(h.services, 'nope'))).code).toBe('NOT_FOUND');
    await up();
    expect((await rejection(deleteModel(h.services, 'har', '1'))).code).toBe('IN_USE');
    const writes = h.stores.deployments.writes;
    const dry = await dryRunDeploy(h.services, { model: 'har', target: 'cluster', mode: 'open', how: 'client' }, () => {});
    expect(dry.objects).toEqual([{ kind: 'Deployment', metadata: { name: 'har-v1' } }]);
    expect(h.stores.deployments.writes).toBe(writes);
    expect((await rejection(dryRunDeploy(h.services, { model: 'har', target: 'local', mode: 'open', how: 'client' }, () => {}))).message).toBe(
      '--dry-run applies to --target cluster',
    );
  });
});

describe('deployment handles and restart', () => {
  it('accepts a unique ID prefix and NAME[@VERSION], and says which deployments an ambiguous handle matches', async () => {
    const d = await up();
    expect((await deploymentStatus(h.services, d.id.slice(0, 4))).id).toBe(d.id);
    expect((await deploymentStatus(h.services, 'har')).id).toBe(d.id);
    expect((await deploymentStatus(h.services, 'har@1')).id).toBe(d.id);
    await up('alice', 'cluster');
    const e = await rejection(deploymentStatus(h.services, 'har'));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/^"har" matches 2 deployments: d-0001 \(har@1 on local\), d-0002 \(har@1 on cluster\)$/);
    const missing = await rejection(deploymentStatus(h.services, 'd-0009'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'no deployment "d-0009" (did you mean d-0001?)' });
  });

  it('names a dead deployment and its fix instead of "connection refused", and restart brings it back', async () => {
    const d = await up();
    h.local.running.set(d.id, { state: 'failed', reason: 'model server process 42 is not running' });
    const e = await rejection(predict(h.services, { deployment: d.id, input: { kind: 'text', text: '[[1, "a"]]' }, timeoutMs: 1 }));
    expect(e).toMatchObject({
      code: 'UNAVAILABLE',
      message: `deployment ${d.id} (har@1 on local) is not serving: its model server is not running (model server process 42 is not running)`,
    });
    expect(e.hint).toContain(`maas restart ${d.id}`);
    const back = await restart(h.services, d.id, { wait: true, timeoutMs: 10_000 }, () => {});
    expect(back).toMatchObject({ id: d.id, state: 'ready', consumers: ['alice'] });
    expect(h.local.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
  });
});

describe('traffic', () => {
  it('reads predictions, feedback and live accuracy of a ready deployment, and nothing of others', async () => {
    const stats = { total: { rows: 120, feedback: 30 }, window: { since: '2026-01-01T00:00:00.000Z' }, feedback: { labelled: 30, accuracy: 0.9 } };
    const hh = await appHarness({ inference: { stats: async () => stats as never } });
    try {
      await hh.register();
      const d = (await deploy(hh.services, { model: 'har', target: 'local', mode: 'open', consumer: 'a', wait: true, timeoutMs: 10_000 }, () => {})).deployment;
      expect(await deploymentTraffic(hh.services, d)).toEqual({ predictions: 120, feedback: 30, since: '2026-01-01T00:00:00.000Z', accuracy: 0.9 });
      expect(await deploymentTraffic(hh.services, { ...d, state: 'cached' })).toBeUndefined();
    } finally {
      await hh.services.close();
    }
    // A server that does not answer its stats leaves status working.
    const d = await up();
    expect(await deploymentTraffic(h.services, d)).toBeUndefined();
  });
});

describe('batches', () => {
  it("splits rows beyond the model's maxBatchSize into several requests and joins the answers", async () => {
    const sent: { id?: string; rows: number }[] = [];
    const hh = await appHarness({
      inference: {
        infer: async (body) => {
          const n = body.inputs?.[0]?.shape[0] ?? 0;
          sent.push({ ...(body.id !== undefined ? { id: body.id } : {}), rows: n });
          const x = (body.inputs?.[0]?.data ?? []) as number[];
          return {
            id: body.id ?? 'r',
            model_name: 'har',
            outputs: [{ name: 'label', shape: [n], datatype: 'BYTES', data: x.map((v) => (v > 2 ? 'yes' : 'no')) }],
          };
        },
      },
    });
    try {
      const description = modelDescription({ name: 'har', version: '1' });
      description.spec.inference = { maxBatchSize: 2 };
      await hh.register(description);
      const d = (await deploy(hh.services, { model: 'har', target: 'local', mode: 'open', consumer: 'a', wait: true, timeoutMs: 10_000 }, () => {})).deployment;
      const r = await predict(hh.services, { deployment: d.id, input: { kind: 'text', text: '[[1],[2],[3],[4],[5]]' }, requestId: 'big', timeoutMs: 1000 });
      expect(sent).toEqual([
        { id: 'big.0', rows: 2 },
        { id: 'big.1', rows: 2 },
        { id: 'big.2', rows: 1 },
      ]);
      expect(r.requests).toBe(3);
      expect(r.response).toMatchObject({ id: 'big', outputs: [{ name: 'label', shape: [5], data: ['no', 'no', 'yes', 'yes', 'yes'] }] });
      expect(r.rows.map((x) => [x.row, x.id, x.label])).toEqual([
        [0, 'big.0:0', 'no'],
        [1, 'big.0:1', 'no'],
        [2, 'big.1:0', 'yes'],
        [3, 'big.1:1', 'yes'],
        [4, 'big.2', 'yes'],
      ]);
    } finally {
      await hh.services.close();
    }
  });
});

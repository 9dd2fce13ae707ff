// The read caches over a real registry file opened twice (as the server and another process, a
// worker or a CLI, do): the data version grows after this connection's writes and after the
// other connection's commits, so a cached search, model read, deployment record or token row is
// never answered after a write made it wrong (another connection's from the next event-loop turn). Status observations are reused up to their maximum
// age and for the record they were made for, and every answer says when it was observed.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { ManualClock } from '../../src/core/clock.js';
import type { ArtifactRef, SearchResult } from '../../src/domain/model.js';
import type { ModelLineage } from '../../src/domain/training.js';
import { SqliteRegistry } from '../../src/registry/sqlite/sqlite-registry.js';
import { SqliteTokenStore } from '../../src/registry/sqlite/tokens-table.js';
import { deploymentStatusReply, deploymentsView, registryRead } from '../../src/server/cached-reads.js';
import type { ServerDeps } from '../../src/server/deps.js';
import type { RouteReply } from '../../src/server/route.js';
import type { Observed, Target } from '../../src/targets/target.js';
import { tempDir } from '../support/cli.js';

const artifact: ArtifactRef = { digest: `sha256:${'1'.repeat(64)}`, size: 10, uri: 'file:///models/m.onnx' };
const AT = '2026-01-01T00:00:00.000Z';

let dir: { path: string; cleanup: () => void };
const opened: SqliteRegistry[] = [];
/** The server's connection and another process's. */
let server: SqliteRegistry;
let other: SqliteRegistry;

const open = (): SqliteRegistry => {
  const r = SqliteRegistry.open({ file: join(dir.path, 'registry.db') });
  opened.push(r);
  return r;
};

beforeEach(() => {
  dir = tempDir('maas-read-cache-');
  server = open();
  other = open();
});
afterEach(() => {
  for (const r of opened.splice(0)) r.close();
  dir.cleanup();
});

const register = (r: SqliteRegistry, name: string, version = '1', accuracy = 0.9) =>
  r.registerModel(modelDescription({ name, version, metrics: { accuracy } }), artifact);

/** A target whose observations a test sets, counting how often it is asked. */
function scriptedTarget(): Target & { observed: Observed; calls: number } {
  const t = {
    observed: { state: 'ready', endpoint: 'http://127.0.0.1:9' } as Observed,
    calls: 0,
    async observe(): Promise<Observed> {
      t.calls++;
      return t.observed;
    },
  };
  return t as unknown as Target & { observed: Observed; calls: number };
}

function serverDeps(clock: ManualClock, target: Target, statusMaxAgeMs?: number): ServerDeps {
  const services = {
    clock,
    models: server,
    deployments: server.deployments,
    targets: { plugins: [], get: async () => target },
  };
  return { services, ...(statusMaxAgeMs !== undefined ? { statusMaxAgeMs } : {}) } as unknown as ServerDeps;
}

const json = (r: RouteReply): unknown => JSON.parse(r.text!.body);
const names = (r: RouteReply): string[] => (json(r) as SearchResult).hits.map((h) => h.name);

/** Another connection's commit is seen from the next event-loop turn on (see DataVersion). */
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the data version of a registry connection', () => {
  it("reads another connection's commits once per event-loop turn, its own writes at once", async () => {
    const v0 = server.dataVersion();
    await register(other, 'theirs');
    // The same turn: concurrent with the commit, the version read in this turn holds.
    expect(server.dataVersion()).toBe(v0);
    await nextTurn();
    const v1 = server.dataVersion();
    expect(v1).toBeGreaterThan(v0);
    await register(server, 'own');
    expect(server.dataVersion()).toBeGreaterThan(v1);
  });

  it('stays put without writes and grows after its own writes and after commits by another connection', async () => {
    const v0 = server.dataVersion();
    expect(server.dataVersion()).toBe(v0);
    await register(server, 'own');
    const v1 = server.dataVersion();
    expect(v1).toBeGreaterThan(v0);
    await register(other, 'theirs');
    await nextTurn();
    const v2 = server.dataVersion();
    expect(v2).toBeGreaterThan(v1);
    await other.deleteModel('theirs', '1');
    await nextTurn();
    expect(server.dataVersion()).toBeGreaterThan(v2);
    // The deployment store on the same connection shares it.
    const d0 = server.deployments.dataVersion!();
    await other.deployments.createDeployment({ id: 'd-1', model: 'own', version: '1', target: 'local', mode: 'open', consumer: 'c' }, AT);
    await nextTurn();
    expect(server.deployments.dataVersion!()).toBeGreaterThan(d0);
  });
});

describe('registry reads through the cache', () => {
  it('answers a repeated search from the cache until a write, its own or another connection’s', async () => {
    await register(server, 'alpha');
    const deps = serverDeps(new ManualClock(), scriptedTarget());
    let searches = 0;
    const search = () =>
      registryRead(deps, 'search accuracy', async () => {
        searches++;
        return server.searchModels({ minMetrics: { accuracy: 0.8 }, latestOnly: true });
      });
    expect(names(await search())).toEqual(['alpha']);
    expect(names(await search())).toEqual(['alpha']);
    expect(searches).toBe(1);

    // Another process registers a model: the next search sees it.
    await register(other, 'beta');
    await nextTurn();
    expect(names(await search()).sort()).toEqual(['alpha', 'beta']);
    expect(searches).toBe(2);

    // This connection writes (a new version below the floor becomes the latest): seen at once.
    await register(server, 'alpha', '2', 0.5);
    expect(names(await search())).toEqual(['beta']);
    await search();
    expect(searches).toBe(3);

    // Another connection deletes: seen at once too.
    await other.deleteModel('beta', '1');
    await nextTurn();
    expect(names(await search())).toEqual([]);
  });

  it('answers describe and list afresh after another connection adds lineage or a version', async () => {
    await register(server, 'alpha');
    const deps = serverDeps(new ManualClock(), scriptedTarget());
    const describe = () =>
      registryRead(deps, 'describe alpha latest', async () => ({ ...(await server.getModel('alpha')), lineage: await server.getLineage('alpha', '1') }));
    const list = () => registryRead(deps, 'models', async () => ({ models: await server.listModels() }));
    expect(json(await describe())).not.toHaveProperty('lineage.parentVersion');
    expect(json(await list())).toMatchObject({ models: [{ name: 'alpha', latest: '1' }] });
    const lineage: ModelLineage = { parentVersion: '0', trigger: 'manual', inputs: [], trainingSeconds: 1, target: 'local', trainedAt: AT };
    await other.setLineage('alpha', '1', lineage);
    await nextTurn();
    expect(json(await describe())).toHaveProperty('lineage.parentVersion', '0');
    await register(other, 'alpha', '2');
    await nextTurn();
    expect(json(await list())).toMatchObject({ models: [{ name: 'alpha', latest: '2' }] });
  });

  it('reads every time from a store without a data version', async () => {
    const deps = { services: { models: {} } } as unknown as ServerDeps;
    let reads = 0;
    const read = () => registryRead(deps, 'k', async () => ({ n: ++reads }));
    expect((await read()).body).toEqual({ n: 1 });
    expect((await read()).body).toEqual({ n: 2 });
  });
});

describe('token rows', () => {
  it('are read afresh after a revocation by this connection or another', async () => {
    const mine = new SqliteTokenStore(server.db);
    const theirs = new SqliteTokenStore(other.db);
    const row = { id: 'a1b2c3d4e5f6', name: 'ci', scopes: ['read' as const], salt: Buffer.alloc(16), hash: Buffer.alloc(32), createdAt: AT };
    await theirs.insert(row);
    await nextTurn();
    expect((await mine.byId('a1b2c3d4e5f6'))?.revokedAt).toBeUndefined();
    expect((await mine.byId('a1b2c3d4e5f6'))?.revokedAt).toBeUndefined();
    await theirs.revoke('ci', '2026-01-02T00:00:00.000Z');
    await nextTurn();
    expect((await mine.byId('a1b2c3d4e5f6'))?.revokedAt).toBe('2026-01-02T00:00:00.000Z');

    await theirs.insert({ ...row, id: 'ffffffffffff', name: 'ops' });
    await nextTurn();
    expect((await mine.byId('ffffffffffff'))?.lastUsedAt).toBeUndefined();
    await mine.touch('ffffffffffff', '2026-01-03T00:00:00.000Z');
    expect((await mine.byId('ffffffffffff'))?.lastUsedAt).toBe('2026-01-03T00:00:00.000Z');
    await mine.revoke('ops', '2026-01-04T00:00:00.000Z');
    expect((await mine.byId('ffffffffffff'))?.revokedAt).toBe('2026-01-04T00:00:00.000Z');
    // What a caller is given is its own.
    const got = (await mine.byId('ffffffffffff'))!;
    got.scopes.push('admin');
    expect((await mine.byId('ffffffffffff'))!.scopes).toEqual(['read']);
  });
});

describe('deployment status through the caches', () => {
  beforeEach(async () => {
    await register(server, 'alpha');
    await server.deployments.createDeployment({ id: 'd-1', model: 'alpha', version: '1', target: 'local', mode: 'open', consumer: 'c' }, AT);
    await server.deployments.setDeploymentState('d-1', 'ready', AT, { endpoint: 'http://127.0.0.1:9', runtime: { pid: 1 } });
  });

  it('reuses an observation for up to the maximum age and says when it was made', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const target = scriptedTarget();
    const deps = serverDeps(clock, target, 1000);
    const status = async () => json(await deploymentStatusReply(deps, 'd-1')) as { state: string; observedAt: string; reason?: string };
    expect(await status()).toMatchObject({ id: 'd-1', state: 'ready', observedAt: '2026-01-01T00:00:00.000Z' });
    // The server died: not seen before the observation is 1 s old.
    target.observed = { state: 'failed', reason: 'process 1 is not running' };
    clock.advance(999);
    expect(await status()).toMatchObject({ state: 'ready', observedAt: '2026-01-01T00:00:00.000Z' });
    clock.advance(1);
    expect(await status()).toMatchObject({ state: 'failed', reason: 'process 1 is not running', observedAt: '2026-01-01T00:00:01.000Z' });
    expect(target.calls).toBe(2);
  });

  it('observes afresh once the record changes, whoever writes it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const target = scriptedTarget();
    const deps = serverDeps(clock, target, 60_000);
    const status = async () => json(await deploymentStatusReply(deps, 'd-1')) as { state: string; consumers: string[] };
    expect(await status()).toMatchObject({ state: 'ready', consumers: ['c'] });
    await status();
    expect(target.calls).toBe(1);
    // Another process joins the deployment: the record is read again, the observation still holds.
    await other.deployments.addConsumer('d-1', 'd', AT);
    await nextTurn();
    expect((await status()).consumers).toEqual(['c', 'd']);
    expect(target.calls).toBe(1);
    // Another process scales it to zero: the record changed state, so it is observed again.
    target.observed = { state: 'cached' };
    await other.deployments.setDeploymentState('d-1', 'cached', '2026-01-01T00:00:05.000Z');
    await nextTurn();
    expect(await status()).toMatchObject({ state: 'cached' });
    expect(target.calls).toBe(2);
    // And this connection's own write (a state recorded by the deploy job in this process).
    target.observed = { state: 'deploying', reason: 'starting' };
    await server.deployments.setDeploymentState('d-1', 'deploying', '2026-01-01T00:00:06.000Z');
    expect(await status()).toMatchObject({ state: 'deploying', reason: 'starting' });
    expect(target.calls).toBe(3);
    const listed = await deploymentsView(deps, {});
    expect(listed).toMatchObject([{ id: 'd-1', state: 'deploying', observedAt: '2026-01-01T00:00:00.000Z' }]);
    expect(target.calls).toBe(3);
  });

  it('observes on every request with a maximum age of 0', async () => {
    const target = scriptedTarget();
    const deps = serverDeps(new ManualClock(), target, 0);
    await deploymentStatusReply(deps, 'd-1');
    await deploymentStatusReply(deps, 'd-1');
    expect(target.calls).toBe(2);
  });
});

// Compositions through the control plane over real HTTP on 127.0.0.1, in-process over the use-case
// harness (in-memory stores, the scriptable target, a scripted router /members and /records where
// member c answers "yes" to everything): scopes, a description refused before any job with the
// problems the CLI reports, apply as a job (its launches inside it, not on the shared queue) then
// status, list and history, idempotency keys, jobs shown to their owner only, assess, adapt as a
// job (dry run and a real replacement of c by d), the retry of an interrupted apply, delete, and
// the CLI's remote forms run in-process against the server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { adaptComposition, type AdaptResult } from '../../src/app/compose-adapt.js';
import type { ComposeApplyResult } from '../../src/app/compose.js';
import { jobRunners } from '../../src/app/composition-root.js';
import { COMPOSE_ADAPT_JOB, COMPOSE_APPLY_JOB } from '../../src/app/composition-jobs.js';
import { MaasError } from '../../src/core/errors.js';
import type { CompositionRecordWire, CompositionRecordsWire } from '../../src/protocol/composition-records.js';
import type { CompositionStatsWire } from '../../src/protocol/composition-stats.js';
import type { JobRecord } from '../../src/queue/port.js';
import { parseCompositionText } from '../../src/spec/composition-text.js';
import { routerStats } from '../support/router-stats.js';
import { appHarness } from '../support/app.js';
import { thrown } from '../support/assert.js';
import { runCli, tempDir } from '../support/cli.js';
import { startControlPlane, type Answer, type ControlPlane } from '../support/control-plane.js';

const NAME = 'ens';
const ROWS = 40;
const truthOf = (i: number): 'no' | 'yes' => (i % 4 === 0 ? 'yes' : 'no');
const flip = (l: 'no' | 'yes'): 'no' | 'yes' => (l === 'no' ? 'yes' : 'no');
/** a, b, d: wrong on 5 of 40 rows each (not the same rows); c: "yes" to everything (right on 10). */
const ANSWERS: Record<string, (i: number) => 'no' | 'yes'> = {
  'a@1': (i) => (i % 8 === 1 ? flip(truthOf(i)) : truthOf(i)),
  'b@1': (i) => (i % 8 === 2 ? flip(truthOf(i)) : truthOf(i)),
  'c@1': () => 'yes',
  'd@1': (i) => (i % 8 === 5 ? flip(truthOf(i)) : truthOf(i)),
};

let cp: ControlPlane;
const dir = tempDir('maas-cp-compose-');

/** The router's /members for the composition as stored now. */
async function members(): Promise<CompositionStatsWire> {
  const c = (await cp.harness.services.compositions.getComposition(NAME))!;
  const accuracy = (key: string): number => Array.from({ length: ROWS }, (_, i) => i).filter((i) => ANSWERS[key]!(i) === truthOf(i)).length / ROWS;
  return routerStats(c, { rows: ROWS, accuracy, overall: 0.85 });
}

/** The router's /records: ROWS labelled rows with every current member's answer. */
async function records(): Promise<CompositionRecordsWire> {
  const c = (await cp.harness.services.compositions.getComposition(NAME))!;
  const rows: CompositionRecordWire[] = Array.from({ length: ROWS }, (_, i) => ({
    id: `p-${i}`,
    time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    composition: `${c.name}@${c.version}`,
    mode: 'ensemble',
    answer: { label: truthOf(i) },
    members: Object.fromEntries(
      c.members.map((m) => [m.key, { role: 'member' as const, counted: true, outcome: 'answered' as const, label: ANSWERS[m.key]!(i), latencyMs: 10 }]),
    ),
    truth: { label: truthOf(i) },
  }));
  return { composition: `${c.name}@${c.version}`, task: 'classification', labels: ['no', 'yes'], aggregation: 'majority', records: rows };
}

/** The description as a client writes it; the third member on line 13. */
function compositionText(third = 'c@1', name = NAME): string {
  return [
    'apiVersion: maas.dev/v1',
    'kind: Composition',
    'metadata:',
    `  name: ${name}`,
    '  version: "1"',
    'spec:',
    '  task: classification',
    '  features: [x]',
    '  mode: ensemble',
    '  aggregation: majority',
    '  members:',
    '    - model: a@1',
    '    - model: b@1',
    `    - model: ${third}`,
    '',
  ].join('\n');
}

function expectError(a: Answer, status: number, code: string): { code: string; message: string; hint?: string; details?: unknown } {
  expect(a.status, a.text).toBe(status);
  const body = a.json as { error: { code: string; message: string; hint?: string; details?: unknown } };
  expect(body.error.code).toBe(code);
  return body.error;
}

/** The job as its owner sees it once the in-process queue has run it. */
async function finished(id: string, token = cp.tokens.deploy): Promise<JobRecord> {
  await cp.harness.services.queue.idle();
  const a = await cp.request('GET', `/v1/jobs/${id}`, { token });
  expect(a.status, a.text).toBe(200);
  return a.json as JobRecord;
}

const apply = (body: unknown, o: { token?: string; key?: string } = {}): Promise<Answer> =>
  cp.request('POST', '/v1/compositions', {
    token: o.token ?? cp.tokens.deploy,
    body,
    ...(o.key !== undefined ? { headers: { 'idempotency-key': o.key } } : {}),
  });

const remote = (token: string) => (args: string[]) =>
  runCli(args, { home: join(dir.path, 'client'), cwd: dir.path, env: { MAAS_SERVER: cp.url, MAAS_TOKEN: token } });

beforeAll(async () => {
  cp = await startControlPlane({ harness: await appHarness({ inference: { members, records } }) });
  const perf = (accuracy: number) => ({ metrics: { accuracy }, latencyMs: 15 });
  for (const name of ['a', 'b', 'c']) await cp.harness.register(modelDescription({ name, version: '1', ...perf(0.9) }));
  await cp.harness.register(modelDescription({ name: 'd', version: '1', ...perf(0.95) }));
  await cp.harness.register(modelDescription({ name: 'e', version: '1', task: 'regression', metrics: { r2: 0.9 } }));
});
afterAll(async () => {
  await cp?.close();
  dir.cleanup();
});

describe('scopes', () => {
  it('refuses apply, adapt and delete to a read token (403) and queues nothing', async () => {
    expectError(await apply({ description: compositionText() }, { token: cp.tokens.read }), 403, 'FORBIDDEN');
    expectError(await cp.request('POST', `/v1/compositions/${NAME}/adapt`, { token: cp.tokens.read, body: {} }), 403, 'FORBIDDEN');
    expectError(await cp.request('DELETE', `/v1/compositions/${NAME}`, { token: cp.tokens.read }), 403, 'FORBIDDEN');
    expect(await cp.harness.services.queue.list()).toEqual([]);
    expect(cp.harness.stores.compositions.records.size).toBe(0);
  });
});

describe('a description refused before any job', () => {
  it('with the problems the CLI reports, located in the text the client sent', async () => {
    const broken = compositionText().replace('mode: ensemble', 'mode: sideways');
    const e = expectError(await apply({ description: broken, source: 'composition.yaml' }), 422, 'VALIDATION');
    const local = thrown(() => parseCompositionText(broken, 'composition.yaml'));
    expect(e.message).toBe(local.message);
    expect(e.details).toEqual(JSON.parse(JSON.stringify(local.details)));
    expect((e.details as { problems: { file: string; line: number; path: string }[] }).problems[0]).toMatchObject({
      file: 'composition.yaml',
      line: 9,
      path: 'spec.mode',
    });
  });

  it('a member that does not fit: 422 pointing at its line; an unknown member: 404; an unknown target: 400', async () => {
    const misfit = expectError(await apply({ description: compositionText('e@1'), source: 'composition.yaml' }), 422, 'VALIDATION');
    expect(misfit.message).toMatch(/members of composition ens@1 do not fit/);
    expect((misfit.details as { problems: unknown[] }).problems).toEqual([
      expect.objectContaining({
        file: 'composition.yaml',
        line: 14,
        column: 14,
        path: 'spec.members[2].model',
        message: 'e@1 solves regression, not classification',
      }),
    ]);
    const missing = expectError(await apply({ description: compositionText('z@1') }), 404, 'NOT_FOUND');
    expect(missing.message).toMatch(/^spec\.members\[2\]: /);
    // The object form is checked the same way.
    const parsed = parseCompositionText(compositionText(), 'x').description;
    expectError(await apply({ description: { ...parsed, spec: { ...parsed.spec, members: [] } } }), 422, 'VALIDATION');
    const target = expectError(await apply({ description: compositionText(), target: 'mainframe' }), 400, 'USAGE');
    expect(target.message).toMatch(/unknown target "mainframe"/);
    // A composition named like a registered model.
    expectError(await apply({ description: compositionText('c@1', 'a') }), 400, 'USAGE');
    expect(await cp.harness.services.queue.list()).toEqual([]);
    expect(cp.harness.stores.compositions.records.size).toBe(0);
  });
});

describe('apply, status, list and history', () => {
  let job: string;

  it('answers 202 with the job; the job applies the composition to the end, its launches inside it', async () => {
    const enqueue = vi.spyOn(cp.deps.queue, 'enqueue');
    const first = await apply({ description: compositionText(), source: 'composition.yaml' }, { key: 'apply-ens-1' });
    expect(first.status, first.text).toBe(202);
    const accepted = first.json as { composition: string; version: string; job: string };
    expect(accepted).toEqual({ composition: NAME, version: '1', job: expect.any(String) });
    job = accepted.job;
    expect(enqueue).toHaveBeenCalledTimes(1);
    expect(enqueue.mock.calls[0]![0]).toBe(COMPOSE_APPLY_JOB);
    expect(enqueue.mock.calls[0]![3]).toMatchObject({ owner: 'deployer', maxAttempts: 3, idempotencyKey: `${COMPOSE_APPLY_JOB}:apply-ens-1` });

    // The same key: the first answer again, one job.
    const replay = await apply({ description: compositionText(), source: 'composition.yaml' }, { key: 'apply-ens-1' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
    expect(enqueue).toHaveBeenCalledTimes(1);
    enqueue.mockRestore();

    const done = await finished(job);
    expect(done).toMatchObject({ kind: COMPOSE_APPLY_JOB, state: 'succeeded', owner: 'deployer' });
    const result = done.result as ComposeApplyResult;
    expect(result.outcome).toBe('created');
    expect(result.router).toMatchObject({ state: 'ready', kind: 'composition', model: NAME });
    expect(result.members.map((m) => [m.key, m.outcome])).toEqual([
      ['a@1', 'deployed'],
      ['b@1', 'deployed'],
      ['c@1', 'deployed'],
    ]);
    expect(done.logs.map((l) => l.message)).toEqual(expect.arrayContaining(['member a@1', `router ${result.router.id} queued`]));
    // Members and router were launched inside the job: the shared queue holds the apply only.
    expect((await cp.harness.services.queue.list()).map((j) => j.kind)).toEqual([COMPOSE_APPLY_JOB]);
    expect(cp.harness.local.calls.filter((c) => c.startsWith('start'))).toHaveLength(4);
  });

  it('shows the job to its owner and admins only', async () => {
    expect((await cp.request('GET', `/v1/jobs/${job}`, { token: cp.tokens.admin })).status).toBe(200);
    expectError(await cp.request('GET', `/v1/jobs/${job}`, { token: cp.tokens.read }), 404, 'NOT_FOUND');
    const other = await cp.token('pipeline', 'deploy');
    expectError(await cp.request('GET', `/v1/jobs/${job}`, { token: other.token }), 404, 'NOT_FOUND');
    expect((await cp.request('GET', '/v1/jobs', { token: other.token })).json).toEqual({ jobs: [] });
  });

  it('status, list and history as the CLI shows them', async () => {
    const status = await cp.request('GET', `/v1/compositions/${NAME}`, { token: cp.tokens.read });
    expect(status.status, status.text).toBe(200);
    const st = status.json as { composition: { version: string }; router: { state: string }; members: { key: string }[]; measurements?: CompositionStatsWire };
    expect(st.composition.version).toBe('1');
    expect(st.router.state).toBe('ready');
    expect(st.members.map((m) => m.key)).toEqual(['a@1', 'b@1', 'c@1']);
    expect(st.measurements?.quality.accuracy).toBe(0.85);
    const unmeasured = await cp.request('GET', `/v1/compositions/${NAME}?measure=false`, { token: cp.tokens.read });
    expect((unmeasured.json as { measurements?: unknown }).measurements).toBeUndefined();

    const list = await cp.request('GET', '/v1/compositions', { token: cp.tokens.read });
    expect(list.json).toMatchObject({ compositions: [{ name: NAME, version: '1', mode: 'ensemble', members: 3, state: 'ready' }] });
    const history = await cp.request('GET', `/v1/compositions/${NAME}/history`, { token: cp.tokens.read });
    expect((history.json as { events: { event: string }[] }).events.map((e) => e.event)).toEqual(['applied']);
    expectError(await cp.request('GET', '/v1/compositions/nothing-here', { token: cp.tokens.read }), 404, 'NOT_FOUND');
  });

  it('belongs to the token that created it: another deploy token may read and dry-run it, not change, adapt or delete it', async () => {
    const history = await cp.request('GET', `/v1/compositions/${NAME}/history`, { token: cp.tokens.read });
    expect((history.json as { events: { detail?: { by?: string } }[] }).events[0]!.detail?.by).toBe('token:deployer');
    const other = await cp.token('other-team', 'deploy');
    const queued = (await cp.harness.services.queue.list()).length;
    expect(expectError(await apply({ description: compositionText('d@1') }, { token: other.token }), 403, 'FORBIDDEN').message).toMatch(
      /belongs to token:deployer/,
    );
    expectError(await cp.request('POST', `/v1/compositions/${NAME}/adapt`, { token: other.token, body: {} }), 403, 'FORBIDDEN');
    expectError(await cp.request('DELETE', `/v1/compositions/${NAME}`, { token: other.token }), 403, 'FORBIDDEN');
    expect(await cp.harness.services.queue.list()).toHaveLength(queued);
    const dry = await cp.request('POST', `/v1/compositions/${NAME}/adapt`, { token: other.token, body: { dryRun: true } });
    expect(dry.status, dry.text).toBe(202);
    await finished((dry.json as { job: string }).job, other.token);
    expect((await cp.harness.services.compositions.getComposition(NAME))!.version).toBe('1');
  });

  it('applying the same description again is a new job that finds it unchanged', async () => {
    const again = await apply({ description: compositionText() }, { key: 'apply-ens-2' });
    expect(again.status).toBe(202);
    const done = await finished((again.json as { job: string }).job);
    expect((done.result as ComposeApplyResult).outcome).toBe('unchanged');
  });

  it('a re-run of an apply whose worker died starts the router it left queued, where a first run would call it unchanged', async () => {
    const record = (await cp.harness.services.compositions.getComposition(NAME))!;
    const at = new Date().toISOString();
    const payload = { text: compositionText(), source: 'composition.yaml', target: 'local', timeoutMs: 10_000 };
    const run = jobRunners(cp.harness.services)[COMPOSE_APPLY_JOB]!;
    // The router recorded, its launch lost with the worker.
    await cp.harness.services.deployments.setDeploymentState(record.router, 'queued', at, { runtime: {} });
    const first = (await run(payload, () => {}, { id: 'j', attempt: 1 })) as ComposeApplyResult;
    expect(first).toMatchObject({ outcome: 'unchanged', router: { state: 'queued' } });
    const lines: string[] = [];
    const starts = cp.harness.local.calls.filter((c) => c.startsWith(`startRouter ${record.router}`)).length;
    const rerun = (await run(payload, (m) => void lines.push(m), { id: 'j', attempt: 2 })) as ComposeApplyResult;
    expect(rerun.router).toMatchObject({ id: record.router, state: 'ready' });
    expect(cp.harness.local.calls.filter((c) => c.startsWith(`startRouter ${record.router}`))).toHaveLength(starts + 1);
    expect(lines[0]).toMatch(new RegExp(`^${record.router} \\(ens@1\\) was left queued`));
    // Members (ready) are left alone.
    expect(rerun.members.map((m) => m.outcome)).toEqual(['kept', 'kept', 'kept']);
  });
});

describe('assess and adapt', () => {
  it('assesses synchronously with a read token', async () => {
    const a = await cp.request('POST', `/v1/compositions/${NAME}/assess`, { token: cp.tokens.read, body: { method: 'scs' } });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({ composition: `${NAME}@1`, method: 'scs', underperforming: ['c@1'] });
  });

  it('adapts as a job: a dry run plans c@1 -> d@1 and changes nothing; it may be retried, a real one runs once', async () => {
    const enqueue = vi.spyOn(cp.deps.queue, 'enqueue');
    const dry = await cp.request('POST', `/v1/compositions/${NAME}/adapt`, { token: cp.tokens.deploy, body: { dryRun: true } });
    expect(dry.status, dry.text).toBe(202);
    expect(dry.json).toEqual({ composition: NAME, version: '1', members: 3, job: expect.any(String) });
    expect(enqueue.mock.calls[0]).toMatchObject([COMPOSE_ADAPT_JOB, { name: NAME, dryRun: true, strategy: 'linucb', seed: 0 }, undefined, { maxAttempts: 3 }]);
    enqueue.mockRestore();
    const done = await finished((dry.json as { job: string }).job);
    expect(done.state).toBe('succeeded');
    expect(done.result).toMatchObject({ status: 'planned', reason: 'would replace c@1 -> d@1' });
    expect((await cp.harness.services.compositions.getComposition(NAME))?.version).toBe('1');
    // Of a composition that does not exist: 404, no job.
    const before = (await cp.harness.services.queue.list()).length;
    expectError(await cp.request('POST', '/v1/compositions/nope/adapt', { token: cp.tokens.deploy, body: {} }), 404, 'NOT_FOUND');
    expectError(await cp.request('POST', `/v1/compositions/${NAME}/adapt`, { token: cp.tokens.deploy, body: { strategy: 'coin-flip' } }), 422, 'VALIDATION');
    expect(await cp.harness.services.queue.list()).toHaveLength(before);
  });

  it('the CLI remote dry run prints what the local command prints (-o json), exit 0', async () => {
    const local = await adaptComposition(cp.harness.services, { name: NAME, dryRun: true, strategy: 'linucb', timeoutMs: 10_000, seed: 0 }, () => {});
    const r = await remote(cp.tokens.deploy)(['compose', NAME, '--adapt', '--dry-run', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(local)));
    // --async: the job ID only.
    const queued = await remote(cp.tokens.deploy)(['compose', NAME, '--adapt', '--dry-run', '--async']);
    expect(queued.code, queued.stderr).toBe(0);
    const id = queued.stdout.trim();
    expect((await finished(id)).kind).toBe(COMPOSE_ADAPT_JOB);
  });

  it('adapts for real through the CLI: d@1 replaces c@1, version 2, one job for one key', async () => {
    const enqueue = vi.spyOn(cp.deps.queue, 'enqueue');
    const cli = remote(cp.tokens.deploy);
    const r = await cli(['compose', NAME, '--adapt', '--idempotency-key', 'adapt-1', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as AdaptResult;
    expect(result).toMatchObject({ status: 'applied', reason: 'replaced c@1 -> d@1', version: '2' });
    expect(enqueue.mock.calls.map((c) => [c[0], c[3]?.maxAttempts])).toEqual([[COMPOSE_ADAPT_JOB, 1]]);
    // The same key again: the first job's answer, no second adaptation.
    const again = await cli(['compose', NAME, '--adapt', '--idempotency-key', 'adapt-1', '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(result);
    expect(enqueue).toHaveBeenCalledTimes(1);
    enqueue.mockRestore();

    const stored = (await cp.harness.services.compositions.getComposition(NAME))!;
    expect(stored.version).toBe('2');
    expect(stored.members.map((m) => m.key)).toEqual(['a@1', 'b@1', 'd@1']);
    const history = await cli(['compose', 'history', NAME, '-o', 'json']);
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout) as { events: { event: string; version: string }[] }).events.map((e) => [e.event, e.version])).toEqual([
      ['applied', '1'],
      ['updated', '1'],
      ['adapted', '2'],
    ]);
    // Now nobody is below threshold: nothing to do, exit 0 as locally.
    const nothing = await cli(['compose', NAME, '--adapt', '-o', 'json']);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(JSON.parse(nothing.stdout)).toMatchObject({ status: 'nothing', composition: `${NAME}@2` });
  });

  it('audits apply and adapt with the token name', async () => {
    const entries = await cp.harness.services.audit!.list();
    const actions = entries.filter((e) => e.action.startsWith('composition.')).map((e) => [e.tokenName, e.action, e.status]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['reader', 'composition.apply', 403],
        ['deployer', 'composition.apply', 202],
        ['deployer', 'composition.apply', 422],
        ['deployer', 'composition.adapt', 202],
      ]),
    );
  });
});

describe('the CLI against the server', () => {
  it('applies a file (a job, waited for), shows status, list and describe, and refuses a read token', async () => {
    const file = join(dir.path, 'second.yaml');
    writeFileSync(file, compositionText('d@1', 'second'));
    const cli = remote(cp.tokens.deploy);
    const applied = await cli(['compose', 'apply', file, '-o', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    const data = JSON.parse(applied.stdout) as { name: string; version: string; outcome: string; state: string; members: { key: string; outcome: string }[] };
    expect(data).toMatchObject({ name: 'second', version: '1', outcome: 'created', state: 'ready' });
    // a@1 and b@1 serve `ens` already: joined; d@1 too (since the adaptation).
    expect(data.members.map((m) => [m.key, m.outcome])).toEqual([
      ['a@1', 'joined'],
      ['b@1', 'joined'],
      ['d@1', 'joined'],
    ]);

    const list = await cli(['compose', 'list', '-o', 'name']);
    expect(list.stdout.trim().split('\n').sort()).toEqual([NAME, 'second']);
    const status = await cli(['compose', 'status', 'second', '-o', 'json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'second', router: { state: 'ready' }, members: [{ key: 'a@1' }, { key: 'b@1' }, { key: 'd@1' }] });
    const described = await cli(['compose', 'describe', 'second', '-o', 'json']);
    expect(JSON.parse(described.stdout)).toMatchObject({ name: 'second', version: '1', history: [{ event: 'applied' }] });
    const missing = await cli(['compose', 'status', 'third']);
    expect(missing.code).toBe(new MaasError('NOT_FOUND', '').exitCode);

    const reader = await remote(cp.tokens.read)(['compose', 'apply', file]);
    expect(reader.code).toBe(new MaasError('FORBIDDEN', '').exitCode);
    expect(reader.stderr).toMatch(/"deploy"/);
  });

  it('refuses an invalid file before calling the server: exit 2 with the located problems', async () => {
    const before = (await cp.harness.services.queue.list()).length;
    const file = join(dir.path, 'broken.yaml');
    writeFileSync(file, compositionText().replace('mode: ensemble', 'mode: sideways'));
    const r = await remote(cp.tokens.deploy)(['compose', 'apply', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:9/);
    expect(await cp.harness.services.queue.list()).toHaveLength(before);
  });

  it('deletes: purge needs admin; without it the router goes and members are released', async () => {
    expectError(await cp.request('DELETE', '/v1/compositions/second?purge=true', { token: cp.tokens.deploy }), 403, 'FORBIDDEN');
    const r = await remote(cp.tokens.deploy)(['compose', 'delete', 'second', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const deleted = JSON.parse(r.stdout) as { router: { outcome: string }; members: { key: string; outcome: string; remainingConsumers: string[] }[] };
    expect(deleted.router.outcome).toBe('purged');
    // Each member still serves `ens`: released, not cached.
    expect(deleted.members.map((m) => [m.key, m.outcome, m.remainingConsumers])).toEqual([
      ['a@1', 'released', [`composition:${NAME}`]],
      ['b@1', 'released', [`composition:${NAME}`]],
      ['d@1', 'released', [`composition:${NAME}`]],
    ]);
    expectError(await cp.request('GET', '/v1/compositions/second', { token: cp.tokens.read }), 404, 'NOT_FOUND');
    expect(cp.harness.stores.compositions.records.has(NAME)).toBe(true);
  });
});

// The local target end to end, in-process CLI driving real detached `maas serve` processes:
// deploy, reuse by a second consumer, predict and feedback, kill -9 -> failed, redeploy -> ready,
// decommission in two steps, purge, gc. Needs `npm run build` (the servers run bin/maas.js).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../support/cli.js';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';

const dir = tempDir('maas-local-deploy-');
const home = join(dir.path, 'home');
let model: HarModelFiles;
const cli = (args: string[], stdin?: string) => runCli(args, { home, cwd: dir.path, ...(stdin !== undefined ? { stdin } : {}) });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

interface Dep {
  id: string;
  state: string;
  endpoint?: string;
  consumers: string[];
  runtime: { pid?: number };
  outcome?: string;
  reason?: string;
  history: { state: string }[];
}

const started: string[] = [];

beforeAll(async () => {
  model = writeHarModel(dir.path);
  const r = await cli(['register', model.descriptionFile]);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  for (const id of started) await cli(['decommission', id, '--purge', '--force']);
  dir.cleanup();
});

describe('local deployments', () => {
  let id = '';

  it('deploys and waits until the model server is ready', async () => {
    const d = await json<Dep>(['deploy', 'har-classifier@1', '--consumer', 'alice']);
    id = d.id;
    started.push(id);
    expect(d.id).toMatch(/^d-[0-9a-f]{10}$/);
    expect(d.state).toBe('ready');
    expect(d.outcome).toBe('created');
    expect(d.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(d.history.map((h) => h.state)).toEqual(['queued', 'deploying', 'ready']);
    const live = await fetch(`${d.endpoint}/v2/health/ready`);
    expect(live.status).toBe(200);
    // The version was registered with its training data: the server got its reference profile.
    const profile = join(home, 'deployments', id, 'profile.json');
    expect(JSON.parse(readFileSync(profile, 'utf8'))).toMatchObject({ schema: 1, rows: 10 });
    const pid = d.runtime.pid;
    expect(
      readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
        .split('\0')
        .join(' '),
    ).toContain(`--profile ${profile}`);
  });

  it('reuses the running deployment for a second consumer', async () => {
    const d = await json<Dep>(['deploy', 'har-classifier', '--consumer', 'bob']);
    expect(d.id).toBe(id);
    expect(d.outcome).toBe('reused');
    expect(d.consumers.sort()).toEqual(['alice', 'bob']);
    const ps = await json<Dep[]>(['ps']);
    expect(ps).toHaveLength(1);
  });

  it('predicts from a file and from stdin, and takes feedback for every logged row', async () => {
    const res = await json<{ id: string; outputs: { name: string; shape: number[]; data: unknown[] }[] }>(['predict', id, '--data', model.requestsFile]);
    const label = res.outputs.find((o) => o.name === 'label');
    expect(label?.shape).toEqual([model.requests.length]);
    const ids = (await cli(['predict', id, '--data', '-', '-o', 'name'], JSON.stringify(model.requests))).stdout.trim().split('\n');
    expect(ids).toHaveLength(model.requests.length);
    const csv = `id,label\n${ids.map((x, i) => `${x},${model.labels[i]}`).join('\n')}\n`;
    const fb = await cli(['feedback', id, '--file', '-'], csv);
    expect(fb.code).toBe(0);
    const unknown = await cli(['feedback', id, '--id', 'no-such-id', '--label', 'walking']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no-such-id/);
    // The feedback shows in status: traffic and live accuracy from the model server.
    const seen = await json<{ traffic?: { predictions: number; feedback: number; accuracy?: number } }>(['status', id]);
    expect(seen.traffic).toMatchObject({ predictions: 2 * model.requests.length, feedback: model.requests.length });
    expect(seen.traffic?.accuracy).toBeGreaterThan(0.5);
    expect((await cli(['status', id])).stdout).toMatch(
      new RegExp(`Traffic: +${2 * model.requests.length} prediction\\(s\\).*, ${model.requests.length} with feedback, accuracy 0\\.\\d{3}`),
    );
    // Sending the same file again is a no-op; a mixed file is answered per item.
    const again = await cli(['feedback', id, '--file', '-'], csv);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`feedback: 0 applied, ${ids.length} already recorded, 0 rejected\n`);
    const other = model.labels[0] === 'walking' ? 'sitting' : 'walking';
    const mixed = `id,label\n${ids[0]},${other}\n${ids[1]},${model.labels[1]}\n${res.id}:0,walking\n${res.id},walking\n`;
    const answer = await cli(['feedback', id, '--file', '-'], mixed);
    expect(answer.code).toBe(5);
    expect(answer.stdout).toBe('feedback: 1 applied, 1 already recorded, 2 rejected\n');
    expect(answer.stderr).toContain(`rejected ${ids[0]}: conflict (already has label "${model.labels[0]}")`);
    expect(answer.stderr).toContain(
      `rejected ${res.id}: unknown (${res.id} is a request of ${ids.length} rows; feedback goes to ${res.id}:0 .. ${res.id}:${ids.length - 1})`,
    );
    const unknownOnly = await cli(['feedback', id, '--file', '-', '-o', 'json'], `id,label\n${ids[2]},${model.labels[2]}\n${res.id},walking\n`);
    expect(unknownOnly.code).toBe(4);
    expect(JSON.parse(unknownOnly.stdout)).toMatchObject({ accepted: 1, applied: 0, unchanged: 1, rejected: [{ id: res.id, reason: 'unknown' }] });
  });

  it('lets the server fetch the rows by reference, only from the deploying directory', async () => {
    const res = await json<{ outputs: { name: string; shape: number[] }[] }>(['predict', id, '--data-ref', 'requests.json']);
    expect(res.outputs.find((o) => o.name === 'label')?.shape).toEqual([model.requests.length]);
    const outside = await cli(['predict', id, '--data-ref', 'file:///etc/hostname']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/bad request/);
  });

  it('rejects bad prediction input with exit 2 and keeps serving', async () => {
    const bad = await cli(['predict', id, '--data', '-'], JSON.stringify([{ acc_x_mean: 'fast' }]));
    expect(bad.code).toBe(2);
    const good = await cli(['predict', id, '--data', model.requestsFile]);
    expect(good.code).toBe(0);
  });

  it('refuses to delete a model version that is deployed', async () => {
    const r = await cli(['delete', 'har-classifier@1']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(id);
  });

  it('reports a killed server as failed with its log, and a redeploy converges to ready', async () => {
    const before = await json<Dep>(['status', id]);
    const pid = before.runtime.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    let status: Dep | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await cli(['status', id, '-o', 'json']);
      status = JSON.parse(r.stdout) as Dep;
      if (status.state === 'failed') {
        expect(r.code).toBe(1);
        break;
      }
      await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(status?.state).toBe('failed');
    expect(status?.reason).toMatch(/not running/);
    const again = await json<Dep>(['deploy', 'har-classifier@1', '--consumer', 'alice']);
    expect(again.id).toBe(id);
    expect(again.outcome).toBe('restarted');
    expect(again.state).toBe('ready');
    expect(again.runtime.pid).not.toBe(pid);
    expect((await cli(['predict', id, '--data', model.requestsFile])).code).toBe(0);
  });

  it('keeps serving while another consumer remains, caches at zero, purges on request', async () => {
    const first = await json<{ outcome: string; remainingConsumers: string[] }>(['decommission', id, '--consumer', 'bob']);
    expect(first).toMatchObject({ outcome: 'released', remainingConsumers: ['alice'] });
    expect((await json<Dep>(['status', id])).state).toBe('ready');

    const refused = await cli(['decommission', id, '--consumer', 'bob', '--purge']);
    expect(refused.code).toBe(5);

    const last = await json<{ outcome: string; deployment: Dep }>(['decommission', id, '--consumer', 'alice']);
    expect(last.outcome).toBe('cached');
    const cached = await json<Dep>(['status', id]);
    expect(cached.state).toBe('cached');
    expect(existsSync(join(home, 'deployments', id, 'server.log'))).toBe(true);
    const down = await cli(['predict', id, '--data', model.requestsFile]);
    expect(down.code).toBe(6);

    // Redeploying a cached deployment restarts the same one.
    const back = await json<Dep>(['deploy', 'har-classifier@1', '--consumer', 'carol']);
    expect(back).toMatchObject({ id, outcome: 'restarted', state: 'ready' });
    await json(['decommission', id, '--consumer', 'carol']);

    const purged = await json<{ outcome: string }>(['decommission', id, '--purge']);
    expect(purged.outcome).toBe('purged');
    expect(existsSync(join(home, 'deployments', id))).toBe(false);
    expect(await json<Dep[]>(['ps'])).toEqual([]);
    expect((await cli(['status', id])).code).toBe(4);
    expect((await cli(['delete', 'har-classifier@1'])).code).toBe(0);
  });
});

describe('gc and async deploys', () => {
  it('deploys with --async, waits with status --wait, and gc destroys expired caches only', async () => {
    const r = await cli(['register', model.descriptionFile]);
    expect(r.code).toBe(0);
    const d = await json<Dep>(['deploy', 'har-classifier@1', '--async']);
    started.push(d.id);
    // The launch is queued: the answer comes before the model server is started.
    expect(['queued', 'deploying', 'ready']).toContain(d.state);
    const waited = await json<Dep>(['status', d.id, '--wait']);
    expect(waited.state).toBe('ready');
    const dec = await json<{ outcome: string }>(['decommission', d.id]);
    expect(dec.outcome).toBe('cached');
    expect((await json<{ destroyed: string[] }>(['gc'])).destroyed).toEqual([]);
    expect((await json<{ destroyed: string[] }>(['gc', '--all', '--dry-run'])).destroyed).toEqual([d.id]);
    expect((await json<Dep>(['status', d.id])).state).toBe('cached');
    expect((await json<{ destroyed: string[] }>(['gc', '--all'])).destroyed).toEqual([d.id]);
    expect((await cli(['status', d.id])).code).toBe(4);
  });

  it('reads file:// data references only where the deploy said, kept across restarts', async () => {
    const d = await json<Dep>(['deploy', 'har-classifier@1', '--ref-root', 'none', '--consumer', 'refs']);
    started.push(d.id);
    const refused = await cli(['predict', d.id, '--data-ref', 'requests.json']);
    expect(refused.code).toBe(2);
    expect((await cli(['status', d.id])).stdout).toContain('File refs:  none');
    expect((await json<Dep>(['restart', d.id])).state).toBe('ready');
    expect((await cli(['predict', d.id, '--data-ref', 'requests.json'])).code).toBe(2);
    expect((await cli(['decommission', d.id, '--purge', '--force'])).code).toBe(0);
    expect((await cli(['deploy', 'har-classifier@1', '--threads', 'zero'])).code).toBe(2);
    expect(await json<Dep[]>(['ps'])).toEqual([]);
    const here = await json<Dep>([
      'deploy',
      'har-classifier@1',
      '--ref-root',
      '.',
      '--consumer',
      'refs',
      '--retention',
      '5',
      '--threads',
      '2',
      '--max-body',
      '1Mi',
    ]);
    started.push(here.id);
    // The server options reach the model server's command line and are kept across restarts.
    const cmdline = () =>
      readFileSync(`/proc/${String(here.runtime.pid)}/cmdline`, 'utf8')
        .split('\0')
        .join(' ');
    expect(cmdline()).toContain('--retention 5 --max-body 1Mi --threads 2');
    expect((await cli(['status', here.id])).stdout).toContain('Server:     --retention 5 --max-body 1Mi --threads 2');
    expect((await cli(['predict', here.id, '--data-ref', 'requests.json'])).code).toBe(0);
    expect((await cli(['status', here.id])).stdout).toContain(`File refs:  --data-ref file:// may read under ${dir.path}`);
    // logs -f prints the log so far and follows it until the server stops.
    const follow = cli(['logs', here.id, '-f']);
    await new Promise((r) => setTimeout(r, 300));
    // Scaling to zero stops the server and keeps its log; the purge comes after the follow ends.
    expect((await cli(['decommission', here.id, '--consumer', 'refs'])).code).toBe(0);
    const followed = await follow;
    expect((await cli(['decommission', here.id, '--export', 'kept'])).code).toBe(2);
    const purged = await cli(['decommission', here.id, '--purge', '--force', '--export', 'kept']);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain(join(dir.path, 'kept', `${here.id}-requests.db`));
    expect(existsSync(join(dir.path, 'kept', `${here.id}-requests.db`))).toBe(true);
    expect(readFileSync(join(dir.path, 'kept', `${here.id}-server.log`), 'utf8')).toContain('"event":"stopped"');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('"event":"listening"');
    expect(followed.stdout).toContain('"event":"stopped"');
  });

  it('fails clearly for an unknown model or a bad flag', async () => {
    expect((await cli(['deploy', 'nope@1'])).code).toBe(4);
    expect((await cli(['deploy', 'har-classifier@1', '--timeout', 'soon'])).code).toBe(2);
    expect((await cli(['deploy', 'har-classifier@1', '--mode', 'strict'])).code).toBe(2);
    expect((await cli(['predict', 'd-0000000000', '--data', model.requestsFile])).code).toBe(4);
    expect((await cli(['predict', 'd-0000000000'])).code).toBe(2);
  });
});

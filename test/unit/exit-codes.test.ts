// The exit-code table of the README is true: one command per documented code, run in-process on
// in-memory stores and a scriptable target.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { MaasError } from '../../src/core/errors.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { FakeTarget, fakePlugin } from '../support/fake-target.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';
import { REPO_ROOT, runCli, tempDir } from '../support/cli.js';

const documented = [...readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));

let dir: { path: string; cleanup: () => void };
let clock: ManualClock;
let stores: MemoryStores;
let local: FakeTarget;

const cli = (...argv: string[]) =>
  runCli(argv, { home: join(dir.path, 'home'), cwd: dir.path, env: { USER: 't' }, deps: { clock, services: { stores, plugins: [fakePlugin(local)] } } });

beforeAll(async () => {
  dir = tempDir('maas-exit-');
  clock = new ManualClock();
  stores = memoryStores(() => clock.now());
  local = new FakeTarget('local', clock);
  await stores.models.registerModel(modelDescription({ name: 'har', version: '1' }), { digest: `sha256:${'b'.repeat(64)}`, size: 1, uri: 'file://./m.onnx' });
  writeFileSync(join(dir.path, 'rows.json'), '[{"x": 1}]');
});
afterAll(() => dir.cleanup());

describe('exit codes', () => {
  it('documents exactly the codes below', () => {
    expect(documented).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 130]);
  });

  it('0 success, 2 usage and validation, 4 not found', async () => {
    expect((await cli('list')).code).toBe(0);
    expect((await cli('deploy', 'har', '--timeout', 'soon')).code).toBe(2);
    expect((await cli('validate', 'missing.yaml')).code).toBe(2);
    expect((await cli('get', 'nope')).code).toBe(4);
    expect((await cli('status', 'd-nope')).code).toBe(4);
    expect((await cli('predict', 'd-nope', '--data', 'missing.json')).code).toBe(4);
  });

  it('1 failure, 5 conflict, 6 unavailable, 7 timeout, 8 refused', async () => {
    const d = JSON.parse((await cli('deploy', 'har', '-o', 'json')).stdout) as { id: string };
    expect((await cli('delete', 'har@1')).code).toBe(5);
    local.running.set(d.id, { state: 'cached' });
    expect((await cli('predict', d.id, '--data', 'rows.json')).code).toBe(6);
    local.running.set(d.id, { state: 'failed', reason: 'gone' });
    expect((await cli('status', d.id)).code).toBe(1);
    expect((await cli('ps')).code).toBe(0);
    local.running.set(d.id, { state: 'deploying' });
    local.script.readyAfterPolls = 1_000_000;
    expect((await cli('status', d.id, '--wait', '--timeout', '1s')).code).toBe(7);
    await stores.models.registerModel(modelDescription({ name: 'other', version: '1' }), {
      digest: `sha256:${'c'.repeat(64)}`,
      size: 1,
      uri: 'file://./m.onnx',
    });
    local.script = { startFails: new MaasError('FORBIDDEN', 'forbidden: cannot create pods') };
    expect((await cli('deploy', 'other')).code).toBe(8);
    local.script = { crash: 'exited 1' };
    expect((await cli('deploy', 'other', '--consumer', 'b')).code).toBe(1);
  });
});

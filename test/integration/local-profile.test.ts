// The local target carries a version's reference profile to its model server: the deploy use
// case reads it from the store, the target writes profile.json into the deployment's directory
// and starts the server with `--profile <path>`. The "server" here is a stand-in script that
// records its command line, so this holds whether or not `maas serve` knows the flag yet.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { buildServices, type OpenedServices } from '../../src/app/composition-root.js';
import { deploy, restart } from '../../src/app/deploy.js';
import { ManualClock, seededRandom } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import { ProfileBuilder, type ReferenceProfile } from '../../src/drift/profile.js';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import type { TargetPlugin } from '../../src/targets/target.js';
import { tempDir } from '../support/cli.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';

let dir: { path: string; cleanup: () => void };
let services: OpenedServices;
let stores: MemoryStores;
let bin: string;

/** Writes its arguments to argv.json in its working directory (the deployment's), then exits. */
const FAKE_SERVER = `import { writeFileSync } from 'node:fs';\nwriteFileSync('argv.json', JSON.stringify(process.argv.slice(2)));\n`;

function profile(rows: number): ReferenceProfile {
  const b = new ProfileBuilder([{ name: 'x', type: 'number' }], { random: seededRandom(1), sampleSize: 3 });
  for (let i = 0; i < rows; i++) b.add({ x: i });
  return b.finish({ source: { uri: 'file:///train.csv' }, createdAt: '2026-01-01T00:00:00.000Z' });
}

async function argvOf(deploymentDir: string): Promise<string[]> {
  const file = join(deploymentDir, 'argv.json');
  for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 25));
  return JSON.parse(readFileSync(file, 'utf8')) as string[];
}

beforeEach(async () => {
  dir = tempDir('maas-local-profile-');
  bin = join(dir.path, 'fake-maas.mjs');
  writeFileSync(bin, FAKE_SERVER);
  const clock = new ManualClock();
  const home = resolveHome({}, dir.path, join(dir.path, 'home'));
  stores = memoryStores();
  const plugin: TargetPlugin = {
    name: 'local',
    summary: 'local with a stand-in server',
    modes: ['open'],
    flags: [],
    dryRun: false,
    create: async (env) => new LocalTarget({ home, env: {}, cwd: dir.path, clock, artifacts: env.artifacts, bin }),
  };
  services = await buildServices({
    home,
    config: {},
    env: {},
    cwd: dir.path,
    clock,
    cluster: {},
    version: '0.0.0-test',
    overrides: { stores, plugins: [plugin] },
  });
  const description = modelDescription({ name: 'har', version: '1' });
  const artifact = await stores.artifacts.put(Readable.from([Buffer.from('weights')]));
  await stores.models.registerModel(description, { ...artifact, uri: 'file://./model.onnx' });
});
afterEach(async () => {
  await services.close();
  dir.cleanup();
});

describe('local target and reference profiles', () => {
  it('writes profile.json into the deployment directory and starts the server with --profile', async () => {
    const p = profile(20);
    await stores.models.setProfile('har', '1', p);
    const { deployment } = await deploy(
      services,
      { model: 'har', version: '1', target: 'local', mode: 'open', consumer: 'ci', wait: false, timeoutMs: 1000 },
      () => {},
    );
    await services.queue.idle();
    const deploymentDir = join(dir.path, 'home', 'deployments', deployment.id);
    const argv = await argvOf(deploymentDir);
    expect(argv[0]).toBe('serve');
    const at = argv.indexOf('--profile');
    expect(at).toBeGreaterThan(0);
    expect(argv[at + 1]).toBe(join(deploymentDir, 'profile.json'));
    expect(JSON.parse(readFileSync(join(deploymentDir, 'profile.json'), 'utf8'))).toEqual(p);
    // The record says what the server was given.
    const record = await stores.deployments.getDeployment(deployment.id);
    expect(record?.runtime.profile).toEqual({ file: join(deploymentDir, 'profile.json'), rows: 20, sampleRows: 3 });
  });

  it('passes no flag and leaves no stale file when the version has no profile', async () => {
    const { deployment } = await deploy(services, { model: 'har', target: 'local', mode: 'open', consumer: 'ci', wait: false, timeoutMs: 1000 }, () => {});
    await services.queue.idle();
    const deploymentDir = join(dir.path, 'home', 'deployments', deployment.id);
    expect(await argvOf(deploymentDir)).not.toContain('--profile');
    expect(existsSync(join(deploymentDir, 'profile.json'))).toBe(false);
    expect((await stores.deployments.getDeployment(deployment.id))?.runtime.profile).toBeUndefined();

    // A profile set later reaches the server at its next start.
    writeFileSync(join(deploymentDir, 'argv.json'), '');
    await stores.models.setProfile('har', '1', profile(5));
    await restart(services, deployment.id, { wait: false, timeoutMs: 1000 }, () => {});
    await services.queue.idle();
    for (let i = 0; i < 200 && readFileSync(join(deploymentDir, 'argv.json'), 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await argvOf(deploymentDir)).toContain('--profile');
    expect((JSON.parse(readFileSync(join(deploymentDir, 'profile.json'), 'utf8')) as ReferenceProfile).rows).toBe(5);
  });
});

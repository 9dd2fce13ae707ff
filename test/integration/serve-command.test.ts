// `maas serve` as a command: option errors, serving a registered model by name, the endpoint
// file, and a clean failure when the artifact cannot be loaded. Needs `npm run build` first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateHar, harToCsv } from '../../examples/har/generate.js';
import { harDescription, trainHar } from '../../examples/har/train.js';
import { DEFAULT_MLP_OPTIONS } from '../../examples/lib/mlp.js';
import { resolveHome } from '../../src/core/home.js';
import { openStores } from '../../src/registry/open.js';
import { BIN, runCli, tempDir } from '../support/cli.js';

const dir = tempDir('maas-serve-cmd-');
const home = join(dir.path, 'home');
let descFile = '';

beforeAll(async () => {
  const options = { ...DEFAULT_MLP_OPTIONS, epochs: 5, seed: 3, testFraction: 0.2 };
  const trained = trainHar(harToCsv(generateHar({ rows: 600, seed: 11 })), options);
  const description = harDescription(trained, { name: 'har-classifier', version: '1', options });
  description.spec.artifact.uri = 'file://./model.onnx';
  writeFileSync(join(dir.path, 'model.onnx'), trained.onnx);
  writeFileSync(join(dir.path, 'train.csv'), harToCsv(generateHar({ rows: 10, seed: 1 })));
  descFile = join(dir.path, 'model.yaml');
  writeFileSync(descFile, stringify(description));
  const h = resolveHome({ MAAS_HOME: home }, dir.path);
  const stores = await openStores(h);
  try {
    await stores.models.registerModel(description, await stores.artifacts.store({ uri: 'file://./model.onnx', path: join(dir.path, 'model.onnx') }));
  } finally {
    stores.close();
  }
});

afterAll(() => dir.cleanup());

/** Runs `maas serve ...` until its endpoint file appears, then stops it with SIGTERM. */
function serveOnce(
  args: string[],
): Promise<{ code: number | null; stderr: string; endpoint: { url: string; port: number; pid: number } | undefined; ready: number }> {
  const endpointFile = join(dir.path, `ep-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0', '--endpoint-file', endpointFile], {
      cwd: dir.path,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MAAS_HOME: home, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let endpoint: { url: string; port: number; pid: number } | undefined;
    let ready = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The server says "ready" once the runtime is loaded; then ask it, and stop it.
      if (!endpoint && stderr.includes('"event":"ready"') && existsSync(endpointFile)) {
        endpoint = JSON.parse(readFileSync(endpointFile, 'utf8')) as { url: string; port: number; pid: number };
        void fetch(`${endpoint.url}/v2/health/ready`).then((r) => {
          ready = r.status;
          child.kill('SIGTERM');
        });
      }
    });
    child.stdout.resume();
    child.on('exit', (code) => resolve({ code, stderr, endpoint, ready }));
  });
}

describe('maas serve', () => {
  it('refuses bad option combinations with usage errors', async () => {
    expect((await runCli(['serve'], { home })).code).toBe(2);
    const both = await runCli(['serve', 'har-classifier', '--description', descFile], { home });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const port = await runCli(['serve', '--description', descFile, '--port', 'http'], { home });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port');
    expect((await runCli(['serve', '--description', descFile, '--max-body', 'lots'], { home })).stderr).toContain('--max-body');
    const missing = await runCli(['serve', 'no-such-model@1'], { home });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('not registered');
  });

  it('serves a registered model by name@version and writes the endpoint file', async () => {
    const r = await serveOnce(['har-classifier@1']);
    expect(r.code).toBe(0);
    expect(r.ready).toBe(200);
    expect(r.endpoint).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), pid: expect.any(Number) });
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(['listening', 'ready', 'shutdown', 'stopped']);
  });

  it('serves a description file, resolving its artifact relative to the file', async () => {
    const r = await serveOnce(['--description', descFile, '--access-log']);
    expect(r.code).toBe(0);
    expect(r.ready).toBe(200);
    expect(r.stderr).toContain('"event":"request"');
  });

  it('fails with exit 1 and a message when the artifact cannot be loaded', async () => {
    const broken = join(dir.path, 'broken.onnx');
    writeFileSync(broken, 'not a model');
    const r = await runCli(['serve', '--description', descFile, '--artifact', broken, '--port', '0'], { home });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('startup_failed');
  });
});

// `maas serve --strict --labelled-token-file FILE`, run in this process on loopback with a real
// ONNX model: a strict server hands its labelled rows only to a request bearing the token in the
// file, read again on every request (rotation and deletion take effect at once); every other
// request gets the same 403. A server without strict placement answers without any token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { stringify } from 'yaml';
import { STRICT_LABELLED_REFUSAL, type LabelledWire } from '../../src/protocol/labelled.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';
import { onnxFor } from '../support/onnx-models.js';

const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'churn', version: '1' },
  spec: {
    task: 'classification',
    algorithm: 'MLP',
    artifact: { uri: 'file://./model.onnx', format: 'onnx' },
    features: [
      { name: 'x0', type: 'number' },
      { name: 'x1', type: 'number' },
      { name: 'x2', type: 'number' },
    ],
    outputs: { labels: ['no', 'yes'] },
    training: { data: { uri: 'file://./train.csv', target: 'churned' } },
  },
};

const TOKEN = 'first-token-7f3a9c1e2b5d';
const ROTATED = 'second-token-0d4e8b6a1c9f';

const dir = tempDir('maas-labelled-token-');
const tokenFile = join(dir.path, 'token');

interface Served {
  url: string;
  /** The CLI run; settles once SIGTERM stops the server. */
  done: Promise<CliResult>;
}

let strict: Served;
let open: Served;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `maas serve --description ... --port 0 ...` in this process; resolves once it is ready (bounded wait). */
async function serve(name: string, extra: string[]): Promise<Served> {
  const endpointFile = join(dir.path, `${name}.endpoint.json`);
  let settled: CliResult | undefined;
  const done = runCli(
    ['serve', '--description', 'model.yaml', '--host', '127.0.0.1', '--port', '0', '--endpoint-file', endpointFile, '--access-log', ...extra],
    { cwd: dir.path, home: join(dir.path, 'home') },
  ).then((r) => (settled = r));
  for (let i = 0; i < 400 && !existsSync(endpointFile) && !settled; i++) await sleep(25);
  if (!existsSync(endpointFile)) throw new Error(`maas serve did not start: ${(await done).stderr}`);
  const { url } = JSON.parse(readFileSync(endpointFile, 'utf8')) as { url: string };
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (res?.status === 200) return { url, done };
    await sleep(25);
  }
  throw new Error(`maas serve did not become ready at ${url}`);
}

async function post(s: Served, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** Three predictions (one of two rows) and feedback for three of the four rows. */
async function feed(s: Served): Promise<void> {
  const infer = (id: string, rows: number[][]) =>
    post(s, '/v2/models/churn/infer', { id, inputs: [{ name: 'input', shape: [rows.length, 3], datatype: 'FP32', data: rows.flat() }] });
  await infer('pair', [
    [0.5, 1, -1],
    [2, -0.5, 0.25],
  ]);
  await infer('solo', [[1.5, 0, 3]]);
  await infer('other', [[-2, 1, 0]]);
  await post(s, '/v2/models/churn/feedback', {
    feedback: [
      { id: 'pair:0', label: 'yes' },
      { id: 'pair:1', label: 'no' },
      { id: 'solo', label: 'yes' },
    ],
  });
}

/** GET .../labelled with fetch, with an Authorization header when given. */
async function labelled(s: Served, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/v2/models/churn/labelled`, {
    headers: authorization === undefined ? {} : { authorization },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function expectRefused(r: { status: number; body: Record<string, unknown> }, what: string): void {
  expect(r.status, what).toBe(403);
  // The same refusal whatever failed: nothing says whether a token, the file or the header was wrong.
  expect(r.body.error, what).toBe(STRICT_LABELLED_REFUSAL);
  expect(Object.keys(r.body).sort(), what).toEqual(['error', 'id']);
}

function expectRows(r: { status: number; body: Record<string, unknown> }): void {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const wire = r.body as unknown as LabelledWire;
  expect(wire).toMatchObject({ model_name: 'churn', model_version: '1', features: ['x0', 'x1', 'x2'], target: 'churned' });
  expect(wire.ids).toEqual(['pair:0', 'pair:1', 'solo']);
  expect(wire.rows).toEqual([
    [0.5, 1, -1, 'yes'],
    [2, -0.5, 0.25, 'no'],
    [1.5, 0, 3, 'yes'],
  ]);
}

beforeAll(async () => {
  writeFileSync(join(dir.path, 'model.onnx'), onnxFor(description));
  writeFileSync(join(dir.path, 'model.yaml'), stringify(description));
  writeFileSync(tokenFile, `${TOKEN}\n`);
  // A relative path: resolved against the working directory, like every other file option.
  strict = await serve('strict', ['--strict', '--labelled-token-file', 'token']);
  open = await serve('open', ['--labelled-token-file', 'token']);
  await feed(strict);
  await feed(open);
});

/** Stops both in-process servers: they wait for SIGTERM (see `maas serve`), so one signal stops both; bounded. */
let stopped: Promise<CliResult[] | undefined> | undefined;
function stopServers(): Promise<CliResult[] | undefined> {
  stopped ??= (async () => {
    const running = [strict?.done, open?.done].filter((d): d is Promise<CliResult> => d !== undefined);
    if (running.length === 0) return [];
    process.emit('SIGTERM', 'SIGTERM');
    return Promise.race([Promise.all(running), sleep(20_000).then(() => undefined)]);
  })();
  return stopped;
}

afterAll(async () => {
  await stopServers();
  dir.cleanup();
});

describe('a strict server with --labelled-token-file', () => {
  it('refuses without a token, with a wrong one or another scheme, and answers the rows to the token', async () => {
    expectRefused(await labelled(strict), 'no header');
    expectRefused(await labelled(strict, 'Bearer wrong-token'), 'wrong token');
    expectRefused(await labelled(strict, `Bearer ${TOKEN}x`), 'longer token');
    expectRefused(await labelled(strict, `Bearer ${TOKEN.slice(0, -1)}`), 'prefix of the token');
    expectRefused(await labelled(strict, `Basic ${TOKEN}`), 'another scheme');
    expectRefused(await labelled(strict, TOKEN), 'no scheme');
    expectRows(await labelled(strict, `Bearer ${TOKEN}`));
    // The version path and a query go through the same check.
    const res = await axios.get(`${strict.url}/v2/models/churn/versions/1/labelled?limit=1`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      timeout: 10_000,
      validateStatus: () => true,
    });
    expect(res.status).toBe(200);
    expect((res.data as LabelledWire).ids).toEqual(['solo']);
    const refused = await axios.get(`${strict.url}/v2/models/churn/versions/1/labelled`, { timeout: 10_000, validateStatus: () => true });
    expect(refused.status).toBe(403);
  });

  it('reads the file on every request: a rotated token replaces the old one, a deleted or empty file lets nobody in', async () => {
    writeFileSync(tokenFile, `  ${ROTATED}\n`);
    expectRefused(await labelled(strict, `Bearer ${TOKEN}`), 'old token after rotation');
    expectRows(await labelled(strict, `Bearer ${ROTATED}`));
    writeFileSync(tokenFile, '\n');
    expectRefused(await labelled(strict, `Bearer ${ROTATED}`), 'empty file');
    expectRefused(await labelled(strict, 'Bearer '), 'empty token, empty file');
    rmSync(tokenFile);
    expectRefused(await labelled(strict, `Bearer ${ROTATED}`), 'deleted file');
    expectRefused(await labelled(strict), 'deleted file, no header');
    // Back again (a new retraining run): served without a restart.
    writeFileSync(tokenFile, TOKEN);
    expectRows(await labelled(strict, `Bearer ${TOKEN}`));
  });
});

describe('a server without strict placement', () => {
  it('answers the labelled rows without a token, and ignores one that is sent', async () => {
    writeFileSync(tokenFile, TOKEN);
    expectRows(await labelled(open));
    expectRows(await labelled(open, 'Bearer wrong-token'));
    expectRows(await labelled(open, `Bearer ${TOKEN}`));
    rmSync(tokenFile);
    expectRows(await labelled(open));
  });
});

describe('shutdown', () => {
  it('both servers stop on SIGTERM, and no token was ever written to their logs', async () => {
    writeFileSync(tokenFile, TOKEN);
    await labelled(strict, `Bearer ${TOKEN}`);
    await labelled(strict, 'Bearer not-the-token-5e1f');
    const results = await stopServers();
    expect(results, 'the servers did not stop within 20 s').toBeDefined();
    for (const r of results!) {
      expect(r.code, r.stderr).toBe(0);
      // The access log is on: requests are logged, their Authorization headers are not.
      expect(r.stderr).toContain('"event":"request"');
      expect(r.stderr).toContain('/labelled');
      for (const secret of [TOKEN, ROTATED, 'not-the-token-5e1f', 'wrong-token']) expect(r.stderr).not.toContain(secret);
    }
  });
});

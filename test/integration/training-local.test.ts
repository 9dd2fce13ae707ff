// Training programs as real child processes (small node scripts written by the test), and the
// registration of what they produce: success with lineage, failures that register nothing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { buildServices } from '../../src/app/composition-root.js';
import { trainAndRegister, type TrainAndRegisterRequest } from '../../src/app/train-and-register.js';
import { ManualClock } from '../../src/core/clock.js';
import { resolveHome } from '../../src/core/home.js';
import type { TrainingJob } from '../../src/domain/training.js';
import { LocalTrainingRunner, resolvePlaceholders } from '../../src/targets/local/training-process.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { appHarness, type AppHarness } from '../support/app.js';
import { rejection } from '../support/assert.js';
import { runCli, tempDir } from '../support/cli.js';
import { onnxFor } from '../support/onnx-models.js';

const produced = modelDescription({
  name: 'm',
  version: 'VERSION',
  features: [
    ['x', 'number'],
    ['y', 'number'],
  ],
});

/** The training program: node train.mjs --out DIR --version V MODE. */
function program(): string {
  const onnx = Buffer.from(onnxFor(produced)).toString('base64');
  return `
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
const args = process.argv.slice(2);
const opt = (k) => args[args.indexOf(k) + 1];
const out = opt('--out'), version = opt('--version'), mode = args[args.length - 1];
const d = ${JSON.stringify(produced)};
d.metadata.version = mode === 'wrong-version' ? '99' : version;
if (mode === 'invalid') d.spec.task = 'astrology';
console.log('training on', opt('--data'));
for (let i = 1; i <= 30; i++) console.log('epoch ' + i);
console.error('a warning');
if (mode === 'fail') { console.log('diverged'); process.exit(3); }
if (mode === 'sleep') { setInterval(() => {}, 1000); await new Promise(() => {}); }
mkdirSync(out, { recursive: true });
if (mode !== 'no-artifact') writeFileSync(join(out, 'model.onnx'), Buffer.from('${onnx}', 'base64'));
writeFileSync(join(out, 'model.yaml'), JSON.stringify(d));
writeFileSync(join(out, 'metrics.json'), JSON.stringify({ accuracy: 0.9 }));
console.log('done');
`;
}

function parent(mode: string): ModelDescription {
  const d = modelDescription({
    name: 'm',
    version: '1',
    features: [
      ['x', 'number'],
      ['y', 'number'],
    ],
  });
  d.spec.training = { code: { command: [process.execPath, 'train.mjs', '--data', '$DATA', '--out', '$OUT', '--version', '${VERSION}', mode] } };
  return d;
}

let dir: { path: string; cleanup: () => void };
let app: AppHarness;

beforeEach(async () => {
  dir = tempDir('maas-train-');
  writeFileSync(join(dir.path, 'train.mjs'), program());
  writeFileSync(join(dir.path, 'data.csv'), 'x,y,label\n1,2,yes\n3,4,no\n');
  app = await appHarness();
});

afterEach(async () => {
  await app.services.close();
  dir.cleanup();
});

function job(mode: string, o: Partial<TrainingJob> = {}): TrainingJob {
  return {
    description: parent(mode),
    dataFile: join(dir.path, 'data.csv'),
    version: '2',
    outDir: join(dir.path, `out-${mode}`),
    workDir: dir.path,
    timeoutMs: 20_000,
    target: 'local',
    ...o,
  };
}

const request = (j: TrainingJob): TrainAndRegisterRequest => ({
  job: j,
  trigger: 'drift',
  inputs: [{ source: 'file:///data.csv', digest: `sha256:${'a'.repeat(64)}`, rows: 2 }],
  feedbackWindow: { since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' },
});

describe('placeholders', () => {
  it('replaces $DATA, $OUT, $VERSION and ${...} inside arguments only', () => {
    expect(resolvePlaceholders(['x', '--out=$OUT', '$DATA', '${VERSION}', '$DATAX', '$$'], { data: '/d', out: '/o', version: '2' })).toEqual([
      'x',
      '--out=/o',
      '/d',
      '2',
      '$DATAX',
      '$$',
    ]);
  });
});

// Real processes (node starting, the ONNX runtime opening the artifact) take seconds on a busy machine.
describe('train and register (local)', { timeout: 30_000 }, () => {
  it('runs the program, streams its output, registers the result with lineage', async () => {
    const lines: [string, string][] = [];
    const r = await trainAndRegister(app.services, request(job('ok')), { onOutput: (l, s) => lines.push([l, s]) });
    expect(r.registered).toMatchObject({ name: 'm', version: '2', status: 'created' });
    expect(r.training.exitCode).toBe(0);
    expect(r.training.logTail).toHaveLength(20);
    // stdout and stderr are two pipes: their lines interleave as they arrive, so only the set is fixed.
    expect(r.training.logTail.slice(-2)).toContain('done');
    expect(r.descriptionFile).toBe(join(dir.path, 'out-ok', 'model.yaml'));
    expect(lines[0]).toEqual(['training on ' + join(dir.path, 'data.csv'), 'stdout']);
    expect(lines).toContainEqual(['a warning', 'stderr']);
    const lineage = await app.stores.models.getLineage('m', '2');
    expect(lineage).toMatchObject({ parentVersion: '1', trigger: 'drift', target: 'local', inputs: [{ rows: 2 }], trainedAt: '2026-01-01T00:00:00.000Z' });
    expect(lineage?.feedbackWindow).toEqual({ since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' });
  });

  it('a non-zero exit is a FAILURE with the exit code and the last 20 lines; nothing registered', async () => {
    const e = await rejection(trainAndRegister(app.services, request(job('fail')), { onOutput: () => {} }));
    expect(e.code).toBe('FAILURE');
    expect(e.message).toMatch(/exited with code 3/);
    expect(e.message).toMatch(/\| diverged/);
    expect((e.details as { logTail: string[]; exitCode: number }).logTail).toHaveLength(20);
    expect((e.details as { exitCode: number }).exitCode).toBe(3);
    expect(app.stores.models.versions.size).toBe(0);
  });

  it('a timeout kills the process group: TIMEOUT with the log tail; nothing registered', async () => {
    const started = Date.now();
    const e = await rejection(trainAndRegister(app.services, request(job('sleep', { timeoutMs: 1_000 })), { onOutput: () => {} }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toMatch(/epoch 30/);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(app.stores.models.versions.size).toBe(0);
  });

  it('an abort (Ctrl-C) stops the run: INTERRUPTED', async () => {
    const ac = new AbortController();
    const runner = new LocalTrainingRunner({ graceMs: 500 });
    const p = runner.train(job('sleep'), { onOutput: (l) => l === 'a warning' && ac.abort(), signal: ac.signal });
    expect((await rejection(p)).code).toBe('INTERRUPTED');
  });

  it('no artifact written: a clear error naming the file; nothing registered', async () => {
    const e = await rejection(trainAndRegister(app.services, request(job('no-artifact')), { onOutput: () => {} }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain(join(dir.path, 'out-no-artifact', 'model.yaml'));
    expect(e.message).toMatch(/artifact/i);
    expect(app.stores.models.versions.size).toBe(0);
  });

  it('an invalid description: VALIDATION naming the field; nothing registered', async () => {
    const e = await rejection(trainAndRegister(app.services, request(job('invalid')), { onOutput: () => {} }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/model\.yaml/);
    expect(e.message).toMatch(/spec\.task/);
    expect(app.stores.models.versions.size).toBe(0);
  });

  it('the wrong version: VALIDATION; nothing registered', async () => {
    const e = await rejection(trainAndRegister(app.services, request(job('wrong-version')), { onOutput: () => {} }));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toMatch(/describes m@99, but the run was to produce m@2/);
    expect(app.stores.models.versions.size).toBe(0);
  });

  it('a description without a training command is a USAGE error saying what to add', async () => {
    const j = job('ok');
    delete j.description.spec.training;
    const e = await rejection(trainAndRegister(app.services, request(j), { onOutput: () => {} }));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/spec\.training\.code\.command/);
  });
});

describe('lineage in the registry', { timeout: 30_000 }, () => {
  it('is stored in SQLite and shown by `maas describe NAME@VERSION`', async () => {
    const home = join(dir.path, 'home');
    mkdirSync(home);
    const services = await buildServices({
      home: resolveHome({}, dir.path, home),
      config: {},
      env: {},
      cwd: dir.path,
      clock: new ManualClock(Date.UTC(2026, 0, 3)),
      cluster: {},
      version: '0.0.0-test',
    });
    try {
      await trainAndRegister(services, request(job('ok')), { onOutput: () => {} });
      expect(await services.models.getLineage('m', '2')).toMatchObject({ parentVersion: '1', trainedAt: '2026-01-03T00:00:00.000Z' });
    } finally {
      await services.close();
    }
    const r = await runCli(['describe', 'm@2'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Lineage:/);
    expect(r.stdout).toMatch(/Parent: +1/);
    expect(r.stdout).toMatch(/Trigger: +drift/);
    expect(r.stdout).toMatch(/Feedback: +2026-01-01T00:00:00.000Z \.\. 2026-01-02T00:00:00.000Z/);
    expect(r.stdout).toMatch(/file:\/\/\/data\.csv \(2 rows, aaaaaaaaaaaa\)/);
    const json = await runCli(['describe', 'm@2', '-o', 'json'], { home });
    expect(JSON.parse(json.stdout)).toMatchObject({ lineage: { parentVersion: '1', trigger: 'drift' } });
  });
});

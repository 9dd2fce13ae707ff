// The registry commands in-process: output formats, exit codes and error messages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelDescription, type ModelOptions } from '../../bench/model-fixtures.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';
import { onnxFor } from '../support/onnx-models.js';

let dir: { path: string; cleanup: () => void };
let home: string;

/** Writes the models as one multi-document YAML file (JSON is YAML) next to artifacts that fit them. */
function modelFile(name: string, models: ModelOptions[]): string {
  const descriptions = models.map((m) => modelDescription(m));
  for (const d of descriptions) writeFileSync(join(dir.path, d.spec.artifact.uri.replace('file://./', '')), onnxFor(d));
  const path = join(dir.path, name);
  writeFileSync(path, descriptions.map((d) => JSON.stringify(d, null, 2)).join('\n---\n'));
  return path;
}

const cli = (...argv: string[]): Promise<CliResult> => runCli(argv, { home, cwd: dir.path });
const json = (r: CliResult): unknown => JSON.parse(r.stdout);

const HAR: ModelOptions = {
  name: 'har',
  version: '1',
  algorithm: 'MLP',
  features: [
    ['acc_x_mean', 'number'],
    ['acc_y_mean', 'number'],
  ],
  metrics: { accuracy: 0.94 },
  cpu: '500m',
  memory: '256Mi',
  latencyMs: 20,
  labels: { team: 'vision' },
  description: 'Recognises walking and sitting',
};
const HOUSE: ModelOptions = {
  name: 'house',
  version: '1.0.0',
  task: 'regression',
  algorithm: 'Ridge',
  features: [['rooms', 'integer']],
  metrics: { rmse: 0.8 },
  // Its own artifact: a regression cannot share the classifier's model.
  artifactUri: 'file://./house.onnx',
};

beforeEach(async () => {
  dir = tempDir('maas-cli-registry-');
  home = join(dir.path, 'home');
  const r = await cli('register', modelFile('models.yaml', [HAR, HOUSE]));
  expect(r.code, r.stderr).toBe(0);
});

afterEach(() => dir.cleanup());

describe('maas register', () => {
  it('registers every document and reports created, then unchanged', async () => {
    const file = modelFile('more.yaml', [{ ...HAR, version: '2' }, HOUSE]);
    const first = await cli('register', file, '-o', 'json');
    expect(first.code).toBe(0);
    const rows = json(first) as { name: string; version: string; status: string; digest: string; artifactDigest: string }[];
    expect(rows.map((r) => [r.name, r.version, r.status])).toEqual([
      ['har', '2', 'created'],
      ['house', '1.0.0', 'unchanged'],
    ]);
    expect(rows[0]?.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(rows[0]?.artifactDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const table = await cli('register', file);
    expect(table.stdout).toMatch(/^NAME\s+VERSION\s+DIGEST\s+STATUS/);
    expect(table.stdout).toMatch(/har\s+2\s+[a-f0-9]{12}\s+unchanged/);
    expect((await cli('register', file, '-o', 'name')).stdout).toBe('har@2\nhouse@1.0.0\n');
  });

  it('exits 5 with the conflict message for different content under an existing version', async () => {
    const r = await cli('register', modelFile('changed.yaml', [{ ...HAR, description: 'changed' }]));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('har@1 is already registered with different content');
    expect(r.stderr).toContain('versions are immutable; bump metadata.version');
    const machine = await cli('register', modelFile('changed.yaml', [{ ...HAR, description: 'changed' }]), '-o', 'json');
    expect(machine.code).toBe(5);
    expect(machine.stdout).toBe('');
    expect(JSON.parse(machine.stderr)).toMatchObject({ error: { code: 'CONFLICT' } });
  });

  it('registers none of the documents of a file when one of them conflicts', async () => {
    const file = modelFile('mixed.yaml', [
      { ...HAR, version: '7' },
      { ...HOUSE, algorithm: 'Lasso' },
    ]);
    const r = await cli('register', file);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/house@1\.0\.0 is already registered with different content/);
    expect((await cli('get', 'har@7')).code).toBe(4);
  });

  it('exits 2 for an invalid description and registers nothing from it', async () => {
    const path = join(dir.path, 'bad.yaml');
    writeFileSync(path, JSON.stringify({ ...modelDescription({ ...HAR, version: '7' }), kind: 'Nope' }));
    const r = await cli('register', path);
    expect(r.code).toBe(2);
    expect((await cli('versions', 'har', '-o', 'name')).stdout).toBe('har@1\n');
  });

  it('exits 2 when the declared artifact digest does not match the file', async () => {
    const r = await cli('register', modelFile('digest.yaml', [{ ...HAR, version: '3', artifactDigest: `sha256:${'0'.repeat(64)}` }]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('but the description declares');
  });
});

describe('maas list, versions, get, describe', () => {
  it('lists models as a table and as data', async () => {
    await cli('register', modelFile('v2.yaml', [{ ...HAR, version: '2' }]));
    const t = await cli('list');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^NAME\s+LATEST\s+VERSIONS\s+TASK\s+ALGORITHM\s+REGISTERED/);
    expect(t.stdout).toMatch(/har\s+2\s+2\s+classification\s+MLP/);
    const data = json(await cli('list', '-o', 'json')) as { name: string; latest: string; versions: number }[];
    expect(data.map((m) => [m.name, m.latest, m.versions])).toEqual([
      ['har', '2', 2],
      ['house', '1.0.0', 1],
    ]);
    expect((await cli('list', '-o', 'name')).stdout).toBe('har@2\nhouse@1.0.0\n');
  });

  it('says how to register when the registry is empty', async () => {
    const r = await runCli(['list'], { home: join(dir.path, 'empty-home') });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('maas register');
  });

  it('lists versions highest first and 404s unknown models', async () => {
    await cli('register', modelFile('v10.yaml', [{ ...HAR, version: '10' }]));
    expect((await cli('versions', 'har', '-o', 'name')).stdout).toBe('har@10\nhar@1\n');
    expect((await cli('versions', 'har')).stdout).toMatch(/10 \(latest\)/);
    const missing = await cli('versions', 'nope');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('maas list');
  });

  it('prints the stored description as YAML or JSON, latest when no version', async () => {
    await cli('register', modelFile('v2.yaml', [{ ...HAR, version: '2' }]));
    const yaml = await cli('get', 'har');
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(/^apiVersion: maas.dev\/v1\nkind: Model\nmetadata:\n {2}name: har\n {2}version: "2"/);
    expect(json(await cli('get', 'har@1', '-o', 'json'))).toEqual(modelDescription(HAR));
    expect((await cli('get', 'har', '-o', 'name')).stdout).toBe('har@2\n');
  });

  it('exits 4 for unknown models and versions, and 2 for malformed references', async () => {
    const a = await cli('get', 'nope');
    expect(a.code).toBe(4);
    expect(a.stderr).toContain('model nope is not registered');
    expect(a.stderr).toContain('maas list');
    const b = await cli('describe', 'har@9');
    expect(b.code).toBe(4);
    expect(b.stderr).toContain('maas versions har');
    expect((await cli('get', 'Bad Name')).code).toBe(2);
  });

  it('describes a version for humans', async () => {
    const r = await cli('describe', 'har');
    expect(r.code).toBe(0);
    for (const s of [
      'Name:        har',
      'Task:        classification',
      'Algorithm:   MLP',
      'Features (2):',
      'acc_x_mean',
      'Metrics:',
      'accuracy:  0.94',
      'CPU:',
      '500m',
      'Memory:',
      '256Mi',
      'Latency:',
      '20 ms',
      'team:  vision',
      'Digest:',
    ]) {
      expect(r.stdout).toContain(s);
    }
    expect(r.stdout).toMatch(/Artifact:\n {2}URI: +file:\/\/\.\/model\.onnx\n {2}Format: +onnx\n {2}Digest: +sha256:[a-f0-9]{64}/);
    const data = json(await cli('describe', 'har', '-o', 'json')) as { name: string; artifact: { digest: string; size: number } };
    expect(data.name).toBe('har');
    expect(existsSync(join(home, 'blobs', 'sha256', data.artifact.digest.replace('sha256:', '')))).toBe(true);
  });
});

describe('maas delete', () => {
  it('needs an explicit version (exit 2), 404s missing ones (exit 4) and deletes', async () => {
    const bare = await cli('delete', 'har');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('explicit version');
    expect((await cli('delete', 'har@9')).code).toBe(4);
    const ok = await cli('delete', 'har@1', '-o', 'json');
    expect(ok.code).toBe(0);
    expect(json(ok)).toEqual({ name: 'har', version: '1', deleted: true });
    expect((await cli('get', 'har')).code).toBe(4);
    expect((await cli('list', '-o', 'name')).stdout).toBe('house@1.0.0\n');
  });
});

describe('maas search', () => {
  it('finds models by requirements and prints why', async () => {
    const r = await cli(
      'search',
      '--kind',
      'classification',
      '--feature',
      'acc_x_mean:number',
      '--min',
      'accuracy=0.9',
      '--max-cpu',
      '1',
      '--max-memory',
      '1Gi',
      '--label',
      'team=vision',
      'walking',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^MODEL\s+VERSION\s+TASK\s+ALGORITHM\s+SCORE\s+WHY\n/);
    expect(r.stdout).toMatch(/har\s+1\s+classification\s+MLP\s+0\.\d{3}\s+task classification; feature acc_x_mean:number; accuracy 0\.94 >= 0\.90; \+4 more/);
    const wide = await cli(
      'search',
      '--task',
      'classification',
      '--min',
      'accuracy=0.9',
      '--max-cpu',
      '1',
      '--max-memory',
      '1Gi',
      '-t',
      'walking',
      '-o',
      'wide',
    );
    expect(wide.stdout).toContain("accuracy 0.94 >= 0.90; cpu 500m <= 1; memory 256Mi <= 1Gi; text matches 'walking'");
    expect(wide.stdout).toContain('REGISTERED');
  });

  it('prints data only with -o json and name@version with -o name', async () => {
    const r = await cli('search', '--task', 'regression', '--min', 'rmse=1', '-o', 'json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const data = json(r) as { hits: { name: string; reasons: string[] }[]; total: number; scanned: number };
    expect(data.hits.map((h) => h.name)).toEqual(['house']);
    expect(data.hits[0]?.reasons).toEqual(['task regression', 'rmse 0.8 <= 1.0']);
    expect(data.total).toBe(1);
    expect(data.scanned).toBe(2);
    expect((await cli('search', '--algorithm', 'mlp', '-o', 'name')).stdout).toBe('har@1\n');
  });

  it('shows near misses with --explain', async () => {
    const r = await cli('search', '--task', 'classification', '--min', 'accuracy=0.99', '--explain');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Near misses');
    expect(r.stdout).toMatch(/har@1\s+accuracy 0\.94 < 0\.99/);
    const data = json(await cli('search', '--task', 'classification', '--min', 'accuracy=0.99', '--explain', '-o', 'json')) as { nearMisses: unknown[] };
    expect(data.nearMisses).toEqual([{ name: 'har', version: '1', failed: ['accuracy 0.94 < 0.99'] }]);
  });

  it('searches every version with --all-versions and cuts at --limit', async () => {
    await cli('register', modelFile('v2.yaml', [{ ...HAR, version: '2' }]));
    expect((await cli('search', '--feature', 'acc_x_mean', '-o', 'name')).stdout).toBe('har@2\n');
    expect((await cli('search', '--feature', 'acc_x_mean', '--all-versions', '-o', 'name')).stdout.split('\n').filter(Boolean).sort()).toEqual([
      'har@1',
      'har@2',
    ]);
    const limited = await cli('search', '--all-versions', '--limit', '1');
    expect(limited.stdout.trim().split('\n')).toHaveLength(2);
    expect(limited.stderr).toContain('showing 1 of 3 matches');
  });

  it('says nothing matched on stderr and exits 0', async () => {
    const r = await cli('search', '--label', 'team=nobody');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no model matches');
  });

  it.each([
    [['--min', 'accuracy=abc'], '"abc" is not a number'],
    [['--min', 'accuracy'], '--min expects KEY=VALUE'],
    [['--max-memory', '12Qi'], '--max-memory expects a memory quantity, got "12Qi"'],
    [['--max-cpu', 'lots'], '--max-cpu expects a CPU quantity'],
    [['--max-gpu', '1.5'], '--max-gpu expects a whole number'],
    [['--max-latency', 'fast'], '--max-latency expects milliseconds'],
    [['--limit', '0'], '--limit expects a positive whole number'],
    [['--task', 'magic'], 'unknown task "magic"'],
    [['--feature', 'x:float'], 'unknown feature type "float"'],
    [['--label', 'team'], '--label expects KEY=VALUE'],
    [['--kind', 'regression', '--task', 'classification'], 'disagree'],
  ])('rejects %j with a usage error (exit 2) and a hint', async (flags, message) => {
    const r = await cli('search', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('hint:');
  });
});

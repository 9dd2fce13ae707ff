// `maas profile set|show` and the profile column of `maas register`, in-process through main():
// tables, -o wide/json/yaml (sample rows only with --sample), and bad input with its exit codes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { modelDescription } from '../../bench/model-fixtures.js';
import type { ReferenceProfile } from '../../src/drift/profile.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
const cli = (...args: string[]) => runCli(args, { home: join(dir.path, 'home'), cwd: dir.path });

/** har@VERSION: a number, an integer, a category and an optional boolean, trained on `data`. */
function description(version: string, data?: string): ModelDescription {
  const d = modelDescription({
    name: 'har',
    version,
    features: [
      ['speed', 'number'],
      ['steps', 'integer'],
      ['device', 'category'],
    ],
  });
  d.spec.features.push({ name: 'indoor', type: 'boolean', optional: true });
  if (data !== undefined) d.spec.training = { data: { uri: data, format: 'csv', target: 'activity' } };
  return d;
}

const CSV = ['speed,steps,device,activity,notes', '1.5,10,a,walking,x', '2.5,20,b,walking,', '3.5,30,a,sitting,', ',40,a,walking,y', '4.5,,c,standing,'].join(
  '\n',
);

beforeEach(async () => {
  dir = tempDir('maas-profile-cli-');
  mkdirSync(join(dir.path, 'data'));
  writeFileSync(join(dir.path, 'model.onnx'), 'weights');
  writeFileSync(join(dir.path, 'data', 'train.csv'), `${CSV}\n`);
  writeFileSync(join(dir.path, 'm.yaml'), [description('1', 'file://./data/train.csv'), description('2')].map((d) => stringify(d)).join('---\n'));
  const r = await cli('register', 'm.yaml', '--no-artifact-check');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^NAME\s+VERSION\s+DIGEST\s+STATUS\s+PROFILE/);
  expect(r.stdout).toMatch(/har\s+1\s+[0-9a-f]{12}\s+created\s+5 rows, 4 features/);
  expect(r.stdout).toMatch(/har\s+2\s+[0-9a-f]{12}\s+created\s+no training data/);
});
afterEach(() => dir.cleanup());

describe('maas register', () => {
  it('reports the profile in json and keeps it when registering again', async () => {
    const again = await cli('register', 'm.yaml', '--no-artifact-check', '-o', 'json');
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { status: string; profile: unknown }[]).map((r) => [r.status, r.profile])).toEqual([
      ['unchanged', { rows: 5, features: 4 }],
      ['unchanged', 'no training data'],
    ]);
  });
});

describe('maas profile show', () => {
  it('prints one row per feature, with the source and target as notes', async () => {
    const r = await cli('profile', 'show', 'har@1');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FEATURE\s+TYPE\s+COUNT\s+MISSING\s+MEAN\s+STD\s+MIN\s+P50\s+MAX\s+DISTINCT\s+TOP$/);
    expect(lines.slice(1).map((l) => l.split(/\s{3,}/)[0])).toEqual(['speed', 'steps', 'device', 'indoor']);
    // speed: 1.5 2.5 3.5 4.5 (one missing): mean 3, sample std 1.291, median 3.
    expect(lines[1]).toMatch(/^speed\s+number\s+4\s+1\s+3\s+1\.291\s+1\.5\s+3\s+4\.5\s+4\s+-$/);
    expect(lines[2]).toMatch(/^steps\s+integer\s+4\s+1\s+25\s+12\.91\s+10\s+25\s+40\s+4\s+-$/);
    expect(lines[3]).toMatch(/^device\s+category\s+5\s+0(\s+-){5}\s+3\s+a 60%, b 20%, c 20%$/);
    // The optional feature the data lacks: all missing.
    expect(lines[4]).toMatch(/^indoor\s+boolean\s+0\s+5(\s+-){5}\s+0$/);
    expect(r.stderr).toContain(`har@1: profile of 5 rows from file://${join(dir.path, 'data', 'train.csv')} (sha256 `);
    expect(r.stderr).toMatch(/created \d{4}-\d\d-\d\dT[^;]+; sample of 5 rows \(capacity 10000\)/);
    expect(r.stderr).toContain('target activity: walking 60%, sitting 20%, standing 20%');
  });

  it('-o wide adds quantiles; the latest version is shown when none is named', async () => {
    const r = await cli('profile', 'show', 'har@1', '-o', 'wide');
    expect(r.stdout.split('\n')[0]).toMatch(
      /^FEATURE\s+TYPE\s+COUNT\s+MISSING\s+MEAN\s+STD\s+MIN\s+P1\s+P5\s+P25\s+P50\s+P75\s+P95\s+P99\s+MAX\s+DISTINCT\s+TOP$/,
    );
    expect(r.stdout).toMatch(/\nspeed\s+number\s+4\s+1\s+3\s+1\.291\s+1\.5\s+1\.53\s+1\.65\s+2\.25\s+3\s+3\.75\s+4\.35\s+4\.47\s+4\.5\s/);
    // har@2 is the latest and has no profile.
    const latest = await cli('profile', 'show', 'har');
    expect(latest.code).toBe(4);
    expect(latest.stderr).toContain('har@2 has no reference profile');
    expect(latest.stderr).toContain('maas profile set har@2 --data FILE');
  });

  it('-o json prints the stored profile without its sample rows unless --sample is given; yaml too', async () => {
    const r = await cli('profile', 'show', 'har@1', '-o', 'json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const p = JSON.parse(r.stdout) as ReferenceProfile;
    expect(p).toMatchObject({ schema: 1, rows: 5, sample: { capacity: 10000, columns: ['speed', 'steps', 'device', 'indoor'] } });
    expect(p.sample).not.toHaveProperty('rows');
    expect(p.features).toHaveLength(4);
    const full = JSON.parse((await cli('profile', 'show', 'har@1', '-o', 'json', '--sample')).stdout) as ReferenceProfile;
    expect(full.sample.rows).toEqual([
      [1.5, 10, 'a', null],
      [2.5, 20, 'b', null],
      [3.5, 30, 'a', null],
      [null, 40, 'a', null],
      [4.5, null, 'c', null],
    ]);
    expect({ ...full, sample: { capacity: full.sample.capacity, columns: full.sample.columns } }).toEqual(p);
    const y = await cli('profile', 'show', 'har@1', '-o', 'yaml');
    expect(parse(y.stdout)).toEqual(p);
    expect((await cli('profile', 'show', 'har@1', '-o', 'name')).stdout).toBe('har@1\n');
    expect((await cli('profile', 'show', '--help')).stdout).toContain('--sample');
  });
});

describe('maas profile set', () => {
  it('computes and stores a profile for a registered version, replacing one', async () => {
    writeFileSync(join(dir.path, 'more.csv'), 'device,steps,speed,label\na,1,1,x\na,2,2,y\n');
    const r = await cli('profile', 'set', 'har@2', '--data', 'more.csv', '--target', 'label', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'har',
      version: '2',
      profile: { rows: 2, features: 4, sampleRows: 2, target: 'label', source: { uri: `file://${join(dir.path, 'more.csv')}` } },
    });
    const shown = JSON.parse((await cli('profile', 'show', 'har@2', '-o', 'json')).stdout) as ReferenceProfile;
    expect(shown.target).toEqual({ name: 'label', kind: 'categorical', count: 2, missing: 0, counts: { x: 1, y: 1 } });
    // Replacing: the description's target (activity) is used when the data has it.
    const human = await cli('profile', 'set', 'har@1', '--data', `file://${join(dir.path, 'data', 'train.csv')}`);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^profile set for har@1: 5 rows, 4 features, sample of 5 rows, target activity \(from file:\/\//);
  });

  it('refuses bad input with the right exit code and nothing stored', async () => {
    writeFileSync(join(dir.path, 'typo.csv'), 'sped,steps,device\n1,2,a\n');
    writeFileSync(join(dir.path, 'rows.json'), '[]');
    writeFileSync(join(dir.path, 'empty.csv'), 'speed,steps,device\n');
    const cases: [string[], number, string][] = [
      [['profile', 'set', 'har', '--data', 'data/train.csv'], 2, 'name the version whose profile to set: har@VERSION'],
      [['profile', 'set', 'har@2'], 2, "required option '--data <file>' not specified"],
      [['profile', 'set', 'har@9', '--data', 'data/train.csv'], 4, 'model har@9 is not registered (har has 2, 1)'],
      [['profile', 'set', 'hra@1', '--data', 'data/train.csv'], 4, 'model hra@1 is not registered'],
      [['profile', 'set', 'har@2', '--data', 'nope.csv'], 4, `data file not found: ${join(dir.path, 'nope.csv')}`],
      [['profile', 'set', 'har@2', '--data', 'typo.csv'], 2, 'has no column for feature "speed" (did you mean "sped"?)'],
      [['profile', 'set', 'har@2', '--data', 'data/train.csv', '--target', 'activty'], 2, 'has no target column "activty" (did you mean "activity"?)'],
      [['profile', 'set', 'har@2', '--data', 'rows.json'], 2, 'cannot read json data (rows.json): only CSV with a header row is supported for now'],
      [['profile', 'set', 'har@2', '--data', 'https://example.com/x.csv'], 2, 'only local files are read here'],
      [['profile', 'set', 'har@2', '--data', 'empty.csv'], 2, 'has a header but no data rows'],
      [['profile', 'show', 'har@7'], 4, 'model har@7 is not registered'],
      [['profile', 'show', 'hra'], 4, 'model hra is not registered (did you mean har?)'],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
    expect((await cli('profile', 'show', 'har@2')).code).toBe(4);
    const machine = await cli('profile', 'set', 'har@2', '--data', 'typo.csv', '-o', 'json');
    expect(JSON.parse(machine.stderr)).toMatchObject({ error: { code: 'VALIDATION', details: { missing: ['speed'] } } });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, tempDir } from '../support/cli.js';
import { PassThrough } from 'node:stream';
import { collectAnswers, inquirerPrompter, type Prompter } from '../../src/cli/init-prompts.js';
import type { Io } from '../../src/cli/io.js';
import { parseFeatureFlag, scaffoldModel } from '../../src/spec/scaffold.js';
import { validateModelText } from '../../src/spec/validate.js';

const FLAGS = [
  '--name',
  'har',
  '--task',
  'classification',
  '--algorithm',
  'MLP',
  '--feature',
  'acc_x:number[-20..20]',
  '--feature',
  'steps:integer[0..]',
  '--feature',
  'position:category=hand|pocket|bag',
  '--feature',
  'indoor:boolean',
  '--labels-out',
  'walking,sitting',
  '--label',
  'team=vision',
];

/** Answers questions from a script and records what was asked. */
function scripted(answers: string[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string, validate?: (v: string) => true | string): string => {
    asked.push(message);
    const a = answers.shift();
    if (a === undefined) throw new Error(`unexpected question: ${message}`);
    if (validate && validate(a) !== true) throw new Error(`rejected answer "${a}" to ${message}: ${String(validate(a))}`);
    return a;
  };
  return {
    asked,
    input: async (message, o = {}) => next(message, o.validate),
    select: async (message, choices) => {
      const a = next(message);
      if (!choices.includes(a)) throw new Error(`not a choice: ${a}`);
      return a;
    },
  };
}

describe('maas init', () => {
  let home: { path: string; cleanup: () => void };
  let work: { path: string; cleanup: () => void };
  beforeEach(() => {
    home = tempDir();
    work = tempDir('maas-work-');
  });
  afterEach(() => {
    home.cleanup();
    work.cleanup();
  });
  const cli = (argv: string[], opts: { tty?: boolean } = {}) => runCli(argv, { home: home.path, cwd: work.path, ...opts });

  it('writes a description from flags that passes validate --no-artifact-check', async () => {
    const r = await cli(['init', '--yes', ...FLAGS, '--model-version', '2.0.0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created har\.model\.yaml \(har@2\.0\.0\)\n/);
    const file = join(work.path, 'har.model.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\/.*\/schema\/model\.schema\.json$/);
    const doc = parse(text) as { metadata: unknown; spec: { features: unknown; outputs: { labels: unknown }; artifact: { uri: unknown } } };
    expect(doc.metadata).toMatchObject({ name: 'har', version: '2.0.0', labels: { team: 'vision' } });
    expect(doc.spec.features).toEqual([
      { name: 'acc_x', type: 'number', range: { min: -20, max: 20 } },
      { name: 'steps', type: 'integer', range: { min: 0 } },
      { name: 'position', type: 'category', values: ['hand', 'pocket', 'bag'] },
      { name: 'indoor', type: 'boolean' },
    ]);
    expect(doc.spec.outputs.labels).toEqual(['walking', 'sitting']);
    expect(doc.spec.artifact.uri).toBe('file://./har.onnx');
    expect(await cli(['validate', '--no-artifact-check', 'har.model.yaml'])).toMatchObject({ code: 0, stdout: '✓ 1 model valid: har@2.0.0\n' });
  });

  it('scaffolds regression and other tasks from the regression template', async () => {
    const r = await cli([
      'init',
      '--name',
      'energy@3',
      '--task',
      'forecasting',
      '--algorithm',
      'ARIMA',
      '--feature',
      'load:number',
      '-f',
      'models/energy.yaml',
      '--artifact',
      's3://bucket/energy.onnx',
    ]);
    expect(r.code).toBe(0);
    const text = readFileSync(join(work.path, 'models', 'energy.yaml'), 'utf8');
    expect(parse(text)).toMatchObject({
      metadata: { name: 'energy', version: '3' },
      spec: { task: 'forecasting', artifact: { uri: 's3://bucket/energy.onnx' } },
    });
    expect(validateModelText(text, { file: 'e.yaml', baseDir: work.path }).problems).toEqual([]);
  });

  it('fails with exit 2 naming every missing flag when it cannot prompt', async () => {
    const r = await cli(['init', '--task', 'classification']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: missing required flags: --name, --algorithm, --feature, --labels-out');
    expect(r.stderr).toMatch(/hint: .*maas init --yes/);
    // A terminal with machine output must not prompt either.
    const json = await cli(['-o', 'json', 'init', '--name', 'x'], { tty: true });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'USAGE', message: 'missing required flags: --task, --algorithm, --feature' } });
    expect(existsSync(join(work.path, 'x.model.yaml'))).toBe(false);
  });

  it('refuses to overwrite without --force, and overwrites with it', async () => {
    writeFileSync(join(work.path, 'har.model.yaml'), 'keep me\n');
    const r = await cli(['init', ...FLAGS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: har.model.yaml already exists');
    expect(r.stderr).toContain('--force');
    expect(readFileSync(join(work.path, 'har.model.yaml'), 'utf8')).toBe('keep me\n');
    const f = await cli(['init', ...FLAGS, '-f', 'har.model.yaml']);
    expect(f.code).toBe(2);
    expect(readFileSync(join(work.path, 'har.model.yaml'), 'utf8')).toBe('keep me\n');
    expect((await cli(['init', ...FLAGS, '--force'])).code).toBe(0);
    expect(readFileSync(join(work.path, 'har.model.yaml'), 'utf8')).toMatch(/name: har/);
  });

  it('rejects answers that would not validate, located, and writes nothing', async () => {
    const r = await cli(['init', ...FLAGS.map((f) => (f === 'har' ? 'Bad_Name' : f))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Bad_Name\.model\.yaml:\d+:\d+ metadata\.name: "Bad_Name" is not a valid name/m);
    expect(existsSync(join(work.path, 'Bad_Name.model.yaml'))).toBe(false);
    const bad = await cli(['init', ...FLAGS, '--feature', 'x:float']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --feature "x:float": unknown type "float"');
    const task = await cli(['init', '--name', 'x', '--task', 'regresion']);
    expect(task.stderr).toContain('did you mean "regression"?');
  });

  it('asks for whatever the flags leave open', async () => {
    const p = scripted([
      'har',
      '1.0.0',
      'classification',
      'MLP',
      'acc_x:number',
      'mode:category=a|b',
      '',
      'walking, sitting',
      'file://./m.onnx',
      'Activity from wrist sensors.',
    ]);
    const answers = await collectAnswers({}, p);
    expect(answers).toEqual({
      name: 'har',
      version: '1.0.0',
      task: 'classification',
      algorithm: 'MLP',
      features: [
        { name: 'acc_x', type: 'number' },
        { name: 'mode', type: 'category', values: ['a', 'b'] },
      ],
      outputLabels: ['walking', 'sitting'],
      artifactUri: 'file://./m.onnx',
      description: 'Activity from wrist sensors.',
    });
    const q = scripted(['2', 'file://./x.onnx', '']);
    const partial = await collectAnswers({ name: 'x', task: 'regression', algorithm: 'OLS', feature: ['a:number'] }, q);
    expect(q.asked).toEqual(['Version', 'Artifact URI', 'Description (optional)']);
    expect(partial).toMatchObject({ version: '2', artifactUri: 'file://./x.onnx' });
    expect(partial.description).toBeUndefined();
  });

  it('asks through inquirer on the streams it is given', async () => {
    const stdin = new PassThrough();
    const stderr = new PassThrough();
    const shown: string[] = [];
    stderr.on('data', (d: Buffer) => shown.push(d.toString()));
    const io: Io = { stdin, stdout: { write: () => true }, stderr, env: {}, cwd: work.path };
    const p = await inquirerPrompter(io);
    stdin.write('har-x\n');
    expect(await p.input('Model name')).toBe('har-x');
    stdin.write('\n');
    expect(await p.select('Task', ['classification', 'regression'], 'regression')).toBe('regression');
    expect(shown.join('')).toContain('Model name');
  });

  it('parses feature flags and scaffolds pure text', () => {
    expect(parseFeatureFlag('t:number[-1.5..2e3]')).toEqual({ name: 't', type: 'number', range: { min: -1.5, max: 2000 } });
    expect(parseFeatureFlag('n:integer[..10]')).toEqual({ name: 'n', type: 'integer', range: { max: 10 } });
    expect(() => parseFeatureFlag('c:category')).toThrow(/needs its values/);
    expect(() => parseFeatureFlag('b:boolean[0..1]')).toThrow(/only number and integer/);
    expect(() => parseFeatureFlag('nocolon')).toThrow(/expected name:type/);
    const template =
      'apiVersion: maas.dev/v1\nkind: Model\nmetadata: { name: t, version: "1", labels: {} }\nspec:\n  task: regression\n  algorithm: x\n  artifact: { uri: "file://./m.onnx", format: onnx }\n  features: []\n';
    const text = scaffoldModel(
      template,
      { name: 'q', version: '7', task: 'regression', algorithm: 'it\'s "quoted"', features: [{ name: 'a', type: 'number' }], artifactUri: 'file://./q.onnx' },
      '/abs/schema.json',
    );
    expect(text.startsWith('# yaml-language-server: $schema=/abs/schema.json\n')).toBe(true);
    expect(parse(text)).toMatchObject({ metadata: { name: 'q', version: '7' }, spec: { algorithm: 'it\'s "quoted"' } });
    expect(text).toContain('version: "7"');
  });
});

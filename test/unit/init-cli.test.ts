import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, tempDir } from '../support/cli.js';
import { PassThrough } from 'node:stream';
import { collectAnswers, inquirerPrompter, type InitEnv, type Prompter } from '../../src/cli/init-prompts.js';
import { prepareDescription } from '../../src/cli/commands/init.js';
import { isMaasError } from '../../src/core/errors.js';
import type { Io } from '../../src/cli/io.js';
import { SCHEMA_URL, parseFeatureFlag, scaffoldModel, schemaReference } from '../../src/spec/scaffold.js';
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

interface Rejection {
  question: string;
  answer: string;
  why: string;
}

/**
 * Answers questions from a script and records what was asked. Like inquirer, an empty answer
 * takes the default and a rejected answer is followed by the next one to the same question;
 * `lax` skips validation, as a prompter that does not validate would.
 */
function scripted(answers: string[], { lax = false } = {}): Prompter & { asked: string[]; rejected: Rejection[] } {
  const asked: string[] = [];
  const rejected: Rejection[] = [];
  const next = (message: string, validate?: (v: string) => true | string, defaultValue?: string): string => {
    asked.push(message);
    for (;;) {
      const given = answers.shift();
      if (given === undefined) throw new Error(`unexpected question: ${message}`);
      const a = given === '' && defaultValue !== undefined ? defaultValue : given;
      const verdict = validate && !lax ? validate(a) : true;
      if (verdict === true) return a;
      rejected.push({ question: message, answer: a, why: verdict });
    }
  };
  return {
    asked,
    rejected,
    input: async (message, o = {}) => next(message, o.validate, o.default),
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
    // Not this machine's absolute path: the file is meant to be committed.
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=https://maas.dev/schemas/model.schema.json');
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

  it('rejects flags that would not validate, by flag, and writes nothing', async () => {
    const r = await cli(['init', '--yes', ...FLAGS.map((f) => (f === 'har' ? 'Bad_Name' : f))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid flag value; nothing was written:\n {2}--name: "Bad_Name" is not a valid name\n/);
    // Nothing was written, so no problem may point at a line of a file.
    expect(r.stderr).not.toMatch(/\.yaml:\d+|:\d+:\d+/);
    expect(existsSync(join(work.path, 'Bad_Name.model.yaml'))).toBe(false);
    const many = await cli(['init', '--yes', ...FLAGS, '--name', 'har@1.x', '--artifact', 'models/har.onnx', '--feature', '9lives:integer']);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('error: invalid flag values; nothing was written:');
    expect(many.stderr).toMatch(/^ {2}--name: "1\.x" is not a valid version$/m);
    expect(many.stderr).toMatch(/^ {2}--artifact: "models\/har\.onnx" has no URI scheme$/m);
    expect(many.stderr).toMatch(/^ {2}--feature 9lives:integer: "9lives" is not a valid name$/m);
    expect(many.stderr).not.toMatch(/\.yaml:\d+|:\d+:\d+/);
    const json = await cli(['-o', 'json', 'init', ...FLAGS, '--label', `${'k'.repeat(64)}=v`]);
    expect(json.code).toBe(2);
    const { error } = JSON.parse(json.stderr) as { error: { code: string; details: { invalid: { flag: string; field: string }[] } } };
    expect(error.code).toBe('USAGE');
    expect(error.details.invalid).toEqual([expect.objectContaining({ flag: '--label', field: `metadata.labels.${'k'.repeat(64)}` })]);
    const twice = await cli(['init', '--yes', ...FLAGS, '--feature', 'acc_x:integer']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('error: feature "acc_x" is given twice');
    const bad = await cli(['init', ...FLAGS, '--feature', 'x:float']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --feature "x:float": unknown type "float"');
    const task = await cli(['init', '--name', 'x', '--task', 'regresion']);
    expect(task.stderr).toContain('did you mean "regression"?');
  });

  it('asks for whatever the flags leave open', async () => {
    const p = scripted([
      'har',
      '',
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
      file: 'har.model.yaml',
    });
    expect(p.rejected).toEqual([]);
    const q = scripted(['', '2', 'file://./x.onnx', '']);
    const partial = await collectAnswers({ name: 'x', task: 'regression', algorithm: 'OLS', feature: ['a:number'] }, q);
    expect(q.asked).toEqual(['File to write', 'Version', 'Artifact URI', 'Description (optional)']);
    expect(partial).toMatchObject({ version: '2', artifactUri: 'file://./x.onnx' });
    expect(partial.description).toBeUndefined();
  });

  it('asks again for an answer that would not validate, instead of aborting', async () => {
    const p = scripted([
      'har',
      '',
      '1.x',
      '1.1.0',
      'classification',
      'MLP',
      'acc_x:number',
      'acc_x:integer',
      '2fast:number',
      'mode:category=a|a',
      'acc_y:number',
      '',
      'walking',
      'walking,sitting',
      'models/har.onnx',
      'file://./har.onnx',
      '',
    ]);
    const answers = await collectAnswers({}, p);
    expect(answers).toMatchObject({
      version: '1.1.0',
      features: [
        { name: 'acc_x', type: 'number' },
        { name: 'acc_y', type: 'number' },
      ],
      outputLabels: ['walking', 'sitting'],
      artifactUri: 'file://./har.onnx',
    });
    expect(p.rejected.map((r) => [r.question.split(' (')[0], r.answer])).toEqual([
      ['Version', '1.x'],
      ['Another feature', 'acc_x:integer'],
      ['Another feature', '2fast:number'],
      ['Another feature', 'mode:category=a|a'],
      ['Class labels, comma-separated', 'walking'],
      ['Artifact URI', 'models/har.onnx'],
    ]);
    expect(p.rejected[1]!.why).toBe('there is already a feature "acc_x"; feature names must be unique');
    expect(p.rejected[2]!.why).toMatch(/^"2fast" is not a valid name \(start with a letter/);
    expect(p.rejected[3]!.why).toMatch(/^duplicate category value "a"/);
    // Flags are checked before the first question.
    const q = scripted([]);
    await expect(collectAnswers({ name: 'Bad_Name' }, q)).rejects.toThrow(/--name: "Bad_Name" is not a valid name/);
    expect(q.asked).toEqual([]);
  });

  it('settles the output file right after the name, asking again while it exists', async () => {
    writeFileSync(join(work.path, 'har.model.yaml'), 'keep me\n');
    const env: InitEnv = { exists: (f) => existsSync(join(work.path, f)) };
    const script = ['', 'har.model.yaml', 'models/har.yaml', '1', 'regression', '', 'x:number', '', '', ''];
    const p = scripted(['har', ...script]);
    const answers = await collectAnswers({}, p, env);
    expect(answers.file).toBe('models/har.yaml');
    expect(p.asked.slice(0, 3)).toEqual(['Model name', 'File to write', 'Version']);
    // The default (an empty answer) and the same path typed again are both refused.
    const refused = {
      question: 'File to write',
      answer: 'har.model.yaml',
      why: 'har.model.yaml already exists; give another path (or run again with --force to overwrite it)',
    };
    expect(p.rejected).toEqual([refused, refused]);
    // A name or file from flags is checked before any question; -f that exists is asked again.
    const q = scripted([...script]);
    expect((await collectAnswers({ name: 'har', file: 'har.model.yaml' }, q, env)).file).toBe('models/har.yaml');
    expect(q.asked[0]).toBe('File to write');
    const forced = scripted(script.slice(3));
    expect((await collectAnswers({ name: 'har', file: 'har.model.yaml', force: true }, forced, env)).file).toBe('har.model.yaml');
    expect(forced.asked[0]).toBe('Version');
    await expect(collectAnswers({ name: 'har', task: 'regression' }, undefined, env)).rejects.toThrow('har.model.yaml already exists');
  });

  it('gives the answers back as a command line when the generated description fails', async () => {
    const p = scripted(
      [
        'Har',
        '',
        '2',
        'classification',
        'MLP',
        'acc_x:number[-20..20]',
        'mode:category=hand|pocket bag',
        '',
        'walking,sitting',
        '',
        "From the wearer's wrist.",
      ],
      { lax: true },
    );
    const failure = await prepareDescription({ feature: [], label: ['team=vision'] }, { prompter: p, resolvePath: (f) => join(work.path, f) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isMaasError(failure)) throw new Error('expected a MaasError');
    expect(failure.code).toBe('USAGE');
    expect(failure.message).toBe(
      'the description generated from these answers is not valid, so nothing was written to Har.model.yaml:\n' +
        '  metadata.name (--name): "Har" is not a valid name\n' +
        '    hint: use lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. har-classifier)',
    );
    const command = (failure.details as { command: string }).command;
    expect(command).toBe(
      "maas init --yes --name Har --model-version 2 --task classification --algorithm MLP --feature 'acc_x:number[-20..20]' " +
        "--feature 'mode:category=hand,pocket bag' --labels-out walking,sitting --label team=vision --description 'From the wearer'\\''s wrist.'",
    );
    expect(failure.hint).toContain(command);
    expect(existsSync(join(work.path, 'Har.model.yaml'))).toBe(false);
    // Fixing the one value named is enough.
    const r = await cli(shellWords(command.replace('Har', 'har')).slice(1));
    expect(r.code).toBe(0);
    expect(parse(readFileSync(join(work.path, 'har.model.yaml'), 'utf8'))).toMatchObject({
      metadata: { name: 'har', version: '2', labels: { team: 'vision' }, description: "From the wearer's wrist." },
      spec: { features: [{ name: 'acc_x' }, { name: 'mode', values: ['hand', 'pocket bag'] }] },
    });
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

/** Splits a command line quoted the POSIX way ('...' and \\'). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/(?:'[^']*'|\\'|[^\s'\\])+/g)].map((m) => m[0].replace(/'([^']*)'|\\'/g, (_, quoted?: string) => quoted ?? "'"));
}

describe('the $schema modeline', () => {
  it('is relative to a project-local install, and the published URL otherwise', () => {
    expect(schemaReference('/work/app/node_modules/maas/schema/model.schema.json', '/work/app/models/har.model.yaml')).toBe(
      '../node_modules/maas/schema/model.schema.json',
    );
    expect(schemaReference('/work/app/node_modules/maas/schema/model.schema.json', '/work/app/har.model.yaml')).toBe(
      './node_modules/maas/schema/model.schema.json',
    );
    expect(schemaReference('/usr/lib/node_modules/maas/schema/model.schema.json', '/home/ann/har.model.yaml')).toBe(SCHEMA_URL);
    expect(schemaReference('/src/maas/schema/model.schema.json', '/src/maas/x.yaml')).toBe(SCHEMA_URL);
  });
});

// The composition description: schema + semantic checks (located problems), the compile-time
// match with domain/composition.ts, member compatibility, explain, and `maas validate` on it.
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { CompositionSchema, CompositionShapeCheck } from '../../src/spec/composition-schema.js';
import { checkMembers, compositionFeatures, type CompositionMemberModel } from '../../src/spec/composition-compat.js';
import { parseDurationText } from '../../src/spec/composition-semantic.js';
import { validateCompositionText, validateModelText } from '../../src/spec/validate.js';
import { compositionJsonSchema } from '../../src/spec/json-schema.js';
import { explainField } from '../../src/spec/explain.js';
import type { CompositionDescription } from '../../src/domain/composition.js';
import type { FeatureSpec, ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir } from '../support/cli.js';

const EXAMPLE = `apiVersion: maas.dev/v1
kind: Composition
metadata:
  name: har-ensemble
  version: "1"
  description: Three HAR classifiers trained on different subjects, voting.
spec:
  task: classification
  features: [tBodyAcc-mean-X, tBodyAcc-mean-Y]
  outputs:
    labels: [WALKING, SITTING, LAYING]
  mode: ensemble            # ensemble | split | shadow
  aggregation: mean-proba   # majority | weighted | mean-proba (classification); mean | median (regression)
  timeout: 500ms            # default per-member deadline
  members:
    - model: har-a@1
      weight: 2
    - model: har-b@1
    - deployment: d-5f3a9c1e2b
      timeout: 1s
      role: shadow
  qos:
    latencyBudget: 200ms
    minAccuracy: 0.85
    reliability: 0.99
  policy:
    qosWeights: { effectiveness: 0.4, quality: 0.2, latency: 0.2, reliability: 0.2 }
    contribution: { qos: 0.5, functional: 0.5, threshold: 0.15 }
    rules: { dataUtility: 0.3, modelUtility: 0.2, scalability: 0.2, history: 0.15, reliability: 0.15 }
    thresholds: { skew: 0.5, reliability: 0.95, latencyPenalty: 2 }
    bandit: { alpha: 1, lambda: 1, topK: 3 }
    historyWindow: 100
`;

/** `text` with `from` replaced by `to` (which must occur). */
function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** 1-based line of the first line containing `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const check = (text: string) => validateCompositionText(text, { file: 'c.yaml' });

/** The single problem of `text` (fails with all of them listed otherwise). */
function onlyProblem(text: string) {
  const { problems } = check(text);
  expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
  return problems[0]!;
}

describe('composition schema and semantic checks', () => {
  it('accepts the example and returns the description', () => {
    const r = check(EXAMPLE);
    expect(r.problems).toEqual([]);
    expect(r.compositions).toHaveLength(1);
    const c = r.compositions[0]!;
    expect(c.metadata).toMatchObject({ name: 'har-ensemble', version: '1' });
    expect(c.spec.members[2]).toEqual({ deployment: 'd-5f3a9c1e2b', timeout: '1s', role: 'shadow' });
    expect(r.documents[0]).toMatchObject({ kind: 'Composition', composition: c });
  });

  it('matches domain/composition.ts at compile time', () => {
    // The schema module itself fails `tsc` on drift (CompositionShapeCheck); this restates it.
    expectTypeOf<Static<typeof CompositionSchema>>().toEqualTypeOf<CompositionDescription>();
    expectTypeOf<CompositionShapeCheck>().not.toBeNever();
    const json = compositionJsonSchema();
    expect(json).toMatchObject({ $id: 'https://maas.dev/schemas/composition.schema.json', additionalProperties: false, title: 'maas composition description' });
  });

  it('reads an integer version as text and accepts a minimal split composition', () => {
    const text = `apiVersion: maas.dev/v1
kind: Composition
metadata: { name: energy-split, version: 3 }
spec:
  task: regression
  features: [temp]
  mode: split
  members:
    - model: energy@1
    - model: energy@2.0.0
      weight: 0.1
`;
    const r = check(text);
    expect(r.problems).toEqual([]);
    expect(r.compositions[0]?.metadata.version).toBe('3');
  });

  it('locates schema problems: unknown fields, bad refs, weights, roles, durations, ranges', () => {
    let text = edit(EXAMPLE, '      weight: 2', '      weight: 0');
    text = edit(text, '- model: har-b@1', '- model: har-b');
    text = edit(text, 'role: shadow', 'role: shadw');
    text = edit(text, 'timeout: 500ms', 'timeout: 5 seconds');
    text = edit(text, 'deployment: d-5f3a9c1e2b', 'deployment: my-deployment');
    text = edit(text, 'minAccuracy: 0.85', 'minAccuracy: 85');
    text = edit(text, 'lambda: 1', 'lambda: 0');
    text = edit(text, 'topK: 3', 'topK: 2.5');
    text = edit(text, 'skew: 0.5', 'skew: 1.5');
    text = edit(text, 'latencyPenalty: 2', 'latencyPenalty: -1');
    text = edit(text, 'alpha: 1,', 'alpha: -1,');
    text = edit(text, '  mode: ensemble', '  mode: ensemble\n  colour: blue');
    const byPath = new Map(check(text).problems.map((p) => [p.path, p]));
    expect(byPath.get('spec.members[0].weight')).toMatchObject({ line: lineOf(text, 'weight: 0'), column: 15, message: 'must be > 0, got the number 0' });
    expect(byPath.get('spec.members[1].model')).toMatchObject({
      line: lineOf(text, 'har-b'),
      message: '"har-b" is not a valid model',
      hint: expect.stringMatching(/NAME@VERSION/),
    });
    expect(byPath.get('spec.members[2].role')).toMatchObject({
      message: '"shadw" is not one of the allowed values',
      hint: expect.stringMatching(/did you mean "shadow"\?.*allowed: member, primary, shadow/),
    });
    expect(byPath.get('spec.timeout')).toMatchObject({ message: '"5 seconds" is not a valid timeout', hint: expect.stringMatching(/500ms/) });
    expect(byPath.get('spec.members[2].deployment')).toMatchObject({
      message: '"my-deployment" is not a valid deployment',
      hint: expect.stringMatching(/maas ps/),
    });
    expect(byPath.get('spec.qos.minAccuracy')).toMatchObject({ message: 'must be <= 1, got the number 85' });
    expect(byPath.get('spec.policy.bandit.lambda')).toMatchObject({ message: 'must be > 0, got the number 0' });
    expect(byPath.get('spec.policy.bandit.topK')).toMatchObject({ message: 'expected an integer, got the number 2.5' });
    expect(byPath.get('spec.policy.bandit.alpha')).toMatchObject({ message: 'must be >= 0, got the number -1' });
    expect(byPath.get('spec.policy.thresholds.skew')).toMatchObject({ message: 'must be <= 1, got the number 1.5' });
    expect(byPath.get('spec.policy.thresholds.latencyPenalty')).toMatchObject({ message: 'must be >= 0, got the number -1' });
    expect(byPath.get('spec.colour')).toMatchObject({ line: lineOf(text, 'colour'), column: 3, message: 'unknown field "colour"' });
    for (const p of byPath.values()) expect(p.file).toBe('c.yaml');
  });

  it('needs exactly one of model and deployment per member', () => {
    const both = edit(EXAMPLE, '    - model: har-b@1', '    - model: har-b@1\n      deployment: d-0123456789');
    expect(onlyProblem(both)).toMatchObject({
      path: 'spec.members[1]',
      line: lineOf(both, 'model: har-b@1'),
      column: 7,
      message: 'member names both a model and a deployment',
      hint: expect.stringMatching(/keep one/),
    });
    const neither = edit(EXAMPLE, '    - model: har-b@1', '    - weight: 3');
    expect(onlyProblem(neither)).toMatchObject({
      path: 'spec.members[1]',
      line: lineOf(neither, 'weight: 3'),
      message: 'member names neither a model nor a deployment',
      hint: expect.stringMatching(/model: NAME@VERSION/),
    });
  });

  it('checks the version of a model reference', () => {
    const text = edit(EXAMPLE, 'model: har-b@1', 'model: har-b@v1.2');
    expect(onlyProblem(text)).toMatchObject({
      path: 'spec.members[1].model',
      message: '"har-b@v1.2" names the invalid version "v1.2"',
      hint: expect.stringMatching(/^did you mean "har-b@1\.2\.0"\?/),
    });
  });

  it('allows an aggregation that fits the task, in ensemble mode only', () => {
    const regression = edit(EXAMPLE, 'task: classification', 'task: regression');
    const wrongTask = edit(edit(regression, '  outputs:\n    labels: [WALKING, SITTING, LAYING]\n', ''), 'aggregation: mean-proba', 'aggregation: majority');
    expect(onlyProblem(wrongTask)).toMatchObject({
      path: 'spec.aggregation',
      line: lineOf(wrongTask, 'aggregation:'),
      column: 16,
      message: 'aggregation "majority" does not apply to regression',
      hint: 'for regression use one of: mean, median',
    });
    const classificationMean = edit(EXAMPLE, 'aggregation: mean-proba', 'aggregation: median');
    expect(onlyProblem(classificationMean)).toMatchObject({ message: 'aggregation "median" does not apply to classification' });
    const split = edit(EXAMPLE, 'mode: ensemble', 'mode: split');
    expect(onlyProblem(split)).toMatchObject({
      path: 'spec.aggregation',
      column: 3,
      message: 'aggregation applies to ensemble mode only (mode is "split")',
      hint: 'remove aggregation, or set mode: ensemble',
    });
  });

  it('refuses labels on a regression composition', () => {
    const text = edit(edit(EXAMPLE, 'task: classification', 'task: regression'), 'aggregation: mean-proba', 'aggregation: mean');
    expect(onlyProblem(text)).toMatchObject({ path: 'spec.outputs.labels', message: 'outputs.labels applies to classification only' });
  });

  it('needs exactly one primary in shadow mode', () => {
    const noAggregation = edit(EXAMPLE, '  aggregation: mean-proba   # majority | weighted | mean-proba (classification); mean | median (regression)\n', '');
    const none = edit(noAggregation, 'mode: ensemble', 'mode: shadow');
    expect(onlyProblem(none)).toMatchObject({
      path: 'spec.members',
      line: lineOf(none, '- model: har-a@1'),
      message: 'shadow mode needs exactly one member with role: primary, and none has it',
      hint: expect.stringMatching(/role: primary/),
    });
    const one = edit(none, '      weight: 2', '      weight: 2\n      role: primary');
    expect(check(one).problems).toEqual([]);
    const two = edit(one, '    - model: har-b@1', '    - model: har-b@1\n      role: primary');
    expect(onlyProblem(two)).toMatchObject({
      path: 'spec.members[1].role',
      line: lineOf(two, 'har-b@1') + 1,
      column: 13,
      message: 'shadow mode allows one primary member, and spec.members[0] already is',
      hint: 'make the others role: shadow',
    });
  });

  it('needs a member that answers in ensemble and split mode', () => {
    const text = edit(
      edit(EXAMPLE, '      weight: 2', '      weight: 2\n      role: shadow'),
      '    - model: har-b@1',
      '    - model: har-b@1\n      role: shadow',
    );
    expect(onlyProblem(text)).toMatchObject({
      path: 'spec.members',
      message: 'ensemble mode needs at least one member that answers, and every member is a shadow',
    });
    const split = edit(edit(text, 'mode: ensemble', 'mode: split'), '  aggregation: mean-proba', '  # no aggregation');
    expect(onlyProblem(split)).toMatchObject({
      path: 'spec.members',
      message: 'split mode needs at least one member that answers, and every member is a shadow',
    });
  });

  it('lists each member once', () => {
    const model = edit(EXAMPLE, 'model: har-b@1', 'model: har-a@1');
    expect(onlyProblem(model)).toMatchObject({
      path: 'spec.members[1].model',
      line: lineOf(model, '- model: har-a@1') + 2,
      column: 14,
      message: 'model "har-a@1" is listed twice (also spec.members[0])',
      hint: expect.stringMatching(/list each member once/),
    });
    const deployment = `${EXAMPLE.trimEnd().replace(/\n {2}qos:[\s\S]*$/, '')}\n    - deployment: d-5f3a9c1e2b\n`;
    expect(onlyProblem(deployment)).toMatchObject({
      path: 'spec.members[3].deployment',
      message: 'deployment "d-5f3a9c1e2b" is listed twice (also spec.members[2])',
    });
  });

  it('wants unique features and labels', () => {
    const features = edit(EXAMPLE, 'features: [tBodyAcc-mean-X, tBodyAcc-mean-Y]', 'features: [tBodyAcc-mean-X, tBodyAcc-mean-Y, tBodyAcc-mean-X]');
    expect(onlyProblem(features)).toMatchObject({
      path: 'spec.features[2]',
      line: lineOf(features, 'features:'),
      column: 48,
      message: 'duplicate feature "tBodyAcc-mean-X" (also spec.features[0])',
      hint: 'each feature may appear once',
    });
    const labels = edit(EXAMPLE, 'labels: [WALKING, SITTING, LAYING]', 'labels: [WALKING, SITTING, WALKING]');
    expect(onlyProblem(labels)).toMatchObject({ path: 'spec.outputs.labels[2]', message: 'duplicate class label "WALKING" (also spec.outputs.labels[0])' });
  });

  it('wants weights that sum to 1, within 1e-6', () => {
    const qos = edit(EXAMPLE, 'effectiveness: 0.4', 'effectiveness: 0.5');
    expect(onlyProblem(qos)).toMatchObject({
      path: 'spec.policy.qosWeights',
      line: lineOf(qos, 'qosWeights'),
      column: 17,
      message: 'effectiveness + quality + latency + reliability = 1.1, must be 1',
      hint: expect.stringMatching(/sum to 1/),
    });
    const rules = edit(EXAMPLE, 'dataUtility: 0.3', 'dataUtility: 0.2');
    expect(onlyProblem(rules)).toMatchObject({
      path: 'spec.policy.rules',
      message: 'dataUtility + modelUtility + scalability + history + reliability = 0.9, must be 1',
    });
    const contribution = edit(EXAMPLE, 'functional: 0.5', 'functional: 0.6');
    expect(onlyProblem(contribution)).toMatchObject({ path: 'spec.policy.contribution', message: 'qos + functional = 1.1, must be 1' });
    const threshold = edit(EXAMPLE, 'threshold: 0.15', 'threshold: 1.15');
    expect(onlyProblem(threshold)).toMatchObject({ path: 'spec.policy.contribution.threshold', message: 'must be <= 1, got the number 1.15' });
    const close = edit(edit(EXAMPLE, 'effectiveness: 0.4', 'effectiveness: 0.1'), 'quality: 0.2', 'quality: 0.5');
    expect(check(close).problems).toEqual([]);
    const reliability = edit(EXAMPLE, 'reliability: 0.95', 'reliability: 95');
    expect(onlyProblem(reliability)).toMatchObject({ path: 'spec.policy.thresholds.reliability', message: 'must be <= 1, got the number 95' });
    const qosReliability = edit(EXAMPLE, 'reliability: 0.99', 'reliability: 1.5');
    expect(onlyProblem(qosReliability)).toMatchObject({ path: 'spec.qos.reliability', message: 'must be <= 1, got the number 1.5' });
  });

  it('wants deadlines longer than 0', () => {
    const text = edit(EXAMPLE, 'timeout: 1s', 'timeout: 0ms');
    expect(onlyProblem(text)).toMatchObject({ path: 'spec.members[2].timeout', message: 'must be longer than 0, got "0ms"' });
    expect(parseDurationText('1.5s')).toBe(1500);
    expect(parseDurationText(' 2 m ')).toBe(120_000);
    expect(parseDurationText('5 seconds')).toBeUndefined();
  });

  it('keeps model and composition documents apart', () => {
    const model = validateModelText(EXAMPLE, { file: 'm.yaml', baseDir: '/', checkArtifact: false });
    expect(model.problems).toEqual([
      expect.objectContaining({
        path: 'kind',
        line: 2,
        message: 'kind "Composition" is not a model description',
        hint: expect.stringMatching(/maas compose apply/),
      }),
    ]);
    const other = check(edit(EXAMPLE, 'kind: Composition', 'kind: Model'));
    expect(other.problems).toEqual([expect.objectContaining({ path: 'kind', message: 'kind "Model" is not a composition description' })]);
    expect(check(edit(EXAMPLE, 'kind: Composition', 'kind: Compositon')).problems).toEqual([
      expect.objectContaining({ path: 'kind', hint: expect.stringMatching(/^did you mean "Composition"\?/) }),
    ]);
  });
});

const feature = (name: string, type: FeatureSpec['type'] = 'number'): FeatureSpec => ({ name, type });

function model(name: string, o: { task?: ModelDescription['spec']['task']; features?: FeatureSpec[]; labels?: string[] } = {}): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name, version: '1' },
    spec: {
      task: o.task ?? 'classification',
      algorithm: 'MLP',
      artifact: { uri: 'file://./model.onnx', format: 'onnx' },
      features: o.features ?? [feature('tBodyAcc-mean-X'), feature('tBodyAcc-mean-Y'), feature('tBodyAcc-mean-Z')],
      outputs: { labels: o.labels ?? ['WALKING', 'SITTING', 'LAYING'] },
    },
  };
}

describe('checkMembers', () => {
  const composition = check(EXAMPLE).compositions[0]!;
  const members = (...descriptions: ModelDescription[]): CompositionMemberModel[] =>
    descriptions.map((description, index) => ({ index, ref: `${description.metadata.name}@1`, description }));

  it('accepts members that fit, whatever their label order', () => {
    const ms = members(model('har-a'), model('har-b', { labels: ['LAYING', 'WALKING', 'SITTING'] }), model('har-c'));
    expect(checkMembers(composition, ms)).toEqual([]);
  });

  it('names a member that solves another task', () => {
    const problems = checkMembers(composition, members(model('har-a'), model('har-b', { task: 'regression' })));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'spec.members[1].model',
        message: 'har-b@1 solves regression, not classification',
        hint: expect.stringMatching(/spec\.task: classification/),
      }),
    ]);
  });

  it('names missing features with a suggestion', () => {
    const b = model('har-b', { features: [feature('tBodyAcc-mean-X'), feature('tBodyAcc-mean_Y')] });
    const problems = checkMembers(composition, members(model('har-a'), b));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'spec.members[1].model',
        message: 'har-b@1 does not take feature "tBodyAcc-mean-Y"',
        hint: expect.stringMatching(/^did you mean "tBodyAcc-mean_Y" for "tBodyAcc-mean-Y"\? every member must take every feature/),
      }),
    ]);
  });

  it('names both members and types when a feature type differs', () => {
    const b = model('har-b', { features: [feature('tBodyAcc-mean-X', 'integer'), feature('tBodyAcc-mean-Y')] });
    const problems = checkMembers(composition, members(model('har-a'), b));
    expect(problems).toEqual([
      expect.objectContaining({ path: 'spec.members[1].model', message: 'feature "tBodyAcc-mean-X" is integer in har-b@1 but number in har-a@1' }),
    ]);
  });

  it('names the member and the difference when label sets differ', () => {
    const problems = checkMembers(composition, members(model('har-a'), model('har-b', { labels: ['WALKING', 'SITTING', 'STANDING'] })));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'spec.members[1].model',
        message: 'har-b@1 predicts other labels than spec.outputs.labels: it lacks "LAYING" and has "STANDING" besides',
      }),
    ]);
    // Without outputs.labels the first member's labels are the reference.
    const { outputs: _outputs, ...spec } = composition.spec;
    const unlabelled: CompositionDescription = { ...composition, spec };
    const ms = members(model('har-a', { labels: ['A', 'B'] }), model('har-b', { labels: ['B', 'A'] }), model('har-c', { labels: ['A', 'C'] }));
    expect(checkMembers(unlabelled, ms)).toEqual([
      expect.objectContaining({
        path: 'spec.members[2].deployment',
        message: 'har-c@1 predicts other labels than har-a@1 (the first member): it lacks "B" and has "C" besides',
      }),
    ]);
  });

  it('locates problems when given the file and a locator, and ignores labels of regression members', () => {
    const regression: CompositionDescription = { ...composition, spec: { ...composition.spec, task: 'regression', aggregation: 'mean', outputs: {} } };
    const ms = members(model('har-a', { task: 'regression', labels: ['X', 'Y'] }), model('har-b', { task: 'regression' }));
    expect(checkMembers(regression, ms)).toEqual([]);
    const located = checkMembers(composition, members(model('har-a'), model('har-b', { task: 'regression' })), {
      file: 'c.yaml',
      locate: (path) => ({ line: 10 + Number(path[2]), column: 7 }),
    });
    expect(located[0]).toMatchObject({ file: 'c.yaml', line: 11, column: 7 });
  });

  it('gives the composition features in its order, from the first member that has each', () => {
    const a = model('har-a', { features: [feature('tBodyAcc-mean-Y', 'number'), feature('other', 'boolean')] });
    const b = model('har-b', { features: [feature('tBodyAcc-mean-X', 'integer'), feature('tBodyAcc-mean-Y', 'integer')] });
    expect(compositionFeatures(composition, members(a, b))).toEqual([feature('tBodyAcc-mean-X', 'integer'), feature('tBodyAcc-mean-Y', 'number')]);
  });
});

describe('maas explain composition...', () => {
  it('documents composition fields under the composition prefix', async () => {
    expect(explainField('composition.spec.members.weight')).toMatchObject({
      kind: 'Composition',
      path: 'spec.members.weight',
      type: 'number',
      required: false,
    });
    expect(explainField('composition.spec.mode')).toMatchObject({ allowedValues: ['ensemble', 'split', 'shadow'], required: true });
    expect(explainField('composition').fields?.map((f) => f.name)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(explainField('spec.features.type')).toMatchObject({ kind: 'Model' });
    const r = await runCli(['explain', 'composition.spec.policy.bandit']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND: {5}Composition\n/);
    expect(r.stdout).toContain('FIELD:    spec.policy.bandit <Object>');
    expect(r.stdout).toMatch(/ {2}topK\t<integer>\n/);
    const bad = await runCli(['explain', 'composition.spec.membrs']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('hint: did you mean "composition.spec.members"?');
    const kind = await runCli(['explain', 'compositon.spec']);
    expect(kind.stderr).toContain('did you mean "composition"?');
  });
});

describe('maas validate on compositions', () => {
  let home: { path: string; cleanup: () => void };
  let work: { path: string; cleanup: () => void };
  beforeEach(() => {
    home = tempDir();
    work = tempDir('maas-compose-spec-');
  });
  afterEach(() => {
    home.cleanup();
    work.cleanup();
  });
  const cli = (argv: string[]) => runCli(argv, { home: home.path, cwd: work.path });

  it('says a good composition is valid, exit 0', async () => {
    writeFileSync(join(work.path, 'c.yaml'), EXAMPLE);
    const r = await cli(['validate', 'c.yaml']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('✓ composition har-ensemble@1 is valid\n');
    const j = await cli(['-o', 'json', 'validate', 'c.yaml']);
    expect(JSON.parse(j.stdout)).toMatchObject({
      valid: true,
      models: [],
      compositions: [{ id: 'har-ensemble@1', file: 'c.yaml', document: 1 }],
      problems: [],
    });
  });

  it('prints the located problems of a bad composition, exit 2', async () => {
    const text = edit(edit(EXAMPLE, 'effectiveness: 0.4', 'effectiveness: 0.5'), 'model: har-b@1', 'model: har-a@1');
    writeFileSync(join(work.path, 'c.yaml'), text);
    const r = await cli(['validate', 'c.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`c.yaml:${lineOf(text, '- model: har-a@1') + 2}:14 spec.members[1].model: model "har-a@1" is listed twice (also spec.members[0])`);
    expect(lines[1]).toMatch(/^ {4}hint: list each member once/);
    expect(r.stdout).toContain(
      `c.yaml:${lineOf(text, 'qosWeights')}:17 spec.policy.qosWeights: effectiveness + quality + latency + reliability = 1.1, must be 1`,
    );
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('2 problems in 1 file');
  });

  it('validates models and compositions side by side', async () => {
    writeFileSync(join(work.path, 'c.yaml'), EXAMPLE);
    writeFileSync(join(work.path, 'd.yaml'), edit(EXAMPLE, 'version: "1"', 'version: "2"'));
    const r = await cli(['validate', 'c.yaml', 'd.yaml']);
    expect(r.stdout).toBe('✓ composition har-ensemble@1 is valid\n✓ composition har-ensemble@2 is valid\n');
    writeFileSync(join(work.path, 'd.yaml'), EXAMPLE);
    const twice = await cli(['validate', 'c.yaml', 'd.yaml']);
    expect(twice.code).toBe(2);
    expect(twice.stdout).toMatch(/har-ensemble@1 is described twice/);
  });

  it('refuses to register a composition, pointing at maas compose apply', async () => {
    writeFileSync(join(work.path, 'c.yaml'), EXAMPLE);
    const r = await cli(['register', 'c.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('c.yaml:2:7 kind: kind "Composition" is not a model description');
    expect(r.stderr).toMatch(/hint: Composition documents are used with `maas compose apply`/);
  });
});

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateModelText } from '../../src/spec/validate.js';
import { modelJsonSchema } from '../../src/spec/json-schema.js';
import { FULL_MODEL, edit, lineOf, smallModel } from './spec-fixtures.js';

const BASE = '/models';
const exists = (p: string): boolean => p === '/models/model.onnx';
const check = (text: string, checkArtifact = true) => validateModelText(text, { file: 'm.yaml', baseDir: BASE, checkArtifact, isFile: exists });

/** Every property path the schema defines, e.g. `spec.resources.serving.replicas.min`. */
function schemaPaths(node: Record<string, unknown>, prefix: string, out: string[]): string[] {
  const props = (node.properties ?? (node.items as Record<string, unknown> | undefined)?.properties) as Record<string, Record<string, unknown>> | undefined;
  for (const [k, child] of Object.entries(props ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.push(path);
    schemaPaths(child, path, out);
  }
  return out;
}

function has(data: unknown, path: string): boolean {
  let node = data;
  for (const seg of path.split('.')) {
    if (Array.isArray(node)) node = node.find((x) => x && typeof x === 'object' && seg in x);
    if (!node || typeof node !== 'object' || !(seg in node)) return false;
    node = (node as Record<string, unknown>)[seg];
  }
  return true;
}

describe('validating a model description', () => {
  it('accepts a description that uses every property of the schema', () => {
    const paths = schemaPaths(modelJsonSchema(), '', []);
    expect(paths.length).toBeGreaterThan(50);
    const data = parse(FULL_MODEL) as unknown;
    expect(paths.filter((p) => !has(data, p))).toEqual([]);
    const r = check(FULL_MODEL);
    expect(r.problems).toEqual([]);
    expect(r.documents[0]?.description?.metadata.name).toBe('har-classifier');
    expect(r.documents[0]?.artifactPath).toBe('/models/model.onnx');
  });

  const cases: { name: string; from: string; to: string; path: string; line: string; column: number; message: RegExp; hint?: RegExp }[] = [
    {
      name: 'duplicate feature names',
      from: '- name: steps',
      to: '- name: acc_x # again',
      path: 'spec.features[1].name',
      line: '# again',
      column: 13,
      message: /duplicate feature name "acc_x"/,
      hint: /spec\.features\[0\]/,
    },
    {
      name: 'a monitoring entry for a feature the model does not have',
      from: 'acc_x: { test: ks, threshold: 0.01 }',
      to: 'acc_y: { test: ks } # typo',
      path: 'spec.monitoring.features.acc_y',
      line: 'acc_y: { test: ks } # typo',
      column: 7,
      message: /"acc_y" is not a feature of this model/,
      hint: /did you mean "acc_x"/,
    },
    {
      name: 'a numeric-only test for a category feature',
      from: 'acc_x: { test: ks, threshold: 0.01 }',
      to: 'position: { test: wasserstein } # category',
      path: 'spec.monitoring.features.position.test',
      line: 'position: { test: wasserstein } # category',
      column: 25,
      message: /wasserstein needs a number or integer feature, and this one is category/,
      hint: /chisquare/,
    },
    {
      name: 'a numeric-only test for every feature of a model with categories',
      from: 'test: jensenshannon',
      to: 'test: ks # all',
      path: 'spec.monitoring.test',
      line: 'test: ks # all',
      column: 11,
      message: /ks applies to every feature, but "position" is category/,
      hint: /spec\.monitoring\.features/,
    },
    {
      name: 'an invalid cpu quantity',
      from: 'cpu: 500m',
      to: 'cpu: half',
      path: 'spec.resources.serving.cpu',
      line: 'cpu: half',
      column: 12,
      message: /"half" is not a valid cpu quantity/,
      hint: /500m/,
    },
    {
      name: 'an invalid memory quantity',
      from: 'memory: 2Gi',
      to: 'memory: 2 gigs',
      path: 'spec.resources.training.memory',
      line: 'memory: 2 gigs',
      column: 15,
      message: /not a valid memory quantity/,
      hint: /256Mi/,
    },
    {
      name: 'memory in millibytes',
      from: 'memory: 256Mi',
      to: 'memory: 256m',
      path: 'spec.resources.serving.memory',
      line: 'memory: 256m',
      column: 15,
      message: /millibytes/,
      hint: /256Mi/,
    },
    {
      name: 'an invalid version',
      from: 'version: 1.2.0-rc.1',
      to: 'version: v1.2',
      path: 'metadata.version',
      line: 'version: v1.2',
      column: 12,
      message: /"v1\.2" is not a valid version/,
      hint: /did you mean "1\.2\.0"/,
    },
    {
      name: 'a fractional number as version',
      from: 'version: 1.2.0-rc.1',
      to: 'version: 1.5',
      path: 'metadata.version',
      line: 'version: 1.5',
      column: 12,
      message: /expected a string, got the number 1\.5/,
      hint: /quote the version/,
    },
    {
      name: 'a version YAML reads as a shorter number',
      from: 'version: 1.2.0-rc.1',
      to: 'version: 1.10',
      path: 'metadata.version',
      line: 'version: 1.10',
      column: 12,
      message: /got the number 1\.10$/,
      hint: /version: "1\.10"/,
    },
    {
      name: 'an unknown artifact URI scheme',
      from: 'uri: file://./model.onnx',
      to: 'uri: ftp://host/model.onnx',
      path: 'spec.artifact.uri',
      line: 'uri: ftp://',
      column: 10,
      message: /unsupported URI scheme "ftp"/,
      hint: /file, http, https, s3, gs, oci/,
    },
    {
      name: 'an artifact URI without scheme',
      from: 'uri: file://./model.onnx',
      to: 'uri: model.onnx',
      path: 'spec.artifact.uri',
      line: 'uri: model.onnx',
      column: 10,
      message: /has no URI scheme/,
      hint: /file:\/\/\.\/model\.onnx/,
    },
    {
      name: 'a missing artifact file',
      from: 'uri: file://./model.onnx',
      to: 'uri: file://./other.onnx',
      path: 'spec.artifact.uri',
      line: 'other.onnx',
      column: 10,
      message: /artifact not found: "\/models\/other\.onnx"/,
      hint: /--no-artifact-check/,
    },
    {
      name: 'an unknown training data scheme',
      from: 'uri: s3://datasets/har/train.csv',
      to: 'uri: hdfs://x/train.csv',
      path: 'spec.training.data.uri',
      line: 'hdfs://',
      column: 12,
      message: /unsupported URI scheme "hdfs"/,
    },
    {
      name: 'a malformed s3 URI',
      from: 'uri: s3://datasets/har/train.csv',
      to: 'uri: s3:train.csv',
      path: 'spec.training.data.uri',
      line: 's3:train',
      column: 12,
      message: /not a valid s3 URI/,
      hint: /s3:\/\/bucket/,
    },
    {
      name: 'a category feature without values',
      from: '      values: [hand, pocket, bag]\n',
      to: '',
      path: 'spec.features[2]',
      line: '- name: position',
      column: 7,
      message: /category feature "position" needs "values"/,
    },
    {
      name: 'values on a number feature',
      from: '      description: Mean acceleration on x.',
      to: '      values: [1, 2]',
      path: 'spec.features[0].values',
      line: 'values: [1, 2]',
      column: 7,
      message: /only category features have "values"/,
    },
    {
      name: 'a range on a boolean feature',
      from: '      type: boolean',
      to: '      type: boolean\n      range: { min: 0, max: 1 }',
      path: 'spec.features[3].range',
      line: 'range: { min: 0, max: 1 }',
      column: 7,
      message: /"range" applies only to number and integer/,
    },
    {
      name: 'a range with min > max',
      from: 'range: { min: -20, max: 20 }',
      to: 'range: { min: 30, max: 20 }',
      path: 'spec.features[0].range.min',
      line: 'min: 30',
      column: 21,
      message: /range\.min \(30\) is greater than range\.max \(20\)/,
    },
    {
      name: 'replicas min > max',
      from: 'replicas: { min: 1, max: 3 }',
      to: 'replicas: { min: 4, max: 3 }',
      path: 'spec.resources.serving.replicas.min',
      line: 'replicas: { min: 4',
      column: 24,
      message: /replicas\.min \(4\) is greater than replicas\.max \(3\)/,
    },
    {
      name: 'classification without outputs.labels',
      from: '    labels: [walking, sitting, standing]\n',
      to: '',
      path: 'spec.outputs.labels',
      line: '  outputs:',
      column: 3,
      message: /classification model needs outputs\.labels/,
    },
    {
      name: 'one class label only',
      from: 'labels: [walking, sitting, standing]',
      to: 'labels: [walking]',
      path: 'spec.outputs.labels',
      line: 'labels: [walking]',
      column: 13,
      message: /needs at least 2 items, got 1/,
    },
    {
      name: 'duplicate class labels',
      from: 'labels: [walking, sitting, standing]',
      to: 'labels: [walking, sitting, walking]',
      path: 'spec.outputs.labels[2]',
      line: 'labels: [walking, sitting, walking]',
      column: 32,
      message: /duplicate class label "walking"/,
    },
    {
      name: 'a misspelled task',
      from: 'task: classification',
      to: 'task: clasification',
      path: 'spec.task',
      line: 'task: clasification',
      column: 9,
      message: /"clasification" is not one of the allowed values/,
      hint: /did you mean "classification"\? allowed: classification, regression/,
    },
    {
      name: 'a misspelled feature type',
      from: '      type: integer',
      to: '      type: int',
      path: 'spec.features[1].type',
      line: 'type: int',
      column: 13,
      message: /"int" is not one of the allowed values/,
      hint: /number, integer, category, boolean/,
    },
    {
      name: 'an unknown field',
      from: '  algorithm: MLP',
      to: '  algorithm: MLP\n  algoritm: MLP',
      path: 'spec.algoritm',
      line: 'algoritm:',
      column: 3,
      message: /unknown field "algoritm"/,
      hint: /did you mean "algorithm"\?/,
    },
    {
      name: 'a missing required field',
      from: '  algorithm: MLP\n',
      to: '',
      path: 'spec.algorithm',
      line: 'spec:',
      column: 1,
      message: /missing required field "algorithm"/,
    },
    {
      name: 'a wrong type',
      from: 'maxBatchSize: 512',
      to: 'maxBatchSize: lots',
      path: 'spec.inference.maxBatchSize',
      line: 'maxBatchSize: lots',
      column: 19,
      message: /expected an integer, got the string "lots"/,
    },
    {
      name: 'a quantity of the wrong type',
      from: 'cpu: 500m',
      to: 'cpu: [1]',
      path: 'spec.resources.serving.cpu',
      line: 'cpu: [1]',
      column: 12,
      message: /expected a string or a number, got a list/,
      hint: /500m/,
    },
    {
      name: 'an infinite number',
      from: 'latencyMs: 25',
      to: 'latencyMs: .inf',
      path: 'spec.qos.latencyMs',
      line: 'latencyMs: .inf',
      column: 16,
      message: /expected a finite number, got \.inf/,
    },
    {
      name: 'an invalid name',
      from: 'name: har-classifier',
      to: 'name: HAR_classifier',
      path: 'metadata.name',
      line: 'HAR_classifier',
      column: 9,
      message: /"HAR_classifier" is not a valid name/,
      hint: /lowercase letters, digits and dashes/,
    },
    {
      name: 'a wrong apiVersion',
      from: 'apiVersion: maas.dev/v1',
      to: 'apiVersion: maas.dev/v9',
      path: 'apiVersion',
      line: 'apiVersion:',
      column: 13,
      message: /unsupported apiVersion "maas\.dev\/v9"/,
      hint: /maas\.dev\/v1/,
    },
    {
      name: 'a bad digest',
      from: `digest: sha256:${'a'.repeat(64)}`,
      to: 'digest: md5:abc',
      path: 'spec.artifact.digest',
      line: 'digest: md5',
      column: 13,
      message: /"md5:abc" is not a valid digest/,
      hint: /64 lowercase hex/,
    },
    {
      name: 'a bad metric name',
      from: '    f1: 0.93',
      to: '    "1f": 0.93',
      path: 'spec.performance["1f"]',
      line: '"1f": 0.93',
      column: 5,
      message: /"1f" is not a valid key/,
    },
    {
      name: 'a wrong enum in a list',
      from: 'inputModes: [inline, reference]',
      to: 'inputModes: [inline, stream]',
      path: 'spec.inference.inputModes[1]',
      line: 'inputModes:',
      column: 26,
      message: /"stream" is not one of the allowed values/,
    },
  ];

  for (const c of cases) {
    it(`reports ${c.name} at the field`, () => {
      const text = edit(FULL_MODEL, c.from, c.to);
      const { problems } = check(text);
      expect(problems).toHaveLength(1);
      const p = problems[0]!;
      expect(p).toMatchObject({ file: 'm.yaml', path: c.path, line: lineOf(text, c.line), column: c.column });
      expect(p.message).toMatch(c.message);
      if (c.hint) expect(p.hint).toMatch(c.hint);
    });
  }

  it('reports every problem of a document at once, in file order', () => {
    let text = edit(FULL_MODEL, 'task: classification', 'task: clasification');
    text = edit(text, 'cpu: 500m', 'cpu: half');
    text = edit(text, '- name: steps', '- name: acc_x');
    text = edit(text, '  algorithm: MLP\n', '  algorithm: MLP\n  color: blue\n');
    text = edit(text, 'version: 1.2.0-rc.1', 'version: one');
    const { problems } = check(text);
    expect(problems.map((p) => p.path)).toEqual(['metadata.version', 'spec.task', 'spec.color', 'spec.features[1].name', 'spec.resources.serving.cpu']);
    const lines = problems.map((p) => p.line);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });

  it('collapses union errors into one problem per field', () => {
    const text = edit(FULL_MODEL, 'activation: relu', 'activation: { deep: true }');
    const { problems } = check(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: 'spec.hyperparameters.activation',
      message: 'expected a number, a string, a boolean, an empty value or a list, got a mapping',
    });
  });

  it('validates several documents per file and locates each', () => {
    const second = edit(smallModel('energy'), 'task: regression', 'task: regresion');
    const text = `${FULL_MODEL}---\n${smallModel('other')}---\n${second}`;
    const r = check(text);
    expect(r.documents.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(r.documents.filter((d) => d.description).map((d) => d.description!.metadata.name)).toEqual(['har-classifier', 'other']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ path: 'spec.task', line: text.split('\n').lastIndexOf('  task: regresion') + 1, column: 9 });
  });

  it('reads an integer version as text and keeps semver prereleases', () => {
    const r = check(edit(FULL_MODEL, 'version: 1.2.0-rc.1', 'version: 7'));
    expect(r.problems).toEqual([]);
    expect(r.documents[0]?.description?.metadata.version).toBe('7');
  });

  it('treats a document of another kind as one clear problem', () => {
    const text = `apiVersion: maas.dev/v1\nkind: Composition\nmetadata: { name: c }\nspec: { members: [] }\n`;
    const { problems } = check(text);
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'kind',
        line: 2,
        column: 7,
        message: 'kind "Composition" is not a model description',
        hint: expect.stringMatching(/maas compose apply/),
      }),
    ]);
  });

  it('locates non-mapping documents and empty files instead of throwing', () => {
    expect(check('just a string\n').problems).toEqual([
      expect.objectContaining({ line: 1, column: 1, message: expect.stringMatching(/expected a mapping .* got the string "just a string"/) }),
    ]);
    expect(check('---\n- a\n- b\n').problems).toEqual([expect.objectContaining({ line: 2, column: 1, message: expect.stringMatching(/got a list/) })]);
    expect(check('').problems).toEqual([expect.objectContaining({ line: 1, column: 1, message: expect.stringMatching(/no model description/) })]);
    expect(check('# only a comment\n').problems).toHaveLength(1);
    expect(check(`${smallModel()}---\n`).problems).toEqual([]);
  });

  it('resolves every form of file URI from the description directory', () => {
    const forms: [string, string][] = [
      ['file://./model.onnx', '/models/model.onnx'],
      ['file:model.onnx', '/models/model.onnx'],
      ['file:./model.onnx', '/models/model.onnx'],
      ['file:///models/model.onnx', '/models/model.onnx'],
      ['file://localhost/models/model.onnx', '/models/model.onnx'],
      ['file://../models/model.onnx', '/models/model.onnx'],
    ];
    for (const [uri, abs] of forms) {
      const r = check(edit(smallModel(), 'file://./model.onnx', uri));
      expect(r.problems, uri).toEqual([]);
      expect(r.documents[0]?.artifactPath, uri).toBe(abs);
    }
  });

  it('can skip the artifact existence check', () => {
    const text = edit(FULL_MODEL, 'file://./model.onnx', 'file:///nowhere/model.onnx');
    expect(check(text).problems).toHaveLength(1);
    const r = check(text, false);
    expect(r.problems).toEqual([]);
    expect(r.documents[0]?.artifactPath).toBe('/nowhere/model.onnx');
  });

  it('accepts remote artifacts and scp-like repositories', () => {
    let text = edit(FULL_MODEL, 'file://./model.onnx', 'https://models.example.com/har/3/model.onnx');
    text = edit(text, 'https://github.com/example/har.git', 'git@github.com:example/har.git');
    const r = check(text);
    expect(r.problems).toEqual([]);
    expect(r.documents[0]?.artifactPath).toBeUndefined();
  });

  it('escapes control and invisible characters from the file in messages', () => {
    const text = edit(FULL_MODEL, 'task: classification', 'task: "class\\u202eification\\u001b[31m"');
    const [p] = check(text).problems;
    expect(p?.message).toContain('\\u202e');
    expect(p?.message).toContain('\\u001b');
    expect(p?.message.includes('\u202e') || p?.message.includes('\u001b')).toBe(false);
  });

  it('caps the problems of a pathological document', () => {
    const features = Array.from({ length: 500 }, () => '    - { name: x, type: number }').join('\n');
    const text = edit(smallModel(), '    - { name: temp, type: number }', features);
    const { problems } = check(text);
    expect(problems.length).toBeLessThanOrEqual(101);
    expect(problems.some((p) => /more problem\(s\) in this document not shown/.test(p.message))).toBe(true);
  });
});

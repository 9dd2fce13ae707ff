// `maas validate` and `maas register` open local ONNX artifacts in onnxruntime: a file that does
// not load, or a model whose input width or classes do not fit the description, is a located
// problem (exit 2) and registers nothing. Remote artifacts are never fetched.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelDescription, type ModelOptions } from '../../bench/model-fixtures.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir, type CliResult } from '../support/cli.js';
import { tinyOnnx } from '../support/onnx-models.js';

let work: { path: string; cleanup: () => void };
let home: { path: string; cleanup: () => void };

beforeEach(() => {
  work = tempDir('maas-artifact-check-');
  home = tempDir();
});
afterEach(() => {
  work.cleanup();
  home.cleanup();
});

const cli = (...argv: string[]): Promise<CliResult> => runCli(argv, { home: home.path, cwd: work.path });

/** Three number features, labels no/yes, artifact `file://./<artifact>`. */
function description(o: Partial<ModelOptions> & { artifact?: string } = {}): ModelDescription {
  const { artifact = 'model.onnx', ...rest } = o;
  return modelDescription({
    name: 'churn',
    version: '1',
    features: [
      ['tenure', 'number'],
      ['spend', 'number'],
      ['visits', 'number'],
    ],
    artifactUri: `file://./${artifact}`,
    ...rest,
  });
}

/** Writes the descriptions as one YAML file; returns its name. */
function writeYaml(file: string, ...descriptions: ModelDescription[]): string {
  writeFileSync(join(work.path, file), descriptions.map((d) => stringify(d)).join('---\n'));
  return file;
}

const writeArtifact = (file: string, bytes: Uint8Array | string): void => writeFileSync(join(work.path, file), bytes);

/** 1-based number of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

const require = createRequire(import.meta.url);
const onnxruntimeLoaded = (): boolean => Object.keys(require.cache).some((k) => k.includes('onnxruntime-node'));

describe('the artifact check', () => {
  // First in this file (one process per file): nothing before it has loaded onnxruntime.
  it('validates 1,000 descriptions without a local artifact without loading onnxruntime', async () => {
    expect(onnxruntimeLoaded()).toBe(false);
    const remote = Array.from({ length: 1000 }, (_, i) => {
      const d = description({ name: `model-${i}` });
      d.spec.artifact.uri = `s3://models/model-${i}/model.onnx`;
      return d;
    });
    const r = await cli('validate', writeYaml('many.yaml', ...remote));
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^✓ 1000 models valid/);
    expect(onnxruntimeLoaded()).toBe(false);
  });

  it('refuses a file that onnxruntime cannot load, at spec.artifact.uri', async () => {
    writeArtifact('model.onnx', 'this is text, not a model\n');
    const file = writeYaml('m.yaml', description());
    const r = await cli('validate', file);
    expect(r.code).toBe(2);
    const uriLine = lineOf(stringify(description()), 'uri:');
    expect(r.stdout).toMatch(new RegExp(`^m\\.yaml:${uriLine}:\\d+ spec\\.artifact\\.uri: .*model\\.onnx is not a model onnxruntime can load`, 'm'));
    expect(r.stdout).toMatch(/hint: the file is damaged, not ONNX/);
    expect(onnxruntimeLoaded()).toBe(true);

    const data = JSON.parse((await cli('-o', 'json', 'validate', file)).stdout) as { valid: boolean; problems: { path: string; line: number }[] };
    expect(data.valid).toBe(false);
    expect(data.problems).toEqual([expect.objectContaining({ path: 'spec.artifact.uri', line: uriLine })]);
  });

  it('refuses a model whose input width differs from the features, at spec.features', async () => {
    writeArtifact('model.onnx', tinyOnnx({ features: 2, classes: 2 }));
    const r = await cli('validate', writeYaml('m.yaml', description()));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^m\.yaml:\d+:\d+ spec\.features: the model input "input" takes 2 features per row, but the description lists 3$/m);
    expect(r.stdout).toMatch(/hint: spec\.features must list every model input column/);
  });

  it('refuses a classifier whose classes do not match the labels', async () => {
    writeArtifact('model.onnx', tinyOnnx({ features: 3, classes: 3 }));
    const r = await cli('validate', writeYaml('m.yaml', description()));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^m\.yaml:\d+:\d+ spec\.outputs\.labels: the model output "probabilities" has 3 class columns, but spec\.outputs\.labels lists 2 labels$/m,
    );

    // The same when the description names the probabilities output.
    const named = description();
    named.spec.artifact.outputTensors = { probabilities: 'probabilities', label: 'label' };
    const n = await cli('validate', writeYaml('named.yaml', named));
    expect(n.code).toBe(2);
    expect(n.stdout).toMatch(/spec\.outputs\.labels: the model output "probabilities" has 3 class columns/);
  });

  it('accepts a model that fits: a classifier and a regression', async () => {
    writeArtifact('model.onnx', tinyOnnx({ features: 3, classes: 2 }));
    writeArtifact('value.onnx', tinyOnnx({ features: 3 }));
    const file = writeYaml('m.yaml', description(), description({ name: 'spend', task: 'regression', artifact: 'value.onnx' }));
    const r = await cli('validate', file);
    expect(r).toMatchObject({ code: 0, stdout: '✓ 2 models valid: churn@1, spend@1\n' });
    const reg = await cli('register', file, '-o', 'name');
    expect(reg.code, reg.stderr).toBe(0);
    expect(reg.stdout).toBe('churn@1\nspend@1\n');
  });

  it('registers nothing from files with a model that does not fit', async () => {
    writeArtifact('model.onnx', tinyOnnx({ features: 3, classes: 2 }));
    writeArtifact('narrow.onnx', tinyOnnx({ features: 2 }));
    const file = writeYaml('m.yaml', description(), description({ name: 'spend', task: 'regression', artifact: 'narrow.onnx' }));
    const r = await cli('register', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^m\.yaml:\d+:\d+ spec\.features: the model input "input" takes 2 features per row, but the description lists 3$/m);
    const list = await cli('list', '-o', 'name');
    expect(list).toMatchObject({ code: 0, stdout: '' });
  });

  it('is skipped with --no-artifact-check', async () => {
    writeArtifact('model.onnx', 'not a model');
    const file = writeYaml('m.yaml', description());
    expect((await cli('validate', file)).code).toBe(2);
    expect(await cli('validate', '--no-artifact-check', file)).toMatchObject({ code: 0, stdout: '✓ 1 model valid: churn@1\n' });
    expect((await cli('register', file)).code).toBe(2);
    expect((await cli('register', '--no-artifact-check', file)).code).toBe(0);
  });
});

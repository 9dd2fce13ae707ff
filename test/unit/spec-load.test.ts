import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { checkModelFiles, loadModelFiles, readStream, type ArtifactCheck } from '../../src/spec/load.js';
import { MaasError } from '../../src/core/errors.js';
import { MAX_SPEC_BYTES } from '../../src/spec/parse.js';
import { tempDir } from '../support/cli.js';
import { FULL_MODEL, edit, lineOf, smallModel, writeModel } from './spec-fixtures.js';

describe('loading model description files', () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir('maas-spec-');
  });
  afterEach(() => dir.cleanup());

  it('returns every model of every file with its absolute artifact path', async () => {
    writeModel(dir.path, 'a.yaml', `${FULL_MODEL}---\n${smallModel('energy', '2')}`);
    mkdirSync(join(dir.path, 'sub'));
    writeModel(join(dir.path, 'sub'), 'b.yaml', smallModel('other'));
    const models = await loadModelFiles(['a.yaml', 'sub/b.yaml'], { cwd: dir.path });
    expect(models.map((m) => [m.file, m.index, m.description.metadata.name, m.artifactPath])).toEqual([
      ['a.yaml', 0, 'har-classifier', join(dir.path, 'model.onnx')],
      ['a.yaml', 1, 'energy', join(dir.path, 'model.onnx')],
      ['sub/b.yaml', 0, 'other', join(dir.path, 'sub', 'model.onnx')],
    ]);
  });

  it('throws one VALIDATION error (exit 2) listing the problems of all files', async () => {
    writeModel(dir.path, 'a.yaml', edit(smallModel(), 'task: regression', 'task: regresion'));
    writeModel(dir.path, 'b.yaml', 'a: [\n');
    const err = await loadModelFiles(['a.yaml', 'b.yaml', 'missing.yaml'], { cwd: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaasError);
    const m = err as MaasError;
    expect(m.code).toBe('VALIDATION');
    expect(m.exitCode).toBe(2);
    expect(m.message).toBe('3 problems in a.yaml, b.yaml, missing.yaml');
    expect(m.hint).toMatch(/maas validate/);
    const problems = (m.details as { problems: { file: string; path: string; line: number }[] }).problems;
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      ['a.yaml', 'spec.task'],
      ['b.yaml', ''],
      ['missing.yaml', ''],
    ]);
  });

  it('checks without throwing, and can skip the artifact check', async () => {
    writeFileSync(join(dir.path, 'm.yaml'), smallModel());
    const strict = await checkModelFiles(['m.yaml'], { cwd: dir.path });
    expect(strict.models).toEqual([]);
    expect(strict.problems[0]?.message).toMatch(/artifact not found/);
    const loose = await checkModelFiles(['m.yaml'], { cwd: dir.path, checkArtifact: false });
    expect(loose.problems).toEqual([]);
    expect(loose.models[0]?.artifactPath).toBe(join(dir.path, 'model.onnx'));
  });

  it('reports directories, oversized files and repeated identities as problems', async () => {
    mkdirSync(join(dir.path, 'models'));
    writeFileSync(join(dir.path, 'big.yaml'), Buffer.alloc(MAX_SPEC_BYTES + 1, 0x20));
    writeModel(dir.path, 'one.yaml', smallModel('same', '1'));
    writeModel(dir.path, 'two.yaml', `# again\n${smallModel('same', '1')}`);
    const { problems } = await checkModelFiles(['models', 'big.yaml', 'one.yaml', 'two.yaml'], { cwd: dir.path });
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual([
      ['models', 1, 'is a directory, not a file'],
      ['big.yaml', 1, 'file is larger than 2 MiB'],
      ['two.yaml', 6, 'same@1 is described twice (document 1 of one.yaml and document 1 of two.yaml)'],
    ]);
  });

  it('reads `-` from stdin, bounded', async () => {
    const { models } = await checkModelFiles(['-'], {
      cwd: dir.path,
      checkArtifact: false,
      readStdin: (max) => readStream(Readable.from([smallModel('piped')]), max),
    });
    expect(models[0]).toMatchObject({ file: '<stdin>', description: { metadata: { name: 'piped' } } });
    expect(await readStream(Readable.from(['abc', 'def']), 4)).toBe('abcd');
    const { problems } = await checkModelFiles(['-'], { cwd: dir.path });
    expect(problems[0]?.message).toMatch(/stdin is not supported/);
  });

  describe('opening artifacts (inspectArtifact)', () => {
    /** Records what it is asked to open; finds `problems` in the artifacts of models named `bad`. */
    function recorder(problems: Awaited<ReturnType<ArtifactCheck>> = []): { inspect: ArtifactCheck; opened: [string, string][] } {
      const opened: [string, string][] = [];
      const inspect: ArtifactCheck = async (description, artifactPath) => {
        opened.push([description.metadata.name, artifactPath]);
        return description.metadata.name === 'bad' ? problems : [];
      };
      return { inspect, opened };
    }

    it('opens only the local artifacts of valid descriptions', async () => {
      const remote = edit(smallModel('remote'), 'file://./model.onnx', 's3://models/remote.onnx');
      const invalid = edit(smallModel('invalid'), 'task: regression', 'task: regresion');
      writeModel(dir.path, 'a.yaml', [smallModel('local'), remote, invalid].join('---\n'));
      const { inspect, opened } = recorder();
      const { problems } = await checkModelFiles(['a.yaml'], { cwd: dir.path, inspectArtifact: inspect });
      expect(problems.map((p) => p.path)).toEqual(['spec.task']);
      expect(opened).toEqual([['local', join(dir.path, 'model.onnx')]]);
    });

    it('opens nothing when the artifact check is off', async () => {
      writeModel(dir.path, 'a.yaml', smallModel('bad'));
      const { inspect, opened } = recorder([{ path: 'spec.artifact.uri', message: 'unreadable' }]);
      const { problems } = await checkModelFiles(['a.yaml'], { cwd: dir.path, checkArtifact: false, inspectArtifact: inspect });
      expect(problems).toEqual([]);
      expect(opened).toEqual([]);
    });

    it('locates what it finds at the fields, in file order, and loading refuses the files', async () => {
      const text = `${smallModel('good')}---\n${edit(smallModel('bad'), 'version: "1"', 'version: "2"')}`;
      writeModel(dir.path, 'a.yaml', `${text}---\n${edit(smallModel('typo'), 'task: regression', 'task: regresion')}`);
      const { inspect } = recorder([
        { path: 'spec.features', message: 'the model takes 2 features', hint: 'list them all' },
        { path: 'spec.artifact.uri', message: 'not a model' },
      ]);
      const { models, problems } = await checkModelFiles(['a.yaml'], { cwd: dir.path, inspectArtifact: inspect });
      expect(models.map((m) => m.description.metadata.name)).toEqual(['good', 'bad']);
      const lines = `${text}---\n`.split('\n');
      const secondStart = lines.findIndex((l, i) => i > 0 && l === 'apiVersion: maas.dev/v1');
      const uriLine = secondStart + lineOf(smallModel(), 'uri:');
      const featuresLine = secondStart + lineOf(smallModel(), '- { name: temp');
      expect(problems.map((p) => [p.line, p.column, p.path, p.message, p.hint])).toEqual([
        [uriLine, 10, 'spec.artifact.uri', 'not a model', undefined],
        [featuresLine, 5, 'spec.features', 'the model takes 2 features', 'list them all'],
        [expect.any(Number), expect.any(Number), 'spec.task', expect.any(String), expect.any(String)],
      ]);
      const err = await loadModelFiles(['a.yaml'], { cwd: dir.path, inspectArtifact: inspect }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'VALIDATION', message: '3 problems in a.yaml' });
      expect((err as MaasError).details).toEqual({ problems });
    });
  });

  it('refuses an empty list of files', async () => {
    await expect(loadModelFiles([], { cwd: dir.path })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

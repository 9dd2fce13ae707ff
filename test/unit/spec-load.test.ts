import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { checkModelFiles, loadModelFiles, readStream } from '../../src/spec/load.js';
import { MaasError } from '../../src/core/errors.js';
import { MAX_SPEC_BYTES } from '../../src/spec/parse.js';
import { tempDir } from '../support/cli.js';
import { FULL_MODEL, edit, smallModel, writeModel } from './spec-fixtures.js';

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

  it('refuses an empty list of files', async () => {
    await expect(loadModelFiles([], { cwd: dir.path })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

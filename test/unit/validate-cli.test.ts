import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, tempDir } from '../support/cli.js';
import { modelJsonSchema } from '../../src/spec/json-schema.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { onnxFor } from '../support/onnx-models.js';
import { FULL_MODEL, edit, smallModel, writeModel } from './spec-fixtures.js';

describe('maas validate', () => {
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
  const cli = (argv: string[], stdin?: string) => runCli(argv, { home: home.path, cwd: work.path, ...(stdin !== undefined ? { stdin } : {}) });
  /** Validation opens artifacts: puts a real model that fits `text` at `file`. */
  const artifactFor = (text: string, file = 'model.onnx') => writeFileSync(join(work.path, file), onnxFor(parse(text) as ModelDescription));

  it('says how many models are valid, exit 0, and writes nothing', async () => {
    const energy = edit(smallModel('energy'), 'file://./model.onnx', 'file://./energy.onnx');
    writeModel(work.path, 'a.yaml', `${FULL_MODEL}---\n${energy}`);
    artifactFor(FULL_MODEL);
    artifactFor(energy, 'energy.onnx');
    const before = readdirSync(work.path).sort();
    const r = await cli(['validate', 'a.yaml']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('✓ 2 models valid: har-classifier@1.2.0-rc.1, energy@1\n');
    expect(readdirSync(work.path).sort()).toEqual(before);
    expect(readdirSync(home.path)).toEqual([]);
  });

  it('prints every problem located on stdout and exits 2', async () => {
    let text = edit(FULL_MODEL, 'task: classification', 'task: clasification');
    text = edit(text, 'cpu: 500m', 'cpu: half');
    writeModel(work.path, 'bad.yaml', text);
    writeFileSync(join(work.path, 'broken.yaml'), 'a: [1,\n');
    const r = await cli(['validate', 'bad.yaml', 'broken.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('bad.yaml:11:9 spec.task: "clasification" is not one of the allowed values');
    expect(lines[1]).toMatch(/^ {4}hint: did you mean "classification"\?/);
    expect(r.stdout).toMatch(/^bad\.yaml:\d+:12 spec\.resources\.serving\.cpu: "half" is not a valid cpu quantity$/m);
    expect(r.stdout).toMatch(/^broken\.yaml:2:1 YAML syntax error: /m);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('3 problems in 2 files');
  });

  it('gives { valid, files, problems } with -o json and -o yaml', async () => {
    writeModel(work.path, 'ok.yaml', smallModel());
    artifactFor(smallModel());
    writeFileSync(join(work.path, 'bad.yaml'), edit(smallModel(), 'version: "1"', 'version: "x.y"'));
    const r = await cli(['-o', 'json', 'validate', 'ok.yaml', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout) as { valid: boolean; files: string[]; problems: unknown[]; models: unknown[] };
    expect(data.valid).toBe(false);
    expect(data.files).toEqual(['ok.yaml', 'bad.yaml']);
    expect(data.models).toEqual([{ id: 'energy@1', file: 'ok.yaml', document: 1 }]);
    expect(data.problems).toEqual([expect.objectContaining({ file: 'bad.yaml', line: 5, column: 12, path: 'metadata.version' })]);
    const y = await cli(['-o', 'yaml', 'validate', 'ok.yaml']);
    expect(y.code).toBe(0);
    expect(y.stdout).toMatch(/^valid: true\n/);
  });

  it('skips the artifact check with --no-artifact-check', async () => {
    writeFileSync(join(work.path, 'm.yaml'), smallModel());
    expect((await cli(['validate', 'm.yaml'])).code).toBe(2);
    expect((await cli(['validate', '--no-artifact-check', 'm.yaml'])).code).toBe(0);
  });

  it('reads a description from stdin with `-`', async () => {
    const r = await cli(['validate', '--no-artifact-check', '-'], smallModel('piped'));
    expect(r).toMatchObject({ code: 0, stdout: '✓ 1 model valid: piped@1\n' });
    const bad = await cli(['validate', '-'], 'kind: Model\n');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^<stdin>:1:1 apiVersion: missing required field "apiVersion"/m);
  });

  it('reports a missing file as a located problem', async () => {
    const r = await cli(['validate', 'nope.yaml']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^nope\.yaml:1:1 no such file/m);
  });
});

describe('maas schema', () => {
  it('prints the JSON Schema as data', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(modelJsonSchema());
    const j = await runCli(['-o', 'json', 'schema']);
    const schema = JSON.parse(j.stdout) as Record<string, unknown>;
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'maas model description',
      required: ['apiVersion', 'kind', 'metadata', 'spec'],
    });
    const p = await runCli(['schema', '--path']);
    expect(p.stdout.trim()).toMatch(/\/schema\/model\.schema\.json$/);
  });
});

import { describe, expect, it } from 'vitest';
import { explainField, parseFieldPath } from '../../src/spec/explain.js';
import { runCli } from '../support/cli.js';

describe('maas explain', () => {
  it('documents a field: type, allowed values, description', async () => {
    const r = await runCli(['explain', 'spec.features.type']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND: {5}Model\nVERSION: {2}maas\.dev\/v1\n/);
    expect(r.stdout).toContain('FIELD:    spec.features.type <string> -required-');
    expect(r.stdout).toMatch(/ALLOWED VALUES:\n {4}number\n {4}integer\n {4}category\n {4}boolean\n/);
    expect(r.stdout).toMatch(/DESCRIPTION:\n {4}Value type: number \(float\)/);
    expect(r.stderr).toBe('');
  });

  it('lists child fields with their types; `model.` is optional', async () => {
    const a = await runCli(['explain', 'model.spec.resources.serving']);
    const b = await runCli(['explain', 'spec.resources.serving']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain('FIELD:    spec.resources.serving <Object>');
    expect(a.stdout).toMatch(/FIELDS:\n {2}cpu\t<string\|number>\n {4}CPU per replica/);
    expect(a.stdout).toMatch(/ {2}replicas\t<Object>\n/);
    const root = await runCli(['explain', 'model']);
    expect(root.stdout).toMatch(/ {2}apiVersion\t<string> -required-/);
    expect(root.stdout).toMatch(/ {2}spec\t<Object> -required-/);
  });

  it('prints the whole subtree with --recursive', async () => {
    const r = await runCli(['explain', 'spec', '--recursive']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ {2}features\t<\[\]Object> -required-\n {4}name\t<string> -required-\n/);
    expect(r.stdout).toMatch(/ {6}replicas\t<Object>\n {8}min\t<integer> -required-\n/);
    expect(r.stdout).toContain('    data\t<Object>\n      uri\t<string> -required-');
  });

  it('fails with a suggestion on an unknown path', async () => {
    const r = await runCli(['explain', 'spec.featurs.type']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: field "featurs" does not exist in spec');
    expect(r.stderr).toContain('hint: did you mean "spec.features"?');
    const leaf = await runCli(['explain', 'spec.task.foo']);
    expect(leaf.code).toBe(2);
    expect(leaf.stderr).toContain('spec.task is a string and has no fields');
  });

  it('prints data only with -o json and -o yaml', async () => {
    const r = await runCli(['-o', 'json', 'explain', 'spec.inference']);
    const data = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(data).toMatchObject({ path: 'spec.inference', name: 'inference', type: 'Object', required: false });
    expect(data.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'inputModes', type: '[]string', allowedValues: ['inline', 'reference'], constraints: ['items >= 1', 'unique items'] }),
      ]),
    );
    expect(r.stdout).not.toContain('KIND:');
    const y = await runCli(['-o', 'yaml', 'explain', 'metadata.name']);
    expect(y.stdout).toMatch(/^path: metadata\.name\n/);
    expect(y.stdout).toContain('- pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$');
  });

  it('explains map values and tolerates list syntax in paths', () => {
    expect(parseFieldPath('model.spec.features[].type')).toEqual(['spec', 'features', 'type']);
    expect(explainField('spec.performance.accuracy')).toMatchObject({ type: 'number', required: false });
    expect(explainField('metadata.labels')).toMatchObject({ type: 'map[string]string' });
    expect(explainField('spec.hyperparameters')).toMatchObject({ type: 'map[string]any' });
    const tree = explainField('', { recursive: true });
    const spec = tree.fields?.find((f) => f.name === 'spec');
    expect(spec?.fields?.find((f) => f.name === 'features')?.fields?.map((f) => f.name)).toEqual([
      'name',
      'type',
      'description',
      'values',
      'range',
      'optional',
    ]);
  });
});

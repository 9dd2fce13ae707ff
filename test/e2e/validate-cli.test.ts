// The built CLI as a real process: describe, validate, and the exit codes scripts rely on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli, tempDir } from '../support/cli.js';

describe('maas init and validate (spawned)', () => {
  let home: { path: string; cleanup: () => void };
  let work: { path: string; cleanup: () => void };
  beforeEach(() => {
    home = tempDir();
    work = tempDir('maas-e2e-');
  });
  afterEach(() => {
    home.cleanup();
    work.cleanup();
  });
  const cli = (argv: string[], stdin?: string) => spawnCli(argv, { home: home.path, cwd: work.path, ...(stdin !== undefined ? { stdin } : {}) });

  it('scaffolds a description that validates, and reports problems with exit 2', async () => {
    const init = await cli([
      'init',
      '--yes',
      '--name',
      'har',
      '--task',
      'classification',
      '--algorithm',
      'MLP',
      '--feature',
      'acc_x:number',
      '--labels-out',
      'walking,sitting',
    ]);
    expect(init.code, init.stderr).toBe(0);
    const ok = await cli(['validate', '--no-artifact-check', 'har.model.yaml']);
    expect(ok).toMatchObject({ code: 0, stdout: '✓ 1 model valid: har@1\n' });

    writeFileSync(join(work.path, 'bad.yaml'), 'apiVersion: maas.dev/v1\nkind: Model\nmetadata: { name: x, version: "1" }\nspec:\n  task: regresion\n');
    const bad = await cli(['validate', 'bad.yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^bad\.yaml:5:9 spec\.task: "regresion" is not one of the allowed values\n {4}hint: did you mean "regression"\?/m);
    expect(bad.stderr).toBe('');

    const piped = await cli(['-o', 'json', 'validate', '-'], 'a: [\n');
    expect(piped.code).toBe(2);
    expect(JSON.parse(piped.stdout)).toMatchObject({ valid: false, problems: [{ file: '<stdin>', line: 2, column: 1 }] });
  });

  it('prints the JSON Schema', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'maas model description' });
  });
});

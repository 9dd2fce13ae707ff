// Shell completion: `maas __complete` answers from the command tree and the registry, and the
// generated scripts, sourced in a real shell, offer what it answers (and files when asked to).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { ServiceOverrides } from '../../src/app/composition-root.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { FakeTarget, fakePlugin } from '../support/fake-target.js';
import { memoryStores, type MemoryStores } from '../support/memory-stores.js';
import { BIN, runCli, tempDir } from '../support/cli.js';
import { tinyOnnx } from '../support/onnx-models.js';

let dir: { path: string; cleanup: () => void };
let stores: MemoryStores;
let local: FakeTarget;
let opened: number;

const artifact = { digest: `sha256:${'a'.repeat(64)}`, size: 1, uri: 'file://./m.onnx' };

/** The candidates and the directive `maas __complete -- WORDS...` prints. */
async function complete(...words: string[]): Promise<{ candidates: string[]; directive: string; code: number; stderr: string }> {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const services: ServiceOverrides = {
    get stores() {
      opened++;
      return stores;
    },
    plugins: [fakePlugin(local)],
  };
  const r = await runCli(['__complete', '--', ...words], { home: dir.path, cwd: dir.path, deps: { clock, services } });
  const lines = r.stdout.split('\n').filter(Boolean);
  return { candidates: lines.slice(0, -1), directive: lines.at(-1) ?? '', code: r.code, stderr: r.stderr };
}

beforeEach(async () => {
  dir = tempDir('maas-complete-');
  stores = memoryStores();
  local = new FakeTarget('local', new ManualClock(0));
  opened = 0;
  for (const [name, version] of [
    ['churn', '1'],
    ['churn', '2'],
    ['har', '1'],
    ['iris', '3'],
  ] as const) {
    await stores.models.registerModel(modelDescription({ name, version }), artifact);
  }
  await stores.deployments.createDeployment(
    { id: 'd-abc123', model: 'har', version: '1', target: 'local', mode: 'open', consumer: 'a@h' },
    '2026-06-01T00:00:00Z',
  );
  await stores.deployments.createDeployment(
    { id: 'd-abd456', model: 'iris', version: '3', target: 'local', mode: 'open', consumer: 'a@h' },
    '2026-06-01T00:00:00Z',
  );
});
afterEach(() => dir.cleanup());

describe('maas __complete', () => {
  it('lists subcommands, without the hidden one, and never opens the registry for them', async () => {
    const top = await complete('');
    expect(top.candidates).toEqual(expect.arrayContaining(['validate', 'deploy', 'completion', 'status']));
    expect(top.candidates).not.toContain('__complete');
    expect(top.directive).toBe(':0');
    expect((await complete('de')).candidates.sort()).toEqual(['decommission', 'delete', 'deploy', 'describe']);
    expect((await complete('config', 's')).candidates).toEqual(['set']);
    expect((await complete('profile', 's')).candidates).toEqual(['set', 'show']);
    expect(opened).toBe(0);
  });

  it('completes flag values from their choices and from the target plugins', async () => {
    expect((await complete('deploy', '--target', '')).candidates).toEqual(['local', 'kubernetes']);
    expect((await complete('deploy', '-t', 'k')).candidates).toEqual(['kubernetes']);
    expect((await complete('deploy', '--mode', '')).candidates).toEqual(['open', 'strict']);
    expect((await complete('-o', '')).candidates).toEqual(['table', 'wide', 'json', 'yaml', 'name']);
    expect((await complete('list', '--output', 'y')).candidates).toEqual(['yaml']);
    // zsh and fish keep `--flag=value` as one word; bash splits it at the `=`.
    expect((await complete('deploy', '--target=lo')).candidates).toEqual(['--target=local']);
    expect((await complete('deploy', '--target', '=', '')).candidates).toEqual(['local', 'kubernetes']);
    expect((await complete('config', 'set', 'output', 'j')).candidates).toEqual(['json']);
    expect(opened).toBe(0);
  });

  it('lists the flags of the command and the global ones', async () => {
    const r = await complete('deploy', '--');
    expect(r.candidates).toEqual(expect.arrayContaining(['--target', '--dry-run', '--home', '--output', '--help']));
    expect(r.candidates).not.toContain('-t');
    expect((await complete('validate', '-')).candidates).toContain('--no-artifact-check');
  });

  it('asks the shell for files or directories where a path is expected', async () => {
    expect(await complete('validate', 'chu')).toMatchObject({ candidates: [], directive: ':4' });
    expect((await complete('register', 'a.yaml', '')).directive).toBe(':4');
    expect((await complete('predict', 'd-1', '--data', '')).directive).toBe(':4');
    expect((await complete('feedback', 'd-1', '-f', '')).directive).toBe(':4');
    expect((await complete('serve', '--description', '')).directive).toBe(':4');
    expect((await complete('--kubeconfig', '')).directive).toBe(':4');
    expect((await complete('--home', '')).directive).toBe(':8');
    expect((await complete('profile', 'set', 'har@1', '--data', '')).directive).toBe(':4');
    // `profile set --target` names a data column, not a deploy target.
    expect(await complete('profile', 'set', 'har@1', '--target', '')).toMatchObject({ candidates: [], directive: ':0' });
    // `init --description` is text, not a file.
    expect((await complete('init', '--description', '')).directive).toBe(':0');
    expect(opened).toBe(0);
    // After a value the next word is positional again: a model.
    expect((await complete('deploy', '--target', 'local', 'h')).candidates).toEqual(['har', 'har@1']);
  });

  it('completes model names, then name@version, from the registry', async () => {
    expect((await complete('get', '')).candidates).toEqual(['churn', 'har', 'iris']);
    expect((await complete('describe', 'i')).candidates).toEqual(['iris', 'iris@3']);
    expect((await complete('deploy', 'churn@')).candidates).toEqual(['churn@2', 'churn@1']);
    expect((await complete('delete', 'churn@1')).candidates).toEqual(['churn@1']);
    expect((await complete('versions', 'c')).candidates).toEqual(['churn']);
    expect((await complete('ps', '--model', 'h')).candidates).toEqual(['har']);
    expect(opened).toBeGreaterThan(0);
  });

  it('completes after the `@` bash splits a word at, replacing only what follows it', async () => {
    expect((await complete('deploy', 'churn', '@', '')).candidates).toEqual(['2', '1']);
    expect((await complete('deploy', 'churn', '@', '1')).candidates).toEqual(['1']);
    expect((await complete('deploy', 'churn', '@', '1', '--target', '')).candidates).toEqual(['local', 'kubernetes']);
  });

  it('does not open or create a home that does not exist', async () => {
    const missing = join(dir.path, 'missing');
    expect(await complete('--home', missing, 'get', '')).toMatchObject({ candidates: [], directive: ':0' });
    expect(existsSync(missing)).toBe(false);
    expect(opened).toBe(0);
  });

  it('completes deployment IDs from the records without asking the targets', async () => {
    expect((await complete('status', '')).candidates.sort()).toEqual(['d-abc123', 'd-abd456']);
    expect((await complete('logs', 'd-abc')).candidates).toEqual(['d-abc123']);
    expect((await complete('decommission', '--purge', 'd-abd')).candidates).toEqual(['d-abd456']);
    expect((await complete('predict', 'd-ab')).candidates).toHaveLength(2);
    expect(local.calls).toEqual([]);
  });

  it('completes the shell of `maas completion`', async () => {
    expect((await complete('completion', '')).candidates).toEqual(['bash', 'zsh', 'fish']);
    expect((await complete('completion', 'f')).candidates).toEqual(['fish']);
  });

  it('prints nothing and succeeds when the registry fails', async () => {
    stores.models.listModels = () => Promise.reject(new Error('database is locked'));
    expect(await complete('get', '')).toEqual({ candidates: [], directive: '', code: 0, stderr: '' });
    writeFileSync(join(dir.path, 'config.yaml'), 'output: [broken');
    expect(await complete('status', '')).toEqual({ candidates: [], directive: '', code: 0, stderr: '' });
  });

  it('answers in plain lines whatever output format is configured', async () => {
    writeFileSync(join(dir.path, 'config.yaml'), 'output: json\n');
    expect(await complete('completion', 'b')).toMatchObject({ candidates: ['bash'], directive: ':0' });
    expect(await complete('-o', 'json', 'completion', 'z')).toMatchObject({ candidates: ['zsh'], directive: ':0' });
  });

  it('stays out of the help', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toContain('completion');
    expect(r.stdout).not.toContain('__complete');
  });
});

describe('maas completion scripts', () => {
  it.each(['bash', 'zsh', 'fish'])('the %s script asks `maas __complete` and keeps file completion', async (shell) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('maas __complete --');
    expect(r.stdout).not.toMatch(/^complete -c maas -f/m);
  });

  it('bash falls back to file names when nothing matches', async () => {
    expect((await runCli(['completion', 'bash'])).stdout).toContain('complete -o default -F _maas maas');
  });

  it('rejects an unknown shell', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bash, zsh, fish');
  });
});

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

// Runs against the built CLI (`npm run build`) through a `maas` on PATH, as a user's shell would.
describe('completion in a real shell', () => {
  function shellEnv(): NodeJS.ProcessEnv {
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'maas'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'maas'), 0o755);
    mkdirSync(join(dir.path, 'home'));
    writeFileSync(join(dir.path, 'churn.model.yaml'), '');
    writeFileSync(join(dir.path, 'other.txt'), '');
    return { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir.path, MAAS_HOME: join(dir.path, 'home') };
  }

  /** COMPREPLY after calling the bash function for the words, the last being completed. */
  function bash(env: NodeJS.ProcessEnv, words: string[]): string[] {
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const script = `source <(maas completion bash)\nCOMP_WORDS=(maas ${quoted}); COMP_CWORD=${words.length}\n_maas\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: dir.path, env, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it.runIf(has('bash'))(
    'bash: files for validate, targets for --target, flags for -',
    () => {
      const env = shellEnv();
      expect(bash(env, ['validate', 'chu'])).toEqual(['churn.model.yaml']);
      expect(bash(env, ['deploy', '--target', ''])).toEqual(['local', 'kubernetes']);
      expect(bash(env, ['deploy', '--target', '='])).toEqual(['local', 'kubernetes']);
      expect(bash(env, ['-o', ''])).toEqual(['table', 'wide', 'json', 'yaml', 'name']);
      expect(bash(env, ['deploy', '--dry'])).toEqual(['--dry-run']);
      expect(bash(env, ['decom'])).toEqual(['decommission']);
    },
    30_000,
  );

  it.runIf(has('bash'))(
    'bash: model names, then versions after the `@` bash splits at',
    () => {
      const env = shellEnv();
      const maas = (...args: string[]): void => {
        const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir.path, env, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      };
      maas('init', '-y', '--name', 'demo', '--task', 'regression', '--algorithm', 'MLP', '--feature', 'x:number', '--artifact', 'file://./demo.onnx');
      writeFileSync(join(dir.path, 'demo.onnx'), tinyOnnx({ features: 1 }));
      maas('register', 'demo.model.yaml');
      expect(bash(env, ['get', 'de'])).toEqual(['demo', 'demo@1']);
      expect(bash(env, ['deploy', 'demo', '@'])).toEqual(['1']);
    },
    30_000,
  );

  it.runIf(has('fish'))(
    'fish: files for validate, targets for --target',
    () => {
      const env = shellEnv();
      const fish = (line: string): string[] => {
        const r = spawnSync('fish', ['-c', `maas completion fish | source; complete -C '${line}'`], { cwd: dir.path, env, encoding: 'utf8', timeout: 20_000 });
        return r.stdout.split('\n').map((l) => l.split('\t')[0] ?? '');
      };
      expect(fish('maas validate chu')).toContain('churn.model.yaml');
      expect(fish('maas deploy --target ')).toEqual(expect.arrayContaining(['local', 'kubernetes']));
    },
    30_000,
  );
});

// The shell blocks of README.md and examples/README.md, run as a reader pastes them on a fresh
// clone: in order, one bash process per block, with the built CLI as `maas` on PATH. A block that
// cannot run here says so in the README, with `<!-- not run: why -->` on the line before it.
// Needs `npm run build` (npm test builds first).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO_ROOT } from '../support/cli.js';

const DOCS = ['README.md', 'examples/README.md'];
const BLOCK_TIMEOUT_MS = 60_000;
const NOT_RUN = /^<!--\s*not run:\s*(.*?)\s*-->$/;

interface Block {
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  heading: string;
  text: string;
  /** Why it is not run, from its marker; undefined = runs. */
  notRun: string | undefined;
}

function shellBlocks(doc: string): Block[] {
  const lines = readFileSync(join(REPO_ROOT, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    if (!line.startsWith('```')) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${doc}:${i + 1}: unclosed code fence`);
    if (line.trim() === '```sh') {
      const marker = NOT_RUN.exec(lines[i - 1]?.trim() ?? '');
      blocks.push({ doc, line: i + 1, heading, text: lines.slice(i + 1, end).join('\n'), notRun: marker?.[1] });
    }
    i = end;
  }
  return blocks;
}

/** Subcommands of the built CLI, from its help. */
function maasCommands(): Set<string> {
  const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout;
  const section = help.slice(help.indexOf('Commands:'));
  return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)(?:\|([a-z-]+))?/gm)].flatMap((m) => [m[1]!, ...(m[2] ? [m[2]] : [])]));
}

interface Workspace {
  /** The clone as the blocks see it: the repository's files, with examples/out of its own. */
  clone: string;
  env: NodeJS.ProcessEnv;
  state: string;
  root: string;
}

const workspaces: Workspace[] = [];

/**
 * A scratch copy of the clone made of symlinks to the repository's entries, except that
 * examples/ is a real directory: what the blocks write (examples/out/, files in the top
 * directory) stays in the scratch directory, apart from the shared tree and from other runs.
 */
function workspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'maas-readme-'));
  const clone = join(root, 'clone');
  mkdirSync(join(clone, 'examples'), { recursive: true });
  for (const entry of readdirSync(REPO_ROOT)) {
    if (entry !== '.git' && entry !== '.maas' && entry !== 'examples') symlinkSync(join(REPO_ROOT, entry), join(clone, entry));
  }
  for (const entry of readdirSync(join(REPO_ROOT, 'examples'))) {
    if (entry !== 'out') symlinkSync(join(REPO_ROOT, 'examples', entry), join(clone, 'examples', entry));
  }
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'maas'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(join(bin, 'maas'), 0o755);
  const state = join(root, 'state.sh');
  writeFileSync(state, '');
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: root,
    MAAS_HOME: join(root, 'home'),
    CI: '1',
    NO_COLOR: '1',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
  };
  const ws = { clone, env, state, root };
  workspaces.push(ws);
  return ws;
}

/**
 * What runs before each block: restore what earlier blocks left (variables they set, the
 * directory they moved to), and on a clean exit save it again for the next block.
 */
function prologue(state: string): string[] {
  return [
    '__pristine=$(compgen -v)',
    `. '${state}'`,
    '__save() {',
    '  local __status=$?',
    '  set +euo pipefail',
    '  [ "$__status" -ne 0 ] && return',
    '  { for __v in $(compgen -v | grep -vxF -e "$__pristine" | grep -vE \'^(__|BASH|FUNCNAME$|PIPESTATUS$)\'); do declare -p "$__v"; done',
    `    printf 'cd -- %q\\n' "$PWD"; } > '${state}.next' && mv '${state}.next' '${state}'`,
    '}',
    'trap __save EXIT',
    'set -euo pipefail',
  ];
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runBlock(block: Block, ws: Workspace): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout takes down whatever the block started with it.
    const child = spawn('bash', ['-c', [...prologue(ws.state), block.text, ''].join('\n')], {
      cwd: ws.clone,
      env: ws.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function failure(block: Block, r: Outcome): string {
  const how = r.timedOut ? `did not finish within ${BLOCK_TIMEOUT_MS / 1000} s` : `failed (exit ${r.code ?? r.signal})`;
  const offset = prologue('').length;
  return [
    `${block.doc}:${block.line} (under "${block.heading}") ${how}; bash's line numbers are the block's plus ${offset}:`,
    block.text,
    '--- stderr',
    r.stderr.trimEnd(),
    '--- stdout (end)',
    r.stdout.trimEnd().split('\n').slice(-20).join('\n'),
  ].join('\n');
}

afterAll(() => {
  // No model server a block started may outlive the test, whatever happened to the blocks.
  for (const ws of workspaces) {
    spawnSync('bash', ['-c', 'maas ps -o name | xargs -r -n1 maas decommission --purge --force'], { env: ws.env, stdio: 'ignore', timeout: 60_000 });
    rmSync(ws.root, { recursive: true, force: true });
  }
});

describe('the shell blocks of the READMEs', () => {
  it('needs the built CLI and examples', () => {
    for (const file of ['dist/src/cli/main.js', 'dist/examples/churn/make.js', 'dist/examples/har/generate.js']) {
      expect(existsSync(join(REPO_ROOT, file)), `${file} is missing: run npm run build`).toBe(true);
    }
  });

  it('name only commands that maas has', () => {
    const commands = maasCommands();
    expect(commands.has('deploy')).toBe(true);
    for (const doc of DOCS) {
      const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
      // In shell blocks (run or not) and in inline code: `maas <command>`.
      const code = [...shellBlocks(doc).map((b) => b.text), ...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)].join('\n');
      const named = [...code.matchAll(/(?:^|[\s;&|(])maas ([a-z][a-z-]*)/gm)].map((m) => m[1]!);
      expect(
        named.filter((c) => !commands.has(c)),
        `${doc} names commands maas does not have`,
      ).toEqual([]);
    }
  });

  for (const doc of DOCS) {
    const blocks = shellBlocks(doc);
    const runnable = blocks.filter((b) => b.notRun === undefined);

    it(`${doc}: every block runs here or says why not`, () => {
      expect(runnable.length).toBeGreaterThan(0);
      for (const b of blocks) if (b.notRun !== undefined) expect(b.notRun, `${doc}:${b.line}: a not-run marker needs a reason`).not.toBe('');
    });

    it(`${doc}: the blocks run as pasted, in order`, { timeout: BLOCK_TIMEOUT_MS * (runnable.length + 1) }, async () => {
      const ws = workspace();
      for (const block of runnable) {
        const r = await runBlock(block, ws);
        if (r.code !== 0) expect.fail(failure(block, r));
      }
    });
  }
});

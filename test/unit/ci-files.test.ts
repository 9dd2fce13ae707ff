// The CI files: this repository's GitHub workflows (.github/workflows/) and the examples for a
// model repository (examples/ci/). GitHub workflows go through GitHub's own parser
// (@actions/workflow-parser: schema, expressions, job graph, cron); the GitLab file is checked
// structurally (stages, job keywords, rules and their `if` expressions, needs, extends). Every
// `maas` command line in them must name a command and flags the CLI has (its commander program,
// built in-process).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Io } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT } from '../support/cli.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const WORKFLOW_DIR = join(REPO_ROOT, '.github', 'workflows');
const GITHUB_FILES = [
  ...readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join('.github', 'workflows', f)),
  join('examples', 'ci', 'github-actions.yml'),
];
const GITLAB_FILE = join('examples', 'ci', 'gitlab-ci.yml');
const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

/** Everything GitHub's parser reports for a workflow: schema, expressions, jobs graph, cron. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value) return errors.length > 0 ? errors : [`${name}: no workflow`];
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return [...new Set([...errors, ...(template.errors ?? []).map((e) => e.Message)])];
}

// ---- the CLI's commands and flags ------------------------------------------------------------

const silent = { write: () => true };
const io: Io = { stdout: silent, stderr: silent, stdin: Readable.from([]), env: {}, cwd: REPO_ROOT };
const program: CommandUnknownOpts = buildProgram(io, {}, { spinners: new Set<{ stop(): void }>(), interruptNotes: [] }, []);

function subcommand(cmd: CommandUnknownOpts, word: string): CommandUnknownOpts | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

/** A flag of the command itself or a global one (a parent's flags mean nothing to a subcommand). */
function optionOf(chain: CommandUnknownOpts[], flag: string) {
  if (flag === '-h' || flag === '--help') return { takesValue: false };
  for (const c of new Set([chain[0]!, program])) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return { takesValue: o.required || o.optional };
  }
  return undefined;
}

/** Shell words of a command line up to its end (|, ;, &, >, <, or the `)` closing a `$(`). */
function words(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) out.push(word);
      word = '';
      started = false;
    } else if ('|;&><)'.includes(ch)) {
      break;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) out.push(word);
  return out;
}

/** Each `maas ...` command in a shell script (line continuations joined, comments skipped). */
function maasCommands(script: string): string[][] {
  const lines = script.replace(/\\\n/g, ' ').split('\n');
  return lines.filter((l) => !l.trim().startsWith('#')).flatMap((l) => [...l.matchAll(/(?:^|[\s;&|(`])maas\s+(.*)$/g)].map((m) => words(m[1]!)));
}

/** What is wrong with one `maas` command line, if anything. */
function checkCommand(argv: string[]): string | undefined {
  const chain: CommandUnknownOpts[] = [program];
  let i = 0;
  const skipFlags = () => {
    while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-') {
      const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
      const o = optionOf(chain, flag);
      if (!o) return `unknown flag ${flag}`;
      i += o.takesValue && inline === undefined ? 2 : 1;
    }
    return undefined;
  };
  const leading = skipFlags();
  if (leading) return leading;
  const name = argv[i++];
  if (name === undefined) return 'no command';
  const cmd = subcommand(program, name);
  if (!cmd) return `maas has no command "${name}"`;
  chain.unshift(cmd);
  // A subcommand (`drift check`, `compose apply`) when the next word names one.
  while (i < argv.length) {
    const bad = skipFlags();
    if (bad) return bad;
    const sub = i < argv.length ? subcommand(chain[0]!, argv[i]!) : undefined;
    if (!sub) break;
    chain.unshift(sub);
    i++;
  }
  for (; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') break;
    if (!w.startsWith('-') || w === '-') continue;
    const [flag, inline] = w.split('=', 2) as [string, string | undefined];
    const o = optionOf(chain, flag);
    if (!o)
      return `\`maas ${chain
        .map((c) => c.name())
        .reverse()
        .slice(1)
        .join(' ')}\` has no flag ${flag}`;
    if (o.takesValue && inline === undefined) i++;
  }
  return undefined;
}

function commandProblems(where: string, scripts: string[]): string[] {
  return scripts.flatMap((s) =>
    maasCommands(s).flatMap((argv) => {
      const problem = checkCommand(argv);
      return problem ? [`${where}: maas ${argv.join(' ')}: ${problem}`] : [];
    }),
  );
}

describe('the maas command check', () => {
  it('finds maas commands and tells known from unknown ones and flags', () => {
    const found = maasCommands(
      [
        'ref=$(maas register "$MODEL_FILE" -o name)',
        '# maas nothing here',
        'npm install -g "maas@${MAAS_VERSION}" && maas drift check "$D" \\',
        '  --fail-on-drift --report drift.html | tee out',
        'kubectl exec deploy/maas-worker -- maas compose "$C" --adapt',
      ].join('\n'),
    );
    expect(found).toEqual([
      ['register', '$MODEL_FILE', '-o', 'name'],
      ['drift', 'check', '$D', '--fail-on-drift', '--report', 'drift.html'],
      ['compose', '$C', '--adapt'],
    ]);
    for (const argv of found) expect(checkCommand(argv)).toBeUndefined();
    expect(checkCommand(['deploy', 'x@1', '--target', 'kubernetes', '-n', 'maas', '--consumer', 'ci'])).toBeUndefined();
    expect(checkCommand(['-o', 'json', 'compose', 'apply', 'c.yaml', '--async'])).toBeUndefined();
    expect(checkCommand(['deplo', 'x@1'])).toMatch(/no command "deplo"/);
    expect(checkCommand(['drift', 'check', 'd', '--fail-on-drfit'])).toMatch(/maas drift check` has no flag --fail-on-drfit/);
    // A flag of another subcommand is not accepted: compose apply has no --adapt.
    expect(checkCommand(['compose', 'apply', 'c.yaml', '--adapt'])).toMatch(/no flag --adapt/);
  });
});

// ---- GitHub workflows ------------------------------------------------------------------------

describe.each(GITHUB_FILES)('%s', (file) => {
  const text = read(file);
  const workflow = parse(text) as Obj;
  const jobs = Object.entries(workflow.jobs as Record<string, Obj>);
  const steps = jobs.flatMap(([, j]) => (j.steps ?? []) as Obj[]);

  it("passes GitHub's workflow parser with no error", async () => {
    expect(await workflowErrors(file, text)).toEqual([]);
  });

  it('fails the parser when broken: an unknown top-level key, a job without runs-on', async () => {
    expect((await workflowErrors(file, `${text}\nnot-a-workflow-key: 1\n`)).join('\n')).toMatch(/Unexpected value 'not-a-workflow-key'/);
    const noRunsOn = structuredClone(workflow);
    delete Object.values(noRunsOn.jobs as Record<string, Obj>)[0]!['runs-on'];
    expect((await workflowErrors(file, JSON.stringify(noRunsOn))).join('\n')).toMatch(/Required property is missing: runs-on/);
  });

  it('pins every action by a major version tag (or a full commit where there is none)', () => {
    const uses = steps.map((s) => s.uses as string | undefined).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+|[0-9a-f]{40})$/);
    // A commit pin says which release it is.
    for (const m of text.matchAll(/uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40})(.*)$/gm)) expect(m[3], m[1]).toMatch(/# v\d+\.\d+\.\d+/);
  });

  it('runs only maas commands and flags that the CLI has', () => {
    const scripts = steps.map((s) => s.run as string | undefined).filter((r): r is string => r !== undefined);
    expect(commandProblems(file, scripts)).toEqual([]);
  });

  it('starts read-only: write permissions only where a job needs them', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of jobs) {
      const writes = Object.entries((job.permissions ?? {}) as Record<string, string>).filter(([, v]) => v === 'write');
      if (name === 'push' && file.endsWith('images.yml')) expect(writes).toEqual([['packages', 'write']]);
      else expect(writes, name).toEqual([]);
    }
  });
});

describe('.github/workflows/ci.yml', () => {
  const wf = parse(read('.github/workflows/ci.yml')) as Obj;
  const job = wf.jobs.check as Obj;

  it('runs .ci/run on Node 20, 22 and 24', () => {
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(job.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(job.container.image).toBe('node:${{ matrix.node }}-bookworm');
    expect((job.steps as Obj[]).map((s) => s.run as unknown)).toContain('bash .ci/run');
  });

  it('builds and runs the container image with podman once, on Node 20, in a privileged container', () => {
    // podman inside the job's container needs it; without it the image test fails (it skips only
    // when told to).
    expect(job.container.options).toBe('--privileged');
    expect(job.env.MAAS_SKIP_IMAGE_TESTS).toBe("${{ matrix.node == 20 && '0' || '1' }}");
    const image = read('test/e2e/container-image.test.ts');
    expect(image).toContain("process.env.MAAS_SKIP_IMAGE_TESTS === '1'");
    // .ci/run installs what the test needs unless it is skipped.
    const ciRun = read('.ci/run');
    const install = ciRun.split('\n').find((l) => /apt-get install .*podman/.test(l));
    for (const pkg of ['podman', 'buildah', 'runc', 'debootstrap']) expect(install, `.ci/run installs ${pkg}`).toMatch(new RegExp(`\\b${pkg}\\b`));
    expect(ciRun).toContain('MAAS_SKIP_IMAGE_TESTS');
  });
});

describe('.github/workflows/images.yml', () => {
  const wf = parse(read('.github/workflows/images.yml')) as Obj;
  const jobs = wf.jobs as Record<string, Obj>;
  const runs = (job: string) => ((jobs[job]!.steps ?? []) as Obj[]).map((s) => String(s.run ?? '')).join('\n');
  const uses = (job: string) => ((jobs[job]!.steps ?? []) as Obj[]).map((s) => String(s.uses ?? ''));

  it('builds templates/Dockerfile as the image the manifests run, and scans it', () => {
    expect(wf.env.IMAGE).toBe('ghcr.io/maas-dev/maas');
    const build = (jobs.build!.steps as Obj[]).find((s) => String(s.uses).startsWith('docker/build-push-action@'))!;
    expect(build.with.file).toBe('templates/Dockerfile');
    expect(build.with.context).toBe('.');
    expect(build.with['build-args']).toContain('VERSION=${{ steps.version.outputs.version }}');
    expect(build.with.push).toBeUndefined();
    expect(uses('build').some((u) => u.startsWith('aquasecurity/trivy-action@'))).toBe(true);
    // The version comes from package.json; the manifests pin the same one (manifests test).
    expect(runs('build')).toContain('require("./package.json").version');
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("runs for a pull request that changes what the image is built from (.dockerignore's allow-list)", () => {
    const paths = wf.on.pull_request.paths as string[];
    const built = read('.dockerignore')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).trim());
    expect(built).toContain('src');
    for (const p of [...built, 'templates/Dockerfile']) {
      expect(
        paths.some((g) => g === p || (g.endsWith('/**') && (p === g.slice(0, -3) || p.startsWith(g.slice(0, -2))))),
        `${p} is not in pull_request.paths`,
      ).toBe(true);
    }
    expect(paths).toContain('.dockerignore');
  });

  it('starts the control plane on kind and smoke-tests /readyz through a port-forward', () => {
    expect(jobs.kind!.needs).toBe('build');
    // The image's entry point is maas: `--version` prints the version the tag names.
    expect(runs('kind')).toMatch(/docker run --rm .*"\$REF" --version/);
    expect(uses('kind')).toContain('helm/kind-action@v1');
    const script = runs('kind');
    expect(script).toContain('kind load docker-image "$REF"');
    expect(script).toContain('kubectl apply -k manifests/control-plane');
    expect(script).toContain('rollout status deployment/maas-server');
    expect(script).toMatch(/port-forward service\/maas-server/);
    expect(script).toMatch(/curl -fsS http:\/\/127\.0\.0\.1:\d+\/readyz/);
  });

  it('pushes to ghcr.io only for a tag, after the cluster test', () => {
    expect(jobs.push!.if).toBe("github.ref_type == 'tag'");
    expect(jobs.push!.needs).toEqual(['build', 'kind']);
    expect(runs('push')).toContain('docker push "$REF"');
  });
});

describe('examples/ci/github-actions.yml', () => {
  const wf = parse(read('examples/ci/github-actions.yml')) as Obj;

  it('talks to the server named by the repository secrets', () => {
    expect(wf.env.MAAS_SERVER).toBe('${{ secrets.MAAS_SERVER }}');
    expect(wf.env.MAAS_TOKEN).toBe('${{ secrets.MAAS_TOKEN }}');
    expect(wf.env.MAAS_VERSION).toBe(VERSION);
  });

  it('registers and deploys on push to main, checks drift and recomposes on schedules', () => {
    expect(wf.on.push.branches).toEqual(['main']);
    const crons = (wf.on.schedule as { cron: string }[]).map((s) => s.cron);
    expect(crons).toHaveLength(2);
    const script = (job: string) => ((wf.jobs[job].steps ?? []) as Obj[]).map((s) => String(s.run ?? '')).join('\n');
    expect(wf.jobs.release.if).toBe("github.event_name == 'push'");
    expect(script('release')).toMatch(/maas register .*-o name/);
    expect(script('release')).toMatch(/maas deploy "\$REF"/);
    expect(wf.jobs.drift.if).toContain(`github.event.schedule == '${crons[0]}'`);
    expect(script('drift')).toMatch(/maas drift check "\$DEPLOYMENT" --fail-on-drift/);
    expect(wf.jobs.recompose.if).toContain(`github.event.schedule == '${crons[1]}'`);
    expect(script('recompose')).toMatch(/maas compose "\$COMPOSITION" --adapt/);
  });
});

// ---- GitLab CI -------------------------------------------------------------------------------

const GITLAB_GLOBAL = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script']);
const GITLAB_JOB_KEYS = new Set([
  'after_script',
  'allow_failure',
  'artifacts',
  'before_script',
  'cache',
  'coverage',
  'dependencies',
  'environment',
  'extends',
  'hooks',
  'id_tokens',
  'image',
  'inherit',
  'interruptible',
  'needs',
  'only',
  'except',
  'pages',
  'parallel',
  'release',
  'resource_group',
  'retry',
  'rules',
  'script',
  'secrets',
  'services',
  'stage',
  'tags',
  'timeout',
  'trigger',
  'variables',
  'when',
]);
const GITLAB_RULE_KEYS = new Set(['if', 'changes', 'exists', 'when', 'allow_failure', 'variables', 'needs', 'interruptible']);
const GITLAB_WHEN = new Set(['on_success', 'on_failure', 'always', 'manual', 'delayed', 'never']);
const GITLAB_ARTIFACT_KEYS = new Set(['paths', 'exclude', 'expire_in', 'expose_as', 'name', 'public', 'access', 'reports', 'untracked', 'when']);

/**
 * A GitLab CI/CD variable expression (rules:if): operands `$VAR`, "string", 'string', /regex/ or
 * null; comparisons ==, !=, =~, !~; && and || between them; parentheses. Returns an error or
 * undefined.
 */
function expressionError(expr: string): string | undefined {
  const tokens = [...expr.matchAll(/\s*(\$[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|'[^']*'|\/(?:\\.|[^/])*\/[a-z]*|null|==|!=|=~|!~|&&|\|\||\(|\)|\S+)/g)].map(
    (m) => m[1]!,
  );
  let i = 0;
  const operand = (t: string | undefined) => t !== undefined && /^(\$[A-Za-z_]\w*|"[^"]*"|'[^']*'|\/.*\/[a-z]*|null)$/.test(t);
  const term = (): string | undefined => {
    if (tokens[i] === '(') {
      i++;
      const e = orExpr();
      if (e) return e;
      if (tokens[i++] !== ')') return 'missing )';
      return undefined;
    }
    if (!operand(tokens[i])) return `expected a variable, string, regex or null at "${tokens[i] ?? 'end'}"`;
    const left = tokens[i++]!;
    if (['==', '!=', '=~', '!~'].includes(tokens[i] ?? '')) {
      const op = tokens[i++]!;
      if (!operand(tokens[i])) return `expected an operand after ${op}`;
      if (op.endsWith('~') && !tokens[i]!.startsWith('/') && !tokens[i]!.startsWith('$')) return `${op} needs a /regex/`;
      i++;
    } else if (!left.startsWith('$')) {
      return `a bare literal ${left}`;
    }
    return undefined;
  };
  const orExpr = (): string | undefined => {
    let e = term();
    while (!e && (tokens[i] === '&&' || tokens[i] === '||')) {
      i++;
      e = term();
    }
    return e;
  };
  const e = orExpr();
  if (e) return e;
  return i < tokens.length ? `unexpected "${tokens[i]}"` : undefined;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** Every structural problem of a .gitlab-ci.yml (as a parsed object). */
function gitlabProblems(ci: Obj): string[] {
  const out: string[] = [];
  const stages = ci.stages as unknown;
  if (!Array.isArray(stages) || stages.length === 0 || !stages.every((s) => typeof s === 'string')) out.push('stages: a non-empty list of names');
  const stageList = ['.pre', ...((Array.isArray(stages) ? stages : []) as string[]), '.post'];
  const jobs = Object.entries(ci).filter(([k]) => !GITLAB_GLOBAL.has(k));
  const byName = new Map(jobs);
  const resolved = (name: string, key: string, seen = new Set<string>()): unknown => {
    const job = byName.get(name) as Obj | undefined;
    if (!job || seen.has(name)) return undefined;
    if (job[key] !== undefined) return job[key];
    seen.add(name);
    for (const parent of asList(job.extends) as string[]) {
      const v = resolved(parent, key, seen);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  for (const [name, job] of jobs) {
    const at = `job ${name}`;
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      out.push(`${at}: not a mapping`);
      continue;
    }
    for (const key of Object.keys(job as Obj)) if (!GITLAB_JOB_KEYS.has(key)) out.push(`${at}: unknown keyword ${key}`);
    const j = job as Obj;
    for (const parent of asList(j.extends)) if (typeof parent !== 'string' || !byName.has(parent)) out.push(`${at}: extends unknown job ${String(parent)}`);
    for (const key of ['script', 'before_script', 'after_script']) {
      const v = j[key] as unknown;
      if (v !== undefined && !(typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((l) => typeof l === 'string')))) {
        out.push(`${at}: ${key} must be a command or a list of commands`);
      }
    }
    if (name.startsWith('.')) continue;
    const stage = (resolved(name, 'stage') as string | undefined) ?? 'test';
    if (!stageList.includes(stage)) out.push(`${at}: stage ${stage} is not declared in stages`);
    if (resolved(name, 'script') === undefined && resolved(name, 'trigger') === undefined) out.push(`${at}: no script`);
    if (j.rules !== undefined && (j.only !== undefined || j.except !== undefined)) out.push(`${at}: rules cannot be used with only/except`);
    if (j.rules !== undefined) {
      if (!Array.isArray(j.rules) || j.rules.length === 0) out.push(`${at}: rules must be a non-empty list`);
      for (const [k, rule] of (Array.isArray(j.rules) ? j.rules : []).entries()) {
        if (typeof rule !== 'object' || rule === null) {
          out.push(`${at}: rules[${k}] is not a mapping`);
          continue;
        }
        for (const key of Object.keys(rule as Obj)) if (!GITLAB_RULE_KEYS.has(key)) out.push(`${at}: rules[${k}] unknown keyword ${key}`);
        const r = rule as Obj;
        if (r.if !== undefined) {
          const e = typeof r.if === 'string' ? expressionError(r.if) : 'not a string';
          if (e) out.push(`${at}: rules[${k}].if: ${e}`);
        }
        if (r.when !== undefined && !GITLAB_WHEN.has(r.when as string)) out.push(`${at}: rules[${k}].when ${String(r.when)}`);
      }
    }
    for (const key of ['only', 'except']) {
      const v = j[key] as unknown;
      if (v === undefined) continue;
      const ok =
        (Array.isArray(v) && v.every((x) => typeof x === 'string')) ||
        (typeof v === 'object' && v !== null && Object.keys(v).every((x) => ['refs', 'variables', 'changes', 'kubernetes'].includes(x)));
      if (!ok) out.push(`${at}: ${key} must be a list of refs or a mapping of refs, variables, changes, kubernetes`);
    }
    if (j.when !== undefined && !GITLAB_WHEN.has(j.when as string)) out.push(`${at}: when ${String(j.when)}`);
    for (const need of asList(j.needs)) {
      const other = typeof need === 'string' ? need : ((need as Obj | null)?.job as string | undefined);
      if (!other || other.startsWith('.') || !byName.has(other)) {
        out.push(`${at}: needs unknown job ${String(other)}`);
        continue;
      }
      const otherStage = (resolved(other, 'stage') as string | undefined) ?? 'test';
      if (stageList.indexOf(otherStage) > stageList.indexOf(stage)) out.push(`${at}: needs ${other} of a later stage`);
    }
    const artifacts = j.artifacts as Obj | undefined;
    if (artifacts !== undefined) {
      for (const key of Object.keys(artifacts)) if (!GITLAB_ARTIFACT_KEYS.has(key)) out.push(`${at}: artifacts unknown keyword ${key}`);
      if (artifacts.when !== undefined && !['on_success', 'on_failure', 'always'].includes(artifacts.when as string)) out.push(`${at}: artifacts.when`);
    }
  }
  return out;
}

describe(GITLAB_FILE, () => {
  const ci = parse(read(GITLAB_FILE)) as Obj;
  const scripts = Object.entries(ci)
    .filter(([k]) => !GITLAB_GLOBAL.has(k))
    .flatMap(([, j]) => ['before_script', 'script', 'after_script'].flatMap((k) => asList((j as Obj)[k]) as string[]));

  it('is well-formed: declared stages, known keywords, a script for every job, valid rules, needs and extends', () => {
    expect(gitlabProblems(ci)).toEqual([]);
  });

  it('fails the structural check when broken (the check is real)', () => {
    const broken = (change: (c: Obj) => void) => {
      const c = structuredClone(ci);
      change(c);
      return gitlabProblems(c).join('\n');
    };
    expect(broken((c) => (c.deploy.stage = 'ship'))).toMatch(/job deploy: stage ship is not declared/);
    expect(broken((c) => delete c.deploy.script)).toMatch(/job deploy: no script/);
    expect(broken((c) => (c.deploy.scirpt = ['x']))).toMatch(/unknown keyword scirpt/);
    expect(broken((c) => (c.deploy.rules = [{ if: '$CI_COMMIT_BRANCH == ' }]))).toMatch(/rules\[0\]\.if/);
    expect(broken((c) => (c.deploy.rules = [{ if: '($A == "x"' }]))).toMatch(/missing \)/);
    expect(broken((c) => (c.deploy.rules = [{ iff: '$A' }]))).toMatch(/unknown keyword iff/);
    expect(broken((c) => (c.deploy.only = { branches: ['main'] }))).toMatch(/rules cannot be used with only\/except|only must be/);
    expect(broken((c) => (c.register.needs = ['deploy']))).toMatch(/needs deploy of a later stage/);
    expect(broken((c) => (c.deploy.extends = '.nothing'))).toMatch(/extends unknown job/);
    expect(broken((c) => (c.stages = []))).toMatch(/stages/);
    expect(expressionError('$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH')).toBeUndefined();
    expect(expressionError('$A =~ /^v\\d+/ || ($B != null && $C)')).toBeUndefined();
    expect(expressionError('$A = "x"')).toBeDefined();
  });

  it('runs only maas commands and flags that the CLI has', () => {
    expect(scripts.some((s) => s.startsWith('maas '))).toBe(true);
    expect(commandProblems(GITLAB_FILE, scripts)).toEqual([]);
  });

  it('registers and deploys on the default branch, checks drift and recomposes on schedules', () => {
    const onDefault = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH';
    expect(ci.register.rules).toEqual([{ if: onDefault }]);
    expect(ci.deploy.rules).toEqual([{ if: onDefault }]);
    expect(ci.deploy.needs).toEqual(['register']);
    expect((ci.register.script as string[]).join('\n')).toMatch(/maas register "\$MODEL_FILE" -o name/);
    expect((ci.deploy.script as string[]).join('\n')).toMatch(/maas deploy "\$\(cat model-ref\.txt\)"/);
    for (const [job, task] of [
      ['drift-check', 'drift'],
      ['recompose', 'recompose'],
    ] as const) {
      const rule = (ci[job].rules as Obj[])[0]!.if as string;
      expect(rule).toContain('$CI_PIPELINE_SOURCE == "schedule"');
      expect(rule).toContain(`$MAAS_TASK == "${task}"`);
    }
    expect((ci['drift-check'].script as string[]).join('\n')).toMatch(/maas drift check "\$DEPLOYMENT" --fail-on-drift/);
    expect((ci.recompose.script as string[]).join('\n')).toMatch(/maas compose "\$COMPOSITION" --adapt/);
    expect(ci.variables.MAAS_VERSION).toBe(VERSION);
    // The server and the token come from the project's CI/CD settings, never from the file.
    expect(ci.variables.MAAS_SERVER).toBeUndefined();
    expect(ci.variables.MAAS_TOKEN).toBeUndefined();
  });
});

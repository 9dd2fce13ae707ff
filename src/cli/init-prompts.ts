// The answers of `maas init`: from flags, and on a terminal from questions for whatever the
// flags left open. Every answer is checked at its question, against the same validation the
// written description gets, so a session is never lost to a mistake made along the way.
import { readFile } from 'node:fs/promises';
import type { Io } from './io.js';
import { MaasError } from '../core/errors.js';
import type { Problem } from '../domain/problem.js';
import { TASK_KINDS, type FeatureSpec, type TaskKind } from '../spec/schema.js';
import {
  FEATURE_SYNTAX,
  isTaskKind,
  parseFeatureFlag,
  parseLabelFlag,
  parseListFlag,
  scaffoldModel,
  templateFor,
  type ScaffoldAnswers,
} from '../spec/scaffold.js';
import { modelSchemaFile, modelTemplateFile } from '../spec/package-files.js';
import { validateModelText } from '../spec/validate.js';
import { isValidVersion } from '../domain/version.js';
import { MODEL_NAME_HINT, MODEL_NAME_MAX, isModelName } from '../domain/names.js';
import { didYouMean } from '../spec/suggest.js';
import { escapeInvisible } from '../spec/parse.js';

export interface InitOptions {
  name?: string;
  modelVersion?: string;
  task?: string;
  algorithm?: string;
  description?: string;
  feature?: string[];
  label?: string[];
  artifact?: string;
  labelsOut?: string;
  file?: string;
  force?: boolean;
}

/** The questions init asks; inquirer on a terminal, a script in tests. */
export interface Prompter {
  input(message: string, opts?: { default?: string; validate?: (value: string) => true | string }): Promise<string>;
  select(message: string, choices: readonly string[], defaultValue?: string): Promise<string>;
}

/** What init needs to know about the filesystem. */
export interface InitEnv {
  /** Whether a path, as the user wrote it, is already taken. */
  exists(file: string): boolean;
}

export interface InitAnswers extends ScaffoldAnswers {
  /** Where to write, as the user wrote it. */
  file: string;
}

/** Stands in for a file name in problems of text that has not been written anywhere. */
export const GENERATED = '(generated description)';

const DEFAULT_ALGORITHM: Partial<Record<TaskKind, string>> = { classification: 'RandomForest', regression: 'LinearRegression' };

const validName = (v: string): true | string => (isModelName(v) ? true : `${MODEL_NAME_HINT}, at most ${MODEL_NAME_MAX} characters`);
const validVersion = (v: string): true | string => (isValidVersion(v) ? true : 'use an integer (3) or a semantic version (1.2.0)');

function validLabels(v: string): true | string {
  const list = parseListFlag(v);
  if (list.length < 2) return 'give at least two class labels, comma-separated';
  return new Set(list).size === list.length ? true : 'class labels must be unique';
}

function validFeature(v: string): true | string {
  try {
    parseFeatureFlag(v);
    return true;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function checkTask(task: string): TaskKind {
  if (isTaskKind(task)) return task;
  throw new MaasError('USAGE', `unknown --task "${escapeInvisible(task.slice(0, 60))}"`, {
    hint: `${didYouMean(task, TASK_KINDS)}use one of: ${TASK_KINDS.join(', ')}`,
  });
}

export function fileExistsError(file: string): MaasError {
  return new MaasError('USAGE', `${file} already exists`, { hint: 'pass --force to overwrite it, or choose another path with -f/--file' });
}

type Check = (answers: ScaffoldAnswers) => Problem[];
let checker: Promise<Check> | undefined;

/** Validates answers exactly as the written description would be: rendered from the real template. */
function answerCheck(): Promise<Check> {
  checker ??= (async () => {
    const [classification, regression] = await Promise.all([
      readFile(modelTemplateFile('classification'), 'utf8'),
      readFile(modelTemplateFile('regression'), 'utf8'),
    ]);
    const templates = { classification, regression };
    const schema = modelSchemaFile();
    return (answers) =>
      validateModelText(scaffoldModel(templates[templateFor(answers.task)], answers, schema), { file: GENERATED, baseDir: '/', checkArtifact: false }).problems;
  })();
  return checker;
}

// Valid stand-ins for what is not known yet, so that a check sees only the problems of the answers given.
const STAND_IN: ScaffoldAnswers = {
  name: 'model',
  version: '1',
  task: 'regression',
  algorithm: 'MLP',
  features: [{ name: 'x', type: 'number' }],
  artifactUri: 'file://./model.onnx',
};

const within = (path: string, field: string): boolean => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);

/** The problems of `field` (or all) in a description of `known` answers (stand-ins for the rest). */
function problemsOf(check: Check, known: Partial<ScaffoldAnswers>, field?: string): Problem[] {
  const probe: ScaffoldAnswers = { ...STAND_IN, ...known };
  if (probe.features.length === 0) probe.features = STAND_IN.features;
  if (probe.task === 'classification' && !probe.outputLabels) probe.outputLabels = ['a', 'b'];
  const problems = check(probe);
  return field === undefined ? problems : problems.filter((p) => within(p.path, field));
}

const say = (p: Problem): string => (p.hint ? `${p.message} (${p.hint})` : p.message);

/** A prompt validator: the quick check first, then the description's own on the answers so far plus this one. */
function validator(
  check: Check,
  withAnswer: (v: string) => Partial<ScaffoldAnswers>,
  field: string,
  quick: (v: string) => true | string = () => true,
): (v: string) => true | string {
  return (v) => {
    const first = quick(v);
    if (first !== true) return first;
    const problem = problemsOf(check, withAnswer(v), field)[0];
    return problem ? say(problem) : true;
  };
}

/** The `--feature` value that parses back to `f`. */
function featureFlag(f: FeatureSpec): string {
  let s = `${f.name}:${f.type}`;
  if (f.values) s += `=${f.values.join(',')}`;
  if (f.range) s += `[${f.range.min ?? ''}..${f.range.max ?? ''}]`;
  return s;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The non-interactive command that gives the same answers, to fix one value and run again. */
export function initCommandLine(answers: InitAnswers, force = false): string {
  const flags: [string, string][] = [['--name', answers.name]];
  if (answers.version !== '1') flags.push(['--model-version', answers.version]);
  flags.push(['--task', answers.task], ['--algorithm', answers.algorithm]);
  for (const f of answers.features) flags.push(['--feature', featureFlag(f)]);
  if (answers.outputLabels) flags.push(['--labels-out', answers.outputLabels.join(',')]);
  for (const [k, v] of Object.entries(answers.labels ?? {})) flags.push(['--label', `${k}=${v}`]);
  if (answers.artifactUri !== `file://./${answers.name}.onnx`) flags.push(['--artifact', answers.artifactUri]);
  if (answers.description) flags.push(['--description', answers.description]);
  if (answers.file !== `${answers.name}.model.yaml`) flags.push(['--file', answers.file]);
  // `--flag=value` keeps a value that starts with a dash from being read as a flag.
  const args = flags.map(([flag, value]) => (value.startsWith('-') ? shellQuote(`${flag}=${value}`) : `${flag} ${shellQuote(value)}`));
  return ['maas init --yes', ...args, ...(force ? ['--force'] : [])].join(' ');
}

/** Which flag sets a field of the description. */
function flagOf(path: string, features: readonly FeatureSpec[], versionFlag = '--model-version'): string {
  const feature = /^spec\.features\[(\d+)\]/.exec(path);
  if (feature) {
    const f = features[Number(feature[1])];
    return f ? `--feature ${shellQuote(escapeInvisible(featureFlag(f).slice(0, 80)))}` : '--feature';
  }
  const fields: [string, string][] = [
    ['metadata.name', '--name'],
    ['metadata.version', versionFlag],
    ['metadata.description', '--description'],
    ['metadata.labels', '--label'],
    ['spec.task', '--task'],
    ['spec.algorithm', '--algorithm'],
    ['spec.artifact.uri', '--artifact'],
    ['spec.outputs.labels', '--labels-out'],
  ];
  return fields.find(([field]) => within(path, field))?.[1] ?? path;
}

function listProblems(problems: readonly Problem[], features: readonly FeatureSpec[], opts: { withPath: boolean; versionFlag?: string }): string {
  return problems
    .map((p) => {
      const flag = flagOf(p.path, features, opts.versionFlag);
      const where = opts.withPath && p.path && flag !== p.path ? `${p.path} (${flag})` : flag || p.path;
      return `\n  ${where}: ${p.message}${p.hint ? `\n    hint: ${p.hint}` : ''}`;
    })
    .join('');
}

const invalidDetails = (problems: readonly Problem[], features: readonly FeatureSpec[], versionFlag?: string) =>
  problems.map((p) => ({ field: p.path, flag: flagOf(p.path, features, versionFlag), message: p.message, ...(p.hint ? { hint: p.hint } : {}) }));

/**
 * The error for a rendered description that does not validate. Its problems are in text that was
 * never written, so they name fields and flags, not lines; after questions, the answers come back
 * as a command line so that none of them has to be given again.
 */
export function invalidAnswersError(problems: readonly Problem[], answers: InitAnswers, opts: { prompted: boolean; force?: boolean }): MaasError {
  const command = initCommandLine(answers, opts.force === true);
  return new MaasError(
    'USAGE',
    `the description generated from these answers is not valid, so nothing was written to ${answers.file}:${listProblems(problems, answers.features, { withPath: true })}`,
    {
      details: { invalid: invalidDetails(problems, answers.features), ...(opts.prompted ? { command } : {}) },
      hint: opts.prompted ? `your answers as flags; fix the value named above and run:\n  ${command}` : 'fix the flags named above and run again',
    },
  );
}

/**
 * Turns flags (and, with a prompter, answers to questions for whatever the flags left open)
 * into answers. Flags are checked before the first question, each answer at its question, and
 * the output file right after the name, so nothing asked is thrown away. Without a prompter,
 * missing required flags are a USAGE error naming all of them.
 */
export async function collectAnswers(opts: InitOptions, prompter?: Prompter, env: InitEnv = { exists: () => false }): Promise<InitAnswers> {
  const check = await answerCheck();
  const missing: string[] = [];
  const [givenName, versionFromName] = (opts.name ?? '').split('@', 2) as [string, string | undefined];
  const givenVersion = opts.modelVersion ?? versionFromName;
  const task: TaskKind | undefined = opts.task === undefined ? undefined : checkTask(opts.task);
  const features: FeatureSpec[] = (opts.feature ?? []).map(parseFeatureFlag);
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name)) {
      throw new MaasError('USAGE', `feature "${escapeInvisible(f.name.slice(0, 80))}" is given twice`, {
        hint: 'feature names must be unique; drop or rename one --feature',
      });
    }
    seen.add(f.name);
  }
  const labels = Object.fromEntries((opts.label ?? []).map(parseLabelFlag));
  const labelsOut = opts.labelsOut === undefined || (task !== undefined && task !== 'classification') ? undefined : parseListFlag(opts.labelsOut);

  // Every flag is checked before the first question: a bad one would otherwise waste them all.
  const flagged: Partial<ScaffoldAnswers> = {
    ...(givenName ? { name: givenName } : {}),
    ...(givenVersion !== undefined ? { version: givenVersion.trim() } : {}),
    ...(task ? { task } : labelsOut ? { task: 'classification' as const } : {}),
    ...(opts.algorithm ? { algorithm: opts.algorithm.trim() } : {}),
    ...(features.length > 0 ? { features } : {}),
    ...(labelsOut ? { outputLabels: labelsOut } : {}),
    ...(opts.artifact !== undefined ? { artifactUri: opts.artifact } : {}),
    ...(opts.description ? { description: opts.description } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
  const fields: Record<keyof ScaffoldAnswers, string> = {
    name: 'metadata.name',
    version: 'metadata.version',
    task: 'spec.task',
    algorithm: 'spec.algorithm',
    features: 'spec.features',
    outputLabels: 'spec.outputs.labels',
    artifactUri: 'spec.artifact.uri',
    description: 'metadata.description',
    labels: 'metadata.labels',
  };
  const given = (Object.keys(flagged) as (keyof ScaffoldAnswers)[]).map((k) => fields[k]);
  const badFlags = problemsOf(check, flagged).filter((p) => given.some((field) => within(p.path, field)));
  if (badFlags.length > 0) {
    const versionFlag = opts.modelVersion === undefined ? '--name' : '--model-version';
    const flagList = listProblems(badFlags, features, { withPath: false, versionFlag });
    throw new MaasError('USAGE', `invalid flag value${badFlags.length === 1 ? '' : 's'}; nothing was written:${flagList}`, {
      details: { invalid: invalidDetails(badFlags, features, versionFlag) },
      hint: 'fix the flags named above and run again',
    });
  }

  const answered: Partial<ScaffoldAnswers> = {};
  const known = (): Partial<ScaffoldAnswers> => ({ ...flagged, ...answered });

  let name = givenName;
  if (!name) {
    if (prompter)
      answered.name = name = await prompter.input('Model name', {
        validate: validator(check, (v) => ({ ...known(), name: v.trim() }), 'metadata.name', validName),
      });
    else missing.push('--name');
  }
  // The output file is settled as soon as it can be named, before the questions that take longest.
  const taken = (f: string): boolean => opts.force !== true && env.exists(f);
  let file = opts.file ?? `${name}.model.yaml`;
  if (prompter) {
    if (opts.file === undefined || taken(opts.file)) {
      file = await prompter.input('File to write', {
        default: file,
        validate: (v) =>
          v.trim() === ''
            ? 'give a path for the description'
            : taken(v.trim())
              ? `${v.trim()} already exists; give another path (or run again with --force to overwrite it)`
              : true,
      });
    }
  } else if (name && taken(file)) {
    throw fileExistsError(file);
  }

  let version = givenVersion;
  if (version === undefined) {
    version = prompter
      ? await prompter.input('Version', {
          default: '1',
          validate: validator(check, (v) => ({ ...known(), version: v.trim() }), 'metadata.version', validVersion),
        })
      : '1';
  }
  answered.version = version.trim();
  let kind = task;
  if (!kind) {
    if (prompter) answered.task = kind = checkTask(await prompter.select('Task', TASK_KINDS, 'classification'));
    else missing.push('--task');
  }
  let algorithm = opts.algorithm;
  if (!algorithm) {
    if (prompter) {
      algorithm = await prompter.input('Algorithm', {
        default: (kind && DEFAULT_ALGORITHM[kind]) ?? 'MLP',
        validate: validator(
          check,
          (v) => ({ ...known(), algorithm: v.trim() }),
          'spec.algorithm',
          (v) => (v.trim() ? true : 'name the algorithm, e.g. MLP'),
        ),
      });
      answered.algorithm = algorithm.trim();
    } else missing.push('--algorithm');
  }
  if (features.length === 0) {
    if (prompter) {
      for (;;) {
        const first = features.length === 0;
        const answer = await prompter.input(first ? `Feature (${FEATURE_SYNTAX})` : 'Another feature (empty to finish)', {
          validate: (v) => {
            if (v.trim() === '') return first ? 'a model needs at least one feature' : true;
            const syntax = validFeature(v);
            if (syntax !== true) return syntax;
            const feature = parseFeatureFlag(v);
            if (features.some((f) => f.name === feature.name))
              return `there is already a feature "${escapeInvisible(feature.name.slice(0, 80))}"; feature names must be unique`;
            const problem = problemsOf(check, { ...known(), features: [...features, feature] }, `spec.features[${features.length}]`)[0];
            return problem ? say(problem) : true;
          },
        });
        if (answer.trim() === '') break;
        features.push(parseFeatureFlag(answer));
      }
    } else {
      missing.push('--feature');
    }
  }
  answered.features = features;
  let outputLabels: string[] | undefined;
  if (kind === 'classification') {
    if (labelsOut) outputLabels = labelsOut;
    else if (prompter) {
      const answer = await prompter.input('Class labels, comma-separated (in the order of the probability columns)', {
        validate: validator(check, (v) => ({ ...known(), outputLabels: parseListFlag(v) }), 'spec.outputs.labels', validLabels),
      });
      answered.outputLabels = outputLabels = parseListFlag(answer);
    } else missing.push('--labels-out');
  }
  if (missing.length > 0) {
    throw new MaasError('USAGE', `missing required flag${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`, {
      hint: 'e.g. `maas init --yes --name har --task classification --algorithm MLP --feature acc_x:number --labels-out walking,sitting`; on a terminal without --yes, maas asks instead',
    });
  }
  let artifactUri = opts.artifact ?? `file://./${name}.onnx`;
  if (opts.artifact === undefined && prompter) {
    artifactUri = await prompter.input('Artifact URI', {
      default: artifactUri,
      validate: validator(check, (v) => ({ ...known(), artifactUri: v.trim() }), 'spec.artifact.uri'),
    });
  }
  let description = opts.description;
  if (description === undefined && prompter) {
    description =
      (await prompter.input('Description (optional)', {
        default: '',
        validate: validator(check, (v) => (v.trim() ? { ...known(), description: v.trim() } : known()), 'metadata.description'),
      })) || undefined;
  }
  return {
    name,
    version: version.trim(),
    task: kind!,
    algorithm: algorithm!.trim(),
    features,
    artifactUri,
    ...(description ? { description } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(outputLabels ? { outputLabels } : {}),
    file,
  };
}

export async function inquirerPrompter(io: Io): Promise<Prompter> {
  const { default: inquirer } = await import('inquirer');
  const prompt = inquirer.createPromptModule({ input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream });
  const ask = async (question: Record<string, unknown>): Promise<string> => {
    try {
      const answers = (await prompt([{ ...question, name: 'value' }] as never)) as { value: unknown };
      return typeof answers.value === 'string' ? answers.value.trim() : '';
    } catch (e) {
      if (e instanceof Error && e.name === 'ExitPromptError') throw new MaasError('INTERRUPTED', 'cancelled; nothing was written');
      throw e;
    }
  };
  return {
    input: (message, o = {}) => ask({ type: 'input', message, default: o.default, validate: o.validate }),
    select: (message, choices, defaultValue) => ask({ type: 'select', message, choices: [...choices], default: defaultValue }),
  };
}

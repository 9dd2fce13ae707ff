// The answers of `maas init`: from flags, and on a terminal from questions for whatever the
// flags left open.
import type { Io } from './io.js';
import { MaasError } from '../core/errors.js';
import { TASK_KINDS, type FeatureSpec, type TaskKind } from '../spec/schema.js';
import { FEATURE_SYNTAX, isTaskKind, parseFeatureFlag, parseLabelFlag, parseListFlag, type ScaffoldAnswers } from '../spec/scaffold.js';
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

/**
 * Turns flags (and, with a prompter, answers to questions for whatever the flags left open)
 * into scaffold answers. Without a prompter, missing required flags are a USAGE error naming all
 * of them.
 */
export async function collectAnswers(opts: InitOptions, prompter?: Prompter): Promise<ScaffoldAnswers> {
  const missing: string[] = [];
  const [givenName, versionFromName] = (opts.name ?? '').split('@', 2) as [string, string | undefined];
  let name = givenName;
  if (!name) {
    if (prompter) name = await prompter.input('Model name', { validate: validName });
    else missing.push('--name');
  }
  let version = opts.modelVersion ?? versionFromName;
  if (version === undefined) version = prompter ? await prompter.input('Version', { default: '1', validate: validVersion }) : '1';
  let task: TaskKind | undefined = opts.task === undefined ? undefined : checkTask(opts.task);
  if (!task) {
    if (prompter) task = checkTask(await prompter.select('Task', TASK_KINDS, 'classification'));
    else missing.push('--task');
  }
  let algorithm = opts.algorithm;
  if (!algorithm) {
    if (prompter)
      algorithm = await prompter.input('Algorithm', {
        default: (task && DEFAULT_ALGORITHM[task]) ?? 'MLP',
        validate: (v) => (v.trim() ? true : 'name the algorithm, e.g. MLP'),
      });
    else missing.push('--algorithm');
  }
  const features: FeatureSpec[] = (opts.feature ?? []).map(parseFeatureFlag);
  if (features.length === 0) {
    if (prompter) {
      for (;;) {
        const first = features.length === 0;
        const answer = await prompter.input(first ? `Feature (${FEATURE_SYNTAX})` : 'Another feature (empty to finish)', {
          validate: (v) => (v.trim() === '' ? (first ? 'a model needs at least one feature' : true) : validFeature(v)),
        });
        if (answer.trim() === '') break;
        features.push(parseFeatureFlag(answer));
      }
    } else {
      missing.push('--feature');
    }
  }
  let outputLabels: string[] | undefined;
  if (task === 'classification') {
    if (opts.labelsOut !== undefined) outputLabels = parseListFlag(opts.labelsOut);
    else if (prompter)
      outputLabels = parseListFlag(await prompter.input('Class labels, comma-separated (in the order of the probability columns)', { validate: validLabels }));
    else missing.push('--labels-out');
  }
  if (missing.length > 0) {
    throw new MaasError('USAGE', `missing required flag${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`, {
      hint: 'e.g. `maas init --yes --name har --task classification --algorithm MLP --feature acc_x:number --labels-out walking,sitting`; on a terminal without --yes, maas asks instead',
    });
  }
  const artifactUri = opts.artifact ?? (prompter ? await prompter.input('Artifact URI', { default: `file://./${name}.onnx` }) : `file://./${name}.onnx`);
  let description = opts.description;
  if (description === undefined && prompter) description = (await prompter.input('Description (optional)', { default: '' })) || undefined;
  const labels = Object.fromEntries((opts.label ?? []).map(parseLabelFlag));
  return {
    name,
    version: version.trim(),
    task: task!,
    algorithm: algorithm!.trim(),
    features,
    artifactUri,
    ...(description ? { description } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(outputLabels ? { outputLabels } : {}),
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

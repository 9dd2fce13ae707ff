// `maas init`: scaffold a model description, by questions on a terminal or fully from flags.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InitAnswers, InitOptions, Prompter } from '../init-prompts.js';
import type { Program, Run } from '../program.js';
import { collect } from '../flags.js';

export interface InitSession {
  /** Asks for what the flags leave open; none in scripts. */
  prompter?: Prompter;
  /** A path as the user wrote it -> absolute. */
  resolvePath(path: string): string;
}

export interface PreparedDescription {
  answers: InitAnswers;
  /** Absolute path to write to. */
  target: string;
  text: string;
}

/** Collects the answers and renders the description; writes nothing, and fails if it would not validate. */
export async function prepareDescription(opts: InitOptions, session: InitSession): Promise<PreparedDescription> {
  const { modelSchemaFile, modelTemplateFile } = await import('../../spec/package-files.js');
  const { scaffoldModel, schemaReference, templateFor } = await import('../../spec/scaffold.js');
  const { validateModelText } = await import('../../spec/validate.js');
  const { GENERATED, collectAnswers, invalidAnswersError } = await import('../init-prompts.js');

  const answers = await collectAnswers(opts, session.prompter, { exists: (file) => existsSync(session.resolvePath(file)) });
  const target = session.resolvePath(answers.file);
  const template = await readFile(modelTemplateFile(templateFor(answers.task)), 'utf8');
  const text = scaffoldModel(template, answers, schemaReference(modelSchemaFile(), target));
  // Answers are checked as they are given; this catches whatever a prompter let through.
  const { problems } = validateModelText(text, { file: GENERATED, baseDir: dirname(target), checkArtifact: false });
  if (problems.length > 0) throw invalidAnswersError(problems, answers, { prompted: session.prompter !== undefined, force: opts.force === true });
  return { answers, target, text };
}

export function define(program: Program, run: Run): void {
  program
    .command('init')
    .description('create a model description (asks on a terminal; use flags and --yes in scripts)')
    .option('--name <name>', 'model name (a DNS label); `name@version` also sets the version')
    .option('--model-version <version>', 'version: an integer or a semantic version (default 1)')
    .option('--task <task>', 'task kind, e.g. classification, regression (see `maas explain spec.task`)')
    .option('--algorithm <name>', 'learning algorithm, e.g. MLP, RandomForest')
    .option('--description <text>', 'one paragraph on what the model does')
    .option('--feature <spec>', 'an input feature, repeatable: name:type, e.g. age:integer, temp:number[0..50], color:category=red|green|blue', collect, [])
    .option('--label <key=value>', 'a label, repeatable', collect, [])
    .option('--artifact <uri>', 'model file URI (default file://./<name>.onnx)')
    .option('--labels-out <labels>', 'class labels of a classifier, comma-separated')
    .option('-f, --file <path>', 'where to write (default <name>.model.yaml)')
    .option('--force', 'overwrite an existing file')
    .action(
      run(async (ctx, opts) => {
        const { fileExistsError, inquirerPrompter } = await import('../init-prompts.js');
        const prompter = ctx.interactive && !ctx.globals.yes ? await inquirerPrompter(ctx.io) : undefined;
        const { answers, target, text } = await prepareDescription(opts, { ...(prompter ? { prompter } : {}), resolvePath: (p) => ctx.resolvePath(p) });
        const display = answers.file;
        await mkdir(dirname(target), { recursive: true });
        try {
          // `wx` refuses to replace a file created since the check at the name question.
          await writeFile(target, text, { flag: opts.force ? 'w' : 'wx' });
        } catch (e) {
          if ((e as { code?: unknown }).code === 'EEXIST') throw fileExistsError(display);
          throw e;
        }
        const id = `${answers.name}@${answers.version}`;
        return {
          data: { file: target, id, name: answers.name, version: answers.version, task: answers.task },
          names: [target],
          text: (style) =>
            `${style.green('created')} ${display} (${id})\nnext: put the model at ${answers.artifactUri}, then \`maas validate ${display}\` and \`maas register ${display}\``,
        };
      }),
    );
}

// `maas init`: scaffold a model description, by questions on a terminal or fully from flags.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MaasError } from '../../core/errors.js';
import type { Program, Run } from '../program.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

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
        const { modelSchemaFile, modelTemplateFile } = await import('../../spec/package-files.js');
        const { scaffoldModel, templateFor } = await import('../../spec/scaffold.js');
        const { validateModelText } = await import('../../spec/validate.js');
        const { collectAnswers, inquirerPrompter } = await import('../init-prompts.js');

        const exists = (display: string): MaasError =>
          new MaasError('USAGE', `${display} already exists`, { hint: 'pass --force to overwrite it, or choose another path with -f/--file' });
        // Fail before asking anything when the target is already known to exist.
        const known = opts.file ?? (opts.name ? `${opts.name.split('@')[0]}.model.yaml` : undefined);
        if (known && !opts.force && existsSync(ctx.resolvePath(known))) throw exists(known);

        const prompter = ctx.interactive && !ctx.globals.yes ? await inquirerPrompter(ctx.io) : undefined;
        const answers = await collectAnswers(opts, prompter);
        const display = opts.file ?? `${answers.name}.model.yaml`;
        const target = ctx.resolvePath(display);
        if (!opts.force && existsSync(target)) throw exists(display);

        const template = await readFile(modelTemplateFile(templateFor(answers.task)), 'utf8');
        const text = scaffoldModel(template, answers, modelSchemaFile());
        // What init writes must validate; flags that cannot (a bad name, say) fail here, located.
        const { problems } = validateModelText(text, { file: display, baseDir: dirname(target), checkArtifact: false });
        if (problems.length > 0) {
          throw new MaasError('USAGE', 'these answers do not make a valid model description; nothing was written', {
            details: { problems },
            hint: 'fix the flags or answers for the fields named above',
          });
        }
        await mkdir(dirname(target), { recursive: true });
        try {
          // `wx` refuses to replace a file created since the check above.
          await writeFile(target, text, { flag: opts.force ? 'w' : 'wx' });
        } catch (e) {
          if ((e as { code?: unknown }).code === 'EEXIST') throw exists(display);
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

// `maas schema`: the JSON Schema of the model description (for editors and other tools).
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('schema')
    .description('print the JSON Schema of the model description')
    .option('--path', 'print where the installed schema file is (for `# yaml-language-server: $schema=...`)')
    .action(
      run(async (_ctx, opts) => {
        if (opts.path) {
          const { modelSchemaFile } = await import('../../spec/package-files.js');
          const file = modelSchemaFile();
          return { data: { path: file }, text: () => file, names: [file] };
        }
        const { modelJsonSchema } = await import('../../spec/json-schema.js');
        const schema = modelJsonSchema();
        return { data: schema, text: () => JSON.stringify(schema, null, 2) };
      }),
    );
}

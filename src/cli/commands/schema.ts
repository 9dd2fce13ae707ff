// `maas schema`: the JSON Schema of the model description (for editors and other tools).
import type { Command } from 'commander';
import type { Run } from '../program.js';

interface SchemaOptions {
  path?: boolean;
}

export function define(program: Command, run: Run): void {
  program
    .command('schema')
    .description('print the JSON Schema of the model description')
    .option('--path', 'print where the installed schema file is (for `# yaml-language-server: $schema=...`)')
    .action(
      run(async (_ctx, opts: SchemaOptions) => {
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

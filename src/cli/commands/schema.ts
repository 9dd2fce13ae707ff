// `maas schema [KIND]`: the JSON Schema of the model (default) or composition description (for
// editors and other tools).
import { MaasError } from '../../core/errors.js';
import type { Program, Run } from '../program.js';

const SCHEMA_KINDS = ['model', 'composition'] as const;

export function define(program: Program, run: Run): void {
  program
    .command('schema')
    .argument('[kind]', `which description: ${SCHEMA_KINDS.join(' or ')} (default model)`)
    .description('print the JSON Schema of the model description, or of the composition description (`maas schema composition`)')
    .option('--path', 'print where the installed schema file is (for `# yaml-language-server: $schema=...`)')
    .action(
      run(async (_ctx, kindArg, opts) => {
        const kind = (kindArg ?? 'model').toLowerCase();
        if (kind !== 'model' && kind !== 'composition') {
          const { quote } = await import('../../spec/parse.js');
          throw new MaasError('USAGE', `no schema for ${quote(kindArg ?? '')}`, { hint: `name one of: ${SCHEMA_KINDS.join(', ')}` });
        }
        if (opts.path) {
          const { compositionSchemaFile, modelSchemaFile } = await import('../../spec/package-files.js');
          const file = kind === 'composition' ? compositionSchemaFile() : modelSchemaFile();
          return { data: { path: file }, text: () => file, names: [file] };
        }
        const { compositionJsonSchema, modelJsonSchema } = await import('../../spec/json-schema.js');
        const schema = kind === 'composition' ? compositionJsonSchema() : modelJsonSchema();
        return { data: schema, text: () => JSON.stringify(schema, null, 2) };
      }),
    );
}

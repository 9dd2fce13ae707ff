// `maas explain <field>`: documentation of a model description field, like `kubectl explain`.
import type { Command } from 'commander';
import type { Run } from '../program.js';

interface ExplainOptions {
  recursive?: boolean;
}

export function define(program: Command, run: Run): void {
  program
    .command('explain [field]')
    .description('document a field of the model description, e.g. `maas explain spec.features.type`')
    .option('-r, --recursive', 'show every field below, not only the direct children')
    .addHelpText('after', '\nExamples:\n  maas explain model\n  maas explain spec.resources.serving\n  maas explain spec --recursive')
    .action(
      run(async (ctx, field: string | undefined, opts: ExplainOptions) => {
        const { explainField, renderExplain } = await import('../../spec/explain.js');
        const recursive = opts.recursive === true;
        const doc = explainField(field ?? '', { recursive });
        return { data: doc, text: (style) => renderExplain(doc, recursive, style), names: [doc.path || 'model'] };
      }),
    );
}

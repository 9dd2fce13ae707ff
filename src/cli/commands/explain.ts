// `maas explain <field>`: documentation of a model description field, like `kubectl explain`.
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('explain')
    .argument('[field]')
    .description('document a field of the model description, e.g. `maas explain spec.features.type`')
    .option('-r, --recursive', 'show every field below, not only the direct children')
    .addHelpText('after', '\nExamples:\n  maas explain model\n  maas explain spec.resources.serving\n  maas explain spec --recursive')
    .action(
      run(async (_ctx, field, opts) => {
        const { explainField, renderExplain } = await import('../../spec/explain.js');
        const recursive = opts.recursive === true;
        const doc = explainField(field ?? '', { recursive });
        return { data: doc, text: (style) => renderExplain(doc, recursive, style), names: [doc.path || 'model'] };
      }),
    );
}

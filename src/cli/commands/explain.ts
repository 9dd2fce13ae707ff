// `maas explain <field>`: documentation of a description field, like `kubectl explain`. Paths
// address the model description; a `composition.` prefix addresses the composition description.
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('explain')
    .argument('[field]')
    .description(
      'document a field of the model description (`maas explain spec.features.type`) or, with the `composition` prefix, of the composition description (`maas explain composition.spec.members.weight`)',
    )
    .option('-r, --recursive', 'show every field below, not only the direct children')
    .addHelpText(
      'after',
      [
        '',
        'Fields are dotted paths from the model description (a `model.` prefix is optional);',
        'a `composition.` prefix starts them at the composition description instead.',
        '',
        'Examples:',
        '  maas explain model',
        '  maas explain spec.resources.serving',
        '  maas explain spec --recursive',
        '  maas explain composition',
        '  maas explain composition.spec.members.weight',
        '  maas explain composition.spec.policy --recursive',
      ].join('\n'),
    )
    .action(
      run(async (_ctx, field, opts) => {
        const { explainField, renderExplain } = await import('../../spec/explain.js');
        const recursive = opts.recursive === true;
        const doc = explainField(field ?? '', { recursive });
        const root = doc.kind === 'Composition' ? 'composition' : 'model';
        return {
          data: doc,
          text: (style) => renderExplain(doc, recursive, style),
          names: [doc.path ? (root === 'model' ? doc.path : `${root}.${doc.path}`) : root],
        };
      }),
    );
}

// `maas get NAME[@VERSION]`: the stored description (latest when no version).
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('get')
    .argument('<model>')
    .description('print the registered description of NAME[@VERSION] (latest when no version)')
    .action(
      run(async (ctx, model) => {
        const [{ parseModelRef }, { getModel }] = await Promise.all([import('../../domain/model-ref.js'), import('../../app/models.js')]);
        const ref = parseModelRef(model);
        const r = await getModel(await ctx.services(), ref.name, ref.version);
        return { data: r.description, names: [`${r.name}@${r.version}`] };
      }),
    );
}

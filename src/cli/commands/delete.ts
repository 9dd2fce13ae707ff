// `maas delete NAME@VERSION`: removes one version; refused while something depends on it.
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('delete')
    .argument('<model>')
    .description('delete one registered version NAME@VERSION (refused while deployed)')
    .action(
      run(async (ctx, model) => {
        const [{ parseModelRef }, { deleteModel }] = await Promise.all([import('../../domain/model-ref.js'), import('../../app/models.js')]);
        const ref = parseModelRef(model, { requireVersion: true });
        const version = ref.version as string;
        await deleteModel(await ctx.services(), ref.name, version);
        const id = `${ref.name}@${version}`;
        return { data: { name: ref.name, version, deleted: true }, names: [id], text: () => `deleted ${id}` };
      }),
    );
}

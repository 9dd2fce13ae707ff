// `maas describe NAME[@VERSION]`: a summary for humans (latest when no version).
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('describe')
    .argument('<model>')
    .description('summarise NAME[@VERSION] for humans (latest when no version)')
    .action(
      run(async (ctx, model) => {
        const [{ parseModelRef }, { getModel }, { describeModel }] = await Promise.all([
          import('../../domain/model-ref.js'),
          import('../../app/models.js'),
          import('../model-view.js'),
        ]);
        const ref = parseModelRef(model);
        const services = await ctx.services();
        const r = await getModel(services, ref.name, ref.version);
        const lineage = await services.models.getLineage(r.name, r.version);
        return {
          data: lineage ? { ...r, lineage } : r,
          names: [`${r.name}@${r.version}`],
          text: (style) => describeModel(r, style, lineage),
        };
      }),
    );
}

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
        const api = await ctx.remote();
        let r: Awaited<ReturnType<typeof getModel>>;
        let lineage: Awaited<ReturnType<Awaited<ReturnType<typeof ctx.services>>['models']['getLineage']>>;
        if (api) {
          // The server's answer carries the lineage beside the version, as `-o json` shows it locally.
          const { lineage: remoteLineage, ...version } = (await api.getModel(ref.name, ref.version)) as Awaited<ReturnType<typeof getModel>> & {
            lineage?: typeof lineage;
          };
          r = version;
          lineage = remoteLineage;
        } else {
          const services = await ctx.services();
          r = await getModel(services, ref.name, ref.version);
          lineage = await services.models.getLineage(r.name, r.version);
        }
        return {
          data: lineage ? { ...r, lineage } : r,
          names: [`${r.name}@${r.version}`],
          text: (style) => describeModel(r, style, lineage),
        };
      }),
    );
}

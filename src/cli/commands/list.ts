// `maas list`: every registered model with its latest version.
import type { ModelSummary } from '../../domain/model.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('list')
    .alias('ls')
    .description('list registered models (latest version of each)')
    .action(
      run(async (ctx) => {
        const api = await ctx.remote();
        const models = api ? await api.listModels() : await (await import('../../app/models.js')).listModels(await ctx.services());
        return {
          data: models,
          names: models.map((m) => `${m.name}@${m.latest}`),
          table: {
            rows: models,
            empty: 'no models registered yet; add one with `maas register model.yaml`',
            columns: [
              { header: 'name', value: (m: ModelSummary) => m.name },
              { header: 'latest', value: (m: ModelSummary) => m.latest },
              { header: 'versions', value: (m: ModelSummary) => String(m.versions) },
              { header: 'task', value: (m: ModelSummary) => m.task },
              { header: 'algorithm', value: (m: ModelSummary) => m.algorithm },
              { header: 'registered', value: (m: ModelSummary) => m.registeredAt },
            ],
          },
        };
      }),
    );
}

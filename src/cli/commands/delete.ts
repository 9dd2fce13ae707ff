// `maas delete NAME@VERSION`: removes one version; refused while something depends on it.
import type { Command } from 'commander';
import type { Run } from '../program.js';
import { parseModelRef } from '../../domain/model-ref.js';

export function define(program: Command, run: Run): void {
  program
    .command('delete <model>')
    .description('delete one registered version NAME@VERSION (refused while deployed)')
    .action(
      run(async (ctx, model: string) => {
        const ref = parseModelRef(model, { requireVersion: true });
        const version = ref.version as string;
        await (await ctx.registry()).deleteModel(ref.name, version);
        const id = `${ref.name}@${version}`;
        return { data: { name: ref.name, version, deleted: true }, names: [id], text: () => `deleted ${id}` };
      }),
    );
}

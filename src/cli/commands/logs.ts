// `maas logs ID [--tail N]`: the model server's log.
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('logs')
    .argument('<id>')
    .description("print a deployment's model server log")
    .option('--tail <lines>', 'only the last N lines')
    .action(
      run(async (ctx, id, opts) => {
        const [{ deploymentLogs }, { parsePositiveInt }] = await Promise.all([import('../../app/logs.js'), import('../../core/numbers.js')]);
        const text = await deploymentLogs(await ctx.services(), id, opts.tail !== undefined ? { tail: parsePositiveInt(opts.tail, '--tail') } : {});
        return { data: { id, logs: text }, text: () => text };
      }),
    );
}

// `maas logs ID [--tail N]`: the model server's log.
import { MaasError } from '../../core/errors.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('logs')
    .argument('<id>')
    .description("print a deployment's model server log")
    .option('--tail <lines>', 'only the last N lines')
    .option('-f, --follow', 'keep printing what the server logs until it stops (or Ctrl-C)')
    .action(
      run(async (ctx, id, opts) => {
        if (opts.follow) {
          if (opts.tail !== undefined) throw new MaasError('USAGE', '--follow prints the whole log, then follows it; leave out --tail');
          const { followDeploymentLogs } = await import('../../app/logs.js');
          await followDeploymentLogs(await ctx.services(), id, (chunk) => void ctx.io.stdout.write(chunk));
          return { data: undefined, text: () => '' };
        }
        const [{ deploymentLogs }, { parsePositiveInt }] = await Promise.all([import('../../app/logs.js'), import('../../core/numbers.js')]);
        const text = await deploymentLogs(await ctx.services(), id, opts.tail !== undefined ? { tail: parsePositiveInt(opts.tail, '--tail') } : {});
        return { data: { id, logs: text }, text: () => text };
      }),
    );
}

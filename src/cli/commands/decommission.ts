// `maas decommission ID [--purge]`: release; with no consumer left, scale to zero and cache;
// `--purge` destroys.
import { MaasError } from '../../core/errors.js';
import { consumerFlag } from '../flags.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('decommission')
    .argument('<id>')
    .description('release a deployment; with no consumer left it is scaled to zero and cached; --purge destroys it')
    .addHelpText(
      'after',
      '\nExamples:\n  maas decommission d-5f3a9c1e2b\n  maas decommission har-classifier --consumer ci --ignore-not-found\n  maas decommission d-5f3a --purge',
    )
    .option('--consumer <name>', 'the consumer releasing it (default user@host)', consumerFlag)
    .option('--purge', 'destroy it (refused while another consumer uses it)')
    .option('--force', 'with --purge: destroy even while others use it; without: release on behalf of another consumer')
    .option('--export <dir>', 'with --purge: copy the logged predictions, feedback and server log into DIR first')
    .option('--ignore-not-found', 'succeed when the deployment is gone or this consumer already released it (for retried CI steps)')
    .action(
      run(async (ctx, id, opts) => {
        const { decommission } = await import('../../app/decommission.js');
        const api = await ctx.remote();
        // Against a server the consumer is the token (and the --consumer name under it).
        const consumer = api ? `token:…${opts.consumer !== undefined ? `/${opts.consumer}` : ''}` : ctx.consumer(opts.consumer);
        if (opts.export !== undefined && !opts.purge)
          throw new MaasError('USAGE', '--export applies to --purge', { hint: 'a release or a scale to zero keeps the data anyway' });
        if (api && opts.export !== undefined) throw new MaasError('USAGE', `--export is not available against a server (${api.url})`);
        if (opts.purge && !api) {
          const { findDeployment } = await import('../../app/lookup.js');
          const d = await findDeployment(await ctx.services(), id);
          const others = d ? d.consumers.filter((c) => c !== consumer) : [];
          const question = d
            ? `Destroy ${d.id} (${d.model}@${d.version} on ${d.target})? Its logged predictions and feedback go with it${others.length ? `; it is still used by ${others.join(', ')}` : ''}.`
            : '';
          if (d && !(await ctx.confirm(question))) {
            throw new MaasError('INTERRUPTED', `${d.id} was not destroyed`, { hint: 'pass --yes to purge without the question' });
          }
        }
        const result = api
          ? await api.decommission(id, {
              ...(opts.consumer !== undefined ? { consumer: opts.consumer } : {}),
              purge: opts.purge === true,
              force: opts.force === true,
              ignoreNotFound: opts.ignoreNotFound === true,
            })
          : await decommission(await ctx.services(), {
              id,
              consumer,
              purge: opts.purge === true,
              force: opts.force === true,
              ignoreNotFound: opts.ignoreNotFound === true,
              ...(opts.export !== undefined ? { exportTo: ctx.resolvePath(opts.export) } : {}),
            });
        const until = `until ${result.deployment?.expiresAt ?? '?'} (purge with \`maas decommission ${result.id} --purge\` or \`maas gc\`)`;
        const message = {
          released: `${result.id} released by ${consumer}; still used by ${result.remainingConsumers.join(', ')}`,
          cached:
            result.previousState === 'failed' ? `${result.id} had failed; stopped and cached ${until}` : `${result.id} scaled to zero and cached ${until}`,
          purged: `${result.id} destroyed${result.exported?.length ? `; kept ${result.exported.join(', ')}` : ''}`,
          unchanged:
            result.deployment?.consumers.includes(consumer) === false && result.deployment.state !== 'cached'
              ? `${consumer} had already released ${result.id}`
              : `${result.id} was already cached`,
          'not-found': `${result.id} does not exist (nothing to do)`,
        }[result.outcome];
        return { data: result, text: () => message, names: [result.id] };
      }),
    );
}

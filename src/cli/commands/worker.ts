// `maas worker`: carries out the control plane's jobs (deployments, ...) from its queue: Redis
// (BullMQ) for any number of workers on machines that reach Redis, the targets and the home's
// registry; or the embedded SQLite queue of a home on this machine. Runs until SIGTERM/SIGINT,
// then finishes or hands back its running jobs. A job whose worker died (kill -9, a lost machine)
// goes to another worker once its lease runs out (--lease).
import type { Program, Run } from '../program.js';
import { parseDuration } from '../../core/duration.js';
import { MaasError } from '../../core/errors.js';
import { positiveInteger } from '../flags.js';
import { waitForSignal } from '../signals.js';

export function define(program: Program, run: Run): void {
  program
    .command('worker')
    .description('carry out control-plane jobs from a queue until SIGTERM/SIGINT')
    .option('--queue <url>', 'redis://HOST:PORT (BullMQ), or sqlite for the embedded queue of this MAAS_HOME', 'sqlite')
    .option('--concurrency <n>', 'jobs run at once', '2')
    .option('--lease <duration>', "how long a running job stays this worker's without renewal: how soon the job of a worker that died moves to another", '15s')
    .action(
      run(async (ctx, o: { queue: string; concurrency: string; lease: string }) => {
        const concurrency = positiveInteger(o.concurrency, '--concurrency');
        const leaseMs = Math.round(parseDuration(o.lease, '--lease'));
        // The lease is renewed a few times per period: shorter than a second, a busy worker would lose its jobs.
        if (leaseMs < 1000) throw new MaasError('USAGE', `--lease must be at least 1s, got "${o.lease}"`, { hint: 'the default, 15s, suits most queues' });
        const { durableQueueFactory, queueLocation } = await import('../../app/composition-root.js');
        const location = queueLocation(o.queue);
        const durable = await durableQueueFactory(location, { clock: ctx.clock, work: true, concurrency, leaseMs });
        await ctx.services({ queue: durable.factory, local: true });
        const queue = durable.queue();
        const log = (event: string, extra: Record<string, unknown> = {}): void => {
          ctx.io.stdout.write(`${JSON.stringify({ time: new Date(ctx.clock.now()).toISOString(), event, queue: location.kind, ...extra })}\n`);
        };
        const signals = waitForSignal((signal) => log('stopping', { signal }));
        try {
          await queue.start();
        } catch (e) {
          signals.dispose();
          throw e;
        }
        log('ready', { concurrency, leaseMs, pid: process.pid });
        await signals.stopped;
        await queue.stop(30_000);
        await queue.close();
        log('stopped');
        return { data: {}, text: () => '' };
      }),
    );
}

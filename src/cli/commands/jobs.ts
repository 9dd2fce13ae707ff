// `maas jobs [ID]`: the control plane's jobs (deploys, ...) of your token, or one job with its
// logs, result or error. Against a server only: locally, jobs run within the command.
import type { Program, Run } from '../program.js';
import { MaasError } from '../../core/errors.js';
import type { JobRecord, JobState } from '../../queue/port.js';

const STATES = ['queued', 'running', 'succeeded', 'failed'];

export function define(program: Program, run: Run): void {
  program
    .command('jobs')
    .argument('[id]', 'one job: its state, attempts, logs and result or error')
    .description("a maas server's jobs (your token's; an admin's: everyone's)")
    .option('--state <state>', `only jobs in this state: ${STATES.join(', ')}`)
    .action(
      run(async (ctx, id, o: { state?: string }) => {
        const api = await ctx.remote();
        if (!api)
          throw new MaasError('USAGE', 'jobs live on a maas server; locally every command runs its own work', {
            hint: '`maas login URL --token T`, or set MAAS_SERVER and MAAS_TOKEN',
          });
        if (o.state !== undefined && !STATES.includes(o.state))
          throw new MaasError('USAGE', `unknown --state ${o.state}`, { hint: `use one of: ${STATES.join(', ')}` });
        if (id !== undefined) {
          const job = await api.getJob(id);
          return {
            data: job,
            names: [job.id],
            exitCode: job.state === 'failed' ? 1 : 0,
            text: (s) =>
              [
                `${s.bold(job.id)} ${job.kind} ${job.state} (attempt ${job.attempts} of ${job.maxAttempts})`,
                ...job.logs.map((l) => `  ${l.at}  ${l.message}`),
                ...(job.error ? [s.red(`  ${job.error.code}: ${job.error.message}`), ...(job.error.hint ? [`  hint: ${job.error.hint}`] : [])] : []),
              ].join('\n'),
          };
        }
        const jobs = await api.listJobs({ ...(o.state !== undefined ? { state: o.state as JobState } : {}) });
        return {
          data: jobs,
          names: jobs.map((j) => j.id),
          table: {
            rows: jobs,
            empty: 'no jobs',
            columns: [
              { header: 'id', value: (j: JobRecord) => j.id },
              { header: 'kind', value: (j: JobRecord) => j.kind },
              { header: 'state', value: (j: JobRecord) => j.state },
              { header: 'attempts', value: (j: JobRecord) => `${j.attempts}/${j.maxAttempts}` },
              { header: 'created', value: (j: JobRecord) => j.createdAt },
              { header: 'progress', value: (j: JobRecord) => j.error?.message ?? j.progress ?? '' },
            ],
          },
        };
      }),
    );
}

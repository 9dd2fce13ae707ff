// `maas retrain NAME[@VERSION] | DEPLOYMENT`: a new version from the model's own training program,
// compared with the serving one and rolled out only when it is really better. Against a server it
// is a job there, on the deployment's labelled feedback only (the server reads no local files).
import { EXIT, MaasError } from '../../core/errors.js';
import type { PromotePolicy, RetrainResult } from '../../app/retrain.js';
import type { CommandResult } from '../output.js';
import { jobWait, queuedJobResult } from '../queued-job.js';
import { waitForRemoteJob } from '../remote-job.js';
import type { WeightingMode } from '../../retrain/training-set.js';
import type { Style } from '../output.js';
import type { Program, Run } from '../program.js';
import { collect } from '../flags.js';

const PROMOTE = ['auto', 'never', 'always'] as const;

function summary(r: RetrainResult, style: Style): string {
  const lines: string[] = [];
  if (r.drift)
    lines.push(
      `drift: dataset ${r.drift.dataset ? style.red('yes') : 'no'} (share ${r.drift.share.toFixed(2)}), concept ${r.drift.concept ? style.red('yes') : 'no'}`,
    );
  if (r.onNode) {
    const o = r.onNode;
    const which = o.last !== undefined ? `the newest ${o.last} labelled rows` : o.since !== undefined ? `labelled rows since ${o.since}` : 'all labelled rows';
    lines.push(
      `on node ${o.node}: ${which} stay there, joined with ${o.baseRows} base rows; ${Math.round(o.holdout * 100)} % of them held out to compare there`,
    );
  }
  if (r.trainingSet) {
    const t = r.trainingSet;
    lines.push(
      `training set: ${t.counts.total} rows (${t.counts.base} from data, ${t.counts.feedback} feedback, ${t.counts.duplicates} duplicates dropped, ${t.counts.contradictions} contradictions resolved by feedback); ${t.holdout} held out`,
      `weighting: ${t.weighting.mode}${t.weighting.mode === 'weighted' ? ` x${t.weighting.feedbackWeight}` : ''}: ${t.weighting.reason}`,
    );
    if (t.classBalance)
      lines.push(
        `class balance: ${Object.entries(t.classBalance)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
  }
  if (r.command) lines.push(`command: ${r.command.join(' ')}`);
  if (r.training) lines.push(`trained in ${r.training.seconds.toFixed(1)} s`);
  const c = r.comparison;
  if (c) {
    lines.push(
      `compare on ${c.rows} held-out rows: ${c.primary.metric} ${r.champion} ${c.primary.a.toFixed(4)} vs ${r.challenger ?? ''} ${c.primary.b.toFixed(4)} (${c.primary.difference >= 0 ? '+' : ''}${c.primary.difference.toFixed(4)}), ${c.test.name} p=${c.test.p_value.toPrecision(3)}: ${c.verdict === 'better' ? style.green(c.verdict) : style.yellow(c.verdict.replace('_', ' '))}`,
    );
  }
  const head = r.status === 'promoted' ? style.green(r.reason) : r.status === 'skipped' ? style.yellow(r.reason) : r.reason;
  return [head, ...lines.map((l) => `  ${l}`)].join('\n');
}

function view(result: RetrainResult): CommandResult {
  return {
    data: result,
    names: result.challenger ? [result.challenger] : [],
    text: (style: Style) => summary(result, style),
    exitCode: EXIT.OK,
  };
}

export function define(program: Program, run: Run): void {
  program
    .command('retrain')
    .argument('<subject>', 'a deployment (ID, prefix or NAME[@VERSION]) or a registered NAME[@VERSION]')
    .description("train a new version with the model's own training program; compare it with the serving one and roll it out when it is better")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas retrain d-5f3a9c1e2b --feedback                 # add labelled feedback; auto weighting; promote if better',
        '  maas retrain d-5f3a9c1e2b --feedback --on-drift      # a scheduled CI job: nothing happens without drift',
        '  maas retrain har-classifier@1 --data more.csv --promote never',
        '',
        'Weighting of feedback (recent ground truth) against the older training data:',
        '  auto (default)  all rows once; when concept drift was detected, feedback only (>= 200 rows) or feedback repeated',
        '  --feedback-weight N   each feedback row N times;  --feedback-only   feedback rows only;  --since T   older feedback dropped',
        'The newest 30 % of the feedback is held out and used to compare the challenger with the champion.',
        '',
        'Against a maas server (MAAS_SERVER or `maas login`) the subject is a deployment and the server trains on its',
        'labelled feedback only, as a job (--async prints its ID); --target local there needs an admin token.',
      ].join('\n'),
    )
    .option('--data <file>', 'more training data (CSV with the features and the target; repeatable)', collect)
    .option('--feedback', "add the deployment's labelled feedback")
    .option('--on-drift', 'check drift first; retrain only when it finds some')
    .option('--version <v>', 'version of the new model (default: the next one)')
    .option('--target <target>', 'where training runs: local (a child process) or kubernetes (a Job)', 'local')
    .option('--timeout <duration>', 'longest training run (and rollout)', '30m')
    .option('--feedback-weight <n>', 'repeat each feedback row n times')
    .option('--feedback-only', 'train on the feedback rows only')
    .option('--since <time>', 'only feedback since this ISO time or duration back (24h, 7d)')
    .option('--holdout <share>', 'share of the newest feedback kept out of training to compare on', '0.3')
    .option('--promote <policy>', 'auto (when better and significant), never, always', 'auto')
    .option('--margin <x>', 'least improvement of the primary metric that counts (default 0)')
    .option('--dry-run', 'assemble the training set and show the plan; train nothing')
    .option('--async', 'against a server: print the job ID at once; `maas jobs ID` follows it')
    .action(
      run(async (ctx, subject, opts) => {
        const { parseDuration } = await import('../../core/duration.js');
        const { resolveSince } = await import('../../app/feedback-export.js');
        if (!(PROMOTE as readonly string[]).includes(opts.promote))
          throw new MaasError('USAGE', `--promote must be one of ${PROMOTE.join(', ')}; got "${opts.promote}"`);
        if (opts.target !== 'local' && opts.target !== 'kubernetes') throw new MaasError('USAGE', `--target must be local or kubernetes; got "${opts.target}"`);
        if (opts.feedbackOnly && opts.feedbackWeight !== undefined) throw new MaasError('USAGE', '--feedback-only and --feedback-weight exclude each other');
        const api = await ctx.remote();
        // A server always trains on the feedback.
        if (!api && (opts.feedbackOnly || opts.feedbackWeight !== undefined || opts.since !== undefined) && !opts.feedback)
          throw new MaasError('USAGE', '--feedback-only, --feedback-weight and --since shape the feedback: add --feedback');
        let mode: WeightingMode = 'auto';
        let feedbackWeight: number | undefined;
        if (opts.feedbackOnly) mode = 'feedback-only';
        if (opts.feedbackWeight !== undefined) {
          feedbackWeight = Number(opts.feedbackWeight);
          if (!Number.isInteger(feedbackWeight) || feedbackWeight < 1)
            throw new MaasError('USAGE', `--feedback-weight must be a whole number >= 1; got "${opts.feedbackWeight}"`);
          mode = 'weighted';
        }
        const holdout = Number(opts.holdout);
        if (!(holdout >= 0 && holdout < 1)) throw new MaasError('USAGE', `--holdout must be a share from 0 to below 1; got "${opts.holdout}"`);
        let margin: number | undefined;
        if (opts.margin !== undefined) {
          margin = Number(opts.margin);
          if (!Number.isFinite(margin) || margin < 0) throw new MaasError('USAGE', `--margin must be a number >= 0; got "${opts.margin}"`);
        }
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        if (api) {
          if (opts.data !== undefined)
            throw new MaasError('USAGE', `--data names a file on this machine, and the server ${api.url} reads no files a client names`, {
              hint: "leave out --data: the server trains on the deployment's labelled feedback; or retrain locally with the file (`maas logout` or unset MAAS_SERVER)",
            });
          const { randomUUID } = await import('node:crypto');
          const queued = await api.retrain(
            subject,
            {
              onDrift: opts.onDrift === true,
              ...(opts.version !== undefined ? { version: opts.version } : {}),
              target: opts.target,
              timeoutMs,
              dryRun: opts.dryRun === true,
              weighting: { mode, ...(feedbackWeight !== undefined ? { feedbackWeight } : {}), ...(opts.since !== undefined ? { since: opts.since } : {}) },
              holdout,
              promote: opts.promote as PromotePolicy,
              ...(margin !== undefined ? { margin } : {}),
            },
            randomUUID(),
          );
          if (opts.async === true) return queuedJobResult(queued, 'retrain');
          // Training, then a rollout: each may take the timeout.
          return view((await waitForRemoteJob(ctx, api, queued.job, jobWait(2 * timeoutMs, `retraining ${subject} on the server`))) as RetrainResult);
        }
        if (opts.async === true) throw new MaasError('USAGE', '--async applies against a maas server; here the retrain runs in this command');
        const services = await ctx.services();
        const since = opts.since === undefined ? undefined : resolveSince(opts.since, services.clock.now());
        const { retrain } = await import('../../app/retrain.js');
        const controller = new AbortController();
        ctx.onInterrupt(() => {
          controller.abort();
          return 'the training run was stopped; nothing was registered';
        });
        const machine = ctx.output === 'json' || ctx.output === 'yaml';
        // The training program's own output streams to stderr, so stdout stays data.
        const result = await retrain(
          services,
          {
            subject,
            data: opts.data ?? [],
            feedback: opts.feedback === true,
            onDrift: opts.onDrift === true,
            ...(opts.version !== undefined ? { version: opts.version } : {}),
            target: opts.target,
            timeoutMs,
            dryRun: opts.dryRun === true,
            weighting: { mode, ...(feedbackWeight !== undefined ? { feedbackWeight } : {}), ...(since !== undefined ? { since } : {}) },
            holdout,
            promote: opts.promote as PromotePolicy,
            ...(margin !== undefined ? { margin } : {}),
            cwd: ctx.io.cwd,
          },
          (line) => ctx.info(line),
          {
            onOutput: (line) => {
              if (!ctx.globals.quiet) ctx.io.stderr.write(`${machine ? '' : '  | '}${line}\n`);
            },
            signal: controller.signal,
          },
        );
        return view(result);
      }),
    );
}

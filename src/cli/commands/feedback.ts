// `maas feedback ID --id REQ --label L | --value V | --file F`: ground truth for logged predictions.
import { EXIT, MaasError } from '../../core/errors.js';
import type { FeedbackItem } from '../../protocol/feedback.js';
import type { Program, Run } from '../program.js';
import { readSource } from '../io.js';

/** Rejected items listed on stderr; `-o json` has them all. */
const MAX_REJECTED_NOTES = 20;

export function define(program: Program, run: Run): void {
  program
    .command('feedback')
    .argument('<id>')
    .description('send ground truth for logged predictions (one, or a file of them)')
    .addHelpText('after', '\nExamples:\n  maas feedback d-5f3a9c1e2b --id 1a2b3c-0 --label walking\n  maas feedback d-5f3a9c1e2b --file truth.csv')
    .option('--id <request-id>', 'the prediction id the feedback is for')
    .option('--label <label>', 'the true class (classification)')
    .option('--value <number>', 'the true value (regression)')
    .option('-f, --file <file>', 'many at once: JSON array / NDJSON / CSV with columns id and label or value; - reads stdin')
    .option('--timeout <duration>', 'request timeout', '60s')
    .action(
      run(async (ctx, id, opts) => {
        const [{ parseDuration }, { sendFeedback }, { parseFeedbackRows }, { formatFromName }] = await Promise.all([
          import('../../core/duration.js'),
          import('../../app/feedback.js'),
          import('../../protocol/feedback.js'),
          import('../../protocol/formats.js'),
        ]);
        let items: FeedbackItem[];
        if (opts.file !== undefined) {
          if (opts.id !== undefined || opts.label !== undefined || opts.value !== undefined)
            throw new MaasError('USAGE', '--file cannot be combined with --id/--label/--value');
          items = parseFeedbackRows(await readSource(ctx.io, opts.file), formatFromName(opts.file));
        } else {
          if (opts.id === undefined)
            throw new MaasError('USAGE', 'give --id REQUEST_ID with --label or --value, or --file FILE', { hint: '`maas predict` prints the ids' });
          if ((opts.label === undefined) === (opts.value === undefined)) throw new MaasError('USAGE', 'give exactly one of --label and --value');
          const { parseFiniteNumber } = await import('../../core/numbers.js');
          items = [opts.label !== undefined ? { id: opts.id, label: opts.label } : { id: opts.id, value: parseFiniteNumber(opts.value ?? '', '--value') }];
        }
        const report = await sendFeedback(await ctx.services(), { deployment: id, items, timeoutMs: parseDuration(opts.timeout, '--timeout') });
        const { rejected } = report;
        const notes = rejected.slice(0, MAX_REJECTED_NOTES).map((r) => `rejected ${r.id}: ${r.reason} (${r.message})`);
        if (rejected.length > MAX_REJECTED_NOTES) notes.push(`... and ${rejected.length - MAX_REJECTED_NOTES} more rejected (-o json lists them all)`);
        // A conflict is the graver outcome: other truth is on record and was kept.
        const exitCode = rejected.some((r) => r.reason === 'conflict') ? EXIT.CONFLICT : rejected.length > 0 ? EXIT.NOT_FOUND : EXIT.OK;
        return {
          data: report,
          text: () => `feedback: ${report.applied} applied, ${report.unchanged} already recorded, ${rejected.length} rejected`,
          names: report.ids,
          notes,
          exitCode,
        };
      }),
    );
}

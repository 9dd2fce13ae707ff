// `maas feedback ID --id REQ --label L | --value V | --file F`: ground truth for logged predictions.
// `maas feedback export ID [--since T] [--limit N] [--out FILE]`: the labelled rows back, as CSV.
// `export` is a subcommand of `feedback` whose own action stays the default: commander dispatches
// to `export` only when it is the first word after `feedback`, and positional options keep
// `feedback`'s flags from swallowing those of `export`.
import { EXIT, MaasError } from '../../core/errors.js';
import type { FeedbackItem } from '../../protocol/feedback.js';
import type { LabelledCell } from '../../protocol/labelled.js';
import type { LabelledExport } from '../../app/feedback-export.js';
import type { Program, Run } from '../program.js';
import { readSource } from '../io.js';
import type { OutputFormat } from '../output.js';

/** Rejected items listed on stderr; `-o json` has them all. */
const MAX_REJECTED_NOTES = 20;

export function define(program: Program, run: Run): void {
  const feedback = program
    .command('feedback')
    .argument('<id>')
    .description('send ground truth for logged predictions (one, or a file of them); `feedback export` reads them back')
    .addHelpText(
      'after',
      '\nExamples:\n  maas feedback d-5f3a9c1e2b --id 1a2b3c-0 --label walking\n  maas feedback d-5f3a9c1e2b --file truth.csv\n  maas feedback export d-5f3a9c1e2b --since 24h --out labelled.csv',
    )
    .enablePositionalOptions()
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
        const api = await ctx.remote();
        const report = api
          ? await api.feedback(id, items)
          : await sendFeedback(await ctx.services(), { deployment: id, items, timeoutMs: parseDuration(opts.timeout, '--timeout') });
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

  feedback
    .command('export')
    .argument('<id>', 'a deployment ID (or unique prefix, or NAME[@VERSION])')
    .description("the deployment's logged predictions that have ground truth, as training rows (CSV)")
    .addHelpText(
      'after',
      [
        '',
        'CSV by default: a header of the features in description order and the target column, one',
        'row per labelled prediction, oldest first. `-o json|yaml` prints the export as data (with',
        'ids, times and model versions). A strict deployment keeps raw rows on its node and refuses.',
        '',
        'Examples:',
        '  maas feedback export d-5f3a9c1e2b > labelled.csv',
        '  maas feedback export d-5f3a9c1e2b --since 24h --limit 5000 --out labelled.csv',
        '  maas feedback export d-5f3a9c1e2b --since 2026-01-31T00:00:00Z -o json',
      ].join('\n'),
    )
    .option('--since <time>', 'only predictions logged since then: an ISO 8601 time, or a duration back from now (24h, 7d)')
    .option('--limit <n>', 'only the most recent N labelled rows')
    .option('--out <file>', 'write the export to this file (atomically) instead of stdout')
    .option('--timeout <duration>', 'request timeout', '60s')
    .action(
      run(async (ctx, id, opts) => {
        const [{ parseDuration }, { exportFeedback }] = await Promise.all([import('../../core/duration.js'), import('../../app/feedback-export.js')]);
        let limit: number | undefined;
        if (opts.limit !== undefined) {
          limit = /^\d+$/.test(opts.limit.trim()) ? Number(opts.limit) : NaN;
          if (!Number.isSafeInteger(limit) || limit < 1) throw new MaasError('USAGE', `--limit must be a whole number >= 1; got ${JSON.stringify(opts.limit)}`);
        }
        const data = await exportFeedback(await ctx.services(), {
          deployment: id,
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(limit !== undefined ? { limit } : {}),
          timeoutMs: parseDuration(opts.timeout, '--timeout'),
        });
        const what = `${data.rows.length} labelled row${data.rows.length === 1 ? '' : 's'} of ${data.model_name}@${data.model_version}`;
        if (opts.out !== undefined) {
          await writeAtomically(ctx.resolvePath(opts.out), await exportText(data, ctx.output));
          const format = ctx.output === 'json' || ctx.output === 'yaml' ? ctx.output : 'csv';
          return {
            data: { deployment: data.deployment, file: opts.out, format, rows: data.rows.length, features: data.features, target: data.target },
            text: () => `wrote ${what} to ${opts.out}`,
            names: [opts.out],
          };
        }
        if (ctx.output === 'json' || ctx.output === 'yaml') return { data, names: data.ids };
        const csv = await exportText(data, ctx.output);
        return {
          data,
          text: () => csv,
          names: data.ids,
          notes: data.rows.length === 0 ? [`no labelled rows in ${data.deployment}${opts.since ? ` since ${opts.since}` : ''}`] : [],
        };
      }),
    );
}

/** The export as the file or stdout gets it: CSV (header = features + target), or JSON/YAML data. */
async function exportText(data: LabelledExport, format: OutputFormat): Promise<string> {
  if (format === 'json' || format === 'yaml') {
    const { jsonChunks, yamlChunks } = await import('../output.js');
    return [...(format === 'json' ? jsonChunks(data) : yamlChunks(data))].join('');
  }
  const { formatCsv } = await import('../../protocol/csv.js');
  const cell = (v: LabelledCell): string => (v === null ? '' : String(v));
  return formatCsv({ header: [...data.features, data.target], rows: data.rows.map((r) => r.map(cell)) });
}

/** Written beside the target and renamed, so a failed write never leaves half a file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const [fs, p] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  const tmp = p.join(p.dirname(path), `.${p.basename(path)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

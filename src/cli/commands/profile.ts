// `maas profile set|show NAME@VERSION`: the reference profile of a model version, i.e. per-feature
// statistics and a sample of its training data, which deployments carry for drift checks.
import type { ReferenceProfile, FeatureProfile } from '../../drift/profile.js';
import { shortDigest } from '../model-view.js';
import type { Column, Style } from '../output.js';
import type { Program, Run } from '../program.js';

/** Four significant digits; '-' for nothing. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

const percent = (n: number, total: number): string => (total > 0 ? `${Math.round((100 * n) / total)}%` : '-');

/** The most frequent values with their shares, most frequent first. */
export function topValues(counts: Readonly<Record<string, number>>, total: number, max = 3): string {
  const sorted = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const shown = sorted.slice(0, max).map(([v, n]) => `${v} ${percent(n, total)}`);
  return sorted.length > max ? `${shown.join(', ')}, +${sorted.length - max} more` : shown.join(', ');
}

function quantile(f: FeatureProfile, q: number): string {
  return 'quantiles' in f ? num(f.quantiles.find((x) => x.q === q)?.value) : '-';
}

const numeric = <T>(f: FeatureProfile, pick: (n: Extract<FeatureProfile, { quantiles: unknown }>) => T): T | undefined =>
  'quantiles' in f ? pick(f) : undefined;

function featureColumns(): Column<FeatureProfile>[] {
  const q = (header: string, at: number, wide = true): Column<FeatureProfile> => ({ header, value: (f) => quantile(f, at), wide });
  return [
    { header: 'feature', value: (f) => f.name },
    { header: 'type', value: (f) => f.type },
    { header: 'count', value: (f) => String(f.count) },
    { header: 'missing', value: (f) => String(f.missing) },
    { header: 'mean', value: (f) => num(numeric(f, (n) => n.mean)) },
    { header: 'std', value: (f) => num(numeric(f, (n) => n.std)) },
    { header: 'min', value: (f) => num(numeric(f, (n) => n.min)) },
    q('p1', 0.01),
    q('p5', 0.05),
    q('p25', 0.25),
    q('p50', 0.5, false),
    q('p75', 0.75),
    q('p95', 0.95),
    q('p99', 0.99),
    { header: 'max', value: (f) => num(numeric(f, (n) => n.max)) },
    { header: 'distinct', value: (f) => `${f.distinct}${f.distinctCapped ? '+' : ''}` },
    { header: 'top', value: (f) => ('counts' in f ? topValues(f.counts, f.count) : '-') },
  ];
}

/** The header lines of `profile show`: what the data was, and the target's distribution. */
export function profileNotes(ref: string, p: ReferenceProfile): string[] {
  const digest = p.source.digest ? ` (sha256 ${shortDigest(p.source.digest)})` : '';
  const notes = [
    `${ref}: profile of ${p.rows} rows from ${p.source.uri}${digest}`,
    `created ${p.createdAt}; sample of ${p.sample.rows.length} rows (capacity ${p.sample.capacity})`,
  ];
  const t = p.target;
  if (t?.kind === 'categorical') notes.push(`target ${t.name}: ${topValues(t.counts, t.count, 6)}${t.missing ? `; ${t.missing} missing` : ''}`);
  else if (t)
    notes.push(`target ${t.name}: mean ${num(t.mean)}, std ${num(t.std)}, min ${num(t.min)}, max ${num(t.max)}${t.missing ? `; ${t.missing} missing` : ''}`);
  return notes;
}

export function define(program: Program, run: Run): void {
  const profile = program
    .command('profile')
    .description("a model version's reference profile: per-feature statistics and a sample of its training data, for drift checks");

  profile
    .command('set')
    .argument('<model>', 'NAME@VERSION')
    .description('compute the reference profile of a registered version from a data file and store it (replacing one)')
    .requiredOption('--data <file>', 'the data: a CSV file whose header names every feature (a path or file:// URI)')
    .option('--target <column>', 'column holding the label or target value (default: spec.training.data.target, when the data has it)')
    .addHelpText(
      'after',
      '\nExamples:\n  maas profile set har-classifier@1 --data train.csv\n  maas profile set har-classifier@1 --data train.csv --target activity',
    )
    .action(
      run(async (ctx, model, opts) => {
        const [{ parseModelRef }, { setProfile }] = await Promise.all([import('../../domain/model-ref.js'), import('../../app/profile.js')]);
        const ref = parseModelRef(model);
        const spinner = await ctx.spinner(`profiling ${opts.data}`);
        let r;
        try {
          r = await setProfile(await ctx.services(), {
            model: ref.name,
            ...(ref.version !== undefined ? { version: ref.version } : {}),
            data: opts.data,
            ...(opts.target !== undefined ? { target: opts.target } : {}),
            cwd: ctx.io.cwd,
          });
          spinner.stop();
        } catch (e) {
          spinner.fail();
          throw e;
        }
        const p = r.profile;
        return {
          data: r,
          names: [`${r.name}@${r.version}`],
          text: (style: Style) =>
            `${style.green('profile set')} for ${r.name}@${r.version}: ${p.rows} rows, ${p.features} features, sample of ${p.sampleRows} rows${p.target !== undefined ? `, target ${p.target}` : ''} (from ${p.source.uri})`,
        };
      }),
    );

  profile
    .command('show')
    .argument('<model>', 'NAME[@VERSION] (latest when no version)')
    .description('print the stored reference profile: one row per feature (-o wide: more quantiles; -o json|yaml: the profile itself)')
    .option('--sample', 'with -o json|yaml, include the sample rows (left out by default: they can be thousands)')
    .addHelpText(
      'after',
      '\nExamples:\n  maas profile show har-classifier@1\n  maas profile show har-classifier@1 -o wide\n  maas profile show har-classifier@1 -o json --sample',
    )
    .action(
      run(async (ctx, model, opts) => {
        const [{ parseModelRef }, { showProfile, withoutSampleRows }] = await Promise.all([
          import('../../domain/model-ref.js'),
          import('../../app/profile.js'),
        ]);
        const ref = parseModelRef(model);
        const { model: record, profile: p } = await showProfile(await ctx.services(), ref.name, ref.version);
        return {
          data: opts.sample === true ? p : withoutSampleRows(p),
          names: [`${record.name}@${record.version}`],
          notes: profileNotes(`${record.name}@${record.version}`, p),
          table: { columns: featureColumns(), rows: p.features },
        };
      }),
    );
}

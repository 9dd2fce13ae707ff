// `maas compose apply|list|status|describe|delete`: several model services behind one endpoint.
// The description is a `kind: Composition` document; the router is a deployment of its own that
// speaks the same inference protocol, so `maas predict` and `maas feedback` take a composition name.
import { Option } from '@commander-js/extra-typings';
import { parseDuration } from '../../core/duration.js';
import type { CompositionStatus, CompositionSummary } from '../../app/compose-status.js';
import type { MemberStatsWire } from '../../protocol/composition-stats.js';
import { DEFAULT_TARGET, TARGET_NAMES } from '../../targets/plugins.js';
import { age, colorState } from '../deployment-view.js';
import type { Column, Style } from '../output.js';
import type { Program, Run } from '../program.js';

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : `${x < 10 ? x.toFixed(2) : x.toFixed(0)}ms`);

function summaryColumns(now: number): Column<CompositionSummary>[] {
  return [
    { header: 'name', value: (c) => `${c.name}@${c.version}` },
    { header: 'mode', value: (c) => c.mode },
    { header: 'members', value: (c) => String(c.members) },
    { header: 'router', value: (c) => c.router },
    { header: 'state', value: (c, s) => (c.state === 'missing' ? s.red('missing') : colorState(c.state, s)) },
    { header: 'endpoint', value: (c) => c.endpoint ?? '' },
    { header: 'updated', value: (c) => age(c.updatedAt, now) },
  ];
}

interface MemberRow {
  key: string;
  role: string;
  weight: number;
  deployment: string;
  state: string;
  m?: MemberStatsWire;
}

function memberColumns(): Column<MemberRow>[] {
  const quality = (m: MemberStatsWire | undefined): string => {
    if (!m) return '-';
    const q = m.quality;
    if (q.accuracy !== undefined) return q.labelled > 0 ? `${pct(q.accuracy)} (${q.labelled})` : '-';
    return q.labelled > 0 ? `mae ${q.mae?.toPrecision(3) ?? '-'} (${q.labelled})` : '-';
  };
  return [
    { header: 'member', value: (r) => r.key },
    { header: 'role', value: (r) => r.role },
    { header: 'weight', value: (r) => String(r.weight) },
    { header: 'deployment', value: (r) => r.deployment },
    { header: 'state', value: (r) => r.state },
    { header: 'requests', value: (r) => (r.m ? String(r.m.requests) : '-') },
    { header: 'reliability', value: (r) => pct(r.m?.reliability) },
    { header: 'p50', value: (r) => ms(r.m?.latencyMs.p50) },
    { header: 'p95', value: (r) => ms(r.m?.latencyMs.p95) },
    { header: 'agreement', value: (r) => pct(r.m?.agreement.rate) },
    { header: 'quality', value: (r) => quality(r.m) },
    { header: 'errors', value: (r) => (r.m ? String(r.m.errors) : '-'), wide: true },
    { header: 'timeouts', value: (r) => (r.m ? String(r.m.timeouts) : '-'), wide: true },
  ];
}

function memberRows(st: CompositionStatus): MemberRow[] {
  const measured = new Map((st.measurements?.members ?? []).map((m) => [m.key, m]));
  return st.members.map((m) => ({
    key: m.key,
    role: m.role,
    weight: m.weight,
    deployment: m.deployment?.id ?? '(gone)',
    state: m.deployment?.state ?? 'missing',
    ...(measured.has(m.key) ? { m: measured.get(m.key)! } : {}),
  }));
}

function statusNotes(st: CompositionStatus, style: Style): string[] {
  const c = st.composition;
  const r = st.router;
  const notes = [
    `${c.name}@${c.version}: ${c.description.spec.mode}${c.description.spec.aggregation ? ` (${c.description.spec.aggregation})` : ''} over ${c.members.length} members; router ${r ? `${r.id} ${colorState(r.state, style)}${r.endpoint ? ` at ${r.endpoint}` : ''}` : style.red(`${c.router} missing`)}`,
  ];
  const m = st.measurements;
  if (m) {
    const q = m.quality;
    const quality =
      q.accuracy !== undefined ? `accuracy ${pct(q.accuracy)} on ${q.labelled} labelled` : `mae ${q.mae?.toPrecision(3) ?? '-'} on ${q.labelled} labelled`;
    notes.push(`composition: ${m.requests} requests, ${m.errors} unanswered, p50 ${ms(m.latencyMs.p50)}, p95 ${ms(m.latencyMs.p95)}, ${quality}`);
  } else if (st.unavailable) notes.push(`no measurements: ${st.unavailable}`);
  return notes;
}

export function define(program: Program, run: Run): void {
  const compose = program
    .command('compose')
    .description('compositions: several model services behind one endpoint (ensemble, split, shadow)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas compose apply examples/har-ensemble/composition.yaml',
        '  maas predict har-ensemble --input rows.csv',
        '  maas compose status har-ensemble -o json',
        '  maas compose delete har-ensemble --purge',
      ].join('\n'),
    );

  compose
    .command('apply')
    .argument('<file>', 'a `kind: Composition` description (YAML or JSON)')
    .description('create or update a composition: deploy or join its members, start or update its router')
    .option('-t, --target <target>', `where members and router run: ${TARGET_NAMES.join(', ')} (default: config target, then ${DEFAULT_TARGET})`)
    .option('--async', 'return at once; members and router keep starting (check with `maas compose status NAME`)')
    .option('--timeout <duration>', 'how long to wait for members and router', '180s')
    .action(
      run(async (ctx, file, opts) => {
        const [{ readCompositionFile }, { composeApply }] = await Promise.all([import('../composition-file.js'), import('../../app/compose.js')]);
        const { description, locate } = await readCompositionFile(ctx, file);
        const target = opts.target ?? ctx.config.target ?? DEFAULT_TARGET;
        const services = await ctx.services();
        const spinner = await ctx.spinner(`applying ${description.metadata.name}@${description.metadata.version}`);
        let r;
        try {
          r = await composeApply(
            services,
            { description, locate, target, async: opts.async === true, timeoutMs: parseDuration(opts.timeout, '--timeout') },
            ctx.progress(spinner),
          );
          spinner.succeed(`${r.composition.name}@${r.composition.version} ${r.outcome}`);
        } catch (e) {
          spinner.fail();
          throw e;
        }
        const rows = r.members.map((m) => ({ ...m }));
        return {
          data: {
            name: r.composition.name,
            version: r.composition.version,
            outcome: r.outcome,
            router: r.router.id,
            state: r.router.state,
            endpoint: r.endpoint ?? null,
            members: r.members,
            released: r.released,
          },
          names: [r.composition.name],
          notes: [
            `composition ${r.composition.name}@${r.composition.version} ${r.outcome}: router ${r.router.id} ${r.router.state}${r.endpoint ? ` at ${r.endpoint}` : ''}`,
            ...r.released.map((m) => `released ${m.key} (${m.deployment}): ${m.outcome}`),
          ],
          table: {
            columns: [
              { header: 'member', value: (m: (typeof rows)[number]) => m.key },
              { header: 'deployment', value: (m: (typeof rows)[number]) => m.deployment },
              { header: 'outcome', value: (m: (typeof rows)[number]) => m.outcome },
            ],
            rows,
          },
        };
      }),
    );

  compose
    .command('list')
    .alias('ls')
    .description('list compositions with their router state and endpoint')
    .action(
      run(async (ctx) => {
        const { listCompositions } = await import('../../app/compose-status.js');
        const list = await listCompositions(await ctx.services());
        return {
          data: list,
          names: list.map((c) => c.name),
          table: { columns: summaryColumns(ctx.clock.now()), rows: list, empty: 'no compositions; create one with `maas compose apply FILE`' },
        };
      }),
    );

  compose
    .command('status')
    .argument('<name>', 'the composition')
    .description("the router and members as they run now, with each member's live measurements (-o json: the documented shape)")
    .option('--timeout <duration>', 'how long to wait for the router to answer', '10s')
    .action(
      run(async (ctx, name, opts) => {
        const { compositionStatus } = await import('../../app/compose-status.js');
        const st = await compositionStatus(await ctx.services(), name, { timeoutMs: parseDuration(opts.timeout, '--timeout'), measure: true });
        return {
          data: {
            name: st.composition.name,
            version: st.composition.version,
            mode: st.composition.description.spec.mode,
            router: st.router ? { id: st.router.id, state: st.router.state, endpoint: st.router.endpoint ?? null } : null,
            members: st.members.map((m) => ({
              key: m.key,
              role: m.role,
              weight: m.weight,
              deployment: m.deployment?.id ?? null,
              state: m.deployment?.state ?? 'missing',
            })),
            measurements: st.measurements ?? null,
            ...(st.unavailable ? { unavailable: st.unavailable } : {}),
          },
          names: [st.composition.name],
          notes: statusNotes(st, ctx.style),
          table: { columns: memberColumns(), rows: memberRows(st) },
        };
      }),
    );

  compose
    .command('describe')
    .argument('<name>', 'the composition')
    .description('the stored description, members as applied, and history')
    .action(
      run(async (ctx, name) => {
        const { requireComposition } = await import('../../app/compose-status.js');
        const c = await requireComposition(await ctx.services(), name);
        const now = ctx.clock.now();
        return {
          data: c,
          names: [c.name],
          text: (style: Style) =>
            [
              `${style.bold('Composition:')} ${c.name}@${c.version}`,
              `${style.bold('Mode:')}        ${c.description.spec.mode}${c.description.spec.aggregation ? ` (${c.description.spec.aggregation})` : ''}`,
              `${style.bold('Router:')}      ${c.router}`,
              `${style.bold('Members:')}`,
              ...c.members.map((m) => `  ${m.key}  ${m.deployment}  weight ${m.weight}  ${m.role}  timeout ${m.timeoutMs}ms${m.created ? '' : '  (joined)'}`),
              `${style.bold('History:')}`,
              ...c.history.map((h) => `  ${h.at} (${age(h.at, now)} ago)  ${h.event} ${h.version}: ${h.summary}`),
            ].join('\n'),
        };
      }),
    );

  compose
    .command('delete')
    .argument('<name>', 'the composition')
    .description('remove the router and release every member (a member nobody else uses is cached; with --purge destroyed)')
    .addOption(new Option('--purge', 'also destroy members no other consumer uses (step two of decommission, now)'))
    .action(
      run(async (ctx, name, opts) => {
        const { composeDelete } = await import('../../app/compose-status.js');
        const r = await composeDelete(await ctx.services(), name, { purge: opts.purge === true });
        return {
          data: r,
          names: [r.name],
          text: () =>
            [
              `composition ${r.name} deleted; router ${r.router.id} ${r.router.outcome}`,
              ...r.members.map(
                (m) =>
                  `  ${m.key} (${m.deployment}): ${m.outcome}${m.remainingConsumers.length > 0 ? `, still used by ${m.remainingConsumers.join(', ')}` : ''}`,
              ),
            ].join('\n'),
        };
      }),
    );
}

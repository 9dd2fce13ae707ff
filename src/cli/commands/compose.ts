// `maas compose apply|list|status|describe|delete`: several model services behind one endpoint.
// The description is a `kind: Composition` document; the router is a deployment of its own that
// speaks the same inference protocol, so `maas predict` and `maas feedback` take a composition name.
// Against a server every subcommand calls it; apply and --adapt are jobs there, waited for here
// and shown as the local command shows its result.
import { Option } from '@commander-js/extra-typings';
import { parseDuration } from '../../core/duration.js';
import type { CompositionStatus, CompositionSummary } from '../../app/compose-status.js';
import type { AdaptResult } from '../../app/compose-adapt.js';
import type { ComposeApplyResult } from '../../app/compose.js';
import { STRATEGY_NAMES } from '../../adapt/strategies.js';
import { MaasError } from '../../core/errors.js';
import type { MemberStatsWire } from '../../protocol/composition-stats.js';
import { DEFAULT_TARGET, TARGET_NAMES } from '../../targets/plugins.js';
import { age, colorState } from '../deployment-view.js';
import type { Column, CommandResult, Style } from '../output.js';
import type { Program, Run } from '../program.js';
import { waitForRemoteJob, type RemoteJobWait } from '../remote-job.js';

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
    .argument('[name]', 'with --adapt: the composition to adapt')
    .description('compositions: several model services behind one endpoint (ensemble, split, shadow); `compose NAME --adapt` recomposes it')
    .option('--adapt', 'find underperforming members and replace them from the registry (assessment, candidates, rules, a contextual bandit)')
    .option('--dry-run', 'with --adapt: print the plan, change nothing')
    .addOption(new Option('--strategy <name>', 'with --adapt: how replacements are chosen').choices(STRATEGY_NAMES).default('linucb'))
    .option('--explain', 'with --adapt: every candidate with its rule scores, and why other models were excluded')
    .option('--seed <n>', 'with --adapt: seed of the randomised steps', '0')
    .option('--timeout <duration>', 'with --adapt: how long to wait for the router and for applying', '180s')
    .option('--async', 'with --adapt, against a server: print the job ID at once (follow it with `maas jobs ID`)')
    .option('--idempotency-key <key>', 'with --adapt, against a server: the same key again joins the first job instead of adapting twice')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas compose apply examples/har-ensemble/composition.yaml',
        '  maas predict har-ensemble --data rows.csv',
        '  maas compose status har-ensemble -o json',
        '  maas compose delete har-ensemble --purge',
        '  maas compose assess har-ensemble --method shapley',
        '  maas compose har-ensemble --adapt --dry-run --explain',
        '  maas compose history har-ensemble',
      ].join('\n'),
    )
    .action(
      run(async (ctx, name, opts) => {
        if (!opts.adapt || name === undefined)
          throw new MaasError(
            'USAGE',
            name === undefined ? 'name a subcommand, or a composition with --adapt' : `unknown compose subcommand "${name}"; to recompose it add --adapt`,
            {
              hint: 'subcommands: apply, list, status, describe, assess, history, delete; `maas compose NAME --adapt [--dry-run]` adapts a composition',
            },
          );
        const request = {
          dryRun: opts.dryRun === true,
          strategy: opts.strategy,
          timeoutMs: parseDuration(opts.timeout, '--timeout'),
          seed: parseSeed(opts.seed),
        };
        const api = await ctx.remote();
        if (api) {
          const accepted = await api.adaptComposition(name, request, opts.idempotencyKey ?? (await import('node:crypto')).randomUUID());
          if (opts.async === true) return queued(accepted);
          // The server assesses (router calls) and then applies (a deploy per replacement, the router switch).
          const result = (await waitForRemoteJob(ctx, api, accepted.job, jobWait(request.timeoutMs, accepted.members + 1, `adapting ${name}`))) as AdaptResult;
          return adaptOutput(name, result, opts.explain === true);
        }
        if (opts.async === true)
          throw new MaasError('USAGE', '--async applies against a server only', { hint: 'here the adaptation runs in this process; leave out --async' });
        const { adaptComposition } = await import('../../app/compose-adapt.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(`adapting ${name}`);
        let r;
        try {
          r = await adaptComposition(services, { name, ...request }, ctx.progress(spinner));
          spinner.stop();
        } catch (e) {
          spinner.fail();
          throw e;
        }
        return adaptOutput(name, r, opts.explain === true);
      }),
    );

  compose
    .command('apply')
    .argument('<file>', 'a `kind: Composition` description (YAML or JSON)')
    .description('create or update a composition: deploy or join its members, start or update its router')
    .option('-t, --target <target>', `where members and router run: ${TARGET_NAMES.join(', ')} (default: config target, then ${DEFAULT_TARGET})`)
    .option('--async', 'return at once; members and router keep starting (check with `maas compose status NAME`); against a server: print the job ID')
    .option('--timeout <duration>', 'how long to wait for members and router', '180s')
    .option('--idempotency-key <key>', 'against a server: re-sending the same apply with the same key joins the first job')
    .action(
      run(async (ctx, file, opts) => {
        const { readCompositionFile } = await import('../composition-file.js');
        // Checked here either way: a server gets a description whose problems were already shown, located in the file.
        const { description, locate, text, shown } = await readCompositionFile(ctx, file);
        const target = opts.target ?? ctx.config.target ?? DEFAULT_TARGET;
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const what = `applying ${description.metadata.name}@${description.metadata.version}`;
        const api = await ctx.remote();
        if (api) {
          const accepted = await api.applyComposition(
            { description: text, source: shown, target, timeoutMs },
            opts.idempotencyKey ?? (await import('node:crypto')).randomUUID(),
          );
          if (opts.async === true) return queued(accepted);
          return applyOutput((await waitForRemoteJob(ctx, api, accepted.job, jobWait(timeoutMs, description.spec.members.length, what))) as ComposeApplyResult);
        }
        const { composeApply } = await import('../../app/compose.js');
        const services = await ctx.services();
        const spinner = await ctx.spinner(what);
        let r;
        try {
          r = await composeApply(services, { description, locate, target, async: opts.async === true, timeoutMs }, ctx.progress(spinner));
          spinner.succeed(`${r.composition.name}@${r.composition.version} ${r.outcome}`);
        } catch (e) {
          spinner.fail();
          throw e;
        }
        return applyOutput(r);
      }),
    );

  compose
    .command('list')
    .alias('ls')
    .description('list compositions with their router state and endpoint')
    .action(
      run(async (ctx) => {
        const api = await ctx.remote();
        const list = api ? await api.listCompositions() : await (await import('../../app/compose-status.js')).listCompositions(await ctx.services());
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
        const o = { timeoutMs: parseDuration(opts.timeout, '--timeout'), measure: true };
        const api = await ctx.remote();
        const st = api
          ? await api.compositionStatus(name, o)
          : await (await import('../../app/compose-status.js')).compositionStatus(await ctx.services(), name, o);
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
        const api = await ctx.remote();
        const c = api
          ? (await api.compositionStatus(name, { measure: false })).composition
          : await (await import('../../app/compose-status.js')).requireComposition(await ctx.services(), name);
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
    .command('assess')
    .argument('<name>', 'the composition')
    .description("each member's contribution on the recorded predictions, and which members are underperforming")
    .addOption(
      new Option('--method <method>', 'scs (service contribution score), loo, ncs or shapley')
        .choices(['scs', 'loo', 'ncs', 'shapley'] as const)
        .default('scs' as const),
    )
    .option('--seed <n>', 'seed of Shapley sampling', '0')
    .option('--timeout <duration>', 'how long to wait for the router', '30s')
    .action(
      run(async (ctx, name, opts) => {
        const request = { method: opts.method, timeoutMs: parseDuration(opts.timeout, '--timeout'), seed: parseSeed(opts.seed) };
        const api = await ctx.remote();
        const r = api
          ? await api.assessComposition(name, request)
          : await (await import('../../app/compose-adapt.js')).assessComposition(await ctx.services(), { name, ...request });
        const measured = new Map(r.measured.map((m) => [m.key, m]));
        const rows = [...r.assessment.members].sort((a, b) => b.score - a.score).map((m) => ({ ...m, measured: measured.get(m.key) }));
        type Row = (typeof rows)[number];
        const sampling = r.assessment.sampling;
        return {
          data: r,
          names: r.underperforming,
          notes: [
            `${r.composition}: ${r.method} on ${r.assessment.rows} labelled predictions; Q(C) ${r.assessment.qos.toFixed(3)}, effectiveness ${r.assessment.effectiveness.toFixed(3)}; threshold ${r.assessment.threshold}`,
            ...(sampling ? [`Shapley by sampling: ${sampling.permutations} permutations, standard error ${sampling.standardError.toFixed(4)}`] : []),
            r.underperforming.length > 0 ? `underperforming: ${r.underperforming.join(', ')}` : 'no member below threshold',
          ],
          table: {
            columns: [
              { header: 'member', value: (m: Row) => m.key },
              { header: 'score', value: (m: Row) => m.score.toFixed(3) },
              { header: 'qos', value: (m: Row) => m.qosContribution.toFixed(3) },
              { header: 'functional', value: (m: Row) => m.functionalContribution.toFixed(3) },
              { header: 'drop', value: (m: Row) => m.qosDrop.toFixed(4) },
              { header: 'accuracy', value: (m: Row) => pct(m.measured?.accuracy) },
              { header: 'reliability', value: (m: Row) => pct(m.measured?.reliability) },
              { header: 'p95', value: (m: Row) => ms(m.measured?.latencyMs) },
              { header: 'status', value: (m: Row, st: Style) => (m.underperforming ? st.red('underperforming') : st.green('ok')) },
            ],
            rows,
          },
        };
      }),
    );

  compose
    .command('history')
    .argument('<name>', 'the composition')
    .description('applies, updates and adaptations, with the scores of each adaptation and the accuracy before and since')
    .option('--timeout <duration>', 'how long to wait for the router', '10s')
    .action(
      run(async (ctx, name, opts) => {
        const timeoutMs = parseDuration(opts.timeout, '--timeout');
        const api = await ctx.remote();
        const h = api
          ? await api.compositionHistory(name, { timeoutMs })
          : await (await import('../../app/compose-adapt.js')).compositionHistory(await ctx.services(), name, timeoutMs);
        type Row = (typeof h.events)[number];
        return {
          data: h,
          names: h.events.map((e) => `${e.event}:${e.version}`),
          table: {
            columns: [
              { header: 'when', value: (e: Row) => e.at },
              { header: 'event', value: (e: Row) => e.event },
              { header: 'version', value: (e: Row) => e.version },
              { header: 'what', value: (e: Row) => e.summary },
              { header: 'accuracy before', value: (e: Row) => (e.event === 'adapted' ? pct(e.accuracyBefore) : '') },
              {
                header: 'since',
                value: (e: Row) => (e.event === 'adapted' ? `${pct(e.accuracyAfter)}${e.labelledAfter !== undefined ? ` (${e.labelledAfter})` : ''}` : ''),
              },
            ],
            rows: h.events,
          },
        };
      }),
    );

  compose
    .command('delete')
    .argument('<name>', 'the composition')
    .description('remove the router and release every member (a member nobody else uses is cached; with --purge destroyed)')
    .addOption(new Option('--purge', 'also destroy members no other consumer uses (step two of decommission, now; against a server: needs admin)'))
    .action(
      run(async (ctx, name, opts) => {
        const o = { purge: opts.purge === true };
        const api = await ctx.remote();
        const r = api ? await api.deleteComposition(name, o) : await (await import('../../app/compose-status.js')).composeDelete(await ctx.services(), name, o);
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

/**
 * How long the CLI waits for a composition job on a server: the job waits up to --timeout for each
 * of `steps` (a member, the router), and may sit in the queue a while first. The job goes on
 * after the CLI gives up.
 */
function jobWait(timeoutMs: number, steps: number, what: string): RemoteJobWait {
  const total = (steps + 1) * timeoutMs + 60_000;
  return { timeoutMs: total, timeoutText: `${Math.ceil(total / 1000)}s`, what };
}

/** `--async` against a server: the job ID on stdout, the composition it is for in -o json. */
function queued(accepted: { composition: string; version: string; job: string }): CommandResult {
  return {
    data: { composition: accepted.composition, version: accepted.version, job: accepted.job },
    names: [accepted.job],
    text: () => accepted.job,
    notes: [`job ${accepted.job} queued for composition ${accepted.composition}; follow it with \`maas jobs ${accepted.job}\``],
  };
}

function applyOutput(r: ComposeApplyResult): CommandResult {
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
}

function adaptOutput(name: string, result: AdaptResult, explain: boolean): CommandResult {
  return { data: result, names: [name], text: (style: Style) => adaptText(result, style, explain) };
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new MaasError('USAGE', `--seed must be a whole number; got "${text}"`);
  return n;
}

/** The plan in words: who is replaced by whom and why, with the scores; `explain` adds every candidate and exclusion. */
function adaptText(r: AdaptResult, style: Style, explain: boolean): string {
  const head =
    r.status === 'applied'
      ? style.green(r.reason)
      : r.status === 'planned'
        ? style.yellow(`plan: ${r.reason}`)
        : r.status === 'nothing'
          ? style.green(r.reason)
          : style.yellow(r.reason);
  const lines = [`${r.composition}: ${head}`];
  for (const m of r.assessment.assessment.members)
    lines.push(
      `  ${m.key}: SCS ${m.score.toFixed(3)} (qos ${m.qosContribution.toFixed(3)}, functional ${m.functionalContribution.toFixed(3)})${m.underperforming ? ` ${style.red('underperforming')}` : ''}`,
    );
  if (r.experience.length > 0)
    lines.push(
      `  learnt from earlier replacements: ${r.experience.map((e) => `${e.key} served at ${(100 * e.reward).toFixed(1)} % on ${e.rows} rows`).join(', ')}`,
    );
  if (r.plan) {
    lines.push(`  strategy ${r.strategy}: ${r.plan.evaluations} of ${r.plan.combinations} combinations evaluated; plan score ${r.plan.score.toFixed(3)}`);
    for (const x of r.plan.replacements)
      lines.push(
        `  ${x.member} -> ${x.candidate}: confidence ${x.confidence.toFixed(3)}, accuracy ${x.accuracyGain >= 0 ? '+' : ''}${x.accuracyGain.toFixed(3)}`,
      );
  }
  if (explain) {
    for (const c of r.candidates) {
      lines.push(`  candidates for ${c.member}:`);
      for (const k of c.candidates) {
        lines.push(
          `    ${k.key}: accuracy ${k.accuracy.toFixed(3)}, p95 ${k.latencyMs}ms, reliability ${k.reliability}${k.measured ? ' (measured)' : ' (declared)'}`,
        );
        for (const rule of ruleLines(k.rules)) lines.push(`      ${rule}`);
      }
      for (const x of c.excluded) lines.push(`    ${style.dim(x.reason)}`);
    }
  }
  if (r.version) lines.push(`  composition now at version ${r.version}`);
  return lines.join('\n');
}

function ruleLines(s: AdaptResult['candidates'][number]['candidates'][number]['rules']): string[] {
  const names = ['dataUtility', 'modelUtility', 'scalability', 'history', 'reliability'] as const;
  return [
    ...names.map((n) => `${n} ${s[n].toFixed(3)}: ${s.notes[n]}`),
    `confidence ${s.confidence.toFixed(3)}${s.rejected ? `; rejected: ${s.rejected}` : ''}`,
  ];
}

// `maas history DEPLOYMENT`: the versions a deployment served over time, when, why, and the
// comparison that justified each change (from the server when working against one).
import type { Program, Run } from '../program.js';
import type { HistoryEntry } from '../../app/rollout.js';

/** A comparison in one table cell: the primary metric and the verdict when it is one of ours, else short JSON. */
function brief(v: unknown, max = 60): string {
  if (v === undefined) return '';
  const c = v as { primary?: { metric?: unknown; a?: unknown; b?: unknown }; verdict?: unknown; rows?: unknown; test?: { p_value?: unknown } };
  if (max <= 60 && typeof c.primary?.a === 'number' && typeof c.primary.b === 'number' && typeof c.verdict === 'string') {
    const p = typeof c.test?.p_value === 'number' ? `, p=${c.test.p_value.toPrecision(2)}` : '';
    const rows = typeof c.rows === 'number' ? ` on ${c.rows} rows` : '';
    return `${String(c.primary.metric)} ${c.primary.a.toFixed(3)} -> ${c.primary.b.toFixed(3)}${rows}: ${c.verdict.replace('_', ' ')}${p}`;
  }
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function define(program: Program, run: Run): void {
  program
    .command('history')
    .argument('<deployment>')
    .description('show the versions a deployment served over time: when, why, and on what evidence')
    .action(
      run(async (ctx, id) => {
        const api = await ctx.remote();
        const h = api ? await api.deploymentHistory(id) : await (await import('../../app/rollout.js')).deploymentHistory(await ctx.services(), id);
        return {
          data: h,
          names: h.entries.map((e) => `${h.model}@${e.version}`),
          table: {
            rows: h.entries,
            columns: [
              { header: 'since', value: (e: HistoryEntry) => e.at },
              { header: 'version', value: (e: HistoryEntry) => (e.current ? `${e.version} (serving)` : e.version) },
              { header: 'from', value: (e: HistoryEntry) => e.from ?? '' },
              { header: 'reason', value: (e: HistoryEntry) => e.reason },
              { header: 'comparison', value: (e: HistoryEntry) => brief(e.comparison) },
              { header: 'full comparison', value: (e: HistoryEntry) => brief(e.comparison, 10_000), wide: true },
            ],
          },
        };
      }),
    );
}

// `maas audit`: the control plane's audit log (every mutating call: who, what, when, result), on
// the server's home or remotely with an admin token.
import type { AuditRecord } from '../../auth/ports.js';
import { positiveInteger } from '../flags.js';
import type { Style } from '../output.js';
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('audit')
    .description("the control plane's audit log: who called what, when, on what, with which result (admin)")
    .option('--since <time>', 'only entries since a duration back from now (24h, 7d) or an ISO time')
    .option('--token <name>', 'only the calls of the token with this name')
    .option('--limit <n>', 'at most the newest N entries', '100')
    .addHelpText('after', '\nExamples:\n  maas audit --since 24h\n  maas audit --token ci -o json')
    .action(
      run(async (ctx, o: { since?: string; token?: string; limit: string }) => {
        const limit = positiveInteger(o.limit, '--limit');
        const api = await ctx.remote();
        const entries = api
          ? await api.listAudit({ ...(o.since !== undefined ? { since: o.since } : {}), ...(o.token !== undefined ? { token: o.token } : {}), limit })
          : await (
              await import('../../app/audit.js')
            ).listAudit(await ctx.services({ local: true }), {
              ...(o.since !== undefined ? { since: o.since } : {}),
              ...(o.token !== undefined ? { tokenName: o.token } : {}),
              limit,
            });
        return {
          data: entries,
          names: entries.map((e) => e.requestId),
          table: {
            rows: entries,
            empty: 'no audit entries',
            columns: [
              { header: 'at', value: (e: AuditRecord) => e.at },
              { header: 'token', value: (e: AuditRecord) => e.tokenName ?? '-' },
              { header: 'action', value: (e: AuditRecord) => e.action },
              { header: 'target', value: (e: AuditRecord) => e.target ?? '' },
              {
                header: 'status',
                value: (e: AuditRecord, s: Style) => (e.status < 400 ? String(e.status) : s.red(`${e.status}${e.code ? ` ${e.code}` : ''}`)),
              },
              { header: 'request', value: (e: AuditRecord) => e.requestId, wide: true },
              { header: 'address', value: (e: AuditRecord) => e.ip ?? '', wide: true },
              { header: 'call', value: (e: AuditRecord) => `${e.method} ${e.path}`, wide: true },
            ],
          },
        };
      }),
    );
}

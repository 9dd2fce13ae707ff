// `maas token create|list|revoke`: API tokens for the control plane (`maas server`). A token is
// printed once when created; the registry keeps only a salted hash of its secret.
import { SCOPES } from '../../auth/scopes.js';
import type { TokenInfo, TokenState } from '../../app/tokens.js';
import { age } from '../deployment-view.js';
import type { Column, Style } from '../output.js';
import type { Program, Run } from '../program.js';

function colorTokenState(state: TokenState, style: Style): string {
  return state === 'active' ? style.green(state) : state === 'revoked' ? style.red(state) : style.yellow(state);
}

/** "in 29d" for a future time, "3h ago" for a past one. */
function relative(iso: string, now: number): string {
  const at = Date.parse(iso);
  return at > now ? `in ${age(new Date(now).toISOString(), at)}` : `${age(iso, now)} ago`;
}

function tokenColumns(now: number): Column<TokenInfo>[] {
  return [
    { header: 'id', value: (t) => t.id },
    { header: 'name', value: (t) => t.name },
    { header: 'scopes', value: (t) => t.scopes.join(',') },
    { header: 'state', value: (t, s) => colorTokenState(t.state, s) },
    { header: 'created', value: (t) => relative(t.createdAt, now) },
    { header: 'expires', value: (t) => (t.expiresAt ? relative(t.expiresAt, now) : 'never') },
    { header: 'last used', value: (t) => (t.lastUsedAt ? relative(t.lastUsedAt, now) : 'never') },
    { header: 'created by', value: (t) => t.createdBy ?? '', wide: true },
    { header: 'revoked', value: (t) => t.revokedAt ?? '', wide: true },
  ];
}

export function define(program: Program, run: Run): void {
  const token = program.command('token').description('API tokens for the control plane: create, list, revoke');

  token
    .command('create')
    .description('create a token and print it once (the registry keeps only a salted hash of it)')
    .requiredOption('--name <name>', 'unique among active tokens: up to 64 letters, digits, ".", "_" or "-"')
    .requiredOption('--scope <scopes>', `comma-separated scopes: ${SCOPES.join(', ')} (admin includes deploy, deploy includes read)`)
    .option('--expires <duration>', 'lifetime, e.g. 30d or 12h (default: never expires)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  maas token create --name ci --scope read,deploy --expires 90d',
        '  TOKEN=$(maas token create --name dashboards --scope read)',
        '  maas token create --name ops --scope admin -o json',
      ].join('\n'),
    )
    .action(
      run(async (ctx, opts) => {
        const [{ createToken }, { randomBytes }] = await Promise.all([import('../../app/tokens.js'), import('node:crypto')]);
        const api = await ctx.remote();
        const t = api
          ? await api.createToken({
              name: opts.name,
              scopes: String(opts.scope)
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean),
              ...(opts.expires !== undefined ? { expires: opts.expires } : {}),
            })
          : await createToken(
              await ctx.services(),
              { name: opts.name, scopes: opts.scope, ...(opts.expires !== undefined ? { expires: opts.expires } : {}), createdBy: ctx.consumer(undefined) },
              randomBytes,
            );
        return {
          data: { token: t.token, id: t.id, name: t.name, scopes: t.scopes, createdAt: t.createdAt, expiresAt: t.expiresAt ?? null },
          names: [t.id],
          notes: [
            `created token ${t.name} (id ${t.id}) with scopes ${t.scopes.join(',')}${t.expiresAt ? `, expires ${t.expiresAt}` : ', no expiry'}`,
            'copy it now: it is not shown again (send it as `Authorization: Bearer TOKEN`)',
          ],
          text: () => t.token,
        };
      }),
    );

  token
    .command('list')
    .alias('ls')
    .description('every token with its scopes and state (active, expired, revoked); never the secrets')
    .action(
      run(async (ctx) => {
        const api = await ctx.remote();
        const tokens = api ? await api.listTokens() : await (await import('../../app/tokens.js')).listTokens(await ctx.services());
        return {
          data: tokens,
          names: tokens.map((t) => t.id),
          table: { columns: tokenColumns(ctx.clock.now()), rows: tokens, empty: 'no tokens; create one with `maas token create --name NAME --scope read`' },
        };
      }),
    );

  token
    .command('revoke')
    .argument('<id-or-name>', "the token's id or name (or the token itself)")
    .description('revoke a token at once: the server refuses it from its next request on')
    .action(
      run(async (ctx, idOrName) => {
        const api = await ctx.remote();
        const r = api ? await api.revokeToken(idOrName) : await (await import('../../app/tokens.js')).revokeToken(await ctx.services(), idOrName);
        return {
          data: { revoked: r.tokens, alreadyRevoked: r.alreadyRevoked },
          names: r.tokens.map((t) => t.id),
          text: () => r.tokens.map((t) => `${r.alreadyRevoked ? 'already revoked' : 'revoked'}: token ${t.name} (id ${t.id})`).join('\n'),
        };
      }),
    );
}

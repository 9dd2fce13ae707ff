// `maas login URL --token T`, `maas logout`, `maas whoami`: point the CLI at a maas server (every
// command that has a remote form then works against it, with the same output and exit codes).
import type { Program, Run } from '../program.js';
import { MaasError } from '../../core/errors.js';
import { removeLogin, writeLogin } from '../login-file.js';

export function define(program: Program, run: Run): void {
  program
    .command('login')
    .argument('<url>', 'the server, e.g. https://maas.example.com or http://127.0.0.1:8080')
    .description('work against a maas server from now on (saved in MAAS_HOME/login.json, readable by you only)')
    .requiredOption('--token <token>', 'an API token (`maas token create` on the server); `-` reads it from stdin')
    .action(
      run(async (ctx, url, o: { token: string }) => {
        let token = o.token;
        if (token === '-') token = (await new Response(ctx.io.stdin as unknown as ReadableStream).text()).trim();
        if (!token) throw new MaasError('USAGE', 'the token is empty');
        const { ControlPlaneClient } = await import('../../client/control-plane-client.js');
        // Checked before it is saved: a wrong URL or token is reported now, not at the next command.
        const who = await (await ControlPlaneClient.create(url, token)).whoami();
        const file = await writeLogin(ctx.home, { url: url.replace(/\/+$/, ''), token });
        return {
          data: { server: url.replace(/\/+$/, ''), name: who.name, scopes: who.scopes, file },
          text: (s) => `logged in to ${url} as ${s.bold(who.name)} (${who.scopes.join(', ')}); saved in ${file}`,
        };
      }),
    );

  program
    .command('logout')
    .description('work on the local MAAS_HOME again (removes the saved login)')
    .action(
      run(async (ctx) => {
        const removed = await removeLogin(ctx.home);
        const env = ctx.io.env.MAAS_SERVER ? ' (MAAS_SERVER is still set in the environment)' : '';
        return { data: { removed }, text: () => (removed ? `logged out${env}` : `not logged in${env}`) };
      }),
    );

  program
    .command('whoami')
    .description('the server and token this CLI works with, as the server sees them')
    .action(
      run(async (ctx) => {
        const api = await ctx.remote();
        if (!api)
          throw new MaasError('USAGE', 'not working against a server: commands use the local MAAS_HOME', {
            hint: '`maas login URL --token T`, or set MAAS_SERVER and MAAS_TOKEN',
          });
        const who = await api.whoami();
        return { data: { server: api.url, ...who }, text: (s) => `${s.bold(who.name)} on ${api.url} (scopes: ${who.scopes.join(', ')})` };
      }),
    );
}

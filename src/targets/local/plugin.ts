// The `local` target plugin: model servers as supervised processes on this machine.
import { resolve } from 'node:path';
import { MaasError } from '../../core/errors.js';
import { parsePositiveInt } from '../../core/numbers.js';
import { memoryBytes } from '../../domain/quantity.js';
import type { TargetPlugin } from '../target.js';
import type { ServerOptions } from './local-target.js';

export const localPlugin: TargetPlugin = {
  name: 'local',
  summary: 'a model server process on 127.0.0.1 (this machine)',
  modes: ['open'],
  flags: [
    {
      flags: '--ref-root <dir>',
      key: 'refRoot',
      description:
        'directory whose files `predict --data-ref file://...` may read, or `none` (local; default: where you first deploy from, kept across restarts)',
    },
    { flags: '--retention <rows>', key: 'retention', description: 'logged predictions the model server keeps (local; default 100000, kept across restarts)' },
    { flags: '--max-body <size>', key: 'maxBody', description: 'largest request body, e.g. 64Mi (local; default 16Mi, kept across restarts)' },
    { flags: '--threads <n>', key: 'threads', description: 'runtime threads per inference call (local; default 1, kept across restarts)' },
  ],
  dryRun: false,
  async create(env, options) {
    const { LocalTarget } = await import('./local-target.js');
    const flag = typeof options.refRoot === 'string' ? options.refRoot : undefined;
    const refRoot = flag === undefined ? undefined : flag === 'none' ? 'none' : resolve(env.cwd, flag);
    // Checked here, so a typo fails the deploy before anything is recorded or started.
    const server: ServerOptions = {};
    if (typeof options.retention === 'string') server.retention = String(parsePositiveInt(options.retention, '--retention'));
    if (typeof options.threads === 'string') server.threads = String(parsePositiveInt(options.threads, '--threads'));
    if (typeof options.maxBody === 'string') {
      if (!((memoryBytes(options.maxBody) ?? 0) > 0)) throw new MaasError('USAGE', `--max-body expects a size (e.g. 64Mi), got "${options.maxBody}"`);
      server.maxBody = options.maxBody;
    }
    return new LocalTarget({
      server,
      home: env.home,
      env: env.env,
      cwd: env.cwd,
      clock: env.clock,
      artifacts: env.artifacts,
      ...(refRoot !== undefined ? { refRoot } : {}),
    });
  },
};

// The `local` target plugin: model servers as supervised processes on this machine.
import { resolve } from 'node:path';
import type { TargetPlugin } from '../target.js';

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
  ],
  dryRun: false,
  async create(env, options) {
    const { LocalTarget } = await import('./local-target.js');
    const flag = typeof options.refRoot === 'string' ? options.refRoot : undefined;
    const refRoot = flag === undefined ? undefined : flag === 'none' ? 'none' : resolve(env.cwd, flag);
    return new LocalTarget({
      home: env.home,
      env: env.env,
      cwd: env.cwd,
      clock: env.clock,
      artifacts: env.artifacts,
      ...(refRoot !== undefined ? { refRoot } : {}),
    });
  },
};

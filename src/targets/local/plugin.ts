// The `local` target plugin: model servers as supervised processes on this machine.
import type { TargetPlugin } from '../target.js';

export const localPlugin: TargetPlugin = {
  name: 'local',
  summary: 'a model server process on 127.0.0.1 (this machine)',
  modes: ['open'],
  flags: [],
  dryRun: false,
  async create(env) {
    const { LocalTarget } = await import('./local-target.js');
    return new LocalTarget({ home: env.home, env: env.env, refRoot: env.cwd, clock: env.clock, artifacts: env.artifacts });
  },
};

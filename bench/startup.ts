// Startup: `node -e 0` against `maas --version`, whole processes. Goal: ratio <= 2.
import { join } from 'node:path';
import { ms, timeAll } from './measure.js';
import type { Benchmark } from './report.js';

export const GOAL_RATIO = 2;

export const startup: Benchmark = {
  name: 'startup',
  description: 'process start of `maas --version` vs `node -e 0`',
  async run(ctx) {
    const bin = join(ctx.repoRoot, 'bin', 'maas.js');
    const [base, version, help] = timeAll(
      [
        { label: 'node -e 0', args: ['-e', '0'] },
        { label: 'maas --version', args: [bin, '--version'] },
        { label: 'maas --help', args: [bin, '--help'] },
      ],
      ctx.runs,
    );
    if (!base || !version || !help) throw new Error('missing timings');
    const row = (t: typeof base) => [t.label, ms(t.median), ms(t.p90), (t.median / base.median).toFixed(2)];
    return {
      tables: [{ title: `Startup (${ctx.runs} runs each)`, headers: ['command', 'median', 'p90', 'ratio'], rows: [row(base), row(version), row(help)] }],
      goals: [{ what: 'maas --version / node -e 0 (median)', value: version.median / base.median, limit: GOAL_RATIO }],
    };
  },
};

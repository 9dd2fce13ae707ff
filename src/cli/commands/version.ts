// `maas version`: the version of maas and of what it runs on (as `kubectl version`, `helm version`).
import type { Program, Run } from '../program.js';

export function define(program: Program, run: Run): void {
  program
    .command('version')
    .description('print the version of maas, Node.js and the platform')
    .action(
      run(async () => {
        const { packageVersion } = await import('../main.js');
        const data = { version: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
        return { data, names: [data.version], text: () => `maas ${data.version} (node ${data.node}, ${data.platform})` };
      }),
    );
}

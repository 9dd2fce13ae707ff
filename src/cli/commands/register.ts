// `maas register FILE...`: stores every model document of the files as an immutable version.
import type { RegisteredVersion } from '../../app/register.js';
import type { Program, Run } from '../program.js';
import { shortDigest } from '../model-view.js';
import type { Style } from '../output.js';

/** The reference profile a version has (rows and features of its training data), or why not. */
function profileCell(r: RegisteredVersion, s: Style): string {
  return typeof r.profile === 'string' ? s.dim(r.profile) : `${r.profile.rows} rows, ${r.profile.features} features`;
}

export function define(program: Program, run: Run): void {
  program
    .command('register')
    .argument('<files...>')
    .description(
      'register model descriptions as immutable versions (re-registering identical content is a no-op); `-` reads stdin. Local training data (spec.training.data) is profiled for drift checks',
    )
    .addHelpText('after', '\nExamples:\n  maas register model.yaml\n  maas register models/*.yaml -o json\n  cat model.yaml | maas register -')
    .option('--no-artifact-check', 'do not open the artifact to check that the runtime loads it and that it fits the description')
    .action(
      run(async (ctx, files, opts) => {
        const [{ register }, { readStream }] = await Promise.all([import('../../app/register.js'), import('../../spec/load.js')]);
        const request = { files, cwd: ctx.io.cwd, readStdin: (max: number) => readStream(ctx.io.stdin, max), inspectArtifacts: opts.artifactCheck };
        const api = await ctx.remote();
        let rows: RegisteredVersion[];
        if (api) {
          const [{ registerOnServer }, { clientTools }] = await Promise.all([import('../../app/register-remote.js'), import('../../app/composition-root.js')]);
          const tools = await clientTools();
          rows = await registerOnServer(api, { datasets: tools.datasets, clock: ctx.clock, inspectArtifact: tools.inspectArtifact }, tools.files, request);
        } else rows = await register(await ctx.services(), request);
        return {
          data: rows,
          names: rows.map((r) => `${r.name}@${r.version}`),
          table: {
            rows,
            columns: [
              { header: 'name', value: (r: RegisteredVersion) => r.name },
              { header: 'version', value: (r: RegisteredVersion) => r.version },
              { header: 'digest', value: (r: RegisteredVersion) => shortDigest(r.digest) },
              { header: 'status', value: (r: RegisteredVersion, s: Style) => (r.status === 'created' ? s.green(r.status) : s.dim(r.status)) },
              { header: 'profile', value: (r: RegisteredVersion, s: Style) => profileCell(r, s) },
              { header: 'artifact', value: (r: RegisteredVersion) => shortDigest(r.artifactDigest), wide: true },
              { header: 'file', value: (r: RegisteredVersion) => r.file, wide: true },
            ],
          },
        };
      }),
    );
}

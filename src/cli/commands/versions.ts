// `maas versions NAME`: every version of one model, highest first.
import type { Program, Run } from '../program.js';
import { shortDigest } from '../model-view.js';

export function define(program: Program, run: Run): void {
  program
    .command('versions')
    .argument('<name>')
    .description('list the versions of a model, highest first')
    .action(
      run(async (ctx, name) => {
        const [{ parseModelRef }, { listVersions }] = await Promise.all([import('../../domain/model-ref.js'), import('../../app/models.js')]);
        const api = await ctx.remote();
        const versions = api ? await api.listVersions(parseModelRef(name).name) : await listVersions(await ctx.services(), parseModelRef(name).name);
        const latest = versions[0]?.version;
        const rows = versions.map((v) => ({
          name: v.name,
          version: v.version,
          latest: v.version === latest,
          task: v.description.spec.task,
          algorithm: v.description.spec.algorithm,
          specDigest: v.specDigest,
          artifact: v.artifact,
          registeredAt: v.registeredAt,
        }));
        type Row = (typeof rows)[number];
        return {
          data: rows,
          names: rows.map((v) => `${v.name}@${v.version}`),
          table: {
            rows,
            columns: [
              { header: 'version', value: (v: Row) => (v.latest ? `${v.version} (latest)` : v.version) },
              { header: 'algorithm', value: (v: Row) => v.algorithm },
              { header: 'digest', value: (v: Row) => shortDigest(v.specDigest) },
              { header: 'artifact', value: (v: Row) => shortDigest(v.artifact.digest) },
              { header: 'registered', value: (v: Row) => v.registeredAt },
              { header: 'artifact uri', value: (v: Row) => v.artifact.uri, wide: true },
            ],
          },
        };
      }),
    );
}

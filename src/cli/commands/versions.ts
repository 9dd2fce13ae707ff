// `maas versions NAME`: every version of one model, highest first.
import type { Command } from 'commander';
import type { Run } from '../program.js';
import { MaasError } from '../../core/errors.js';
import { parseModelRef } from '../../domain/model-ref.js';

const short = (digest: string): string => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-');

export function define(program: Command, run: Run): void {
  program
    .command('versions <name>')
    .description('list the versions of a model, highest first')
    .action(
      run(async (ctx, name: string) => {
        const ref = parseModelRef(name);
        const versions = await (await ctx.registry()).listVersions(ref.name);
        if (versions.length === 0) {
          throw new MaasError('NOT_FOUND', `model ${ref.name} is not registered`, { hint: 'list registered models with `maas list`, or find one with `maas search`' });
        }
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
              { header: 'digest', value: (v: Row) => short(v.specDigest) },
              { header: 'artifact', value: (v: Row) => short(v.artifact.digest) },
              { header: 'registered', value: (v: Row) => v.registeredAt },
              { header: 'artifact uri', value: (v: Row) => v.artifact.uri, wide: true },
            ],
          },
        };
      }),
    );
}

// `maas register FILE...`: stores every model document of the files as an immutable version.
import type { Command } from 'commander';
import type { Run } from '../program.js';
import type { Style } from '../output.js';

interface RegisterRow {
  name: string;
  version: string;
  status: 'created' | 'unchanged';
  digest: string;
  artifactDigest: string;
  file: string;
}

const short = (digest: string): string => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-');

export function define(program: Command, run: Run): void {
  program
    .command('register <files...>')
    .description('register model descriptions as immutable versions (re-registering identical content is a no-op); `-` reads stdin')
    .action(
      run(async (ctx, files: string[]) => {
        const { loadModelFiles, readStream } = await import('../../spec/load.js');
        // Validate everything first, so a bad document registers nothing.
        const models = await loadModelFiles(files, { cwd: ctx.io.cwd, checkArtifact: true, readStdin: (max) => readStream(ctx.io.stdin, max) });
        const registry = await ctx.registry();
        const items = [];
        for (const m of models) {
          const { artifact: spec } = m.description.spec;
          // The store is content-addressed: storing before registering is harmless if that fails.
          const artifact = await registry.storeArtifact({
            uri: spec.uri,
            ...(m.artifactPath ? { path: m.artifactPath } : {}),
            ...(spec.digest ? { digest: spec.digest } : {}),
          });
          items.push({ description: m.description, artifact });
        }
        const outcomes = await registry.registerModels(items);
        const rows: RegisterRow[] = outcomes.map(({ record, created }, i) => ({
          name: record.name,
          version: record.version,
          status: created ? 'created' : 'unchanged',
          digest: record.specDigest,
          artifactDigest: record.artifact.digest,
          file: models[i]?.file ?? '',
        }));
        return {
          data: rows,
          names: rows.map((r) => `${r.name}@${r.version}`),
          table: {
            rows,
            columns: [
              { header: 'name', value: (r: RegisterRow) => r.name },
              { header: 'version', value: (r: RegisterRow) => r.version },
              { header: 'digest', value: (r: RegisterRow) => short(r.digest) },
              { header: 'status', value: (r: RegisterRow, s: Style) => (r.status === 'created' ? s.green(r.status) : s.dim(r.status)) },
              { header: 'artifact', value: (r: RegisterRow) => short(r.artifactDigest), wide: true },
              { header: 'file', value: (r: RegisterRow) => r.file, wide: true },
            ],
          },
        };
      }),
    );
}

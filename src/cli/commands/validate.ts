// `maas validate FILE...`: schema and semantic checks of model descriptions, and whether each local
// artifact loads in its runtime and fits its description; writes nothing.
import { EXIT } from '../../core/errors.js';
import type { Program, Run } from '../program.js';
import { formatProblem } from '../problem-view.js';

export function define(program: Program, run: Run): void {
  program
    .command('validate')
    .argument('<files...>')
    .description('check model descriptions (every problem, located); `-` reads stdin')
    .option('--no-artifact-check', 'do not require file: artifacts to exist, nor open them')
    .action(
      run(async (ctx, files, opts) => {
        const { checkModelFiles, readStream } = await import('../../spec/load.js');
        const { models, problems } = await checkModelFiles(files, {
          cwd: ctx.io.cwd,
          checkArtifact: opts.artifactCheck,
          // The runtimes (and onnxruntime) are imported only once there is an artifact to open.
          inspectArtifact: async (description, artifactPath) => (await import('../../serving/runtimes/index.js')).inspectArtifact(description, artifactPath),
          readStdin: (max) => readStream(ctx.io.stdin, max),
        });
        const valid = problems.length === 0;
        const ids = models.map((m) => `${m.description.metadata.name}@${m.description.metadata.version}`);
        const data = {
          valid,
          files,
          models: models.map((m, i) => ({ id: ids[i], file: m.file, document: m.index + 1 })),
          problems,
        };
        const fileCount = new Set(problems.map((p) => p.file)).size;
        return {
          data,
          names: valid ? ids : [],
          exitCode: valid ? EXIT.OK : EXIT.USAGE,
          text: (style) =>
            valid
              ? `${style.green('✓')} ${models.length} model${models.length === 1 ? '' : 's'} valid: ${ids.join(', ')}`
              : `${problems.map((p) => formatProblem(p, style)).join('')}${style.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}`)} in ${fileCount} file${fileCount === 1 ? '' : 's'}`,
        };
      }),
    );
}

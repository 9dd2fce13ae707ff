// `maas validate FILE...`: schema and semantic checks of model and composition descriptions, and
// whether each local artifact loads in its runtime and fits its description; writes nothing.
// (Whether a composition's members fit each other needs the registry: `maas compose apply` checks it.)
import { EXIT } from '../../core/errors.js';
import type { Program, Run } from '../program.js';
import { formatProblem } from '../problem-view.js';

export function define(program: Program, run: Run): void {
  program
    .command('validate')
    .argument('<files...>')
    .description('check model and composition descriptions (every problem, located); `-` reads stdin')
    .option('--no-artifact-check', 'do not require file: artifacts to exist, nor open them')
    .action(
      run(async (ctx, files, opts) => {
        const [{ checkModelFiles, readStream }, { COMPOSITION_KIND, MODEL_KIND }] = await Promise.all([
          import('../../spec/load.js'),
          import('../../spec/kinds.js'),
        ]);
        const { models, compositions, problems } = await checkModelFiles(files, {
          cwd: ctx.io.cwd,
          checkArtifact: opts.artifactCheck,
          kinds: [MODEL_KIND, COMPOSITION_KIND],
          // The runtimes (and onnxruntime) are imported only once there is an artifact to open.
          inspectArtifact: async (description, artifactPath) => (await import('../../serving/runtimes/index.js')).inspectArtifact(description, artifactPath),
          readStdin: (max) => readStream(ctx.io.stdin, max),
        });
        const valid = problems.length === 0;
        const ids = models.map((m) => `${m.description.metadata.name}@${m.description.metadata.version}`);
        const compositionIds = compositions.map((c) => `${c.description.metadata.name}@${c.description.metadata.version}`);
        const data = {
          valid,
          files,
          models: models.map((m, i) => ({ id: ids[i], file: m.file, document: m.index + 1 })),
          compositions: compositions.map((c, i) => ({ id: compositionIds[i], file: c.file, document: c.index + 1 })),
          problems,
        };
        const fileCount = new Set(problems.map((p) => p.file)).size;
        const validText = (style: { green(s: string): string }): string => {
          const lines = compositionIds.map((id) => `${style.green('✓')} composition ${id} is valid`);
          if (models.length > 0 || compositions.length === 0)
            lines.unshift(`${style.green('✓')} ${models.length} model${models.length === 1 ? '' : 's'} valid: ${ids.join(', ')}`);
          return lines.join('\n');
        };
        return {
          data,
          names: valid ? [...ids, ...compositionIds] : [],
          exitCode: valid ? EXIT.OK : EXIT.USAGE,
          text: (style) =>
            valid
              ? validText(style)
              : `${problems.map((p) => formatProblem(p, style)).join('')}${style.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}`)} in ${fileCount} file${fileCount === 1 ? '' : 's'}`,
        };
      }),
    );
}

// `maas retrain-step assemble|evaluate` (hidden): the maas steps inside an in-cluster retraining
// Job (see src/retrain/in-cluster.ts), not meant to be typed. The plan comes from the environment
// (MAAS_RETRAIN_PLAN), the token from the Job's Secret; every line goes to stdout, which is the pod
// log the runner reads: progress (counts only), the result line and, after `evaluate`, the
// produced files (and the training set's profile, without sample rows) between the markers of the
// training Job's epilogue. `--root DIR` relocates the
// in-pod paths (tests).
import { Argument } from '@commander-js/extra-typings';
import { MaasError } from '../../core/errors.js';
import type { ReturnedFile, StepDeps } from '../../app/retrain-step.js';
import { END_MARKER, FILE_MARKER, RETURNED_FILES_LIMIT } from '../../targets/kubernetes/job-objects.js';
import type { OutStream } from '../io.js';
import { writeChunks } from '../output.js';
import type { Program, Run } from '../program.js';

const STEPS = ['assemble', 'evaluate'] as const;
/** Base64 characters per line, as `base64` wraps them. */
const LINE = 76;

function* fileLines(files: readonly ReturnedFile[]): Generator<string> {
  for (const f of files) {
    yield `${FILE_MARKER}${f.name}\n`;
    const text = Buffer.from(f.bytes).toString('base64');
    for (let i = 0; i < text.length; i += LINE) yield `${text.slice(i, i + LINE)}\n`;
  }
  yield `${END_MARKER}\n`;
}

/**
 * Prints files the way the training Job's epilogue does, so that parseReturnedFiles reads them
 * back from the log: per file a marker line with its name and its bytes in base64 lines, then the
 * end marker. Refused before printing anything when they would not fit the pod log.
 */
export async function printReturnedFiles(out: OutStream, files: readonly ReturnedFile[]): Promise<void> {
  const total = files.reduce((n, f) => n + f.bytes.length, 0);
  if (total > RETURNED_FILES_LIMIT)
    throw new MaasError('REJECTED', `the produced files total ${total} bytes; at most ${RETURNED_FILES_LIMIT} travel back through the pod log`, {
      hint: 'write less into $OUT (the model and its description; no copy of the data)',
    });
  await writeChunks(out, fileLines(files));
}

async function stepDeps(out: OutStream, cwd: string, root: string | undefined, clock: StepDeps['clock']): Promise<StepDeps> {
  const [fs, path, { connectInference }, { evaluateRows }, { stepPaths }, { FsDatasetReader }] = await Promise.all([
    import('node:fs/promises'),
    import('node:path'),
    import('../../client/inference-client.js'),
    import('../../serving/evaluate.js'),
    import('../../app/retrain-step.js'),
    import('../../registry/fs-dataset-reader.js'),
  ]);
  return {
    files: {
      async readText(path) {
        try {
          return await fs.readFile(path, 'utf8');
        } catch (e) {
          if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
          throw e;
        }
      },
      async writeText(file, text) {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, text);
      },
      async listFiles(dir) {
        try {
          return (await fs.readdir(dir, { withFileTypes: true }))
            .filter((e) => e.isFile())
            .map((e) => e.name)
            .sort();
        } catch (e) {
          if ((e as { code?: unknown }).code === 'ENOENT') return [];
          throw e;
        }
      },
      readBytes: (path) => fs.readFile(path),
    },
    datasets: new FsDatasetReader(),
    connect: connectInference,
    predict: evaluateRows,
    clock,
    print: (line) => writeChunks(out, [`${line}\n`]),
    returnFiles: (files) => printReturnedFiles(out, files),
    paths: stepPaths(root),
    cwd,
  };
}

export function define(program: Program, run: Run): void {
  program
    .command('retrain-step', { hidden: true })
    .addArgument(new Argument('<step>').choices(STEPS))
    .description('run one maas step of an in-cluster retraining Job (the plan comes from MAAS_RETRAIN_PLAN)')
    .option('--root <dir>', 'relocate the in-pod paths under this directory (tests)')
    .action(
      run(async (ctx, step, opts) => {
        const [{ assembleStep, evaluateStep }, { parsePlan, PLAN_ENV }] = await Promise.all([
          import('../../app/retrain-step.js'),
          import('../../retrain/in-cluster.js'),
        ]);
        const plan = parsePlan(ctx.io.env[PLAN_ENV]);
        const deps = await stepDeps(ctx.io.stdout, ctx.io.cwd, opts.root === undefined ? undefined : ctx.resolvePath(opts.root), ctx.clock);
        let result;
        if (step === 'assemble') {
          const token = (await deps.files.readText(deps.paths.tokenFile))?.trim();
          if (!token)
            throw new MaasError('USAGE', `no labelled-rows token at ${deps.paths.tokenFile}`, {
              hint: 'the retraining Job mounts its Secret there; retrain-step runs inside a Job that maas creates',
            });
          result = await assembleStep(deps, plan, token);
        } else result = await evaluateStep(deps, plan);
        // Everything is printed already; `-o json` adds the result after the files, where the log reader ignores it.
        return { data: result, text: () => '' };
      }),
    );
}

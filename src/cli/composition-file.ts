// Reads a `kind: Composition` file for `maas compose apply`: every schema and semantic problem
// located (VALIDATION, exit 2), exactly one composition per file, and a locator so that problems
// found later (members that do not fit) point at the member's line in the same file.
import { readFile } from 'node:fs/promises';
import { MaasError } from '../core/errors.js';
import type { CompositionDescription } from '../domain/composition.js';
import type { ProblemLocator } from '../spec/composition-compat.js';
import type { Context } from './context.js';

export interface CompositionFile {
  description: CompositionDescription;
  locate: ProblemLocator;
}

export async function readCompositionFile(ctx: Context, file: string): Promise<CompositionFile> {
  const [{ validateCompositionText }, { parseYaml }] = await Promise.all([import('../spec/validate.js'), import('../spec/parse.js')]);
  let text: string;
  try {
    text = file === '-' ? await readStdin(ctx) : await readFile(ctx.resolvePath(file), 'utf8');
  } catch (e) {
    throw new MaasError('USAGE', `cannot read ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: 'name a composition description (YAML or JSON), or - for stdin',
    });
  }
  const shown = file === '-' ? '<stdin>' : file;
  const { problems, compositions } = validateCompositionText(text, { file: shown });
  if (problems.length > 0)
    throw new MaasError('VALIDATION', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${shown}`, {
      details: { problems },
      hint: 'fix the problems listed above; `maas validate FILE` checks without applying, `maas explain composition.spec` documents each field',
    });
  if (compositions.length !== 1) throw new MaasError('USAGE', `${shown} holds ${compositions.length} compositions; apply one file per composition`);
  const doc = parseYaml(text, shown).documents.find((d) => (d.data as { kind?: unknown } | null)?.kind === 'Composition');
  return {
    description: compositions[0]!,
    locate: { file: shown, locate: (path) => doc?.locate(path) ?? { line: 1, column: 1 } },
  };
}

async function readStdin(ctx: Context): Promise<string> {
  const { readStream } = await import('../spec/load.js');
  return readStream(ctx.io.stdin, 1024 * 1024);
}

// Reads a `kind: Composition` file for `maas compose apply`: every schema and semantic problem
// located (VALIDATION, exit 2), exactly one composition per file, and a locator so that problems
// found later (members that do not fit) point at the member's line in the same file. The text is
// kept too: against a server it is what is sent.
import { readFile } from 'node:fs/promises';
import { MaasError } from '../core/errors.js';
import type { ParsedComposition } from '../spec/composition-text.js';
import type { Context } from './context.js';

export interface CompositionFile extends ParsedComposition {
  text: string;
  /** The file as shown in problems (`<stdin>` for -). */
  shown: string;
}

export async function readCompositionFile(ctx: Context, file: string): Promise<CompositionFile> {
  const { parseCompositionText } = await import('../spec/composition-text.js');
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
  return { ...parseCompositionText(text, shown), text, shown };
}

async function readStdin(ctx: Context): Promise<string> {
  const { readStream } = await import('../spec/load.js');
  return readStream(ctx.io.stdin, 1024 * 1024);
}

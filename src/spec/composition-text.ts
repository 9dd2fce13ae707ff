// One `kind: Composition` description from its text: every schema and semantic problem located
// (VALIDATION), exactly one composition, and a locator so that problems found later (members that
// do not fit) point at the member's line in the same text. Pure: the CLI reads the file, the
// server takes the text a client sent; neither reads anything the description names.
import { MaasError } from '../core/errors.js';
import type { CompositionDescription } from '../domain/composition.js';
import type { ProblemLocator } from './composition-compat.js';
import { parseYaml } from './parse.js';
import { validateCompositionText } from './validate.js';

export interface ParsedComposition {
  description: CompositionDescription;
  locate: ProblemLocator;
}

/** `shown` names the text in problems (the file as given, `<stdin>`, or what a client called it). */
export function parseCompositionText(text: string, shown: string): ParsedComposition {
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

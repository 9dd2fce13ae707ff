// Finds the model description a training program wrote into its output directory: the one
// `*.yaml`/`*.yml`/`*.json` file whose documents declare `kind: Model`. Other JSON files (metrics
// a program writes beside the model) are ignored; a YAML file that does not even parse counts as
// a candidate, so that its syntax error is reported rather than "no description".
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MaasError } from '../core/errors.js';
import { MAX_SPEC_BYTES } from './parse.js';

const DESCRIPTION_FILE = /\.(ya?ml|json)$/i;

function declaresModel(text: string): boolean | undefined {
  try {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return false;
    if (docs.some((d) => d.errors.length > 0)) return undefined;
    return docs.some((d) => {
      const v: unknown = d.toJS();
      return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Model';
    });
  } catch {
    return undefined;
  }
}

/** The file name (inside `outDir`) of the produced description; USAGE-free: VALIDATION when none or several. */
export async function findProducedDescription(outDir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(outDir, { withFileTypes: true })).filter((e) => e.isFile() && DESCRIPTION_FILE.test(e.name)).map((e) => e.name);
  } catch (e) {
    throw new MaasError('VALIDATION', `the training run left no output directory ${outDir}`, { cause: e });
  }
  const found: string[] = [];
  for (const name of names.sort()) {
    const text = await readFile(join(outDir, name), 'utf8');
    if (text.length > MAX_SPEC_BYTES) continue;
    const model = declaresModel(text);
    if (model === true || (model === undefined && !/\.json$/i.test(name))) found.push(name);
  }
  if (found.length === 0) {
    throw new MaasError('VALIDATION', `the training program wrote no model description (a YAML or JSON file with kind: Model) into ${outDir}`, {
      hint: `the program must write the new version's description and its artifact into $OUT; files there: ${names.length ? names.join(', ') : 'none'}`,
    });
  }
  if (found.length > 1) {
    throw new MaasError('VALIDATION', `the training program wrote ${found.length} model descriptions into ${outDir} (${found.join(', ')}); expected one`, {
      hint: 'write exactly one description of the new version into $OUT',
    });
  }
  return found[0]!;
}

/** The text of a file the run produced beside its description; undefined when there is none. */
export async function readProducedFile(outDir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(outDir, name), 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
}

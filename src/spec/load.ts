// Reads description files (or stdin) and validates them: every problem of every file in one pass.
// `loadModelFiles` throws a VALIDATION error listing them; `checkModelFiles` returns them (model
// documents only, unless `kinds` accepts compositions too, as `maas validate` does).
// Opening the artifacts themselves is a port (`inspectArtifact`): the runtimes live above this layer.
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MaasError } from '../core/errors.js';
import type { Problem } from '../domain/problem.js';
import type { CompositionDescription } from '../domain/composition.js';
import type { ModelDescription } from './schema.js';
import type { DocumentKindName } from './kinds.js';
import { MAX_SPEC_BYTES, fileProblem, parseYaml, type SourcePosition } from './parse.js';
import { validateModelText } from './validate.js';

/** How stdin is named on the command line and in problems. */
export const STDIN_PATH = '-';
export const STDIN_LABEL = '<stdin>';

/** Reads a stream up to `max` bytes (more is cut off; callers compare the length to detect it). */
export async function readStream(stream: NodeJS.ReadableStream, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buf);
    total += buf.length;
    if (total >= max) break;
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

export interface LoadedModel {
  /** The file as given (relative paths stay relative), or `<stdin>`. */
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  description: ModelDescription;
  /** Absolute path of the artifact for `file:` URIs. */
  artifactPath?: string;
}

export interface LoadedComposition {
  /** The file as given, or `<stdin>`. */
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  description: CompositionDescription;
}

/** Something about an artifact that does not fit its description, at a field path (`spec.features`). */
export interface ArtifactProblem {
  path: string;
  message: string;
  hint?: string;
}

/** Opens a local artifact and checks it against its description; never called for remote URIs. */
export type ArtifactCheck = (description: ModelDescription, artifactPath: string) => Promise<ArtifactProblem[]>;

export interface LoadOptions {
  /** Whether `file:` artifacts must exist (default true); when false they are not inspected either. */
  checkArtifact?: boolean;
  /** Inspects each `file:` artifact of a valid description; none when absent. */
  inspectArtifact?: ArtifactCheck;
  /** Directory that relative paths on the command line resolve from. */
  cwd: string;
  /** Reads stdin for `-`; when absent, `-` is a problem. */
  readStdin?: (maxBytes: number) => Promise<string>;
  /** Existence test for artifacts (tests); defaults to the real filesystem. */
  isFile?: (absPath: string) => boolean;
  /** Document kinds accepted (default: Model only); any other kind is a problem. */
  kinds?: readonly DocumentKindName[];
}

export interface CheckResult {
  models: LoadedModel[];
  /** Valid Composition documents (only when `kinds` accepts them). */
  compositions: LoadedComposition[];
  problems: Problem[];
}

/** Reads at most `max` + 1 bytes, so an oversized file is detected without reading it whole. */
async function readBounded(path: string, max: number): Promise<{ text: string } | { tooLarge: true } | { directory: true }> {
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return { directory: true };
    if (stat.isFile() && stat.size > max) return { tooLarge: true };
    const buf = Buffer.alloc(max + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) return { tooLarge: true };
    return { text: buf.subarray(0, length).toString('utf8') };
  } finally {
    await handle.close();
  }
}

function readFailure(label: string, e: unknown): Problem {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return fileProblem(label, 'no such file', 'check the path; relative paths resolve from the current directory');
  if (code === 'EACCES' || code === 'EPERM') return fileProblem(label, 'permission denied', 'check the file permissions');
  return fileProblem(label, `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
}

const tooLarge = (label: string): Problem =>
  fileProblem(
    label,
    `file is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB`,
    'a model description is a small YAML file; keep data and artifacts in separate files',
  );

async function readSource(path: string, opts: LoadOptions): Promise<{ label: string; baseDir: string; text?: string; problem?: Problem }> {
  if (path === STDIN_PATH) {
    if (!opts.readStdin)
      return { label: STDIN_LABEL, baseDir: opts.cwd, problem: fileProblem(STDIN_LABEL, 'reading a description from stdin is not supported here') };
    const text = await opts.readStdin(MAX_SPEC_BYTES + 1);
    if (Buffer.byteLength(text) > MAX_SPEC_BYTES) return { label: STDIN_LABEL, baseDir: opts.cwd, problem: tooLarge(STDIN_LABEL) };
    return { label: STDIN_LABEL, baseDir: opts.cwd, text };
  }
  const abs = resolve(opts.cwd, path);
  const base = { label: path, baseDir: dirname(abs) };
  try {
    const r = await readBounded(abs, MAX_SPEC_BYTES);
    if ('directory' in r) return { ...base, problem: fileProblem(path, 'is a directory, not a file', 'name the YAML files, e.g. `models/*.yaml`') };
    if ('tooLarge' in r) return { ...base, problem: tooLarge(path) };
    return { ...base, text: r.text };
  } catch (e) {
    return { ...base, problem: readFailure(path, e) };
  }
}

/** Validates every document of every file; never throws for bad input. */
export async function checkModelFiles(paths: readonly string[], opts: LoadOptions): Promise<CheckResult> {
  const models: LoadedModel[] = [];
  const compositions: LoadedComposition[] = [];
  const positions = new Map<LoadedModel | LoadedComposition, SourcePosition>();
  const problems: Problem[] = [];
  let stdinUsed = false;
  for (const path of paths) {
    if (path === STDIN_PATH) {
      if (stdinUsed) continue;
      stdinUsed = true;
    }
    const source = await readSource(path, opts);
    if (source.problem) {
      problems.push(source.problem);
      continue;
    }
    const checked = validateModelText(source.text ?? '', {
      file: source.label,
      baseDir: source.baseDir,
      checkArtifact: opts.checkArtifact !== false,
      ...(opts.isFile ? { isFile: opts.isFile } : {}),
      ...(opts.kinds ? { kinds: opts.kinds } : {}),
    });
    const fileProblems = [...checked.problems];
    const found: ArtifactFinding[] = [];
    for (const d of checked.documents) {
      if (d.composition) {
        const composition: LoadedComposition = { file: source.label, index: d.index, description: d.composition };
        compositions.push(composition);
        positions.set(composition, d.identityAt);
        continue;
      }
      if (!d.description) continue;
      const model: LoadedModel = {
        file: source.label,
        index: d.index,
        description: d.description,
        ...(d.artifactPath !== undefined ? { artifactPath: d.artifactPath } : {}),
      };
      models.push(model);
      positions.set(model, d.identityAt);
      if (opts.inspectArtifact && opts.checkArtifact !== false && d.artifactPath !== undefined) {
        const artifactProblems = await opts.inspectArtifact(d.description, d.artifactPath);
        if (artifactProblems.length > 0) found.push({ index: d.index, problems: artifactProblems });
      }
    }
    if (found.length > 0) {
      fileProblems.push(...locateArtifactProblems(source.label, source.text ?? '', found));
      fileProblems.sort((a, b) => a.line - b.line || a.column - b.column);
    }
    problems.push(...fileProblems);
  }
  problems.push(...duplicateIdentities(models, positions), ...duplicateIdentities(compositions, positions));
  return { models, compositions, problems };
}

interface ArtifactFinding {
  /** Index of the document in its file. */
  index: number;
  problems: ArtifactProblem[];
}

/** Places artifact problems at their fields; the text is parsed again only when there are some. */
function locateArtifactProblems(file: string, text: string, found: readonly ArtifactFinding[]): Problem[] {
  const documents = parseYaml(text, file).documents;
  return found.flatMap(({ index, problems }) => {
    const doc = documents.find((d) => d.index === index);
    return problems.map((p) => {
      const at = doc?.locate(p.path.split('.')) ?? { line: 1, column: 1 };
      return { file, line: at.line, column: at.column, path: p.path, message: p.message, ...(p.hint === undefined ? {} : { hint: p.hint }) };
    });
  });
}

/** The same name@version twice in one run (per kind) is ambiguous: which one would be registered or applied? */
function duplicateIdentities<T extends LoadedModel | LoadedComposition>(
  models: readonly T[],
  positions: Map<LoadedModel | LoadedComposition, SourcePosition>,
): Problem[] {
  const seen = new Map<string, T>();
  const out: Problem[] = [];
  for (const m of models) {
    const id = `${m.description.metadata.name}@${m.description.metadata.version}`;
    const first = seen.get(id);
    if (!first) {
      seen.set(id, m);
      continue;
    }
    out.push({
      file: m.file,
      line: positions.get(m)?.line ?? 1,
      column: positions.get(m)?.column ?? 1,
      path: 'metadata.version',
      message: `${id} is described twice (document ${first.index + 1} of ${first.file} and document ${m.index + 1} of ${m.file})`,
      hint: 'give each description its own version',
    });
  }
  return out;
}

/** Validates and returns every model; throws VALIDATION (exit 2) listing all problems otherwise. */
export async function loadModelFiles(paths: readonly string[], opts: LoadOptions): Promise<LoadedModel[]> {
  if (paths.length === 0) throw new MaasError('USAGE', 'no model description file given', { hint: 'name one or more YAML files, e.g. `model.yaml`' });
  const { models, problems } = await checkModelFiles(paths, opts);
  if (problems.length > 0) {
    const files = [...new Set(problems.map((p) => p.file))];
    throw new MaasError('VALIDATION', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.join(', ')}`, {
      details: { problems },
      hint: 'fix the problems listed above; `maas validate` checks files without changing anything, `maas explain <field>` documents each field',
    });
  }
  return models;
}

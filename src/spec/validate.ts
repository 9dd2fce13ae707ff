// Validates parsed documents: JSON Schema (ajv, every error at once) plus semantic checks, each
// problem located at file:line:column with its field path and a hint.
import { statSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Problem } from '../domain/problem.js';
import type { CompositionDescription } from '../domain/composition.js';
import type { ModelDescription } from './schema.js';
import { compositionJsonSchema, modelJsonSchema } from './json-schema.js';
import { formatPath, parseYaml, quote, type FieldPath, type ParsedDocument, type SourcePosition } from './parse.js';
import { convertErrors, describeValue, type Anchor, type Report } from './schema-errors.js';
import { semanticChecks } from './semantic.js';
import { didYouMean } from './suggest.js';
import { compositionSemanticChecks } from './composition-semantic.js';
import { COMPOSITION_KIND, MODEL_KIND, documentKind, type DocumentKindName } from './kinds.js';

/** Problems kept per document; a pathological file should not print megabytes. */
export const MAX_PROBLEMS_PER_DOCUMENT = 100;

export interface ValidateOptions {
  /** Name of the file as shown in problems. */
  file: string;
  /** Directory that relative `file:` URIs resolve from (the description's directory). */
  baseDir: string;
  /** Whether a `file:` artifact must exist (default true). */
  checkArtifact?: boolean;
  /** Existence test for artifacts; defaults to the real filesystem. */
  isFile?: (absPath: string) => boolean;
  /**
   * Document kinds accepted (default: Model only). A document of another kind is one problem;
   * a Composition is validated against the composition schema when accepted.
   */
  kinds?: readonly DocumentKindName[];
}

export interface ValidatedDocument {
  index: number;
  /** The `kind` the document was validated as. */
  kind: DocumentKindName;
  /** Set only when the document is a Model and has no problem. */
  description?: ModelDescription;
  /** Set only when the document is a Composition and has no problem. */
  composition?: CompositionDescription;
  artifactPath?: string;
  problems: Problem[];
  /** Where `metadata.version` (or the nearest thing to it) is, for problems across documents. */
  identityAt: SourcePosition;
}

const compiled = new Map<DocumentKindName, ValidateFunction>();

/** The compiled schema validator of a kind, built on first use (compilation costs a few milliseconds). */
function validator(kind: DocumentKindName): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    const schema = kind === COMPOSITION_KIND ? compositionJsonSchema() : modelJsonSchema();
    v = new Ajv({ allErrors: true, verbose: true, strict: false, strictNumbers: true }).compile(schema);
    compiled.set(kind, v);
  }
  return v;
}

function realIsFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * YAML reads `version: 3` as a number; written as a plain integer it is unambiguous, so it is
 * accepted as text. `1.0` or `1.10` would lose digits as numbers: those must be quoted.
 */
function normalizeVersion(data: Record<string, unknown>, doc: ParsedDocument, report: Report): void {
  const meta = data.metadata;
  if (!isObj(meta) || typeof meta.version !== 'number') return;
  const path = ['metadata', 'version'];
  const written = doc.source(path) ?? String(meta.version);
  if (/^(0|[1-9][0-9]*)$/.test(written)) {
    meta.version = written;
    return;
  }
  report(
    path,
    `expected a string, got the number ${written.slice(0, 40)}`,
    `quote the version so YAML keeps it as written: version: "${written.slice(0, 40)}"`,
  );
  // Reported once here; a stand-in value keeps the schema and version checks from repeating it.
  meta.version = '0';
}

const KIND_WORDS: Record<DocumentKindName, string> = { Model: 'model', Composition: 'composition' };

/** `model`, `model or composition`. */
function kindWords(kinds: readonly DocumentKindName[]): string {
  const words = kinds.map((k) => KIND_WORDS[k]);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]!}`;
}

/** Which kind a document is validated as, or undefined (with the problem reported) for a kind not accepted. */
function chooseKind(data: Record<string, unknown>, kinds: readonly DocumentKindName[], report: Report): DocumentKindName | undefined {
  const kind = data.kind;
  // No kind at all: validated as the first accepted kind, whose schema reports the missing field.
  if (kind === undefined) return kinds[0] ?? MODEL_KIND;
  if ((kinds as readonly unknown[]).includes(kind)) return kind as DocumentKindName;
  // Checking another kind field by field against this schema is noise: one problem says it all.
  const known = documentKind(kind);
  const accepted = kinds.map((k) => `kind: ${k}`).join(' or ');
  report(
    ['kind'],
    `kind ${typeof kind === 'string' ? quote(kind) : describeValue(kind)} is not a ${kindWords(kinds)} description`,
    known
      ? `${known.kind} documents are used with ${known.appliedWith}; only ${kinds.join(' and ')} documents are read here`
      : `${typeof kind === 'string' ? didYouMean(kind, kinds) : ''}set ${accepted}`,
  );
  return undefined;
}

export function validateDocument(doc: ParsedDocument, opts: ValidateOptions): ValidatedDocument {
  const kinds = opts.kinds ?? [MODEL_KIND];
  const problems: Problem[] = [];
  let dropped = 0;
  const report: Report = (path: FieldPath, message: string, hint?: string, anchor: Anchor = 'value') => {
    if (problems.length >= MAX_PROBLEMS_PER_DOCUMENT) {
      dropped++;
      return;
    }
    // A missing field points at the key of its parent (`spec:`), or the document start.
    const where =
      anchor === 'missing' ? (path.length > 1 ? doc.locate(path.slice(0, -1), { key: true }) : doc.start) : doc.locate(path, { key: anchor === 'key' });
    if (problems.some((p) => p.path === formatPath(path) && p.message === message)) return;
    problems.push({ file: opts.file, line: where.line, column: where.column, path: formatPath(path), message, ...(hint ? { hint } : {}) });
  };
  const data = doc.data;
  const identityAt = doc.locate(['metadata', 'version']);
  const fallbackKind = kinds[0] ?? MODEL_KIND;
  if (!isObj(data)) {
    const what = kindWords(kinds);
    report(
      [],
      `expected a mapping with apiVersion, kind, metadata and spec, got ${describeValue(data)}`,
      kinds.includes(MODEL_KIND) ? 'see `maas explain model`, or create a description with `maas init`' : `see \`maas explain ${what}\``,
    );
    return { index: doc.index, kind: fallbackKind, problems, identityAt };
  }
  const kind = chooseKind(data, kinds, report);
  if (kind === undefined) return { index: doc.index, kind: fallbackKind, problems, identityAt };
  normalizeVersion(data, doc, report);
  const validate = validator(kind);
  if (!validate(data)) convertErrors(validate.errors ?? [], data, report);
  let artifactPath: string | undefined;
  if (kind === COMPOSITION_KIND) {
    compositionSemanticChecks(data, report);
  } else {
    ({ artifactPath } = semanticChecks(
      data,
      { baseDir: opts.baseDir, checkArtifact: opts.checkArtifact !== false, isFile: opts.isFile ?? realIsFile },
      report,
    ));
  }
  if (dropped > 0) {
    // Placed after the last shown problem so that it stays last in file order.
    const last = problems.reduce((a, p) => (p.line > a.line || (p.line === a.line && p.column > a.column) ? p : a));
    problems.push({
      file: opts.file,
      line: last.line,
      column: last.column,
      path: '',
      message: `${dropped} more problem(s) in this document not shown`,
      hint: 'fix the ones above first',
    });
  }
  const result: ValidatedDocument = { index: doc.index, kind, problems, identityAt };
  if (problems.length === 0) {
    if (kind === COMPOSITION_KIND) result.composition = data as unknown as CompositionDescription;
    else result.description = data as unknown as ModelDescription;
  }
  if (artifactPath !== undefined) result.artifactPath = artifactPath;
  return result;
}

export interface ValidatedText {
  documents: ValidatedDocument[];
  /** All problems of the text, in file order. */
  problems: Problem[];
}

/**
 * Parses and validates one YAML text (any number of documents). Model documents only unless
 * `opts.kinds` accepts more (`maas validate` accepts compositions too).
 */
export function validateModelText(text: string, opts: ValidateOptions): ValidatedText {
  const parsed = parseYaml(text, opts.file);
  const documents = parsed.documents.map((d) => validateDocument(d, opts));
  // File order, so syntax errors of a later document come after the problems of an earlier one.
  // Stable sort: problems at the same position keep their reporting order.
  const problems = [...parsed.problems, ...documents.flatMap((d) => d.problems)].sort((a, b) => a.line - b.line || a.column - b.column);
  return { documents, problems };
}

export interface ValidatedCompositionText extends ValidatedText {
  /** The valid compositions, in document order (all of them only when `problems` is empty). */
  compositions: CompositionDescription[];
}

/**
 * Parses and validates composition descriptions (schema and semantic checks; whether the members
 * fit each other is `checkMembers` in composition-compat.ts). Other kinds are problems.
 */
export function validateCompositionText(text: string, opts: { file: string }): ValidatedCompositionText {
  const { documents, problems } = validateModelText(text, { file: opts.file, baseDir: '/', checkArtifact: false, kinds: [COMPOSITION_KIND] });
  const compositions = documents.flatMap((d) => (d.composition ? [d.composition] : []));
  return { documents, problems, compositions };
}

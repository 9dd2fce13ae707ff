// Validates parsed documents: JSON Schema (ajv, every error at once) plus semantic checks, each
// problem located at file:line:column with its field path and a hint.
import { statSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Problem } from '../domain/problem.js';
import type { ModelDescription } from './schema.js';
import { modelJsonSchema } from './json-schema.js';
import { formatPath, parseYaml, quote, type FieldPath, type ParsedDocument, type SourcePosition } from './parse.js';
import { convertErrors, describeValue, type Anchor, type Report } from './schema-errors.js';
import { semanticChecks } from './semantic.js';
import { MODEL_KIND, documentKind } from './kinds.js';

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
}

export interface ValidatedDocument {
  index: number;
  /** Set only when the document has no problem. */
  description?: ModelDescription;
  artifactPath?: string;
  problems: Problem[];
  /** Where `metadata.version` (or the nearest thing to it) is, for problems across documents. */
  identityAt: SourcePosition;
}

let compiled: ValidateFunction | undefined;

/** The compiled schema validator, built on first use (compilation costs a few milliseconds). */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: false, strictNumbers: true }).compile(modelJsonSchema());
  return compiled;
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

export function validateDocument(doc: ParsedDocument, opts: ValidateOptions): ValidatedDocument {
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
  if (!isObj(data)) {
    report(
      [],
      `expected a mapping with apiVersion, kind, metadata and spec, got ${describeValue(data)}`,
      'see `maas explain model`, or create a description with `maas init`',
    );
    return { index: doc.index, problems, identityAt };
  }
  if (data.kind !== undefined && data.kind !== MODEL_KIND) {
    // Checking another kind field by field against the model schema is noise.
    const kind = data.kind;
    const known = documentKind(kind);
    report(
      ['kind'],
      `kind ${typeof kind === 'string' ? quote(kind) : describeValue(kind)} is not a model description`,
      known ? `a ${known.kind} is used with ${known.appliedWith}; keep it out of model files` : `set kind: ${MODEL_KIND}`,
    );
    return { index: doc.index, problems, identityAt };
  }
  normalizeVersion(data, doc, report);
  const validate = validator();
  if (!validate(data)) convertErrors(validate.errors ?? [], data, report);
  const { artifactPath } = semanticChecks(
    data,
    { baseDir: opts.baseDir, checkArtifact: opts.checkArtifact !== false, isFile: opts.isFile ?? realIsFile },
    report,
  );
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
  const result: ValidatedDocument = { index: doc.index, problems, identityAt };
  if (problems.length === 0) result.description = data as unknown as ModelDescription;
  if (artifactPath !== undefined) result.artifactPath = artifactPath;
  return result;
}

export interface ValidatedText {
  documents: ValidatedDocument[];
  /** All problems of the text, in file order. */
  problems: Problem[];
}

/** Parses and validates one YAML text (any number of documents). */
export function validateModelText(text: string, opts: ValidateOptions): ValidatedText {
  const parsed = parseYaml(text, opts.file);
  const documents = parsed.documents.map((d) => validateDocument(d, opts));
  // File order, so syntax errors of a later document come after the problems of an earlier one.
  // Stable sort: problems at the same position keep their reporting order.
  const problems = [...parsed.problems, ...documents.flatMap((d) => d.problems)].sort((a, b) => a.line - b.line || a.column - b.column);
  return { documents, problems };
}

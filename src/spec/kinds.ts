// The document kinds maas reads, in one table: what each is and which command takes it. A new
// kind is a row here plus its schema and validator (see validate.ts, which dispatches on kind).
import { COMPOSITION_KIND } from '../domain/composition.js';

export { COMPOSITION_KIND };

export const MODEL_KIND = 'Model';

/** The kinds with a schema and a validator. */
export type DocumentKindName = typeof MODEL_KIND | typeof COMPOSITION_KIND;

export interface DocumentKind {
  kind: DocumentKindName;
  /** What a user does with a document of this kind. */
  appliedWith: string;
}

export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  { kind: MODEL_KIND, appliedWith: '`maas validate` and `maas register`' },
  { kind: COMPOSITION_KIND, appliedWith: '`maas compose apply` (checked by `maas validate`)' },
];

export function documentKind(kind: unknown): DocumentKind | undefined {
  return DOCUMENT_KINDS.find((k) => k.kind === kind);
}

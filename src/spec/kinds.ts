// The document kinds maas reads, in one table: what each is and which command takes it. A new
// kind (Composition next) is a row here plus its schema and validator.

export interface DocumentKind {
  kind: string;
  /** What a user does with a document of this kind. */
  appliedWith: string;
}

export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  { kind: 'Model', appliedWith: '`maas validate` and `maas register`' },
  { kind: 'Composition', appliedWith: '`maas compose apply`' },
];

export const MODEL_KIND = 'Model';

export function documentKind(kind: unknown): DocumentKind | undefined {
  return DOCUMENT_KINDS.find((k) => k.kind === kind);
}

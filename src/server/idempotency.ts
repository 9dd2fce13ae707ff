// The Idempotency-Key header's syntax; the store port is in domain/idempotency.ts.

/** Idempotency-Key values: printable, bounded (they are stored). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

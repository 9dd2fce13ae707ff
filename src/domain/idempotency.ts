// Idempotency keys: a client that re-sends a mutating request with the same Idempotency-Key gets
// the first answer again instead of a second deployment. Keys are per token (owner), remembered
// with a fingerprint of the request so that the same key on a different request is refused.

export type IdempotencyBegin =
  | { state: 'new' }
  /** Answered before: replay it. */
  | { state: 'done'; status: number; body: unknown }
  /** The first request with this key is still running. */
  | { state: 'pending' }
  /** The key was used for another request. */
  | { state: 'mismatch' };

export interface IdempotencyStore {
  /** Claims the key for this request, or says what happened to it before. */
  begin(owner: string, key: string, fingerprint: string, at: string): Promise<IdempotencyBegin>;
  /** Records the answer (success or a final error) for replays. */
  finish(owner: string, key: string, status: number, body: unknown): Promise<void>;
  /** Forgets a claim whose request failed in a way worth retrying (the client may try again). */
  release(owner: string, key: string): Promise<void>;
  /** Forgets the keys first used before `before` (ISO time): a later repeat is a new request. */
  prune(before: string): Promise<number>;
}

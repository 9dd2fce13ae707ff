// Idempotency keys belong to their owner: the same key from two owners names two jobs, and
// neither can see the other's.
import { createHash } from 'node:crypto';

/** `<length of owner>:<owner>:<key>`: unambiguous whatever the owner and key contain. */
export function scopedKey(owner: string | undefined, key: string): string {
  const o = owner ?? '';
  return `${o.length}:${o}:${key}`;
}

export function unscopedKey(stored: string): string {
  const m = /^(\d+):/.exec(stored);
  if (!m) return stored;
  return stored.slice(m[0].length + Number(m[1]) + 1);
}

/** A job ID for an owner's key (Redis): the same for the same owner and key, opaque to everyone else. */
export function idempotentJobId(owner: string | undefined, key: string): string {
  return `k-${createHash('sha256')
    .update(`${owner ?? ''}\0${key}`)
    .digest('hex')
    .slice(0, 32)}`;
}

// What an API token may do. Scopes are ordered: `admin` includes `deploy`, which includes `read`,
// so a token carries the scopes it was given and `grants` answers for the ones they imply.
import { MaasError } from '../core/errors.js';
import { closest } from '../spec/suggest.js';

export const SCOPES = ['read', 'deploy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const RANK: Record<Scope, number> = { read: 1, deploy: 2, admin: 3 };

export function isScope(name: string): name is Scope {
  return Object.prototype.hasOwnProperty.call(RANK, name);
}

/**
 * "read,deploy" (or a list of names) -> scopes, without duplicates, lowest first. VALIDATION for
 * an unknown name or an empty list, naming the valid scopes.
 */
export function parseScopes(input: string | readonly string[]): Scope[] {
  const names = (typeof input === 'string' ? input.split(',') : input).map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) {
    throw new MaasError('VALIDATION', 'a token needs at least one scope', { hint: `valid scopes: ${SCOPES.join(', ')} (e.g. --scope read,deploy)` });
  }
  const out = new Set<Scope>();
  for (const name of names) {
    if (!isScope(name)) {
      const near = closest(name, SCOPES);
      throw new MaasError('VALIDATION', `unknown scope "${name.slice(0, 64)}"${near ? ` (did you mean ${near}?)` : ''}`, {
        hint: `valid scopes: ${SCOPES.join(', ')}; admin includes deploy, deploy includes read`,
      });
    }
    out.add(name);
  }
  return [...out].sort((a, b) => RANK[a] - RANK[b]);
}

/** True when the held scopes include `needed` or a scope that implies it. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.some((s) => isScope(s) && RANK[s] >= RANK[needed]);
}

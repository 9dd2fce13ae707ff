// Split mode: each request goes to one member, chosen at random in proportion to its weight.
// Pure: the router passes the randomness in (systemRandom in production, a seeded one in tests).
import { NoAnswerError } from './aggregate.js';

export interface SplitMember {
  key: string;
  /** Share of the traffic, relative to the others; 0 (or negative, or not finite) never picked. */
  weight: number;
}

/**
 * The key of one member, picked with probability weight / total weight: a uniform draw in
 * [0, total) lands in one member's span of the cumulative weights. O(members) per pick, which is
 * a handful. Shadow members are the caller's to leave out. Throws NoAnswerError when no member
 * weighs more than 0.
 */
export function pickMember(members: readonly SplitMember[], random: () => number): string {
  let total = 0;
  for (const m of members) if (m.weight > 0 && Number.isFinite(m.weight)) total += m.weight;
  if (total === 0) {
    throw new NoAnswerError(
      members.map((m) => m.key),
      members.length === 0 ? 'the composition has no member to answer' : 'no member takes traffic: every weight is 0',
    );
  }
  const u = random() * total;
  let cumulative = 0;
  let last = '';
  for (const m of members) {
    if (!(m.weight > 0 && Number.isFinite(m.weight))) continue;
    cumulative += m.weight;
    last = m.key;
    if (u < cumulative) return m.key;
  }
  // Rounding can leave u a hair above the last cumulative sum; the last member takes it.
  return last;
}

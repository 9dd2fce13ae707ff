// Split mode: weighted choice of one member per request.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { NoAnswerError } from '../../src/compose/aggregate.js';
import { pickMember } from '../../src/compose/split.js';

describe('pickMember', () => {
  it('sends 90/10 of 100,000 seeded draws within 1 % of the weights', () => {
    const random = seededRandom(42);
    const next = () => random.next();
    const members = [
      { key: 'champion@3', weight: 90 },
      { key: 'challenger@4', weight: 10 },
    ];
    let challenger = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (pickMember(members, next) === 'challenger@4') challenger++;
    // Binomial sd = sqrt(0.1 * 0.9 / 1e5) ~ 0.00095, so 1 % is ten standard deviations.
    expect(Math.abs(challenger / n - 0.1)).toBeLessThan(0.01);
    expect(Math.abs((n - challenger) / n - 0.9)).toBeLessThan(0.01);
  });

  it('splits three ways by relative weight and never picks a weight-0 member', () => {
    const random = seededRandom(7);
    const members = [
      { key: 'a', weight: 1 },
      { key: 'off', weight: 0 },
      { key: 'b', weight: 3 },
      { key: 'neg', weight: -1 },
    ];
    const counts = new Map<string, number>();
    for (let i = 0; i < 40_000; i++) {
      const k = pickMember(members, () => random.next());
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.get('off')).toBeUndefined();
    expect(counts.get('neg')).toBeUndefined();
    expect(Math.abs(counts.get('a')! / 40_000 - 0.25)).toBeLessThan(0.01);
  });

  it('maps the draw onto cumulative weights, edges included', () => {
    const members = [
      { key: 'a', weight: 0 },
      { key: 'b', weight: 1 },
      { key: 'c', weight: 3 },
    ];
    // total 4: [0, 1) -> b, [1, 4) -> c
    expect(pickMember(members, () => 0)).toBe('b');
    expect(pickMember(members, () => 0.2499)).toBe('b');
    expect(pickMember(members, () => 0.25)).toBe('c');
    expect(pickMember(members, () => 0.999999999)).toBe('c');
    expect(pickMember(members, () => 1)).toBe('c'); // out of contract, still a member
  });

  it('throws NoAnswerError when no member takes traffic', () => {
    expect(() => pickMember([{ key: 'a', weight: 0 }], () => 0.5)).toThrow(NoAnswerError);
    expect(() => pickMember([], () => 0.5)).toThrow(/no member/);
  });
});

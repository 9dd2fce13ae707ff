// The observation cache's staleness bound: an observation answers for less than maxAgeMs from
// when it started, only for the record state (stamp) it was made for; observations in flight are
// shared, failures are not kept, and 0 observes every time.
import { describe, expect, it } from 'vitest';
import { ObservationCache } from '../../src/server/observation-cache.js';

describe('ObservationCache', () => {
  it('reuses an observation for less than maxAgeMs, then observes again', async () => {
    const c = new ObservationCache<string>(1000);
    let n = 0;
    const observe = async () => `seen ${++n}`;
    expect(await c.get('d-1', 's', 10_000, observe)).toEqual({ value: 'seen 1', at: 10_000 });
    expect(await c.get('d-1', 's', 10_999, observe)).toEqual({ value: 'seen 1', at: 10_000 });
    expect(await c.get('d-1', 's', 11_000, observe)).toEqual({ value: 'seen 2', at: 11_000 });
    // A clock that went back does not stretch the bound.
    expect(await c.get('d-1', 's', 9_000, observe)).toEqual({ value: 'seen 3', at: 9_000 });
    expect(n).toBe(3);
  });

  it('observes again as soon as the record changed (another stamp)', async () => {
    const c = new ObservationCache<string>(60_000);
    let n = 0;
    const observe = async () => `seen ${++n}`;
    await c.get('d-1', 'deploying', 0, observe);
    expect((await c.get('d-1', 'ready', 1, observe)).value).toBe('seen 2');
    expect((await c.get('d-2', 'ready', 1, observe)).value).toBe('seen 3');
  });

  it('shares an observation in flight and keeps no failure', async () => {
    const c = new ObservationCache<string>(1000);
    let n = 0;
    let fail = true;
    const observe = () => {
      n++;
      return new Promise<string>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('unreachable')) : resolve('ready')), 5));
    };
    const both = [c.get('d-1', 's', 0, observe), c.get('d-1', 's', 1, observe)];
    await expect(both[0]).rejects.toThrow('unreachable');
    await expect(both[1]).rejects.toThrow('unreachable');
    expect(n).toBe(1);
    fail = false;
    expect(await c.get('d-1', 's', 2, observe)).toEqual({ value: 'ready', at: 2 });
    expect(n).toBe(2);
  });

  it('with maxAgeMs 0 observes on every call; entries stay bounded', async () => {
    const c = new ObservationCache<number>(0);
    let n = 0;
    await c.get('d-1', 's', 0, async () => ++n);
    await c.get('d-1', 's', 0, async () => ++n);
    expect(n).toBe(2);
    const bounded = new ObservationCache<number>(1000, 2);
    for (const id of ['a', 'b', 'c']) await bounded.get(id, 's', 0, async () => 1);
    expect(bounded.size).toBe(2);
  });
});

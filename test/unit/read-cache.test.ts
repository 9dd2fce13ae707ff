// The read cache's rules: a result is reused only at the data version it was read at, a newer
// version empties it, a read finished at an older version is never kept, identical misses share
// one read, failures are not kept, and it stays within its bounds.
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/server/read-cache.js';

const later = <T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('ReadCache', () => {
  it('reuses a result at the same version and reads again at a newer one', async () => {
    const c = new ReadCache();
    let reads = 0;
    const read = async () => `answer ${++reads}`;
    expect(await c.getOrRead('k', 1, read)).toBe('answer 1');
    expect(await c.getOrRead('k', 1, read)).toBe('answer 1');
    expect(reads).toBe(1);
    expect(await c.getOrRead('k', 2, read)).toBe('answer 2');
    expect(reads).toBe(2);
    // Version 1 is gone for good.
    expect(c.get('k', 1)).toBeUndefined();
    expect(c.get('k', 2)).toBe('answer 2');
  });

  it('keeps nothing read at a version older than the newest seen', async () => {
    const c = new ReadCache();
    const slow = later<string>();
    const old = c.getOrRead('k', 1, () => slow.promise);
    // A write happened meanwhile: another request reads at version 2.
    expect(await c.getOrRead('k', 2, async () => 'new')).toBe('new');
    slow.resolve('old');
    expect(await old).toBe('old');
    expect(c.get('k', 2)).toBe('new');
    c.set('other', 1, 'stale');
    expect(c.get('other', 2)).toBeUndefined();
  });

  it('shares one read among identical concurrent misses, and keeps no failure', async () => {
    const c = new ReadCache();
    const pending = later<string>();
    let reads = 0;
    const read = () => (reads++, pending.promise);
    const a = c.getOrRead('k', 1, read);
    const b = c.getOrRead('k', 1, read);
    pending.reject(new Error('busy'));
    await expect(a).rejects.toThrow('busy');
    await expect(b).rejects.toThrow('busy');
    expect(reads).toBe(1);
    expect(await c.getOrRead('k', 1, async () => 'ok')).toBe('ok');
  });

  it('stays within its entries and weight, dropping the least recently used first', () => {
    const c = new ReadCache({ maxEntries: 2, maxWeight: 80 });
    c.set('a', 1, 'x'.repeat(5));
    c.set('b', 1, 'x'.repeat(5));
    c.get('a', 1);
    c.set('c', 1, 'x'.repeat(5));
    expect(c.get('b', 1)).toBeUndefined();
    expect(c.get('a', 1)).toBeDefined();
    expect(c.get('c', 1)).toBeDefined();
    // Over an eighth of the weight: never kept.
    c.set('big', 1, 'x'.repeat(11));
    expect(c.get('big', 1)).toBeUndefined();
    const w = new ReadCache({ maxEntries: 100, maxWeight: 80 });
    for (let i = 0; i < 10; i++) w.set(`k${i}`, 1, 'x'.repeat(10));
    expect(w.size).toBe(8);
    expect(w.get('k0', 1)).toBeUndefined();
    expect(w.get('k9', 1)).toBeDefined();
  });
});

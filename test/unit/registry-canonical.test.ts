// Canonical JSON and the description digest that makes re-registration idempotent.
import { describe, expect, it } from 'vitest';
import { canonicalJson, specDigest } from '../../src/registry/canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined members like JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('specDigest', () => {
  it('is equal for equal content in any key order and differs otherwise', () => {
    const a = specDigest({ metadata: { name: 'm', version: '1' }, spec: { task: 'classification' } });
    expect(specDigest({ spec: { task: 'classification' }, metadata: { version: '1', name: 'm' } })).toBe(a);
    expect(specDigest({ metadata: { name: 'm', version: '2' }, spec: { task: 'classification' } })).not.toBe(a);
    expect(a).toMatch(/^sha256:[a-f0-9]{64}$/);
  });
});

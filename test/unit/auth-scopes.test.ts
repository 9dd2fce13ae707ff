// Token scopes: parsing (unknown names refused with the valid ones listed) and the implication
// order admin > deploy > read.
import { describe, expect, it } from 'vitest';
import { grants, parseScopes, SCOPES, type Scope } from '../../src/auth/scopes.js';
import { thrown } from '../support/assert.js';

describe('parseScopes', () => {
  it('reads a comma-separated list, trims, drops duplicates and orders lowest first', () => {
    expect(parseScopes('read,deploy')).toEqual(['read', 'deploy']);
    expect(parseScopes(' admin , read,admin ')).toEqual(['read', 'admin']);
    expect(parseScopes(['deploy'])).toEqual(['deploy']);
  });

  it('refuses unknown names with VALIDATION, listing the valid scopes', () => {
    const e = thrown(() => parseScopes('read,wrte'));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toBe('unknown scope "wrte"');
    expect(e.hint).toContain('read, deploy, admin');
    expect(thrown(() => parseScopes('reed')).message).toContain('did you mean read?');
    // Names are exact: no case folding, no prototype keys.
    expect(thrown(() => parseScopes('ADMIN')).code).toBe('VALIDATION');
    expect(thrown(() => parseScopes('constructor')).code).toBe('VALIDATION');
    expect(thrown(() => parseScopes('__proto__')).code).toBe('VALIDATION');
  });

  it('refuses an empty list', () => {
    for (const input of ['', ' , ', []]) expect(thrown(() => parseScopes(input)).message).toBe('a token needs at least one scope');
  });
});

describe('grants', () => {
  const table: [Scope[], Scope, boolean][] = [
    [['read'], 'read', true],
    [['read'], 'deploy', false],
    [['read'], 'admin', false],
    [['deploy'], 'read', true],
    [['deploy'], 'deploy', true],
    [['deploy'], 'admin', false],
    [['admin'], 'read', true],
    [['admin'], 'deploy', true],
    [['admin'], 'admin', true],
    [['read', 'deploy'], 'deploy', true],
    [[], 'read', false],
  ];
  it.each(table)('%j grants %s: %s', (held, needed, expected) => {
    expect(grants(held, needed)).toBe(expected);
  });

  it('grants nothing for names it does not know', () => {
    expect(grants(['root' as Scope], 'read')).toBe(false);
    expect(SCOPES).toEqual(['read', 'deploy', 'admin']);
  });
});

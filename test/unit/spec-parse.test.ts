import { describe, expect, it } from 'vitest';
import { formatPath, parseYaml, quote, MAX_ALIAS_COUNT, MAX_DOCUMENTS, MAX_FLOW_DEPTH, MAX_SPEC_BYTES } from '../../src/spec/parse.js';

describe('parsing YAML with source positions', () => {
  const text = [
    'apiVersion: maas.dev/v1',
    'metadata:',
    '  name: x',
    'spec:',
    '  features:',
    '    - name: a',
    '      type: number',
    '    - { name: b, type: boolean }',
    '',
  ].join('\n');

  it('maps field paths to line and column, or to the nearest existing ancestor', () => {
    const [doc] = parseYaml(text, 'm.yaml').documents;
    expect(doc!.locate(['metadata', 'name'])).toEqual({ line: 3, column: 9 });
    expect(doc!.locate(['spec', 'features', 0, 'type'])).toEqual({ line: 7, column: 13 });
    expect(doc!.locate(['spec', 'features', 1, 'type'])).toEqual({ line: 8, column: 24 });
    expect(doc!.locate(['spec', 'features', 1, 'type'], { key: true })).toEqual({ line: 8, column: 18 });
    // Missing: the deepest node that exists.
    expect(doc!.locate(['spec', 'features', 0, 'range', 'min'])).toEqual({ line: 6, column: 7 });
    expect(doc!.locate(['spec', 'features', 9])).toEqual({ line: 6, column: 5 });
    expect(doc!.locate(['nothing'])).toEqual({ line: 1, column: 1 });
  });

  it('keeps positions per document in multi-document files', () => {
    const parsed = parseYaml(`a: 1\n---\nb: 2\n---\n\n  c: 3\n`, 'm.yaml');
    expect(parsed.documents.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(parsed.documents[1]!.locate(['b'])).toEqual({ line: 3, column: 4 });
    expect(parsed.documents[2]!.locate(['c'], { key: true })).toEqual({ line: 6, column: 3 });
  });

  it('turns syntax errors into located problems with hints', () => {
    const cases: [string, number, number, RegExp][] = [
      ['a:\n\t- b\n', 2, 1, /tabs/i],
      ['a: 1\na: 2\n', 2, 1, /unique/i],
      ['a: [1, 2\nb: 3\n', 2, 1, /end with a \]/i],
      ['a: "unclosed\n', 2, 1, /quote|closed/i],
      ['a:\n  b: 1\n c: 2\n', 3, 1, /indent/i],
    ];
    for (const [src, line, column, hint] of cases) {
      const { problems, documents } = parseYaml(src, 'bad.yaml');
      expect(documents, src).toEqual([]);
      expect(problems[0], src).toMatchObject({ file: 'bad.yaml', line, column, path: '' });
      expect(problems[0]!.message, src).toMatch(/^YAML syntax error: /);
      expect(`${problems[0]!.message} ${problems[0]!.hint ?? ''}`, src).toMatch(hint);
    }
  });

  it('keeps the good documents when another document of the file is broken', () => {
    const parsed = parseYaml('a: 1\n---\nb: [\n---\nc: 3\n', 'm.yaml');
    expect(parsed.documents.map((d) => d.data)).toEqual([{ a: 1 }, { c: 3 }]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]!.line).toBe(4);
  });

  it('stops alias bombs and dangling aliases without crashing', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${new Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const bomb = parseYaml(levels.join('\n'), 'bomb.yaml');
    expect(bomb.documents).toEqual([]);
    expect(bomb.problems[0]!.message).toContain(`more than ${MAX_ALIAS_COUNT} aliases`);
    const dangling = parseYaml('x: &a 1\ny:\n  z: *b\n', 'm.yaml');
    expect(dangling.problems[0]).toMatchObject({ line: 3, column: 6, message: expect.stringMatching(/alias refers to an anchor that is not defined/) });
  });

  it('survives absurd nesting, huge and empty inputs', () => {
    // A file of open brackets would need ~1 KB per level in the parser: refused up front.
    const deep = parseYaml(`a: 1\nb: ${'['.repeat(MAX_SPEC_BYTES - 20)}`, 'deep.yaml');
    expect(deep.problems).toEqual([
      expect.objectContaining({ line: 2, column: 4 + MAX_FLOW_DEPTH, message: `YAML is nested more than ${MAX_FLOW_DEPTH} levels deep` }),
    ]);
    // Brackets inside quotes and comments are not nesting.
    expect(parseYaml(`a: "${'['.repeat(500)}"\n# ${'{'.repeat(500)}\nb: '${'['.repeat(500)}'\n`, 'q.yaml').problems).toEqual([]);
    const deepBlock = Array.from({ length: 1500 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(parseYaml(deepBlock, 'deep.yaml').problems[0]!.message).toMatch(/nested too deeply/);
    expect(parseYaml('x'.repeat(MAX_SPEC_BYTES + 1), 'big.yaml').problems[0]!.message).toMatch(/too large/);
    expect(parseYaml('', 'empty.yaml').problems[0]).toMatchObject({ line: 1, column: 1, message: expect.stringMatching(/empty/) });
    expect(parseYaml('a: 1\n---\n'.repeat(MAX_DOCUMENTS + 1), 'many.yaml').problems[0]!.message).toMatch(/YAML documents, at most/);
  });

  it('finds duplicate keys in large mappings', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}`);
    keys.push('k123: again');
    const { problems } = parseYaml(keys.join('\n'), 'keys.yaml');
    expect(problems).toEqual([expect.objectContaining({ line: 50_001, column: 1, message: 'YAML syntax error: Map keys must be unique' })]);
  });

  it('formats paths and quotes user text safely', () => {
    expect(formatPath(['spec', 'features', 2, 'type'])).toBe('spec.features[2].type');
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(quote('a\u0000b\u202ec"d')).toBe('"a\\u0000b\\u202ec\\"d"');
    expect(quote('x'.repeat(100))).toHaveLength(60 + 3);
    expect(quote('\ud800')).toBe('"\\ud800"');
    expect(quote('ok 😀')).toBe('"ok 😀"');
  });
});

// Seeded fuzzing of model descriptions through the CLI: whatever the input, `maas validate` (and
// `maas register`) must answer with exit 2 and a located message, never crash, never leak a
// stack trace, and never touch the registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { seededRandom, type Random } from '../../src/core/clock.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { REPO_ROOT, runCli, tempDir } from '../support/cli.js';
import { onnxFor } from '../support/onnx-models.js';
import { FULL_MODEL, smallModel, writeModel } from './spec-fixtures.js';

const SEED = 20240611;
const MUTATIONS = 1150;
const REQUIRED_INVALID = 1000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const ODD = [
  '\u202e',
  '\u200f',
  '\u200b',
  '\u2060',
  '\ufeff',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '😀',
  '👩‍👩‍👧',
  '\ud800',
  '\udfff',
  '\u2028',
  'é',
  '\u0301',
  '𝔘𝔫𝔦',
];
const WRONG: Json[] = [42, -1, 0.5, 1e308, -1e308, 'text', '', true, false, null, [], {}, [1, 'two'], { a: 1 }];

function tools(rng: Random) {
  const int = (n: number): number => Math.floor(rng.next() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  return { int, pick };
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Every path in a JSON value (containers and leaves). */
function paths(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function getAt(root: Json, path: Path): Json | undefined {
  let node: Json | undefined = root;
  for (const seg of path) node = node && typeof node === 'object' ? (node as Record<string | number, Json>)[seg] : undefined;
  return node;
}

function setAt(root: Json, path: Path, value: Json | undefined): void {
  const parent = getAt(root, path.slice(0, -1));
  if (!parent || typeof parent !== 'object') return;
  const key = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
    else delete (parent as Record<string, Json>)[key];
  } else {
    (parent as Record<string | number, Json>)[key] = value;
  }
}

function nested(depth: number, leaf: Json): Json {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const REQUIRED: Path[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata'],
  ['metadata', 'name'],
  ['metadata', 'version'],
  ['spec'],
  ['spec', 'task'],
  ['spec', 'algorithm'],
  ['spec', 'artifact'],
  ['spec', 'artifact', 'uri'],
  ['spec', 'artifact', 'format'],
  ['spec', 'features'],
  ['spec', 'features', 0, 'name'],
  ['spec', 'features', 1, 'type'],
  ['spec', 'resources', 'serving', 'replicas', 'min'],
  ['spec', 'training', 'data', 'uri'],
  ['spec', 'outputs', 'labels'],
];

/** One mutated description text, from a generator chosen by the PRNG. */
function mutate(rng: Random, text: string, base: Json): { kind: string; text: string } {
  const { int, pick } = tools(rng);
  const lines = text.split('\n');
  const indented = lines.map((l, i) => [l, i] as const).filter(([l]) => /^ +\S/.test(l));
  const obj = (): Json => clone(base);
  const dump = (v: Json): string => stringify(v, { lineWidth: 0 });
  const generators: Record<string, () => string> = {
    truncate: () => text.slice(0, int(text.length)),
    bracket: () => {
      const at = int(text.length);
      return text.slice(0, at) + pick(['[', '{', ']', '}', '"', "'", '[[', '{{{']) + text.slice(at);
    },
    tab: () => {
      const [l, i] = pick(indented);
      const out = [...lines];
      out[i] = l.replace(/^ +/, (s) => '\t'.repeat(1 + int(Math.max(1, s.length / 2))));
      return out.join('\n');
    },
    indent: () => {
      const [l, i] = pick(indented);
      const out = [...lines];
      out[i] = rng.next() < 0.5 ? ` ${l}` : l.slice(1);
      return out.join('\n');
    },
    duplicateKey: () => {
      const keyed = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z]+:/.test(l) && !/^\s*-/.test(l));
      const [l, i] = pick(keyed);
      const out = [...lines];
      out.splice(i + 1, 0, l.replace(/:.*$/, ': duplicate'));
      return out.join('\n');
    },
    rawUnicode: () => {
      const at = int(text.length);
      return text.slice(0, at) + pick(ODD) + text.slice(at);
    },
    flipChar: () => {
      const at = int(text.length);
      return text.slice(0, at) + String.fromCharCode(int(128)) + text.slice(at + 1);
    },
    aliasBomb: () => {
      const levels = ['x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      const n = 4 + int(8);
      for (let i = 1; i < n; i++) levels.push(`x${i}: &a${i} [${new Array(9).fill(`*a${i - 1}`).join(', ')}]`);
      return `${levels.join('\n')}\n${text}`;
    },
    danglingAlias: () => text.replace('algorithm: MLP', `algorithm: *missing${int(9)}`),
    anchors: () => text.replace('  labels:\n', '  labels: &labels\n').replace('task: classification', 'task: *labels'),
    deepFlow: () => {
      const depth = 65 + int(20_000);
      return text.replace('activation: relu', `activation: ${'['.repeat(depth)}${rng.next() < 0.5 ? ']'.repeat(depth) : ''}`);
    },
    deepBlock: () => {
      const v = obj();
      setAt(v, ['spec', 'hyperparameters', 'deep'], nested(20 + int(200), 'leaf'));
      return dump(v);
    },
    wrongType: () => {
      const v = obj();
      const p = pick(paths(v));
      setAt(v, p, pick(WRONG));
      return dump(v);
    },
    missingRequired: () => {
      const v = obj();
      setAt(v, pick(REQUIRED), undefined);
      return dump(v);
    },
    unknownKey: () => {
      const v = obj();
      const containers = paths(v).filter((p) => {
        const x = getAt(v, p);
        return x !== null && typeof x === 'object' && !Array.isArray(x);
      });
      const p = pick(containers);
      const keys = Object.keys(getAt(v, p) as object);
      if (keys.length === 0) return dump(v);
      setAt(v, [...p, `${pick(keys)}${pick(['x', 's', '_', ' ', pick(ODD)])}`], 1);
      return dump(v);
    },
    hugeString: () => {
      const v = obj();
      const target = pick<Path>([
        ['metadata', 'name'],
        ['metadata', 'version'],
        ['spec', 'algorithm'],
        ['spec', 'artifact', 'uri'],
        ['spec', 'features', 0, 'name'],
        ['metadata', 'labels', 'team'],
        ['spec', 'outputs', 'labels', 0],
      ]);
      setAt(v, target, 'x'.repeat(1000 + int(100_000)));
      return dump(v);
    },
    hugeKey: () => {
      const v = obj();
      setAt(v, ['spec', 'x'.repeat(200 + int(5000))], 1);
      return dump(v);
    },
    hugeNumber: () => {
      const v = obj();
      const target = pick<Path>([
        ['spec', 'resources', 'serving', 'gpu'],
        ['spec', 'resources', 'serving', 'replicas', 'max'],
        ['spec', 'inference', 'maxBatchSize'],
        ['spec', 'qos', 'reliability'],
        ['spec', 'resources', 'serving', 'cpu'],
      ]);
      setAt(v, target, pick([1e308, -1e308, 2 ** 64, -0.5, 1.5]));
      return dump(v).replace(/: 1e\+308$/m, rng.next() < 0.5 ? ': .inf' : ': .nan');
    },
    manyFeatures: () => {
      // Written as text: dumping thousands of features through the YAML library is the slow part.
      const over = rng.next() < 0.04;
      const n = over ? 10_001 : 50 + int(300);
      const items = Array.from({ length: n }, (_, i) => `    - {name: ${over ? `f${i}` : 'same'}, type: number}`).join('\n');
      return text.replace(/ {2}features:\n(?: {4}.*\n)+/, `  features:\n${items}\n`);
    },
    oddUnicode: () => {
      const v = obj();
      const strings = paths(v).filter((p) => typeof getAt(v, p) === 'string' && !['description', 'method'].includes(String(p[p.length - 1])));
      const p = pick(strings);
      const s = getAt(v, p) as string;
      const at = int(s.length + 1);
      setAt(v, p, s.slice(0, at) + pick(ODD) + s.slice(at));
      return dump(v);
    },
    misspell: () => {
      const v = obj();
      const p = pick<Path>([
        ['spec', 'task'],
        ['spec', 'features', 1, 'type'],
        ['spec', 'artifact', 'format'],
        ['kind'],
        ['apiVersion'],
        ['spec', 'inference', 'protocol'],
        ['spec', 'training', 'data', 'format'],
      ]);
      const current = getAt(v, p);
      const s = typeof current === 'string' ? current : JSON.stringify(current);
      const at = int(s.length);
      setAt(v, p, s.slice(0, at) + String.fromCharCode(97 + int(26)) + s.slice(at + 1) + (rng.next() < 0.3 ? 'x' : ''));
      return dump(v);
    },
    semantic: () => {
      const v = obj();
      const pickOne = int(10);
      if (pickOne === 0) setAt(v, ['spec', 'features', 1, 'name'], 'acc_x');
      if (pickOne === 1) setAt(v, ['spec', 'features', 0, 'range'], { min: 5 + int(10), max: int(5) });
      if (pickOne === 2) setAt(v, ['spec', 'resources', 'serving', 'replicas'], { min: 5 + int(10), max: 1 + int(4) });
      if (pickOne === 3) setAt(v, ['spec', 'outputs', 'labels'], undefined);
      if (pickOne === 4) setAt(v, ['spec', 'features', 2, 'values'], undefined);
      if (pickOne === 5) setAt(v, ['spec', 'resources', 'serving', 'memory'], pick(['lots', '1 Gi', '256m', '-1Gi', '1.2.3']));
      if (pickOne === 6) setAt(v, ['metadata', 'version'], pick(['v1', '1.2', '01', 'latest', '1.0.0-', '1..2']));
      if (pickOne === 7)
        setAt(v, ['spec', 'artifact', 'uri'], pick(['ftp://x/m.onnx', 'model.onnx', 'file://./missing.onnx', 's3:/nobucket', 'https://', 'file:']));
      if (pickOne === 8) setAt(v, ['spec', 'features', 0, 'values'], [1, 2]);
      if (pickOne === 9) setAt(v, ['spec', 'outputs', 'labels'], ['same', 'same']);
      return dump(v);
    },
    documents: () => {
      const broken = mutate(rng, text, base).text;
      return pick([`${smallModel()}---\n${broken}`, `${broken}\n---\n${smallModel()}`, `---\n${broken}\n---\n---\n`]);
    },
    notAMapping: () =>
      pick([
        '',
        '\n\n',
        '# nothing\n',
        '---\n---\n',
        'just text',
        '- a\n- b\n',
        '42',
        'null',
        '~',
        '[1, 2]',
        '"quoted"',
        '\u0000',
        '\ufeff',
        '%YAML 1.2\n---\n',
      ]),
    otherKind: () => text.replace('kind: Model', `kind: ${pick(['Composition', 'Deployment', 'model', '""', '[Model]'])}`),
  };
  const kind = pick(Object.keys(generators));
  return { kind, text: generators[kind]!() };
}

describe('fuzzing model descriptions', () => {
  let home: { path: string; cleanup: () => void };
  let work: { path: string; cleanup: () => void };
  const withRegister = existsSync(join(REPO_ROOT, 'src', 'cli', 'commands', 'register.ts'));
  beforeAll(() => {
    home = tempDir();
    work = tempDir('maas-fuzz-');
  });
  afterAll(() => {
    home.cleanup();
    work.cleanup();
  });

  it(`rejects ${REQUIRED_INVALID}+ mutated descriptions cleanly`, async () => {
    const cli = (argv: string[]) => runCli(argv, { home: home.path, cwd: work.path });
    const file = writeModel(work.path, 'm.yaml', FULL_MODEL);
    // Validation opens the artifact: a real model that fits the unmutated description.
    writeFileSync(join(work.path, 'model.onnx'), onnxFor(parse(FULL_MODEL) as ModelDescription));
    expect((await cli(['validate', 'm.yaml'])).code).toBe(0);
    let registryBefore = '';
    if (withRegister) {
      // A registry with content, so "unchanged" means something.
      const seedDir = join(work.path, 'seed');
      mkdirSync(seedDir);
      writeModel(seedDir, 'seed.yaml', smallModel('seeded'));
      writeFileSync(join(seedDir, 'model.onnx'), onnxFor(parse(smallModel('seeded')) as ModelDescription));
      const seeded = await cli(['register', 'seed/seed.yaml']);
      expect(seeded.code, seeded.stderr).toBe(0);
      registryBefore = (await cli(['-o', 'json', 'list'])).stdout;
      expect(registryBefore).toContain('seeded');
    }
    const base = parse(FULL_MODEL) as Json;
    const rng = seededRandom(SEED);
    const stats = { invalid: 0, stayedValid: 0, registerChecked: 0 };
    const byKind = new Map<string, number>();
    const located = /(?:^|\n)m\.yaml:\d+:\d+ /;
    for (let i = 0; i < MUTATIONS; i++) {
      const { kind, text } = mutate(rng, FULL_MODEL, base);
      writeFileSync(file, text);
      const v = await cli(['validate', 'm.yaml']);
      const context = `mutation #${i} (${kind}): ${JSON.stringify(text.slice(0, 300))}`;
      expect(v.stderr, context).not.toMatch(/\n\s+at .*:\d+:\d+/);
      if (v.code === 0) {
        stats.stayedValid++;
        continue;
      }
      expect(v.code, `${context}\n${v.stderr}`).toBe(2);
      expect(v.stdout, context).toMatch(located);
      stats.invalid++;
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      if (withRegister) {
        const r = await cli(['register', 'm.yaml']);
        expect(r.code, `${context}\n${r.stderr}`).toBe(2);
        expect(r.stderr, context).toMatch(located);
        expect(r.stderr, context).not.toMatch(/\n\s+at .*:\d+:\d+/);
        stats.registerChecked++;
      }
    }
    expect(stats.invalid, JSON.stringify(stats)).toBeGreaterThanOrEqual(REQUIRED_INVALID);
    // Every generator produced at least a few invalid inputs.
    expect(byKind.size).toBeGreaterThanOrEqual(20);
    if (withRegister) {
      expect(stats.registerChecked).toBe(stats.invalid);
      expect((await cli(['-o', 'json', 'list'])).stdout).toBe(registryBefore);
    }
    // Hundreds of in-process CLI runs: slow on a loaded machine, so more room than the default.
  }, 180_000);
});

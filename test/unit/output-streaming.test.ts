// Large results print in every format without one string holding them all: 150,000 predictions
// through renderResult and through main(), checked for content and for the size of each write.
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { parse, stringify } from 'yaml';
import { predictionRows } from '../../src/app/predict.js';
import { predictionColumns } from '../../src/cli/commands/predict.js';
import { ManualClock } from '../../src/core/clock.js';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { formatTable, jsonChunks, renderResult, textWidth, yamlChunks, type CommandResult, type OutputFormat } from '../../src/cli/output.js';
import type { InferResponse } from '../../src/protocol/oip.js';
import { modelDescription } from '../../bench/model-fixtures.js';
import { FakeTarget, fakePlugin } from '../support/fake-target.js';
import { memoryStores } from '../support/memory-stores.js';
import { tempDir } from '../support/cli.js';

const N = 150_000;
const MIB = 1024 * 1024;
const plain = new Chalk({ level: 0 });
const LABELS = ['walking', 'sitting', 'climbing_stairs'];

function bigResponse(n: number): InferResponse {
  const label: string[] = new Array<string>(n);
  const probs: number[] = new Array<number>(n * 3);
  for (let i = 0; i < n; i++) {
    label[i] = LABELS[i % 3] ?? '';
    probs[i * 3] = (i % 7) / 10;
    probs[i * 3 + 1] = 0.05;
    probs[i * 3 + 2] = 1 - (i % 7) / 10 - 0.05;
  }
  return {
    id: 'req-1',
    model_name: 'har',
    model_version: '1',
    outputs: [
      { name: 'label', shape: [n], datatype: 'BYTES', data: label },
      { name: 'probabilities', shape: [n, 3], datatype: 'FP32', data: probs },
    ],
  };
}

/** A stream that records writes, fails on oversized ones, and asks for 'drain' now and then. */
function capture(o: { drainEvery?: number } = {}) {
  const chunks: string[] = [];
  let waiting: (() => void) | undefined;
  let maxChunk = 0;
  return {
    chunks,
    text: () => chunks.join(''),
    maxChunk: () => maxChunk,
    stream: {
      write(s: string): boolean {
        if (waiting) throw new Error('written while the stream asked to wait for drain');
        chunks.push(s);
        maxChunk = Math.max(maxChunk, s.length);
        return !(o.drainEvery && chunks.length % o.drainEvery === 0);
      },
      once(_event: 'drain', listener: () => void): void {
        waiting = listener;
        setImmediate(() => {
          waiting = undefined;
          listener();
        });
      },
    },
  };
}

async function render(result: CommandResult, format: OutputFormat) {
  const out = capture({ drainEvery: 3 });
  const err = capture();
  await renderResult(result, format, out.stream, err.stream, plain);
  expect(out.maxChunk()).toBeLessThanOrEqual(MIB);
  return { stdout: out.text(), stderr: err.text(), writes: out.chunks.length };
}

/** The kubectl layout, written out naively as the oracle for ASCII tables. */
function naiveTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h) => h.length);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd();
  return `${[headers.map((h) => h.toUpperCase()), ...rows].map(line).join('\n')}\n`;
}

describe('streaming output of 150,000 predictions', () => {
  const response = bigResponse(N);
  const rows = predictionRows(response);
  // As `maas predict` shows them, with the confidence only in -o wide to tell the two apart.
  const columns = predictionColumns(rows).map((c) => (c.header === 'confidence' ? { ...c, wide: true } : c));
  const result: CommandResult = {
    data: response,
    table: { columns, rows },
    names: rows.map((r) => r.id),
    notes: [`request req-1: ${rows.length} prediction(s)`],
  };

  it('reads the rows out of the response in one linear pass', () => {
    expect(rows).toHaveLength(N);
    expect(rows[N - 1]).toEqual({ row: N - 1, id: `req-1:${N - 1}`, label: LABELS[(N - 1) % 3], confidence: 1 - ((N - 1) % 7) / 10 - 0.05 });
  });

  it.each(['table', 'wide'] as const)('prints -o %s row by row with the columns measured over all rows', async (format) => {
    const { stdout, stderr, writes } = await render(result, format);
    const cols = columns.filter((c) => format === 'wide' || !c.wide);
    const expected = naiveTable(
      cols.map((c) => c.header),
      rows.map((r) => cols.map((c) => c.value(r, plain))),
    );
    expect(stdout).toBe(expected);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(format === 'wide' ? 'ROW      ID             LABEL             CONFIDENCE' : 'ROW      ID             LABEL');
    expect(lines[1]).toBe(format === 'wide' ? '0        req-1:0        walking           0.950' : '0        req-1:0        walking');
    expect(lines[N]).toBe(format === 'wide' ? '149999   req-1:149999   climbing_stairs   0.650' : '149999   req-1:149999   climbing_stairs');
    expect(lines).toHaveLength(N + 2);
    expect(stderr).toBe(`request req-1: ${N} prediction(s)\n`);
    expect(writes).toBeGreaterThan(10);
  });

  it('prints -o json as the same text JSON.stringify gives, in chunks', async () => {
    const { stdout, writes } = await render(result, 'json');
    expect(stdout).toBe(`${JSON.stringify(response, null, 2)}\n`);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(response)));
    expect(writes).toBeGreaterThan(10);
  });

  it('prints -o yaml as a document that parses back to the same value', async () => {
    const { stdout, writes } = await render(result, 'yaml');
    expect(stdout.startsWith('id: req-1\nmodel_name: har\nmodel_version: "1"\noutputs:\n  - name: label\n    shape:\n      - 150000\n')).toBe(true);
    expect(stdout.endsWith(`      - 0.05\n      - ${1 - ((N - 1) % 7) / 10 - 0.05}\n`)).toBe(true);
    expect(stdout.split('\n')).toHaveLength(4 + (5 + N) + (6 + 3 * N) + 1);
    expect(writes).toBeGreaterThan(10);
    // The yaml parser takes ~25 s over all of it; a sixth still takes the streaming path.
    const smaller = bigResponse(N / 6);
    const back = await render({ data: smaller }, 'yaml');
    expect(back.writes).toBeGreaterThan(1);
    expect(parse(back.stdout)).toEqual(JSON.parse(JSON.stringify(smaller)));
  });

  it('prints -o name one id a line', async () => {
    const { stdout } = await render(result, 'name');
    expect(stdout.startsWith('req-1:0\nreq-1:1\n')).toBe(true);
    expect(stdout.endsWith(`req-1:${N - 1}\n`)).toBe(true);
    expect(stdout.split('\n')).toHaveLength(N + 1);
  });

  it('runs `maas predict --data-ref` end to end through main()', async () => {
    const home = tempDir('maas-stream-');
    try {
      const clock = new ManualClock(Date.UTC(2026, 5, 1));
      const stores = memoryStores(() => clock.now());
      const local = new FakeTarget('local', clock);
      await stores.models.registerModel(modelDescription({ name: 'har', version: '1' }), {
        digest: `sha256:${'a'.repeat(64)}`,
        size: 1,
        uri: 'file://./m.onnx',
      });
      const deps = { clock, services: { stores, plugins: [fakePlugin(local)], inference: async () => ({ infer: async () => response }) as never } };
      const run = async (argv: string[]) => {
        const out = capture({ drainEvery: 5 });
        const err = capture();
        const io: Io = {
          stdout: out.stream,
          stderr: err.stream,
          stdin: undefined as unknown as Io['stdin'],
          env: { PATH: process.env.PATH, CI: '1', MAAS_HOME: home.path, USER: 'tester' },
          cwd: home.path,
        };
        const code = await main(argv, io, deps);
        expect(out.maxChunk()).toBeLessThanOrEqual(MIB);
        return { code, stdout: out.text(), stderr: err.text() };
      };
      const d = JSON.parse((await run(['deploy', 'har@1', '-o', 'json'])).stdout) as { id: string };
      const table = await run(['predict', d.id, '--data-ref', 'big.csv']);
      expect(table.code).toBe(0);
      expect(table.stderr).toContain(`${N} prediction(s)`);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toBe('ROW      ID             LABEL             CONFIDENCE');
      expect(lines[N]).toBe('149999   req-1:149999   climbing_stairs   0.650');
      const json = await run(['predict', d.id, '--data-ref', 'big.csv', '-o', 'json']);
      expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(response)));
    } finally {
      home.cleanup();
    }
  });
});

describe('the table layout', () => {
  const s = new Chalk({ level: 1 });
  // What cli-table3 printed for the same input, pinned when the renderer moved off it.
  it.each([
    [
      ['a', 'bb'],
      [
        ['x', 'y'],
        ['xxxx', ''],
      ],
      s,
      '\u001b[1mA\u001b[22m      \u001b[1mBB\u001b[22m\nx      y\nxxxx',
    ],
    [
      ['a', 'bb'],
      [
        ['x\nyy', 'z'],
        ['q', s.red('r\nss')],
      ],
      s,
      '\u001b[1mA\u001b[22m    \u001b[1mBB\u001b[22m\nx    z\nyy\nq    \u001b[31mr\u001b[39m\n     \u001b[31mss\u001b[39m',
    ],
    [
      ['a', 'bb', 'c'],
      [
        ['', '', ''],
        ['1', '', ''],
      ],
      s,
      '\u001b[1mA\u001b[22m   \u001b[1mBB\u001b[22m   \u001b[1mC\u001b[22m\n\n1',
    ],
    [
      ['a', 'b'],
      [
        ['漢字', '😀x'],
        ['e\u0301', 'ok'],
      ],
      s,
      '\u001b[1mA\u001b[22m      \u001b[1mB\u001b[22m\n漢字   😀x\ne\u0301      ok',
    ],
    [['a', 'b'], [['\u001b[31munclosed', 'x']], s, '\u001b[1mA\u001b[22m          \u001b[1mB\u001b[22m\n\u001b[31munclosed\u001b[39m   x'],
    [['a', 'b'], [['tab\there', 'x']], plain, 'A         B\ntab\there   x'],
    [['name', 'status'], [[s.green('ok'), s.bold.red('bad')]], plain, 'NAME   STATUS\n\u001b[32mok\u001b[39m     \u001b[1m\u001b[31mbad\u001b[39m\u001b[22m'],
  ] as const)('lays out %j like cli-table3 did', async (headers, rows, style, expected) => {
    expect(
      await formatTable(
        [...headers],
        rows.map((r) => [...r]),
        style,
      ),
    ).toBe(expected);
  });

  it('measures cells without escape codes', () => {
    expect(textWidth(s.bold.red('abc'))).toBe(3);
    expect(textWidth('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe(4);
    expect(textWidth('日本')).toBe(4);
  });
});

describe('the streaming json and yaml writers', () => {
  const date = new Date(Date.UTC(2026, 0, 2));
  const odd = {
    n: 1,
    neg: -0,
    big: 10n ** 20n,
    nan: Number.NaN,
    inf: -Infinity,
    float: 1e-7,
    huge: 1e21,
    date,
    map: new Map<string, unknown>([
      ['a', 1],
      ['b', new Set([1, 'x'])],
    ]),
    undef: undefined,
    fn: () => 1,
    arr: [undefined, () => 1, null, [], {}, [[1, [2]], { a: [] }]],
    custom: { toJSON: (k: string) => `key ${k}` },
    strings: [
      '',
      ' lead',
      'trail ',
      'true',
      'null',
      'No',
      '~',
      '1.5',
      '0x1f',
      '-',
      '- x',
      '#c',
      'a: b',
      'r1:0',
      'x:',
      '@at',
      "it's",
      '"q"',
      'multi\nline',
      'tab\t',
      '\u2028',
      '😀',
      'ümlaut',
      '[x]',
      '{y}',
      '*a',
      '&b',
      '!t',
      '%p',
      '|',
      '>',
    ],
    keys: { '': 1, '1': 2, 'a b': 3, 'a:b': 4, true: 5, 'x-y_z.w/v': 6, '- k': 7 },
    nested: { deep: { deeper: [{ a: 1, b: [1, 2] }, [3, [4, 5]], 'x'] } },
  };
  const asJson = (v: unknown) =>
    JSON.stringify(
      v,
      (_k, x: unknown) =>
        typeof x === 'bigint' ? x.toString() : x instanceof Map ? (Object.fromEntries(x) as unknown) : x instanceof Set ? [...(x as Set<unknown>)] : x,
      2,
    );

  it.each([
    ['odd values', odd],
    ['a scalar', 'x'],
    ['null', null],
    ['an empty array', []],
    ['an empty object', {}],
    ['a list of lists', [[1], [[]], [{}]]],
  ])('writes %s as JSON.stringify with the replacer would', (_name, value) => {
    expect([...jsonChunks(value)].join('')).toBe(`${asJson(value)}\n`);
    expect([...yamlChunks(value)].join('')).not.toBe('');
    expect(parse([...yamlChunks(value)].join(''))).toEqual(JSON.parse(asJson(value)));
  });

  it('splits one huge string into bounded writes without breaking characters', async () => {
    const long = '😀'.repeat(400_000) + 'x'.repeat(3);
    const out = capture();
    await renderResult({ data: [long] }, 'json', out.stream, capture().stream, plain);
    expect(out.maxChunk()).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(out.chunks.every((c) => Buffer.from(c, 'utf8').toString('utf8') === c)).toBe(true);
    expect(JSON.parse(out.text())).toEqual([long]);
  });

  it('writes undefined as null, and refuses cycles', () => {
    expect([...jsonChunks(undefined)].join('')).toBe('null\n');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => [...jsonChunks(cyclic)]).toThrow(TypeError);
    expect(() => [...yamlChunks(cyclic)]).toThrow(TypeError);
  });

  it('keeps the yaml package output for small values', async () => {
    const small = { a: [1, 2], b: { c: 'x' }, when: date };
    const out = capture();
    await renderResult({ data: small }, 'yaml', out.stream, capture().stream, plain);
    expect(out.text()).toBe(stringify(JSON.parse(JSON.stringify(small)), { lineWidth: 0 }));
  });
});

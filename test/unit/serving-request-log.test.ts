import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ModelDescription } from '../../src/spec/schema.js';
import { compileModel } from '../../src/serving/dataplane/model.js';
import { RequestLog, type LogBatch } from '../../src/serving/request-log.js';
import { ServingError } from '../../src/serving/errors.js';
import { readLoggedRows } from '../../src/serving/log-reader.js';
import { tempDir } from '../support/cli.js';

const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'toy', version: '3' },
  spec: {
    task: 'classification',
    algorithm: 'MLP',
    artifact: { uri: 'file://./m.onnx', format: 'onnx' },
    features: [
      { name: 'x', type: 'number' },
      { name: 'color', type: 'category', values: ['red', 'green'] },
    ],
    outputs: { labels: ['a', 'b'] },
  },
};
const model = compileModel(description);

let now = 1_000_000;
const clock = { now: () => now };
const dirs: { cleanup: () => void }[] = [];
const logs: RequestLog[] = [];

afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

function open(path = ':memory:', retention?: { maxRows?: number; maxAgeMs?: number }, flushDelayMs?: number): RequestLog {
  const log = new RequestLog({
    path,
    features: model.features,
    modelVersion: model.version,
    clock,
    ...(retention ? { retention } : {}),
    ...(flushDelayMs === undefined ? {} : { flushDelayMs }),
  });
  logs.push(log);
  return log;
}

function batch(requestId: string, n: number, first = 0, total = n): LogBatch {
  const values = new Float32Array(n * 2);
  for (let r = 0; r < n; r++) {
    values[r * 2] = r + first;
    values[r * 2 + 1] = r % 2;
  }
  return {
    requestId,
    ts: now,
    rows: n,
    firstRow: first,
    totalRows: total,
    values,
    labels: Array.from({ length: n }, (_, r) => (r % 2 ? 'b' : 'a')),
    probabilities: Array.from({ length: n }, () => [0.7, 0.3]),
  };
}

async function fails(p: Promise<unknown>): Promise<ServingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ServingError) return e;
    throw e;
  }
  throw new Error('expected a ServingError');
}

describe('RequestLog', () => {
  it('buffers appends and commits them together shortly after, one view row per predicted row', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'log.db');
    const log = open(path, undefined, 0);
    log.append(batch('one', 1));
    log.append(batch('many', 3));
    const reader = new Database(path, { readonly: true });
    // Readers see one row per predicted row through the `predictions` view.
    const count = () => (reader.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n;
    expect(count()).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(count()).toBe(4);
    reader.close();
    const rows = readLoggedRows(path)
      .map((r) => ({ id: r.id, v: r.modelVersion, inputs: r.inputs, label: r.label, confidence: r.confidence && Math.round(r.confidence * 100) / 100 }))
      .sort((a, b) => a.id.localeCompare(b.id));
    // With a delay, the commit comes from a timer without anyone asking.
    const delayed = open(join(dir.path, 'delayed.db'), undefined, 5);
    delayed.append(batch('d', 2));
    const other = new Database(join(dir.path, 'delayed.db'), { readonly: true });
    let seen = 0;
    for (let i = 0; i < 200 && seen === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen = (other.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n;
    }
    other.close();
    expect(seen).toBe(2);
    expect(rows).toEqual([
      { id: 'many:0', v: '3', inputs: { x: 0, color: 'red' }, label: 'a', confidence: 0.7 },
      { id: 'many:1', v: '3', inputs: { x: 1, color: 'green' }, label: 'b', confidence: 0.7 },
      { id: 'many:2', v: '3', inputs: { x: 2, color: 'red' }, label: 'a', confidence: 0.7 },
      { id: 'one', v: '3', inputs: { x: 0, color: 'red' }, label: 'a', confidence: 0.7 },
    ]);
  });

  it('numbers rows of a request logged in several batches across the whole request', async () => {
    const log = open();
    log.append(batch('ref', 2, 0, 5));
    log.append(batch('ref', 3, 2, 5));
    expect(await log.count()).toBe(5);
    expect((await log.applyFeedback([{ id: 'ref:4', label: 'a' }])).applied).toEqual([{ id: 'ref:4', label: 'a', predictedLabel: 'a', predictedValue: null }]);
  });

  it('keeps at most maxRows rows, dropping whole oldest requests first', async () => {
    const log = open(':memory:', { maxRows: 5 });
    for (let i = 0; i < 4; i++) log.append(batch(`r${i}`, 3));
    log.append(batch('r4', 1));
    expect(await log.count()).toBe(4);
    expect((await log.applyFeedback([{ id: 'r2:2', label: 'a' }])).rejected).toEqual([
      { id: 'r2:2', reason: 'unknown', message: 'never logged, or dropped by retention' },
    ]);
    expect(
      (
        await log.applyFeedback([
          { id: 'r3:2', label: 'a' },
          { id: 'r4', label: 'b' },
        ])
      ).applied,
    ).toHaveLength(2);
  });

  it('prunes a large log in amortized steps, never above the bound', async () => {
    const log = open(':memory:', { maxRows: 1000 });
    for (let i = 0; i < 300; i++) {
      log.append(batch(`q${i}`, 7));
      if (i % 3 === 0) expect(await log.count()).toBeLessThanOrEqual(1000);
    }
    expect(await log.count()).toBeGreaterThan(980);
    expect((await log.applyFeedback([{ id: 'q299:6', label: 'a' }])).applied).toHaveLength(1);
  });

  it('drops rows older than maxAgeMs', async () => {
    const log = open(':memory:', { maxAgeMs: 60_000 });
    now = 1_000_000;
    log.append(batch('old', 2));
    log.flush();
    now += 120_000;
    log.append(batch('new', 1));
    expect(await log.count()).toBe(1);
    expect((await log.applyFeedback([{ id: 'new', label: 'b' }])).applied).toHaveLength(1);
  });

  it('answers feedback per item: applied, unchanged, conflict, unknown; writes the valid part', async () => {
    const log = open();
    log.append(batch('r', 3));
    log.append(batch('one', 1));
    const first = await log.applyFeedback([
      { id: 'r:0', label: 'a' },
      { id: 'nope', label: 'b' },
    ]);
    expect(first).toEqual({
      applied: [{ id: 'r:0', label: 'a', predictedLabel: 'a', predictedValue: null }],
      unchanged: [],
      rejected: [{ id: 'nope', reason: 'unknown', message: 'never logged, or dropped by retention' }],
    });
    const second = await log.applyFeedback([
      { id: 'r:0', label: 'a' },
      { id: 'r:1', label: 'b' },
      { id: 'one', label: 'a' },
    ]);
    expect(second.unchanged).toEqual(['r:0']);
    expect(second.applied.map((m) => m.id)).toEqual(['r:1', 'one']);
    const third = await log.applyFeedback([
      { id: 'r:0', label: 'b' },
      { id: 'r:1', label: 'b' },
      { id: 'r:2', label: 'a' },
    ]);
    expect(third.rejected).toEqual([{ id: 'r:0', reason: 'conflict', message: 'already has label "a"', recorded: { label: 'a' } }]);
    expect(third.unchanged).toEqual(['r:1']);
    expect(third.applied.map((m) => m.id)).toEqual(['r:2']);
    // The conflict left the recorded truth as it was.
    expect((await log.applyFeedback([{ id: 'r:0', label: 'a' }])).unchanged).toEqual(['r:0']);
    await log.close();
    expect((await fails(log.applyFeedback([{ id: 'r:2', label: 'a' }]))).status).toBe(503);
  });

  it('compares values exactly for regression feedback', async () => {
    const log = open();
    log.append({ ...batch('v', 1), labels: undefined, predictions: [2] });
    expect((await log.applyFeedback([{ id: 'v', value: 2.5 }])).applied).toEqual([{ id: 'v', value: 2.5, predictedLabel: null, predictedValue: 2 }]);
    expect((await log.applyFeedback([{ id: 'v', value: 2.5 }])).unchanged).toEqual(['v']);
    expect((await log.applyFeedback([{ id: 'v', value: 2.50001 }])).rejected).toEqual([
      { id: 'v', reason: 'conflict', message: 'already has value 2.5', recorded: { value: 2.5 } },
    ]);
  });

  it("names the row ids when feedback names a multi-row request's own id or a row past its end", async () => {
    const log = open();
    log.append(batch('abc', 2, 0, 5));
    log.append(batch('abc', 3, 2, 5));
    log.append(batch('solo', 1));
    const { rejected } = await log.applyFeedback([
      { id: 'abc', label: 'a' },
      { id: 'abc:5', label: 'a' },
      { id: 'solo:0', label: 'a' },
    ]);
    expect(rejected.map((r) => r.message)).toEqual([
      'abc is a request of 5 rows; feedback goes to abc:0 .. abc:4',
      'abc is a request of 5 rows; feedback goes to abc:0 .. abc:4',
      'solo is a one-row request; its feedback goes to solo',
    ]);
  });

  it('lets a reused request id replace the earlier prediction', async () => {
    const log = open();
    log.append(batch('same', 1));
    log.flush();
    log.append({ ...batch('same', 1), labels: ['b'] });
    expect(await log.count()).toBe(1);
    expect((await log.applyFeedback([{ id: 'same', label: 'a' }])).applied[0]!.predictedLabel).toBe('b');
  });

  it('writes many one-row requests in grouped inserts, still letting a reused id win', async () => {
    const log = open();
    for (let i = 0; i < 40; i++) log.append(batch(i === 20 ? 'r3' : `r${i}`, 1));
    log.append({ ...batch('r5', 1), labels: ['b'] });
    expect(await log.count()).toBe(39);
    expect(
      (
        await log.applyFeedback([
          { id: 'r3', label: 'a' },
          { id: 'r5', label: 'a' },
          { id: 'r39', label: 'a' },
        ])
      ).applied.map((m) => m.predictedLabel),
    ).toEqual(['a', 'b', 'a']);
  });

  it('is durable: a reopened file has every row and its feedback', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'log.db');
    const first = new RequestLog({ path, features: model.features, modelVersion: '3', clock });
    first.append(batch('a', 2));
    await first.applyFeedback([{ id: 'a:1', label: 'b' }]);
    first.append(batch('b', 1));
    await first.close();
    const second = open(path);
    expect(await second.count()).toBe(3);
    expect((await second.applyFeedback([{ id: 'a:1', label: 'a' }])).rejected).toMatchObject([{ id: 'a:1', reason: 'conflict', recorded: { label: 'b' } }]);
    expect((await second.applyFeedback([{ id: 'a:1', label: 'b' }])).unchanged).toEqual(['a:1']);
    const labelled = readLoggedRows(path, { labelledOnly: true });
    expect(labelled).toEqual([expect.objectContaining({ id: 'a:1', label: 'b', feedback: { label: 'b', value: null, ts: expect.any(Number) } })]);
  });
});

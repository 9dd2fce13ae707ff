// Feedback batches against a real model server in this process: per-item results (applied,
// unchanged, conflict, unknown), the valid part written, statistics counting each id once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';
import { InferenceClient } from '../../src/client/inference-client.js';
import { MaasError } from '../../src/core/errors.js';
import type { FeedbackItem, FeedbackResponse } from '../../src/protocol/feedback.js';
import type { InferRequest } from '../../src/protocol/oip.js';
import { readLoggedRows } from '../../src/serving/log-reader.js';
import { startModelServer, type ModelServer } from '../../src/serving/server.js';
import { tempDir } from '../support/cli.js';

const dir = tempDir('maas-feedback-batches-');
const logDb = join(dir.path, 'log.db');
let model: HarModelFiles;
let server: ModelServer;
let client: InferenceClient;

/** One input per feature, `rows` rows of the model's request file. */
function columns(id: string, rows: Record<string, number>[]): InferRequest {
  const features = model.description.spec.features.map((f) => f.name);
  return { id, inputs: features.map((name) => ({ name, shape: [rows.length], datatype: 'FP32', data: rows.map((r) => r[name] ?? 0) })) };
}

async function labelled(): Promise<number> {
  return (await client.stats()).feedback.labelled;
}

async function refusal(p: Promise<unknown>): Promise<MaasError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof MaasError)) throw new Error(`expected a MaasError, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  model = writeHarModel(dir.path, { requestRows: 6 });
  server = await startModelServer({ description: model.description, artifactPath: join(dir.path, 'model.onnx'), host: '127.0.0.1', port: 0, logDb });
  await server.ready;
  client = await InferenceClient.create({ baseUrl: server.url }, 'har-classifier', 10_000);
  await client.infer(columns('abc', model.requests.slice(0, 5)));
  await client.infer(columns('solo', model.requests.slice(5, 6)));
});

afterAll(async () => {
  await server?.close();
  dir.cleanup();
});

describe('feedback batches', () => {
  const [first, second] = ['walking', 'sitting'];

  it('applies new ids, skips repeats, and lists conflicts and unknown ids per item', async () => {
    const start = await client.feedback([
      { id: 'abc:0', label: first },
      { id: 'abc:1', label: first },
    ]);
    expect(start).toMatchObject({ accepted: 2, applied: 2, unchanged: 0, rejected: [] });
    expect(await labelled()).toBe(2);

    const items: FeedbackItem[] = [
      { id: 'abc:0', label: first },
      { id: 'abc:1', label: second },
      { id: 'abc:2', label: second },
      { id: 'solo', label: first },
      { id: 'nope', label: first },
      { id: 'abc', label: first },
      { id: 'abc:9', label: first },
    ];
    const mixed = await client.feedback(items);
    expect(mixed).toEqual<FeedbackResponse>({
      id: expect.any(String) as string,
      accepted: 3,
      ids: ['abc:0', 'abc:2', 'solo'],
      applied: 2,
      unchanged: 1,
      unchangedIds: ['abc:0'],
      rejected: [
        { id: 'abc:1', reason: 'conflict', message: `already has label "${first}"`, recorded: { label: first } },
        { id: 'nope', reason: 'unknown', message: 'never logged, or dropped by retention' },
        { id: 'abc', reason: 'unknown', message: 'abc is a request of 5 rows; feedback goes to abc:0 .. abc:4' },
        { id: 'abc:9', reason: 'unknown', message: 'abc is a request of 5 rows; feedback goes to abc:0 .. abc:4' },
      ],
    });
    expect(await labelled()).toBe(4);

    // The same batch again changes nothing and counts nothing.
    const again = await client.feedback(items);
    expect(again).toMatchObject({ accepted: 3, applied: 0, unchanged: 3, unchangedIds: ['abc:0', 'abc:2', 'solo'] });
    expect(again.rejected?.map((r) => r.id)).toEqual(['abc:1', 'nope', 'abc', 'abc:9']);
    expect(await labelled()).toBe(4);

    // What is on record is what came first; the conflicting label was not written.
    const rows = readLoggedRows(logDb, { labelledOnly: true });
    expect(Object.fromEntries(rows.map((r) => [r.id, r.feedback?.label]))).toEqual({ 'abc:0': first, 'abc:1': first, 'abc:2': second, solo: first });
  });

  it('counts a batch sent twice at once only once', async () => {
    const items: FeedbackItem[] = [
      { id: 'abc:3', label: first },
      { id: 'abc:4', label: second },
    ];
    const before = await labelled();
    const answers = await Promise.all([client.feedback(items), client.feedback(items)]);
    expect(answers.map((a) => a.applied).sort()).toEqual([0, 2]);
    expect(answers.map((a) => a.unchanged).sort()).toEqual([0, 2]);
    expect(await labelled()).toBe(before + 2);
    expect((await client.stats()).total.feedback).toBe(before + 2);
  });

  it('refuses a request of which nothing could be recorded: 409 for conflicts, else 404', async () => {
    const conflict = await refusal(client.feedback([{ id: 'abc:0', label: second }]));
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.message).toContain(`"abc:0" already has label "${first}"`);
    const unknown = await refusal(client.feedback([{ id: 'abc', label: first }]));
    expect(unknown.code).toBe('NOT_FOUND');
    expect(unknown.message).toContain('unknown prediction id "abc" (abc is a request of 5 rows; feedback goes to abc:0 .. abc:4)');
    const both = await refusal(
      client.feedback([
        { id: 'abc:0', label: second },
        { id: 'nope', label: first },
      ]),
    );
    expect(both.code).toBe('CONFLICT');
    expect(both.message).toContain('"nope"');
  });
});

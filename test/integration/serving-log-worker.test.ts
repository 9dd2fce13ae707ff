// The request log's writer thread, from the build (a worker runs compiled JavaScript): the same
// answers as in-thread, errors keep their status across the thread, close() leaves a complete file.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as RequestLogModule from '../../src/serving/request-log.js';
import type * as ModelModule from '../../src/serving/dataplane/model.js';
import type * as ReaderModule from '../../src/serving/log-reader.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { REPO_ROOT, tempDir } from '../support/cli.js';

const dist = (p: string) => join(REPO_ROOT, 'dist', 'src', 'serving', p);
const load = async <T>(p: string): Promise<T> => (await import(dist(p))) as T;

const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'toy', version: '5' },
  spec: {
    task: 'regression',
    algorithm: 'Linear',
    artifact: { uri: 'file://./m.onnx', format: 'onnx' },
    features: [
      { name: 'x', type: 'number' },
      { name: 'on', type: 'boolean' },
    ],
  },
};

const dir = tempDir('maas-log-worker-');
afterAll(() => dir.cleanup());

describe('request log on its writer thread', () => {
  it('logs, counts, takes feedback and closes with everything on disk', async () => {
    if (!existsSync(dist('log/worker.js'))) throw new Error('run `npm run build` before the integration tests');
    const { RequestLog } = await load<typeof RequestLogModule>('request-log.js');
    const { compileModel } = await load<typeof ModelModule>('dataplane/model.js');
    const { readLoggedRows } = await load<typeof ReaderModule>('log-reader.js');
    const model = compileModel(description);
    const path = join(dir.path, 'log.db');
    const log = new RequestLog({ path, features: model.features, modelVersion: '5', clock: { now: () => 1000 }, thread: 'worker' });
    for (let i = 0; i < 100; i++) {
      log.append({
        requestId: `r${i}`,
        ts: 1000 + i,
        rows: 2,
        firstRow: 0,
        totalRows: 2,
        values: new Float32Array([i, 1, i + 0.5, 0]),
        predictions: [i * 2, i * 2 + 1],
      });
    }
    expect(await log.count()).toBe(200);
    // Through the worker thread as in-thread: per item, the valid part applied.
    expect((await log.applyFeedback([{ id: 'r7:1', value: 20 }])).applied).toEqual([{ id: 'r7:1', value: 20, predictedLabel: null, predictedValue: 15 }]);
    const mixed = await log.applyFeedback([
      { id: 'r7:0', value: 1 },
      { id: 'r700:0', value: 1 },
    ]);
    expect(mixed.applied.map((m) => m.id)).toEqual(['r7:0']);
    expect(mixed.rejected).toEqual([{ id: 'r700:0', reason: 'unknown', message: 'never logged, or dropped by retention' }]);
    expect((await log.applyFeedback([{ id: 'r7:1', value: 1 }])).rejected).toMatchObject([{ id: 'r7:1', reason: 'conflict', recorded: { value: 20 } }]);
    expect((await log.applyFeedback([{ id: 'r7:1', value: 20 }])).unchanged).toEqual(['r7:1']);
    log.append({ requestId: 'last', ts: 2000, rows: 1, firstRow: 0, totalRows: 1, values: new Float32Array([3, 1]), predictions: [9] });
    await log.close();
    const rows = readLoggedRows(path);
    expect(rows).toHaveLength(201);
    expect(rows.at(-1)).toMatchObject({ id: 'last', inputs: { x: 3, on: true }, value: 9 });
    expect(rows.find((r) => r.id === 'r7:1')).toMatchObject({ inputs: { x: 7.5, on: false }, value: 15, feedback: { value: 20 } });
  });
});

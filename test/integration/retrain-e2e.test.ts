// The loop closed on the example, with real parts: a local deployment of the HAR classifier, a
// concept change that lowers live accuracy, `maas retrain --feedback` running the example's own
// training program, the challenger beating the champion on held-out recent rows and rolled out
// while clients keep sending requests (none fails), then `maas rollback`. Needs `npm run build`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHar, harToRequests } from '../../examples/har/generate.js';
import { writeHarModel, type HarModelFiles } from '../../examples/har/quick-model.js';
import type { RetrainResult } from '../../src/app/retrain.js';
import type { DriftReport } from '../../src/drift/report.js';
import { rowsToRequest } from '../../src/protocol/rows.js';
import { REPO_ROOT, runCli, tempDir } from '../support/cli.js';
import { switchGap, traffic } from '../support/traffic.js';

const dir = tempDir('maas-retrain-e2e-');
const home = join(dir.path, 'home');
let model: HarModelFiles;
let id = '';
// The training command of the description (`node dist/examples/har/train.js ...`) runs from the repository root.
const cli = (args: string[]) => runCli(args, { home, cwd: REPO_ROOT });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** Predicts `rows` through the CLI and sends their true labels as feedback; returns the accuracy. */
async function labelledTraffic(name: string, rows: number, seed: number, labelShift: boolean): Promise<number> {
  const data = generateHar({ rows, seed, labelShift });
  const file = join(dir.path, `${name}.json`);
  writeFileSync(file, JSON.stringify(harToRequests(data)));
  const answer = await json<{ id: string; outputs: { name: string; data: string[] }[] }>(['predict', id, '--data', file, '--request-id', name]);
  const predicted = answer.outputs.find((o) => o.name === 'label')!.data;
  const truth = join(dir.path, `${name}.truth.csv`);
  writeFileSync(truth, `id,label\n${data.labels.map((l, i) => `${name}:${i},${l}`).join('\n')}\n`);
  const fb = await cli(['feedback', id, '--file', truth]);
  expect(fb.code, fb.stderr).toBe(0);
  return predicted.filter((p, i) => p === data.labels[i]).length / rows;
}

beforeAll(async () => {
  mkdirSync(join(dir.path, 'model'));
  model = writeHarModel(join(dir.path, 'model'));
  expect((await cli(['register', model.descriptionFile])).code).toBe(0);
  id = (await json<{ id: string }>(['deploy', 'har-classifier@1', '--consumer', 'e2e'])).id;
}, 60_000);

afterAll(async () => {
  if (id) await cli(['decommission', id, '--purge', '--force', '--yes']);
  dir.cleanup();
});

describe('retrain on feedback after a concept change, roll out, roll back', () => {
  it('restores accuracy on the changed stream with the challenger, without a failed request during the switch', async () => {
    const steady = await labelledTraffic('steady', 300, 21, false);
    const changed = await labelledTraffic('changed', 500, 22, true);
    expect(changed).toBeLessThan(steady - 0.3);
    const drift = await json<DriftReport>(['drift', 'check', id]);
    expect(drift.concept?.drifted).toBe(true);
    expect(drift.concept?.quality.degraded).toBe(true);

    const load = traffic({
      endpointFile: join(home, 'deployments', id, 'endpoint.json'),
      model: 'har-classifier',
      body: JSON.stringify(rowsToRequest(model.requests.slice(0, 1), model.description.spec.features)),
      clients: 3,
      max: 4_000,
      pauseMs: 5,
    });
    const result = await json<RetrainResult>(['retrain', id, '--feedback', '--timeout', '2m']);
    const answers = await load.stop();

    expect(result.status).toBe('promoted');
    expect(result.challenger).toBe('har-classifier@2');
    expect(result.lineage).toMatchObject({ parentVersion: '1', trigger: 'drift' });
    expect(result.trainingSet?.weighting.mode).toBe('feedback-only');
    expect(result.comparison?.verdict).toBe('better');
    expect(result.comparison!.primary.b).toBeGreaterThan(result.comparison!.primary.a + 0.3);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers[answers.length - 1]!.version).toBe('2');
    // Figures for the record: training time and the longest wait between two answers.
    const gap = switchGap(answers);
    console.log(
      `retrain: trained in ${result.training?.seconds.toFixed(2)} s; ${answers.length} requests during it, 0 failed, longest gap between answers ${gap.toFixed(0)} ms`,
    );

    const after = await labelledTraffic('after', 300, 23, true);
    expect(after).toBeGreaterThan(changed + 0.3);

    const back = await json<{ version: string; changed: boolean }>(['rollback', id]);
    expect(back).toMatchObject({ version: '1', changed: true });
    const history = await json<{ entries: { version: string; reason: string }[] }>(['history', id]);
    expect(history.entries.map((e) => [e.version, e.reason])).toEqual([
      ['1', 'deployed'],
      ['2', 'retrain'],
      ['1', 'rollback'],
    ]);
  }, 180_000);
});

// The composition example (examples/har-ensemble/build.ts), built small into a temp dir: the files
// it writes are valid descriptions that fit together, and on the held-out stream the members,
// run from the ONNX files they were written as (the serving runtime), disagree usefully and the
// ensemble beats the median member.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aggregate } from '../../src/compose/aggregate.js';
import { createOnnxRuntime } from '../../src/serving/runtimes/onnx.js';
import type { Prediction } from '../../src/serving/runtime.js';
import { checkMembers } from '../../src/spec/composition-compat.js';
import { validateCompositionText, validateModelText } from '../../src/spec/validate.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import {
  buildHarEnsemble,
  COMPOSITION_NAME,
  main as buildMain,
  MEMBERS,
  writeHarEnsemble,
  type EnsembleFiles,
  type EnsembleResult,
} from '../../examples/har-ensemble/build.js';
import { ACTIVITIES } from '../../examples/har/generate.js';
import { readLabelledCsv } from '../../examples/har/train.js';

/** Small enough to build in well under a second; the full-size figures are in the example's README. */
const SMALL = { seed: 1, rows: 600, heldoutRows: 800, epochs: 25 };

let dir: string;
let built: EnsembleResult;
let files: EnsembleFiles;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maas-har-ensemble-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  built = buildHarEnsemble(SMALL);
  files = writeHarEnsemble(dir, built, { requestRows: 5, requestId: 'heldout' });
});
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function memberDescriptions(): { ref: string; file: string; description: ModelDescription }[] {
  return files.members.map((m) => {
    const { documents, problems } = validateModelText(readFileSync(m.description, 'utf8'), { file: m.description, baseDir: dirname(m.description) });
    expect(problems, `${m.description}: ${JSON.stringify(problems, null, 2)}`).toEqual([]);
    expect(documents).toHaveLength(1);
    return { ref: m.ref, file: m.description, description: documents[0]!.description! };
  });
}

const accuracy = (predicted: readonly string[], truth: readonly string[]): number => predicted.filter((p, i) => p === truth[i]).length / truth.length;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('the har-ensemble example', () => {
  it('writes member descriptions that validate, with distinct names and network sizes', () => {
    const members = memberDescriptions();
    expect(members.map((m) => m.ref)).toEqual(['har-wrist@1', 'har-pocket@1', 'har-belt@1']);
    expect(new Set(members.map((m) => m.description.spec.hyperparameters?.hidden_units)).size).toBe(3);
    for (const m of members) {
      expect(m.description.spec.outputs?.labels).toEqual([...ACTIVITIES]);
      expect(m.description.spec.artifact.uri).toBe('file://./model.onnx');
      // Retraining a member runs its recorded command: it must keep the member's name.
      expect(m.description.spec.training?.code?.command?.slice(-2)).toEqual(['--name', m.ref.split('@')[0]]);
    }
  });

  it('writes a composition that validates and whose members fit it', () => {
    const { problems, compositions } = validateCompositionText(readFileSync(files.composition, 'utf8'), { file: files.composition });
    expect(problems, JSON.stringify(problems, null, 2)).toEqual([]);
    expect(compositions).toHaveLength(1);
    const c = compositions[0]!;
    expect(c.metadata).toMatchObject({ name: COMPOSITION_NAME, version: '1' });
    expect(c.spec).toMatchObject({ task: 'classification', mode: 'ensemble', aggregation: 'mean-proba', outputs: { labels: [...ACTIVITIES] } });
    expect(c.spec.members).toEqual(MEMBERS.map((m) => ({ model: `${m.name}@1` })));
    expect(c.spec.qos?.minAccuracy).toBeGreaterThan(0.5);
    expect(c.spec.policy?.qosWeights).toEqual({ effectiveness: 0.4, quality: 0.2, latency: 0.2, reliability: 0.2 });
    expect(c.spec.policy?.historyWindow).toBe(100);
    const members = memberDescriptions();
    expect(
      checkMembers(
        c,
        members.map((m, index) => ({ index, ref: m.ref, description: m.description })),
      ),
    ).toEqual([]);
  });

  it('trains the members on non-IID data: their own people, class mixes and devices', () => {
    const staticShare = (labels: readonly string[]): number => labels.filter((l) => ['sitting', 'standing', 'laying'].includes(l)).length / labels.length;
    const [wrist, pocket, belt] = built.members;
    expect(staticShare(wrist!.data.labels)).toBeLessThan(0.15);
    expect(staticShare(pocket!.data.labels)).toBeGreaterThan(0.85);
    expect(staticShare(belt!.data.labels)).toBeGreaterThan(0.4);
    expect(staticShare(belt!.data.labels)).toBeLessThan(0.65);
    expect(staticShare(built.heldout.labels)).toBeGreaterThan(0.4);
    for (const m of built.members) expect(m.data.rows).toHaveLength(SMALL.rows);
    // What the files hold is what was trained on and measured.
    for (const [i, m] of files.members.entries()) {
      expect(readLabelledCsv(readFileSync(join(m.dir, 'train.csv'), 'utf8')).y).toEqual(built.members[i]!.data.labels);
    }
  });

  it('from the ONNX files: the members disagree on a good share of held-out rows and the ensemble beats the median member', async () => {
    const heldout = readLabelledCsv(readFileSync(files.heldout, 'utf8'));
    expect(heldout.X).toHaveLength(SMALL.heldoutRows);
    const matrix = Float32Array.from(heldout.X.flat());
    const answers: (Prediction & { ref: string })[] = [];
    for (const m of memberDescriptions()) {
      const runtime = await createOnnxRuntime({ modelPath: join(dirname(m.file), 'model.onnx'), description: m.description });
      try {
        answers.push({ ref: m.ref, ...(await runtime.predict(matrix, heldout.X.length)) });
      } finally {
        await runtime.close();
      }
    }
    const accuracies = answers.map((a) => accuracy(a.labels!, heldout.y));
    // The ONNX graphs compute what training measured (float32 vs float64: a row or two may differ).
    accuracies.forEach((a, i) => expect(Math.abs(a - built.members[i]!.accuracy)).toBeLessThan(0.005));

    const rows = heldout.X.length;
    const split = heldout.y.filter((_, r) => answers.some((a) => a.labels![r] !== answers[0]!.labels![r])).length / rows;
    expect(split).toBeGreaterThan(0.1);
    for (let i = 0; i < answers.length; i++)
      for (let j = i + 1; j < answers.length; j++) {
        const differ = answers[i]!.labels!.filter((l, r) => l !== answers[j]!.labels![r]).length / rows;
        expect(differ, `${answers[i]!.ref} vs ${answers[j]!.ref}`).toBeGreaterThan(0.05);
      }

    const combined = aggregate(
      'mean-proba',
      [...ACTIVITIES],
      answers.map((a) => ({ key: a.ref, weight: 1, labels: a.labels!, probabilities: a.probabilities! })),
      rows,
    );
    const ensemble = accuracy(combined.labels!, heldout.y);
    expect(ensemble).toBeGreaterThan(median(accuracies) + 0.01);
    expect(Math.abs(ensemble - built.ensemble.accuracy)).toBeLessThan(0.005);
    expect(Math.abs(median(accuracies) - built.medianMember)).toBeLessThan(0.005);
  });

  it('writes request rows and the feedback for them, keyed by the ids predict logs them under', () => {
    const requests = JSON.parse(readFileSync(files.requests, 'utf8')) as Record<string, number>[];
    const labels = JSON.parse(readFileSync(files.requestLabels, 'utf8')) as string[];
    expect(requests).toHaveLength(5);
    expect(Object.keys(requests[0]!)).toEqual(built.heldout.features);
    expect(requests.map((r) => built.heldout.features.map((f) => r[f]))).toEqual(built.heldout.rows.slice(0, 5));
    expect(labels).toEqual(built.heldout.labels.slice(0, 5));
    expect(readFileSync(files.feedback, 'utf8')).toBe(`id,label\n${labels.map((l, i) => `heldout:${i},${l}`).join('\n')}\n`);
    const report = JSON.parse(readFileSync(files.report, 'utf8')) as { ensemble: { accuracy: number }; medianMember: number };
    expect(report.ensemble.accuracy).toBeGreaterThan(report.medianMember);
  });

  it('runs as a program and refuses bad arguments', async () => {
    const out = join(dir, 'cli');
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    await buildMain(['--out', out, '--rows', '300', '--heldout-rows', '200', '--epochs', '10', '--request-rows', '1', '--request-id', 'one', '--json']);
    const printed = JSON.parse(writes.join('')) as { members: { model: string }[]; ensemble: { aggregation: string } };
    expect(printed.members.map((m) => m.model)).toEqual(['har-wrist@1', 'har-pocket@1', 'har-belt@1']);
    expect(printed.ensemble.aggregation).toBe('mean-proba');
    // One row is logged under the request id itself.
    expect(readFileSync(join(out, 'feedback.csv'), 'utf8')).toMatch(/^id,label\none,[a-z_]+\n$/);
    await expect(buildMain([])).rejects.toThrow(/--out is required/);
    await expect(buildMain(['--out', out, '--rows', '10'])).rejects.toThrow(/--rows must be a number between 50/);
  });
});

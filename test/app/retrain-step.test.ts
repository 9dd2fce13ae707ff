// The in-cluster retraining steps in-process: `assemble` against a fake model server API (labelled
// rows, a token refused for a while), `evaluate` with a scripted predict, both on files in a
// temporary directory standing in for the pod. What they print is aggregates only: no row value
// outside the returned files, and no row among them (the training set's profile comes back without
// its sample rows).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { assembleStep, evaluateStep, stepPaths, type StepDeps, type StepFiles } from '../../src/app/retrain-step.js';
import { printReturnedFiles } from '../../src/cli/commands/retrain-step.js';
import { ManualClock } from '../../src/core/clock.js';
import { MaasError } from '../../src/core/errors.js';
import type { ReferenceProfile } from '../../src/drift/profile.js';
import type { HttpEndpoint } from '../../src/protocol/endpoint.js';
import type { InferenceApi } from '../../src/protocol/inference-api.js';
import type { LabelledQuery, LabelledWire } from '../../src/protocol/labelled.js';
import { FsDatasetReader } from '../../src/registry/fs-dataset-reader.js';
import { IN_CLUSTER_PROFILE_FILE, IN_POD, parseStepResults, type AssembleResult, type InClusterPlan } from '../../src/retrain/in-cluster.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { parseReturnedFiles } from '../../src/targets/kubernetes/job-objects.js';
import { rejection } from '../support/assert.js';
import { tempDir } from '../support/cli.js';

const T0 = Date.UTC(2026, 2, 1, 12);
const iso = (ms: number): string => new Date(ms).toISOString();

/** `n` labelled rows, one a minute from T0: tenure = 7000 + i (a value no count can look like), churned alternating. */
function labelledWire(n: number, o: { features?: string[] } = {}): LabelledWire {
  const rows = Array.from({ length: n }, (_, i) => [7000 + i, 7000.5 + i, i % 2 === 0 ? 'no' : 'yes']);
  return {
    model_name: 'churn',
    model_version: '1',
    features: o.features ?? ['tenure', 'spend'],
    target: 'churned',
    rows,
    ids: rows.map((_, i) => `r:${i}`),
    times: rows.map((_, i) => iso(T0 + i * 60_000)),
    versions: rows.map(() => '1'),
  };
}

/** The server's own filtering: since, then the newest `limit`. */
function answer(wire: LabelledWire, q: LabelledQuery): LabelledWire {
  let keep = wire.rows.map((_, i) => i).filter((i) => q.since === undefined || Date.parse(wire.times[i]!) >= Date.parse(q.since));
  if (q.limit !== undefined) keep = keep.slice(Math.max(0, keep.length - q.limit));
  return {
    ...wire,
    rows: keep.map((i) => wire.rows[i]!),
    ids: keep.map((i) => wire.ids[i]!),
    times: keep.map((i) => wire.times[i]!),
    versions: keep.map(() => '1'),
  };
}

function plan(o: Partial<InClusterPlan> = {}): InClusterPlan {
  return {
    server: 'http://churn.models.svc',
    model: 'churn',
    champion: 'churn@1',
    challenger: 'churn@2',
    features: ['tenure', 'spend'],
    target: 'churned',
    task: 'classification',
    holdout: 0.3,
    weighting: { mode: 'all' },
    conceptDrift: false,
    minHoldoutRows: 30,
    championDescription: join(work.path, 'champion', 'model.json'),
    championArtifact: join(work.path, 'champion', 'model.onnx'),
    waitSeconds: 120,
    ...o,
  };
}

const realFiles: StepFiles = {
  async readText(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  async writeText(path, text) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  },
  async listFiles(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
  },
  async readBytes(path) {
    return readFileSync(path);
  },
};

interface Harness {
  deps: StepDeps;
  /** Everything printed, as the pod log would hold it. */
  log: () => string;
  clock: ManualClock;
  sleeps: number[];
  asked: LabelledQuery[];
  endpoints: HttpEndpoint[];
}

let work: { path: string; cleanup: () => void };
beforeEach(() => {
  work = tempDir('maas-retrain-step-');
});
afterEach(() => work.cleanup());

function harness(o: { wire?: LabelledWire; refusals?: number | 'always'; refusal?: MaasError; predict?: StepDeps['predict'] } = {}): Harness {
  const chunks: string[] = [];
  const clock = new ManualClock(T0 + 86_400_000);
  const sleeps: number[] = [];
  const asked: LabelledQuery[] = [];
  const endpoints: HttpEndpoint[] = [];
  let refused = 0;
  const api: Partial<InferenceApi> = {
    async labelled(q = {}) {
      asked.push(q);
      if (o.refusals === 'always' || refused < (o.refusals ?? 0)) {
        refused++;
        throw o.refusal ?? new MaasError('FORBIDDEN', 'labelled rows need the retraining token');
      }
      return answer(o.wire ?? labelledWire(50), q);
    },
  };
  const deps: StepDeps = {
    files: realFiles,
    datasets: new FsDatasetReader(),
    connect: async (endpoint) => {
      endpoints.push(endpoint);
      return api as InferenceApi;
    },
    predict:
      o.predict ??
      (async () => {
        throw new Error('predict is not expected here');
      }),
    clock: {
      now: () => clock.now(),
      sleep: async (ms) => {
        sleeps.push(ms);
        await clock.sleep(ms);
      },
    },
    print: (line) => void chunks.push(`${line}\n`),
    returnFiles: (files) => printReturnedFiles({ write: (s: string) => chunks.push(s) }, files),
    paths: stepPaths(work.path),
    cwd: work.path,
  };
  return { deps, log: () => chunks.join(''), clock, sleeps, asked, endpoints };
}

const read = (p: string): string => readFileSync(p, 'utf8');
const paths = () => stepPaths(work.path);
const digest = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function writeBase(text: string): void {
  mkdirSync(dirname(paths().base), { recursive: true });
  writeFileSync(paths().base, text);
}

describe('assembleStep', () => {
  it('asks with the bearer token, splits off the newest rows, adds the base data and writes both files', async () => {
    const h = harness();
    // Columns in another order than the plan's: mapped by name.
    writeBase('spend,churned,tenure\n1.5,no,1\n2.5,yes,2\n');
    const r = await assembleStep(h.deps, plan(), 'tok-123');
    expect(h.endpoints).toEqual([{ baseUrl: 'http://churn.models.svc', headers: { authorization: 'Bearer tok-123' } }]);
    expect(h.asked).toEqual([{}]);
    expect(stepPaths(work.path).train).toBe(join(work.path, IN_POD.train));

    const wire = labelledWire(50);
    const rows = wire.rows.map((r) => r.map(String));
    // keep = floor(50 * 0.7) = 35 trained on, the newest 15 held out.
    const trained = rows.slice(0, 35);
    const heldOut = rows.slice(35);
    expect(read(paths().holdout)).toBe(`tenure,spend,churned\n${heldOut.map((r) => r.join(',')).join('\n')}\n`);
    const train = read(paths().train).trim().split('\n');
    expect(train[0]).toBe('tenure,spend,churned');
    expect(train.slice(1).sort()).toEqual([...trained.map((r) => r.join(',')), '1,1.5,no', '2,2.5,yes'].sort());

    expect(r).toEqual<AssembleResult>({
      step: 'assemble',
      labelled: 50,
      counts: { base: 2, feedback: 35, duplicates: 0, contradictions: 0, total: 37 },
      weighting: { mode: 'all', feedbackWeight: 1, reason: 'all data once: 2 base rows and 35 feedback rows' },
      classBalance: { no: 19, yes: 18 },
      holdout: 15,
      feedback: { digest: digest(`tenure,spend,churned\n${trained.map((r) => r.join(',')).join('\n')}\n`), rows: 35 },
      window: { since: iso(T0), until: iso(T0 + 49 * 60_000) },
    });
    // One result line, the same as returned; the rest are counts, never a row value.
    const log = h.log();
    expect(parseStepResults(log)).toEqual([r]);
    expect(log).toContain('feedback: 50 labelled rows, 35 to train on, the newest 15 held out to compare');
    expect(log).not.toMatch(/700\d|70[1-4]\d/);
    expect(log).not.toMatch(/\b(1\.5|2\.5)\b/);
  });

  it('asks since --since (else the weighting cut-off) for the newest `last` rows, and keeps only those', async () => {
    const h = harness();
    const since = iso(T0 + 10 * 60_000);
    const r = await assembleStep(h.deps, plan({ since: '2026-03-01T12:10:00Z', last: 20, holdout: 0.25 }), 't');
    expect(h.asked).toEqual([{ since, limit: 20 }]);
    expect(r).toMatchObject({
      labelled: 20,
      holdout: 5,
      counts: { base: 0, feedback: 15 },
      window: { since: iso(T0 + 30 * 60_000), until: iso(T0 + 49 * 60_000) },
    });
    expect(read(paths().holdout).trim().split('\n').slice(1)).toEqual(
      labelledWire(50)
        .rows.slice(45)
        .map((x) => x.join(',')),
    );

    // The weighting's cut-off when there is no --since; a server that ignores the limit is cut here.
    const h2 = harness({ wire: labelledWire(40) });
    const wire = labelledWire(40);
    h2.deps.connect = async () => ({ labelled: async (q?: LabelledQuery) => (h2.asked.push(q ?? {}), wire) }) as unknown as InferenceApi;
    const r2 = await assembleStep(h2.deps, plan({ last: 10, weighting: { mode: 'all', since: iso(T0) } }), 't');
    expect(h2.asked).toEqual([{ since: iso(T0), limit: 10 }]);
    expect(r2).toMatchObject({ labelled: 10, holdout: 3, window: { since: iso(T0 + 30 * 60_000), until: iso(T0 + 39 * 60_000) } });
  });

  it('keeps asking while the server refuses the token (the Secret is on its way), with growing pauses', async () => {
    const h = harness({ refusals: 3 });
    const r = await assembleStep(h.deps, plan(), 't');
    expect(r.labelled).toBe(50);
    expect(h.asked).toHaveLength(4);
    expect(h.sleeps).toEqual([1000, 2000, 4000]);
    // One connection, asked again.
    expect(h.endpoints).toHaveLength(1);
    expect(h.log()).toContain('the model server does not accept the token yet (403); asking again in 1 s');
    expect(parseStepResults(h.log())).toHaveLength(1);
  });

  it('gives up after waitSeconds with a FORBIDDEN error saying the server does not accept the token', async () => {
    const h = harness({ refusals: 'always' });
    const started = h.clock.now();
    const e = await rejection(assembleStep(h.deps, plan({ waitSeconds: 30 }), 't'));
    expect(e.code).toBe('FORBIDDEN');
    expect(e.message).toBe("the model server http://churn.models.svc does not accept the retraining Job's token (still refused after 30 s)");
    expect(e.hint).toContain('--labelled-token-file');
    expect(h.clock.now() - started).toBe(30_000);
    // 1 + 2 + 4 + 8 + 10, then the 5 s left.
    expect(h.sleeps).toEqual([1000, 2000, 4000, 8000, 10000, 5000]);
    expect(h.asked).toHaveLength(7);
    expect(parseStepResults(h.log())).toEqual([]);

    // waitSeconds 0: one attempt. 401 counts as a refusal too.
    const h2 = harness({ refusals: 'always', refusal: new MaasError('UNAUTHORIZED', 'no token') });
    expect(await rejection(assembleStep(h2.deps, plan({ waitSeconds: 0 }), 't'))).toMatchObject({ code: 'FORBIDDEN' });
    expect(h2.asked).toHaveLength(1);
    // Other errors are not retried.
    const h3 = harness({ refusals: 'always', refusal: new MaasError('NOT_FOUND', 'no model churn') });
    expect(await rejection(assembleStep(h3.deps, plan(), 't'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(h3.asked).toHaveLength(1);
  });

  it('names a feature the labelled rows do not carry, and a column the base data lacks', async () => {
    const h = harness({ wire: labelledWire(10, { features: ['tenure', 'other'] }) });
    const e = await rejection(assembleStep(h.deps, plan(), 't'));
    expect(e).toMatchObject({ code: 'CONFLICT', message: 'the labelled rows of churn do not carry feature "spend"' });

    writeBase('tenure,churned\n1,no\n');
    const e2 = await rejection(assembleStep(harness().deps, plan(), 't'));
    expect(e2).toMatchObject({ code: 'USAGE', message: 'the base training data has no column "spend"' });
  });

  it('reads a header-only or absent base as no base rows, and refuses to train on nothing', async () => {
    writeBase('tenure,spend,churned\n');
    expect((await assembleStep(harness().deps, plan(), 't')).counts.base).toBe(0);
    const e = await rejection(assembleStep(harness({ wire: labelledWire(0) }).deps, plan(), 't'));
    expect(e).toMatchObject({ code: 'USAGE', message: 'no training data for churn@2: no base rows and no labelled rows' });
  });
});

// ---- evaluate ----------------------------------------------------------------------------------

function description(version: string): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'churn', version },
    spec: {
      task: 'classification',
      algorithm: 'mlp',
      artifact: { uri: 'file://./model.onnx', format: 'onnx' },
      features: [
        { name: 'tenure', type: 'number' },
        { name: 'spend', type: 'number' },
      ],
      outputs: { labels: ['no', 'yes'] },
      training: { data: { uri: 'file://./train.csv', target: 'churned' } },
    },
  };
}

function writeModel(dir: string, d: ModelDescription, artifact: string, file = 'model.yaml'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), file.endsWith('.json') ? JSON.stringify(d) : stringify(d));
  writeFileSync(join(dir, 'model.onnx'), artifact);
}

/** Held-out rows: tenure i, truth alternating (even no, odd yes). */
function writeHoldout(n: number): void {
  const p = paths().holdout;
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, `tenure,spend,churned\n${Array.from({ length: n }, (_, i) => `${i},${i * 2},${i % 2 === 0 ? 'no' : 'yes'}`).join('\n')}\n`);
}

const truthOf = (tenure: unknown): string => (Number(tenure) % 2 === 0 ? 'no' : 'yes');
const flip = (l: string): string => (l === 'no' ? 'yes' : 'no');

/** The champion (artifact "v1") is wrong on tenure < 15, the challenger ("v2") on tenure < 1. */
const predict: StepDeps['predict'] = async (d, artifactPath, rows) => {
  const wrongBelow = readFileSync(artifactPath, 'utf8') === 'v1' ? 15 : 1;
  expect(d.metadata.version).toBe(readFileSync(artifactPath, 'utf8') === 'v1' ? '1' : '2');
  return { labels: rows.map((r) => (Number(r.tenure) < wrongBelow ? flip(truthOf(r.tenure)) : truthOf(r.tenure))) };
};

describe('evaluateStep', () => {
  beforeEach(() => {
    // The champion as the deployment's volume holds it: JSON, its artifact given apart.
    writeModel(join(work.path, 'champion'), description('1'), 'v1', 'model.json');
  });

  it('compares the champion with the produced challenger on the held-out rows, then returns the produced files', async () => {
    const h = harness({ predict });
    writeHoldout(60);
    const out = paths().out;
    writeModel(out, description('2'), 'v2');
    writeFileSync(join(out, 'metrics.json'), '{"accuracy":0.9}\n');
    mkdirSync(join(out, 'sub'));
    // A training program that copies its data into $OUT (the example trainer does): not returned.
    const trainRows = ['7001,7001.5,yes', '7002,7002.5,no', '7003,7003.5,yes', '7004,,yes'];
    const trainText = `tenure,spend,churned\n${trainRows.join('\n')}\n`;
    mkdirSync(dirname(paths().train), { recursive: true });
    writeFileSync(paths().train, trainText);
    writeFileSync(join(out, 'train.csv'), trainText);

    const r = await evaluateStep(h.deps, plan({ margin: 0.01 }));
    expect(r.step).toBe('evaluate');
    expect(r.comparison).toMatchObject({
      a: { ref: 'churn@1', metrics: { accuracy: 0.75 } },
      b: { ref: 'churn@2', metrics: { accuracy: 59 / 60 } },
      verdict: 'better',
      rows: 60,
      margin: 0.01,
      target: 'churned',
      source: 'the newest 60 labelled feedback rows (not trained on)',
    });

    const log = h.log();
    // The result line comes before the first file marker; the files come back as the Job's epilogue prints them.
    expect(parseStepResults(log)).toEqual([JSON.parse(JSON.stringify(r))]);
    const returned = parseReturnedFiles(log);
    expect(returned.complete).toBe(true);
    expect([...returned.files.keys()]).toEqual(['metrics.json', 'model.onnx', 'model.yaml', IN_CLUSTER_PROFILE_FILE]);
    expect(returned.files.get('model.onnx')!.toString()).toBe('v2');
    expect(returned.files.get('model.yaml')!.toString()).toBe(read(join(out, 'model.yaml')));
    expect(returned.output.some((l) => l.startsWith('--- maas-result '))).toBe(true);
    expect(returned.output).toContain('not returned (a copy of the training set or the held-out rows; rows stay on the node): train.csv');
    expect(returned.output).toContain('profile: 4 rows, 2 features (its 4 sample rows stay on the node)');

    // The training set's reference profile, as `maas register` computes it, without its sample rows.
    const profile = JSON.parse(returned.files.get(IN_CLUSTER_PROFILE_FILE)!.toString()) as ReferenceProfile;
    expect(profile).toMatchObject({
      schema: 1,
      rows: 4,
      source: { uri: `file://${paths().train}`, digest: digest(trainText) },
      createdAt: iso(h.clock.now()),
      target: { name: 'churned', kind: 'categorical', count: 4, counts: { yes: 3, no: 1 } },
      sample: { capacity: 10_000, columns: ['tenure', 'spend'], rows: [] },
    });
    expect(profile.features).toMatchObject([
      { name: 'tenure', count: 4, missing: 0, min: 7001, max: 7004 },
      { name: 'spend', count: 3, missing: 1, min: 7001.5, max: 7003.5 },
    ]);

    // No row leaves: outside the files not even a value; in the files no row, neither as the CSV
    // line nor as a sample row. (The profile's min, max and quantiles are aggregates.)
    expect(returned.output.join('\n')).not.toContain('7001');
    const heldOut = read(paths().holdout).trim().split('\n').slice(1);
    for (const [name, bytes] of returned.files) {
      const text = bytes.toString();
      for (const row of [...trainRows, ...heldOut]) {
        const [tenure, spend] = row.split(',');
        expect(text, `${name} holds the row ${row}`).not.toContain(row);
        expect(text, `${name} holds the row ${row}`).not.toContain(`[${tenure},${spend === '' ? 'null' : spend}]`);
      }
    }
  });

  it("returns no profile when the training set cannot be profiled, and never the program's own file of that name", async () => {
    const h = harness({ predict });
    writeHoldout(10);
    const out = paths().out;
    writeModel(out, description('2'), 'v2');
    // A program that writes a "profile" of its own, with rows in it: stays on the node.
    writeFileSync(join(out, IN_CLUSTER_PROFILE_FILE), JSON.stringify({ sample: { rows: [[7001, 7001.5]] } }));
    // The training set lacks a feature of the challenger's description.
    mkdirSync(dirname(paths().train), { recursive: true });
    writeFileSync(paths().train, 'tenure,churned\n7001,yes\n');
    await evaluateStep(h.deps, plan());
    const returned = parseReturnedFiles(h.log());
    expect([...returned.files.keys()]).toEqual(['model.onnx', 'model.yaml']);
    expect(returned.output).toContain(
      'profile: none (the training set has no column for feature "spend"); the challenger comes back without a reference profile',
    );
    expect(returned.output).toContain(`not returned: the program's ${IN_CLUSTER_PROFILE_FILE} (maas returns the training set's profile under that name)`);

    // A CSV syntax error may quote a cell: only its code is printed.
    const h2 = harness({ predict });
    writeFileSync(paths().train, 'tenure,spend,churned\n"7001,7001.5,yes\n');
    await evaluateStep(h2.deps, plan());
    const back = parseReturnedFiles(h2.log());
    expect([...back.files.keys()]).toEqual(['model.onnx', 'model.yaml']);
    expect(back.output).toContain('profile: none (VALIDATION: the training set could not be read); the challenger comes back without a reference profile');
    expect(h2.log()).not.toContain('7001');
  });

  it('skips the comparison with too few held-out rows, and still returns the files', async () => {
    const h = harness({ predict });
    writeHoldout(10);
    writeModel(paths().out, description('2'), 'v2');
    const r = await evaluateStep(h.deps, plan());
    expect(r).toEqual({ step: 'evaluate', skipped: 'only 10 held-out rows (fewer than 30)' });
    expect(parseStepResults(h.log())).toEqual([r]);
    // No training set here: no profile either.
    expect([...parseReturnedFiles(h.log()).files.keys()]).toEqual(['model.onnx', 'model.yaml']);
    expect(h.log()).toContain(`profile: none (data file not found: ${paths().train})`);
  });

  it('refuses a challenger of another name or version, and a champion that is not the planned one', async () => {
    writeHoldout(40);
    writeModel(paths().out, description('3'), 'v2');
    const e = await rejection(evaluateStep(harness({ predict }).deps, plan()));
    expect(e.code).toBe('VALIDATION');
    expect(e.message).toContain('describes churn@3, but the run was to produce churn@2');

    writeModel(paths().out, description('2'), 'v2');
    const e2 = await rejection(evaluateStep(harness({ predict }).deps, plan({ champion: 'churn@7' })));
    expect(e2.message).toContain('describes churn@1, but the champion is churn@7');
    // No result line and no files when nothing was evaluated.
    const h = harness({ predict });
    await rejection(evaluateStep(h.deps, plan({ challenger: 'churn@9' })));
    expect(h.log()).toBe('');
  });
});

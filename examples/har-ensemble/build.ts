// Builds the composition example: three HAR classifiers trained on non-IID data, each a normal
// model description, and the `kind: Composition` description that combines them, plus a held-out
// stream from the whole population to measure them on.
//
// Each member sees only its own few people, a skewed class mix and its own device:
//   har-wrist@1   3 people, mostly the walking kinds (a tenth of the static windows), hidden 16
//   har-pocket@1  3 people, mostly sitting/standing/laying, its sensor mounted 4 degrees off, hidden 32
//   har-belt@1    3 people, the natural class mix, a miscalibrated sensor (the generator's --shift 1), hidden 8
// so each is good at what it saw and wrong in its own way elsewhere: they disagree on a good share
// of the held-out rows, and the mean of their class probabilities beats the median member.
//
//   node dist/examples/har-ensemble/build.js --out examples/out/har-ensemble [--seed S] [--rows N]
//        [--heldout-rows N] [--request-rows N] [--request-id ID] [--epochs N] [--json]
//
// Writes into --out: one directory per member (model.onnx, model.yaml, metrics.json, train.csv:
// what examples/har/train.ts writes), composition.yaml, heldout.csv (features + activity),
// requests.json with requests.labels.json (the first --request-rows held-out rows, without and
// with their truth), feedback.csv (that truth keyed by the ids `maas predict --request-id ID`
// logs them under: ID:0, ID:1, ...) and report.json (the accuracies printed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Document, isCollection, stringify } from 'yaml';
import { aggregate, type MemberAnswer } from '../../src/compose/aggregate.js';
import type { Aggregation, CompositionDescription } from '../../src/domain/composition.js';
import { API_VERSION, type ModelDescription } from '../../src/spec/schema.js';
import { ACTIVITIES, generateHar, HAR_FEATURES, HAR_TARGET, harToCsv, harToRequests, type Activity, type HarData } from '../har/generate.js';
import { harDescription, mlpForward, trainHar, type HarTrainResult } from '../har/train.js';
import { DEFAULT_MLP_OPTIONS, type MlpTrainOptions } from '../lib/mlp.js';
import { integerOption, isMain, runMain, UsageError } from '../lib/program.js';
import { rngFor } from '../lib/random.js';

/** How one member's training data differs from the population, and its network size. */
export interface MemberPlan {
  name: string;
  /** In words, for the output and the description. */
  story: string;
  /** People it sees (drawn from its own seed stream, so no two members share one). */
  subjects: number;
  /** Share of each activity's windows kept (1 = all): the member's class mix. */
  keep: Record<Activity, number>;
  /** The generator's covariate shift (a miscalibrated sensor), 0 = none. */
  shift: number;
  /** Mounting tilt of the device in degrees: gravity turns from the vertical axis towards the lateral one. */
  tiltDeg: number;
  hidden: number;
}

const DYNAMIC = { walking: 1, walking_upstairs: 1, walking_downstairs: 1 } as const;
const STATIC = { sitting: 1, standing: 1, laying: 1 } as const;

export const MEMBERS: readonly MemberPlan[] = [
  {
    name: 'har-wrist',
    story: '3 people, mostly walking (a tenth of the static windows kept)',
    subjects: 3,
    keep: { ...DYNAMIC, sitting: 0.1, standing: 0.1, laying: 0.1 },
    shift: 0,
    tiltDeg: 0,
    hidden: 16,
  },
  {
    name: 'har-pocket',
    story: '3 people, mostly sitting, standing and laying (a tenth of the walking windows kept), device tilted 4 degrees',
    subjects: 3,
    keep: { ...STATIC, walking: 0.1, walking_upstairs: 0.1, walking_downstairs: 0.1 },
    shift: 0,
    tiltDeg: 4,
    hidden: 32,
  },
  {
    name: 'har-belt',
    story: "3 people, the natural class mix, a miscalibrated sensor (the generator's shift 1)",
    subjects: 3,
    keep: { ...DYNAMIC, ...STATIC },
    shift: 1,
    tiltDeg: 0,
    hidden: 8,
  },
];

export const COMPOSITION_NAME = 'har-ensemble';
export const MEMBER_VERSION = '1';
/** What the composition aggregates with (the build measures `majority` too, for comparison). */
export const AGGREGATION: Aggregation = 'mean-proba';

export interface EnsembleOptions {
  /** Base seed: every member's people, data and training, and the held-out stream derive from it. */
  seed: number;
  /** Training rows per member (train.ts holds out 20 % of them for its own metrics). */
  rows: number;
  /** Rows of the held-out stream (30 people, natural class mix, a well-mounted sensor). */
  heldoutRows: number;
  epochs: number;
}

export const DEFAULT_ENSEMBLE_OPTIONS: EnsembleOptions = { seed: 1, rows: 1500, heldoutRows: 3000, epochs: 40 };

export interface BuiltMember {
  plan: MemberPlan;
  /** `NAME@VERSION`. */
  ref: string;
  data: HarData;
  trained: HarTrainResult;
  description: ModelDescription;
  /** On the held-out stream: predicted labels and class probabilities (in `labels` order). */
  predicted: string[];
  probabilities: number[][];
  accuracy: number;
}

export interface EnsembleResult {
  options: EnsembleOptions;
  members: BuiltMember[];
  heldout: HarData;
  /** The class order every member and the composition share. */
  labels: string[];
  composition: CompositionDescription;
  /** Accuracy on the held-out stream per aggregation, and the one the composition uses. */
  ensemble: { aggregation: Aggregation; accuracy: number; byAggregation: Record<'mean-proba' | 'majority', number> };
  /** Median of the members' held-out accuracies. */
  medianMember: number;
  bestMember: number;
  /** Share of held-out rows on which the members do not all predict the same label. */
  disagreement: number;
}

const DEG = Math.PI / 180;
const round5 = (v: number): number => Math.round(v * 1e5) / 1e5;
const col = (name: string): number => HAR_FEATURES.indexOf(name as (typeof HAR_FEATURES)[number]);

/** A device mounted `deg` degrees off: the mean gravity vector turns from x towards y. */
function tilted(rows: number[][], deg: number): number[][] {
  if (deg === 0) return rows;
  const x = col('acc_x_mean');
  const y = col('acc_y_mean');
  const c = Math.cos(deg * DEG);
  const s = Math.sin(deg * DEG);
  return rows.map((r) => {
    const out = r.slice();
    out[x] = round5(c * r[x]! - s * r[y]!);
    out[y] = round5(s * r[x]! + c * r[y]!);
    return out;
  });
}

/** One member's training data: its own people and device, thinned to its class mix. */
export function memberData(plan: MemberPlan, index: number, o: Pick<EnsembleOptions, 'seed' | 'rows'>): HarData {
  const seed = (o.seed * 7919 + 101 * (index + 1)) >>> 0;
  const least = Math.min(...ACTIVITIES.map((a) => plan.keep[a]));
  const raw = generateHar({ rows: Math.ceil((o.rows / Math.max(0.05, least)) * 1.3) + 100, seed, subjects: plan.subjects, shift: plan.shift });
  const rng = rngFor(seed, 31);
  const rows: number[][] = [];
  const labels: Activity[] = [];
  for (let i = 0; i < raw.rows.length && rows.length < o.rows; i++) {
    const label = raw.labels[i]!;
    if (rng.next() >= plan.keep[label]) continue;
    rows.push(raw.rows[i]!);
    labels.push(label);
  }
  if (rows.length < o.rows) throw new Error(`${plan.name}: only ${rows.length} of ${o.rows} rows after thinning`);
  return { features: raw.features, rows: tilted(rows, plan.tiltDeg), labels };
}

/** The held-out stream: many people, the natural class mix, a well-mounted calibrated sensor. */
export function heldoutData(o: Pick<EnsembleOptions, 'seed' | 'heldoutRows'>): HarData {
  return generateHar({ rows: o.heldoutRows, seed: (o.seed * 7919 + 0x5bd1e995) >>> 0, subjects: 30 });
}

const accuracyOf = (predicted: readonly string[], truth: readonly string[]): number =>
  predicted.filter((p, i) => p === truth[i]).length / Math.max(1, truth.length);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The members' answers to the held-out rows combined offline, as the router does. */
export function ensembleLabels(
  kind: Aggregation,
  labels: readonly string[],
  members: readonly Pick<BuiltMember, 'ref' | 'predicted' | 'probabilities'>[],
): string[] {
  const answers: MemberAnswer[] = members.map((m) => ({ key: m.ref, weight: 1, labels: m.predicted, probabilities: m.probabilities }));
  return aggregate(kind, labels, answers, members[0]?.predicted.length ?? 0).labels ?? [];
}

/** Share of rows on which not every member predicts the same label. */
export function disagreementOf(members: readonly Pick<BuiltMember, 'predicted'>[]): number {
  const n = members[0]?.predicted.length ?? 0;
  let split = 0;
  for (let r = 0; r < n; r++) if (members.some((m) => m.predicted[r] !== members[0]!.predicted[r])) split++;
  return split / Math.max(1, n);
}

export function compositionDescription(members: readonly { ref: string }[], labels: readonly string[], minAccuracy: number): CompositionDescription {
  return {
    apiVersion: API_VERSION,
    kind: 'Composition',
    metadata: {
      name: COMPOSITION_NAME,
      version: '1',
      description:
        'Three activity classifiers trained on different people, class mixes and devices (examples/har-ensemble/build.ts); ' +
        'the mean of their class probabilities is more accurate than the typical member on the whole population.',
      labels: { domain: 'activity-recognition', example: 'har-ensemble' },
    },
    spec: {
      task: 'classification',
      features: [...HAR_FEATURES],
      outputs: { name: HAR_TARGET, labels: [...labels] },
      mode: 'ensemble',
      aggregation: AGGREGATION,
      timeout: '1s',
      members: members.map((m) => ({ model: m.ref })),
      qos: { latencyBudget: '200ms', minAccuracy, reliability: 0.99 },
      policy: {
        qosWeights: { effectiveness: 0.4, quality: 0.2, latency: 0.2, reliability: 0.2 },
        contribution: { qos: 0.5, functional: 0.5, threshold: 0.75 },
        rules: { dataUtility: 0.3, modelUtility: 0.2, scalability: 0.2, history: 0.15, reliability: 0.15 },
        thresholds: { skew: 0.5, reliability: 0.95, latencyPenalty: 2 },
        bandit: { alpha: 1, lambda: 1, topK: 3 },
        historyWindow: 100,
      },
    },
  };
}

/** Trains the members and measures them and the ensemble on the held-out stream; writes nothing. */
export function buildHarEnsemble(options: Partial<EnsembleOptions> = {}, plans: readonly MemberPlan[] = MEMBERS): EnsembleResult {
  const o: EnsembleOptions = { ...DEFAULT_ENSEMBLE_OPTIONS, ...options };
  const heldout = heldoutData(o);
  const members = plans.map((plan, index): BuiltMember => {
    const data = memberData(plan, index, o);
    const train: MlpTrainOptions & { testFraction: number } = {
      ...DEFAULT_MLP_OPTIONS,
      hidden: plan.hidden,
      epochs: o.epochs,
      seed: (o.seed + index) >>> 0,
      testFraction: 0.2,
    };
    const trained = trainHar(harToCsv(data), train);
    const description = harDescription(trained, { name: plan.name, version: MEMBER_VERSION, options: train });
    // Retraining runs the recorded command: keep the member's own name in it.
    description.spec.training?.code?.command?.push('--name', plan.name);
    description.metadata.description = `${description.metadata.description ?? ''} Member of the har-ensemble example: ${plan.story}.`;
    const out = mlpForward(trained.model, heldout.rows);
    const predicted = out.labels.map((j) => trained.labels[j]!);
    return {
      plan,
      ref: `${plan.name}@${MEMBER_VERSION}`,
      data,
      trained,
      description,
      predicted,
      probabilities: out.probabilities,
      accuracy: accuracyOf(predicted, heldout.labels),
    };
  });
  const labels = members[0]?.trained.labels ?? [...ACTIVITIES];
  for (const m of members) {
    if (m.trained.labels.join() !== labels.join()) throw new Error(`${m.ref} predicts ${m.trained.labels.join(', ')}, not ${labels.join(', ')}`);
  }
  const byAggregation = {
    'mean-proba': accuracyOf(ensembleLabels('mean-proba', labels, members), heldout.labels),
    majority: accuracyOf(ensembleLabels('majority', labels, members), heldout.labels),
  };
  const accuracies = members.map((m) => m.accuracy);
  const ensembleAccuracy = byAggregation[AGGREGATION as 'mean-proba'];
  // The floor the composition promises: a little under what it measured here.
  const minAccuracy = Math.floor((ensembleAccuracy - 0.03) * 100) / 100;
  return {
    options: o,
    members,
    heldout,
    labels,
    composition: compositionDescription(members, labels, Math.max(0, minAccuracy)),
    ensemble: { aggregation: AGGREGATION, accuracy: ensembleAccuracy, byAggregation },
    medianMember: median(accuracies),
    bestMember: Math.max(...accuracies),
    disagreement: disagreementOf(members),
  };
}

/** composition.yaml: the description (labels and policy weights in flow style), with what to run first. */
export function compositionYaml(r: EnsembleResult): string {
  const doc = new Document(r.composition);
  for (const path of [['spec', 'outputs', 'labels'], ...['qosWeights', 'contribution', 'rules', 'thresholds', 'bandit'].map((k) => ['spec', 'policy', k])]) {
    const node = doc.getIn(path, true);
    if (isCollection(node)) node.flow = true;
  }
  const s = summary(r);
  return [
    `# ${COMPOSITION_NAME}@1: written by examples/har-ensemble/build.ts. Register the members first, then apply:`,
    `#   maas register ${r.members.map((m) => `${m.plan.name}/model.yaml`).join(' ')}`,
    `#   maas compose apply composition.yaml`,
    `# On ${s.heldoutRows} held-out rows (seed ${s.seed}): members ${s.members.map((m) => `${m.model} ${m.heldoutAccuracy}`).join(', ')};`,
    `# ${AGGREGATION} ${s.ensemble.meanProba}, majority ${s.ensemble.majority}. The policy block holds the documented defaults.`,
    doc.toString({ lineWidth: 160, flowCollectionPadding: false }),
  ].join('\n');
}

export interface EnsembleFiles {
  composition: string;
  members: { ref: string; dir: string; description: string }[];
  heldout: string;
  requests: string;
  requestLabels: string;
  feedback: string;
  report: string;
}

/** Writes the example into `outDir` (see the top of this file). */
export function writeHarEnsemble(outDir: string, r: EnsembleResult, o: { requestRows: number; requestId: string }): EnsembleFiles {
  mkdirSync(outDir, { recursive: true });
  const members = r.members.map((m) => {
    const dir = join(outDir, m.plan.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), m.trained.onnx);
    writeFileSync(join(dir, 'train.csv'), harToCsv(m.data));
    const description = join(dir, 'model.yaml');
    const header = `# ${m.ref}: written by examples/har-ensemble/build.ts (trained with examples/har/train.ts); metrics measured on ${m.trained.testRows} of its own held-out rows.\n`;
    writeFileSync(description, header + stringify(m.description, { lineWidth: 120 }));
    const metrics = {
      model: m.ref,
      story: m.plan.story,
      trainRows: m.trained.trainRows,
      testRows: m.trained.testRows,
      accuracy: m.trained.metrics.accuracy,
      f1Macro: m.trained.metrics.f1Macro,
      heldoutAccuracy: m.accuracy,
      perClass: m.trained.metrics.perClass,
      confusion: { labels: m.trained.labels, matrix: m.trained.metrics.confusion },
    };
    writeFileSync(join(dir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    return { ref: m.ref, dir, description };
  });
  const composition = join(outDir, 'composition.yaml');
  writeFileSync(composition, compositionYaml(r));
  const heldout = join(outDir, 'heldout.csv');
  writeFileSync(heldout, harToCsv(r.heldout));
  const n = Math.min(o.requestRows, r.heldout.rows.length);
  const first: HarData = { features: r.heldout.features, rows: r.heldout.rows.slice(0, n), labels: r.heldout.labels.slice(0, n) };
  const requests = join(outDir, 'requests.json');
  writeFileSync(
    requests,
    `[\n${harToRequests(first)
      .map((x) => JSON.stringify(x))
      .join(',\n')}\n]\n`,
  );
  const requestLabels = join(outDir, 'requests.labels.json');
  writeFileSync(requestLabels, `${JSON.stringify(first.labels)}\n`);
  const feedback = join(outDir, 'feedback.csv');
  // A one-row request is logged under its id alone; more rows as ID:0 ... ID:N-1.
  const ids = n === 1 ? [o.requestId] : first.labels.map((_, i) => `${o.requestId}:${i}`);
  writeFileSync(feedback, `id,label\n${first.labels.map((l, i) => `${ids[i]},${l}`).join('\n')}\n`);
  const report = join(outDir, 'report.json');
  writeFileSync(report, `${JSON.stringify(summary(r), null, 2)}\n`);
  return { composition, members, heldout, requests, requestLabels, feedback, report };
}

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** What the build measured, as printed with --json and written to report.json. */
export function summary(r: EnsembleResult) {
  return {
    seed: r.options.seed,
    heldoutRows: r.heldout.rows.length,
    members: r.members.map((m) => ({
      model: m.ref,
      story: m.plan.story,
      hidden: m.plan.hidden,
      trainRows: m.trained.trainRows,
      ownTestAccuracy: r4(m.trained.metrics.accuracy),
      heldoutAccuracy: r4(m.accuracy),
    })),
    medianMember: r4(r.medianMember),
    bestMember: r4(r.bestMember),
    ensemble: {
      aggregation: r.ensemble.aggregation,
      accuracy: r4(r.ensemble.accuracy),
      meanProba: r4(r.ensemble.byAggregation['mean-proba']),
      majority: r4(r.ensemble.byAggregation.majority),
    },
    disagreement: r4(r.disagreement),
  };
}

const USAGE = `usage: build --out DIR [--seed S] [--rows N] [--heldout-rows N] [--request-rows N] [--request-id ID] [--epochs N] [--json]`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      rows: { type: 'string' },
      'heldout-rows': { type: 'string' },
      'request-rows': { type: 'string' },
      'request-id': { type: 'string', default: 'heldout' },
      epochs: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.out) throw new UsageError(`--out is required\n${USAGE}`);
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(values['request-id'])) throw new UsageError(`--request-id must be 1-100 letters, digits, dots, dashes or underscores`);
  const d = DEFAULT_ENSEMBLE_OPTIONS;
  const options: EnsembleOptions = {
    seed: integerOption('seed', values.seed, d.seed, 0, 2 ** 32 - 1),
    rows: integerOption('rows', values.rows, d.rows, 50, 1_000_000),
    heldoutRows: integerOption('heldout-rows', values['heldout-rows'], d.heldoutRows, 10, 1_000_000),
    epochs: integerOption('epochs', values.epochs, d.epochs, 1, 10_000),
  };
  const requestRows = integerOption('request-rows', values['request-rows'], 20, 1, 10_000);
  const started = performance.now();
  const result = buildHarEnsemble(options);
  const files = writeHarEnsemble(resolve(values.out), result, { requestRows, requestId: values['request-id'] });
  const s = summary(result);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...s, files }, null, 2)}\n`);
    return;
  }
  const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
  const width = Math.max(...result.members.map((m) => m.ref.length), 'median member'.length, `ensemble (${AGGREGATION})`.length);
  const line = (name: string, v: number, note = ''): string => `  ${name.padEnd(width)}  ${pct(v).padStart(7)}${note}\n`;
  process.stdout.write(
    result.members
      .map(
        (m) =>
          `trained ${m.ref} (hidden ${m.plan.hidden}; ${m.plan.story}) on ${m.trained.trainRows} rows: accuracy ${m.trained.metrics.accuracy.toFixed(4)} on ${m.trained.testRows} of its own rows\n`,
      )
      .join('') +
      `accuracy on the held-out stream (${result.heldout.rows.length} rows, 30 people, natural class mix):\n` +
      result.members.map((m) => line(m.ref, m.accuracy)).join('') +
      line('median member', result.medianMember) +
      line(`ensemble (${AGGREGATION})`, result.ensemble.accuracy, `  (majority vote ${pct(result.ensemble.byAggregation.majority)})`) +
      `the members disagree on ${pct(result.disagreement)} of the rows; built in ${((performance.now() - started) / 1000).toFixed(2)} s\n` +
      `wrote ${[files.composition, ...files.members.map((m) => m.description), files.heldout, files.requests, files.feedback].map((f) => relative(process.cwd(), f)).join(', ')}\n`,
  );
}

if (isMain(import.meta.url)) runMain(main);

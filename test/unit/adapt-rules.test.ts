// Adaptive recomposition stages 2 and 3: candidate selection from the registry (functional
// compatibility, QoS better than the member, reasons for every exclusion) and the composition
// rules (each score on hand-computed inputs, the hard rejections, the confidence).
import { describe, expect, it } from 'vitest';
import { modelDescription, type ModelOptions } from '../../bench/model-fixtures.js';
import { DEFAULT_CANDIDATE_TOLERANCE, findCandidates, type CandidateInput, type RegistryModel } from '../../src/adapt/candidates.js';
import {
  RELIABILITY_REJECT_MARGIN,
  dataUtility,
  historySimilarity,
  modelUtility,
  reliabilityScore,
  ruleExplanation,
  ruleScores,
  scalability,
  type RuleContext,
} from '../../src/adapt/rules.js';
import { DEFAULT_RULE_WEIGHTS, DEFAULT_THRESHOLDS, type Candidate } from '../../src/adapt/types.js';
import type { CompositionDescription } from '../../src/domain/composition.js';
import type { ModelDescription } from '../../src/spec/schema.js';

const FEATURES: NonNullable<ModelOptions['features']> = [
  ['tBodyAcc-mean-X', 'number'],
  ['tBodyAcc-std-X', 'number'],
];

/** A HAR-like classifier on FEATURES with labels no/yes, modality accelerometer unless told otherwise. */
function model(name: string, o: Partial<ModelOptions> & { outputLabels?: string[] } = {}): ModelDescription {
  const d = modelDescription({ name, version: '1', features: FEATURES, labels: { modality: 'accelerometer' }, ...o });
  return o.outputLabels ? { ...d, spec: { ...d.spec, outputs: { labels: o.outputLabels } } } : d;
}

function composition(labels?: Record<string, string>): CompositionDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Composition',
    metadata: { name: 'har-ensemble', version: '1', ...(labels ? { labels } : {}) },
    spec: {
      task: 'classification',
      features: FEATURES.map(([n]) => n),
      outputs: { labels: ['no', 'yes'] },
      mode: 'ensemble',
      members: [{ model: 'har-a@1' }, { model: 'har-b@1' }],
    },
  };
}

const MEMBER = { key: 'har-b@1', accuracy: 0.84, latencyMs: 40, reliability: 0.99 };

function input(registry: RegistryModel[], over: Partial<CandidateInput> = {}): CandidateInput {
  return {
    composition: composition({ modality: 'accelerometer', example: 'har-ensemble' }),
    labels: ['yes', 'no'],
    member: MEMBER,
    currentMembers: ['har-a@1', 'har-b@1'],
    registry,
    ...over,
  };
}

const good = (name: string, o: Partial<ModelOptions> = {}): ModelDescription =>
  model(name, { metrics: { accuracy: 0.9 }, latencyMs: 30, reliability: 0.995, ...o });

describe('findCandidates', () => {
  const registry: RegistryModel[] = [
    { description: good('har-a') },
    { description: model('har-b', { metrics: { accuracy: 0.84 }, latencyMs: 40, reliability: 0.99 }) },
    {
      description: good('har-good', { cpu: '500m' }),
      profile: { target: { name: 'y', kind: 'categorical', count: 40, missing: 0, counts: { no: 30, yes: 10 } } },
    },
    { description: good('har-big', { metrics: { accuracy: 0.88 }, latencyMs: 50, reliability: 0.99, cpu: '2' }) },
    { description: good('har-f1', { metrics: { f1_macro: 0.87 } }) },
    { description: good('har-meas', { metrics: { accuracy: 0.8 }, latencyMs: 100 }), measured: { accuracy: 0.9, latencyMs: 45, history: [0.88, 0.9] } },
    { description: good('har-decl', { metrics: { accuracy: 0.95 } }), measured: { accuracy: 0.81 } },
    { description: good('har-x', { task: 'regression' }) },
    { description: good('har-z', { features: [['tBodyAcc-mean-X', 'number']] }) },
    { description: model('har-l', { metrics: { accuracy: 0.9 }, latencyMs: 30, outputLabels: ['no', 'maybe'] }) },
    {
      description: good('har-type', {
        features: [
          ['tBodyAcc-mean-X', 'integer'],
          ['tBodyAcc-std-X', 'number'],
        ],
      }),
    },
    { description: good('har-g', { labels: { modality: 'gyroscope' } }) },
    { description: modelDescription({ name: 'har-n', version: '1', features: FEATURES, metrics: { accuracy: 0.9 }, latencyMs: 30 }) },
    { description: good('har-eq', { metrics: { accuracy: 0.84 } }) },
    { description: good('har-slow', { latencyMs: 61 }) },
    { description: good('har-unrel', { reliability: 0.97 }) },
    { description: good('har-both', { latencyMs: 70, reliability: 0.9 }) },
    { description: model('har-noacc', { latencyMs: 30 }) },
    { description: model('har-nolat', { metrics: { accuracy: 0.9 } }) },
  ];
  const result = findCandidates(input(registry));
  const reasons = Object.fromEntries(result.excluded.map((e) => [e.key, e.reason]));
  const byKey = new Map(result.candidates.map((c) => [c.key, c]));

  it('keeps the compatible models that beat the member, in registry order', () => {
    expect(result.candidates.map((c) => c.key)).toEqual(['har-good@1', 'har-big@1', 'har-f1@1', 'har-meas@1']);
    // Every registry model is either a candidate or excluded, never both.
    expect(result.candidates.length + result.excluded.length).toBe(registry.length);
  });

  it('never offers the current members, with a reason', () => {
    expect(reasons['har-a@1']).toBe('har-a@1: already a member of the composition');
    expect(reasons['har-b@1']).toBe('har-b@1: the member being replaced');
  });

  it('explains every functional exclusion: task, feature, feature type, labels, modality', () => {
    expect(reasons['har-x@1']).toBe('har-x@1: solves regression, not classification');
    expect(reasons['har-z@1']).toBe('har-z@1: does not take feature "tBodyAcc-std-X"');
    expect(reasons['har-type@1']).toBe('har-type@1: feature "tBodyAcc-mean-X" is integer in har-type@1 but number in har-a@1');
    expect(reasons['har-l@1']).toBe('har-l@1: predicts other labels than spec.outputs.labels: it lacks "yes" and has "maybe" besides');
    expect(reasons['har-g@1']).toBe('har-g@1: label modality=gyroscope, not accelerometer');
    expect(reasons['har-n@1']).toBe('har-n@1: no label modality=accelerometer');
  });

  it('explains every QoS exclusion: accuracy not above, too slow, too unreliable, unknown', () => {
    expect(reasons['har-eq@1']).toBe("har-eq@1: declared accuracy 0.84 not above the member's measured 0.84");
    // 40ms * 1.5 = 60ms; 61 is above.
    expect(reasons['har-slow@1']).toBe("har-slow@1: declared latency 61ms above 1.5x the member's 40ms (60ms)");
    // 0.99 - 0.01 = 0.98; 0.97 is below.
    expect(reasons['har-unrel@1']).toBe("har-unrel@1: declared reliability 0.97 below the member's 0.99 - 0.01");
    expect(reasons['har-both@1']).toBe(
      "har-both@1: declared latency 70ms above 1.5x the member's 40ms (60ms); declared reliability 0.9 below the member's 0.99 - 0.01",
    );
    expect(reasons['har-noacc@1']).toMatch(/^har-noacc@1: no accuracy: none measured and none declared \(spec\.performance accuracy, /);
    expect(reasons['har-nolat@1']).toBe('har-nolat@1: no latency: none measured and none declared (spec.qos.latencyMs)');
  });

  it('prefers measured QoS over declared, value by value', () => {
    // Declared 0.8 / 100ms would fail; measured 0.9 / 45ms pass (45 <= 60). Reliability stays declared.
    expect(byKey.get('har-meas@1')).toMatchObject({ accuracy: 0.9, latencyMs: 45, reliability: 0.995, measured: true, history: [0.88, 0.9] });
    // Declared 0.95 would pass; the measured 0.81 decides.
    expect(reasons['har-decl@1']).toBe("har-decl@1: measured accuracy 0.81 not above the member's measured 0.84");
    expect(byKey.get('har-good@1')).toMatchObject({ accuracy: 0.9, latencyMs: 30, reliability: 0.995, measured: false, history: [] });
    // No declared accuracy: f1_macro stands in.
    expect(byKey.get('har-f1@1')?.accuracy).toBe(0.87);
  });

  it('fills efficiency from serving cpu and the label distribution in composition order', () => {
    // Largest cpu among the candidates: har-big's 2 cores. har-good: 1 - 0.5/2 = 0.75; har-big: 1 - 2/2 = 0;
    // no cpu declared: 1.
    expect(byKey.get('har-good@1')?.efficiency).toBeCloseTo(0.75, 12);
    expect(byKey.get('har-big@1')?.efficiency).toBe(0);
    expect(byKey.get('har-meas@1')?.efficiency).toBe(1);
    // counts no 30, yes 10 over 40; composition order [yes, no] -> [0.25, 0.75].
    expect(byKey.get('har-good@1')?.labelDistribution).toEqual([0.25, 0.75]);
    expect(byKey.get('har-big@1')?.labelDistribution).toBeUndefined();
  });

  it('takes the modality from the replaced member when the composition has none', () => {
    const r = findCandidates(
      input(
        [
          { description: model('har-b', { labels: { modality: 'gyroscope' }, metrics: { accuracy: 0.84 }, latencyMs: 40 }) },
          { description: good('har-acc') },
          { description: good('har-gyro', { labels: { modality: 'gyroscope' } }) },
        ],
        { composition: composition() },
      ),
    );
    expect(r.candidates.map((c) => c.key)).toEqual(['har-gyro@1']);
    expect(r.excluded.map((e) => e.reason)).toEqual(['har-b@1: the member being replaced', 'har-acc@1: label modality=accelerometer, not gyroscope']);
  });

  it('applies a custom tolerance', () => {
    expect(DEFAULT_CANDIDATE_TOLERANCE).toEqual({ latencyFactor: 1.5, reliabilityMargin: 0.01 });
    const r = findCandidates(input([{ description: good('har-slow', { latencyMs: 61 }) }], { tolerance: { latencyFactor: 2, reliabilityMargin: 0 } }));
    expect(r.candidates.map((c) => c.key)).toEqual(['har-slow@1']);
  });
});

function candidate(o: Partial<Candidate> = {}): Candidate {
  return { key: 'c@1', accuracy: 0.9, latencyMs: 50, reliability: 0.99, history: [], efficiency: 1, measured: false, ...o };
}

describe('composition rules', () => {
  it('data utility: 1 - Euclidean distance / sqrt(2)', () => {
    // p = [0.25, 0.75], q = [0.5, 0.5]: |p - q| = sqrt(0.0625 + 0.0625) = 0.35355; / sqrt(2) = 0.25 -> 0.75.
    const r = dataUtility([0.25, 0.75], [0.5, 0.5], 0.5);
    expect(r.distance).toBeCloseTo(0.25, 12);
    expect(r.score).toBeCloseTo(0.75, 12);
    expect(r.skew).toBeUndefined();
    // Counts are normalised first: [1, 3] is [0.25, 0.75].
    expect(dataUtility([1, 3], [5, 5], 0.5).score).toBeCloseTo(0.75, 12);
    // Identical: 1; disjoint one-hots: distance sqrt(2) / sqrt(2) = 1 -> 0.
    expect(dataUtility([0.5, 0.5], [0.5, 0.5], 0.5).score).toBe(1);
    expect(dataUtility([1, 0], [0, 1], 1).score).toBeCloseTo(0, 12);
    // Unknown distribution: neutral, not rejected.
    expect(dataUtility(undefined, [0.5, 0.5], 0.5)).toMatchObject({ score: 0.5 });
    expect(dataUtility([0.5, 0.5], [], 0.5)).toMatchObject({ score: 0.5 });
  });

  it('data utility rejects heavy skew', () => {
    // p = [0.9, 0.1], q = [0.2, 0.8]: |p - q| = sqrt(0.49 + 0.49) = 0.98995; / sqrt(2) = 0.7 > 0.5.
    const r = dataUtility([0.9, 0.1], [0.2, 0.8], 0.5);
    expect(r.score).toBeCloseTo(0.3, 12);
    expect(r.skew).toBe('label distribution distance 0.7 above the skew threshold 0.5');
    const s = ruleScores(
      candidate({ labelDistribution: [0.9, 0.1] }),
      ctx({ compositionLabelDistribution: [0.2, 0.8] }),
      DEFAULT_RULE_WEIGHTS,
      DEFAULT_THRESHOLDS,
    );
    expect(s.rejected).toBe('label distribution distance 0.7 above the skew threshold 0.5');
  });

  it('model utility: exp(-(ln r)^2 / 2), r = distance to the mean / median member distance', () => {
    const mean = Float64Array.from([0, 0]);
    // Member distances to the mean: 1, 2, 3 -> median 2.
    const members = [Float64Array.from([1, 0]), Float64Array.from([0, 2]), Float64Array.from([-3, 0])];
    // d = 2 -> r = 1 -> exp(0) = 1.
    expect(modelUtility(Float64Array.from([2, 0]), mean, members).score).toBeCloseTo(1, 12);
    // d = 2e -> r = e -> exp(-1/2) = 0.60653.
    expect(modelUtility(Float64Array.from([0, 2 * Math.E]), mean, members).score).toBeCloseTo(0.60653066, 7);
    // d = 20 -> r = 10 -> ln 10 = 2.302585; squared 5.301898; halved 2.650949; exp(-) = 0.070584.
    expect(modelUtility(Float64Array.from([20, 0]), mean, members).score).toBeCloseTo(0.070584, 5);
    // A clone of the mean: r = 0 -> 0.
    expect(modelUtility(Float64Array.from([0, 0]), mean, members).score).toBe(0);
    // Nothing to compare: neutral.
    expect(modelUtility(undefined, mean, members).score).toBe(0.5);
    expect(modelUtility(Float64Array.from([1, 2, 3]), mean, members).score).toBe(0.5);
    expect(modelUtility(Float64Array.from([2, 0]), mean, []).score).toBe(0.5);
  });

  it('scalability: 1 within the budget, exp(-penalty * (T/Tmax - 1)) beyond', () => {
    expect(scalability(150, 200, 2).score).toBe(1);
    expect(scalability(200, 200, 2).score).toBe(1);
    // 300 / 200 - 1 = 0.5; exp(-2 * 0.5) = exp(-1) = 0.367879.
    expect(scalability(300, 200, 2).score).toBeCloseTo(Math.exp(-1), 12);
    // The composition latency may depend on the candidate: 100 + 200 = 300ms.
    const s = ruleScores(candidate({ latencyMs: 200 }), ctx({ compositionLatencyMs: (c) => 100 + c.latencyMs }), DEFAULT_RULE_WEIGHTS, DEFAULT_THRESHOLDS);
    expect(s.scalability).toBeCloseTo(Math.exp(-1), 12);
  });

  it('historical quality: cosine on the last min(len) windows', () => {
    // a = [0.9, 0.8, 0.7]; b = last 3 of [0.5, 0.6, 0.8, 0.6] = [0.6, 0.8, 0.6].
    // a.b = 0.54 + 0.64 + 0.42 = 1.6; |a|^2 = 1.94; |b|^2 = 1.36; cos = 1.6 / sqrt(2.6384) = 1.6 / 1.624315 = 0.985030.
    const r = historySimilarity([0.9, 0.8, 0.7], [0.5, 0.6, 0.8, 0.6]);
    expect(r.windows).toBe(3);
    expect(r.score).toBeCloseTo(0.98503, 5);
    // Same shape, different level: 1 (cosine compares shape).
    expect(historySimilarity([0.4, 0.8], [0.3, 0.6]).score).toBeCloseTo(1, 12);
    expect(historySimilarity([], [0.9]).score).toBe(0.5);
    expect(historySimilarity([0, 0], [0.9, 0.8]).score).toBe(0.5);
  });

  it('reliability: 1 at the threshold, R / threshold below, rejected below threshold - 0.1', () => {
    expect(RELIABILITY_REJECT_MARGIN).toBe(0.1);
    expect(reliabilityScore(0.99, 0.95)).toMatchObject({ score: 1 });
    // 0.9 / 0.95 = 0.947368; not below 0.95 - 0.1 = 0.85.
    const r = reliabilityScore(0.9, 0.95);
    expect(r.score).toBeCloseTo(0.947368, 6);
    expect(r.rejected).toBeUndefined();
    // 0.8 / 0.95 = 0.842105; below 0.85: rejected.
    const low = reliabilityScore(0.8, 0.95);
    expect(low.score).toBeCloseTo(0.842105, 6);
    expect(low.rejected).toBe('reliability 0.8 below 0.85 (threshold 0.95 - 0.1)');
  });

  it('confidence is the weighted sum of the five scores; rejections are joined', () => {
    const c = candidate({ labelDistribution: [0.25, 0.75], parameters: Float64Array.from([2, 0]), latencyMs: 200, history: [0.9, 0.8, 0.7], reliability: 0.9 });
    const s = ruleScores(c, ctx({ compositionLatencyMs: (x) => 100 + x.latencyMs }), DEFAULT_RULE_WEIGHTS, DEFAULT_THRESHOLDS);
    expect(s.dataUtility).toBeCloseTo(0.75, 12);
    expect(s.modelUtility).toBeCloseTo(1, 12);
    expect(s.scalability).toBeCloseTo(0.367879, 6);
    expect(s.history).toBeCloseTo(0.98503, 5);
    expect(s.reliability).toBeCloseTo(0.947368, 6);
    // 0.3*0.75 + 0.2*1 + 0.2*0.367879 + 0.15*0.985030 + 0.15*0.947368
    //   = 0.225 + 0.2 + 0.0735759 + 0.1477546 + 0.1421053 = 0.7884358.
    expect(s.confidence).toBeCloseTo(0.7884358, 6);
    expect(s.rejected).toBeUndefined();
    // Other weights: only data utility counts.
    const only = ruleScores(
      c,
      ctx({ compositionLatencyMs: 300 }),
      { dataUtility: 1, modelUtility: 0, scalability: 0, history: 0, reliability: 0 },
      DEFAULT_THRESHOLDS,
    );
    expect(only.confidence).toBeCloseTo(0.75, 12);

    const both = ruleScores(candidate({ labelDistribution: [1, 0], reliability: 0.5 }), ctx(), DEFAULT_RULE_WEIGHTS, DEFAULT_THRESHOLDS);
    // [1, 0] vs [0.5, 0.5]: sqrt(0.5) / sqrt(2) = 0.5, not above 0.5: no skew; reliability 0.5 < 0.85: rejected.
    expect(both.rejected).toBe('reliability 0.5 below 0.85 (threshold 0.95 - 0.1)');
    const skewed = ruleScores(candidate({ labelDistribution: [1, 0], reliability: 0.5 }), ctx(), DEFAULT_RULE_WEIGHTS, { ...DEFAULT_THRESHOLDS, skew: 0.4 });
    expect(skewed.rejected).toBe('label distribution distance 0.5 above the skew threshold 0.4; reliability 0.5 below 0.85 (threshold 0.95 - 0.1)');
  });

  it('neutral scores without distribution, parameters or history', () => {
    const s = ruleScores(
      candidate(),
      { compositionLabelDistribution: [0.5, 0.5], compositionLatencyMs: 100, latencyBudgetMs: 200, compositionHistory: [] },
      DEFAULT_RULE_WEIGHTS,
      DEFAULT_THRESHOLDS,
    );
    expect(s).toMatchObject({ dataUtility: 0.5, modelUtility: 0.5, history: 0.5, scalability: 1, reliability: 1 });
    // 0.3*0.5 + 0.2*0.5 + 0.2*1 + 0.15*0.5 + 0.15*1 = 0.15 + 0.1 + 0.2 + 0.075 + 0.15 = 0.675.
    expect(s.confidence).toBeCloseTo(0.675, 12);
  });

  it('explains one line per rule, then the confidence and the rejection', () => {
    const s = ruleScores(
      candidate({ labelDistribution: [0.9, 0.1], reliability: 0.99 }),
      ctx({ compositionLabelDistribution: [0.2, 0.8] }),
      DEFAULT_RULE_WEIGHTS,
      DEFAULT_THRESHOLDS,
    );
    const lines = ruleExplanation(s);
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('data utility        0.300  (label distance 0.7)');
    expect(lines[3]).toMatch(/^historical quality {2}0\.500 {2}\(no quality history: neutral 0\.5\)$/);
    expect(lines[5]).toMatch(/^confidence {10}0\.\d{3}$/);
    expect(lines[6]).toBe('rejected: label distribution distance 0.7 above the skew threshold 0.5');
    // Plain RuleScores (no notes) and weights shown.
    const plain = ruleExplanation({ dataUtility: 1, modelUtility: 0.5, scalability: 1, history: 0.5, reliability: 1, confidence: 0.8 }, DEFAULT_RULE_WEIGHTS);
    expect(plain).toEqual([
      'data utility        1.000 x 0.3',
      'model utility       0.500 x 0.2',
      'scalability         1.000 x 0.2',
      'historical quality  0.500 x 0.15',
      'reliability         1.000 x 0.15',
      'confidence          0.800',
    ]);
  });
});

function ctx(o: Partial<RuleContext> = {}): RuleContext {
  return {
    compositionLabelDistribution: [0.5, 0.5],
    compositionParameters: Float64Array.from([0, 0]),
    memberParameters: [Float64Array.from([1, 0]), Float64Array.from([0, 2]), Float64Array.from([-3, 0])],
    compositionLatencyMs: 100,
    latencyBudgetMs: 200,
    compositionHistory: [0.5, 0.6, 0.8, 0.6],
    ...o,
  };
}

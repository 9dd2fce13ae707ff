// assembleTrainingSet: deduplication, contradictions (feedback wins), the since cut-off, and every
// weighting mode, on small hand-made inputs.
import { describe, expect, it } from 'vitest';
import { assembleTrainingSet, driftWeight, FEEDBACK_ONLY_MIN_ROWS, type TrainingSetInput } from '../../src/retrain/training-set.js';
import { thrown } from '../support/assert.js';

const features = ['x', 'color'];
const base = (rows: string[][], source = 'train.csv') => ({ source, rows });
const feedback = (rows: string[][], times = rows.map((_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString())) => ({ rows, times });

function input(o: Partial<TrainingSetInput>): TrainingSetInput {
  return { features, target: 'label', base: [], weighting: { mode: 'all' }, conceptDrift: false, ...o };
}

describe('assembleTrainingSet', () => {
  it('keeps identical rows once across sources, the first of each, and counts the rest', () => {
    const set = assembleTrainingSet(
      input({
        base: [
          base([
            ['1', 'red', 'a'],
            ['2', 'blue', 'b'],
            ['1', 'red', 'a'],
          ]),
          base(
            [
              ['2', 'blue', 'b'],
              ['3', 'red', 'a'],
            ],
            'more.csv',
          ),
        ],
        feedback: feedback([['4', 'blue', 'b']]),
        task: 'classification',
      }),
    );
    expect(set.header).toEqual(['x', 'color', 'label']);
    expect(set.rows).toEqual([
      ['1', 'red', 'a'],
      ['2', 'blue', 'b'],
      ['3', 'red', 'a'],
      ['4', 'blue', 'b'],
    ]);
    expect(set.counts).toEqual({ base: 3, feedback: 1, duplicates: 2, contradictions: 0, total: 4 });
    expect(set.classBalance).toEqual({ a: 2, b: 2 });
    expect(set.weighting).toEqual({ mode: 'all', feedbackWeight: 1, reason: 'all data once: 3 base rows and 1 feedback row' });
  });

  it('a base row identical to a feedback row gives way to the feedback copy', () => {
    const set = assembleTrainingSet(
      input({ base: [base([['1', 'red', 'a']])], feedback: feedback([['1', 'red', 'a']]), weighting: { mode: 'feedback-only' } }),
    );
    expect(set.rows).toEqual([['1', 'red', 'a']]);
    expect(set.counts).toMatchObject({ base: 0, feedback: 1, duplicates: 1 });
  });

  it('resolves contradictions in favour of the newest feedback; base rows may disagree among themselves', () => {
    const set = assembleTrainingSet(
      input({
        base: [
          base([
            ['1', 'red', 'a'],
            ['1', 'red', 'c'],
            ['2', 'red', 'a'],
            ['2', 'red', 'b'],
          ]),
        ],
        feedback: feedback([
          ['1', 'red', 'a'],
          ['1', 'red', 'b'],
        ]),
      }),
    );
    // Both base rows with x=1 and the older feedback disagree with the newest feedback (b).
    expect(set.rows).toEqual([
      ['2', 'red', 'a'],
      ['2', 'red', 'b'],
      ['1', 'red', 'b'],
    ]);
    expect(set.counts).toEqual({ base: 2, feedback: 1, duplicates: 0, contradictions: 3, total: 3 });
  });

  it('drops feedback predicted before weighting.since', () => {
    const set = assembleTrainingSet(
      input({
        feedback: feedback(
          [
            ['1', 'red', 'a'],
            ['2', 'red', 'b'],
          ],
          ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
        ),
        weighting: { mode: 'all', since: '2026-01-15T00:00:00Z' },
      }),
    );
    expect(set.rows).toEqual([['2', 'red', 'b']]);
    expect(set.weighting.reason).toBe('all data once: 0 base rows and 1 feedback row (1 older feedback row dropped)');
  });

  it('weighted replicates each feedback row feedbackWeight times', () => {
    const set = assembleTrainingSet(
      input({
        base: [base([['1', 'red', 'a']])],
        feedback: feedback([['2', 'red', 'b']]),
        weighting: { mode: 'weighted', feedbackWeight: 3 },
        task: 'classification',
      }),
    );
    expect(set.rows).toEqual([
      ['1', 'red', 'a'],
      ['2', 'red', 'b'],
      ['2', 'red', 'b'],
      ['2', 'red', 'b'],
    ]);
    expect(set.counts).toMatchObject({ base: 1, feedback: 1, total: 4 });
    expect(set.classBalance).toEqual({ a: 1, b: 3 });
    expect(set.weighting).toMatchObject({ mode: 'weighted', feedbackWeight: 3 });
    // Copies are rows of their own (formatCsv and later edits never alias).
    expect(set.rows[1]).not.toBe(set.rows[2]);
  });

  it('feedback-only keeps only feedback, and refuses when there is none', () => {
    const set = assembleTrainingSet(
      input({ base: [base([['1', 'red', 'a']])], feedback: feedback([['2', 'red', 'b']]), weighting: { mode: 'feedback-only' } }),
    );
    expect(set.rows).toEqual([['2', 'red', 'b']]);
    expect(set.counts).toEqual({ base: 0, feedback: 1, duplicates: 0, contradictions: 0, total: 1 });
    expect(thrown(() => assembleTrainingSet(input({ base: [base([['1', 'red', 'a']])], weighting: { mode: 'feedback-only' } }))).code).toBe('USAGE');
  });

  describe('auto', () => {
    const baseRows = (n: number) => base(Array.from({ length: n }, (_, i) => [String(i), 'red', 'a']));
    const feedbackRows = (n: number) => feedback(Array.from({ length: n }, (_, i) => [String(-1 - i), 'blue', 'b']));

    it('without concept drift uses all data once', () => {
      const set = assembleTrainingSet(input({ base: [baseRows(10)], feedback: feedbackRows(3), weighting: { mode: 'auto' } }));
      expect(set.weighting).toEqual({ mode: 'all', feedbackWeight: 1, reason: 'no concept drift: all data once, 10 base rows and 3 feedback rows' });
      expect(set.counts.total).toBe(13);
    });

    it(`with concept drift and at least ${FEEDBACK_ONLY_MIN_ROWS} feedback rows trains on feedback only`, () => {
      const set = assembleTrainingSet(
        input({ base: [baseRows(1000)], feedback: feedbackRows(FEEDBACK_ONLY_MIN_ROWS), weighting: { mode: 'auto' }, conceptDrift: true }),
      );
      expect(set.weighting).toEqual({ mode: 'feedback-only', feedbackWeight: 1, reason: 'concept drift detected: training on 200 feedback rows only' });
      expect(set.counts).toMatchObject({ base: 0, feedback: 200, total: 200 });
    });

    it('with concept drift and fewer feedback rows weights them to weigh as much as the base', () => {
      const set = assembleTrainingSet(input({ base: [baseRows(100)], feedback: feedbackRows(8), weighting: { mode: 'auto' }, conceptDrift: true }));
      expect(set.weighting.mode).toBe('weighted');
      expect(set.weighting.feedbackWeight).toBe(13);
      expect(set.counts).toMatchObject({ base: 100, feedback: 8, total: 100 + 8 * 13 });
      expect(set.weighting.reason).toBe(
        'concept drift detected with fewer than 200 feedback rows: 8 feedback rows weighted 13x against 100 base rows (51% of the rows)',
      );
    });

    it('with concept drift and no feedback falls back to the base data and says so', () => {
      const set = assembleTrainingSet(input({ base: [baseRows(5)], weighting: { mode: 'auto' }, conceptDrift: true }));
      expect(set.weighting).toEqual({ mode: 'all', feedbackWeight: 1, reason: 'concept drift detected but no labelled feedback: training on 5 base rows' });
    });

    it('bounds the drift weight: at least 2, at most 50', () => {
      expect(driftWeight(10, 100)).toBe(2);
      expect(driftWeight(100, 8)).toBe(13);
      expect(driftWeight(100_000, 3)).toBe(50);
      expect(driftWeight(10, 0)).toBe(1);
    });
  });

  it('refuses rows of the wrong width, a bad weight and a bad since', () => {
    expect(thrown(() => assembleTrainingSet(input({ base: [base([['1', 'red']])] }))).message).toBe(
      'train.csv row 1 has 2 values; expected 3 (the features and the target)',
    );
    expect(thrown(() => assembleTrainingSet(input({ weighting: { mode: 'weighted', feedbackWeight: 1.5 } }))).code).toBe('USAGE');
    expect(thrown(() => assembleTrainingSet(input({ weighting: { mode: 'weighted', feedbackWeight: 0 } }))).code).toBe('USAGE');
    expect(thrown(() => assembleTrainingSet(input({ weighting: { mode: 'all', since: 'yesterday' } }))).code).toBe('USAGE');
  });

  it('regression sets have no class balance', () => {
    expect(assembleTrainingSet(input({ base: [base([['1', 'red', '0.5']])], task: 'regression' })).classBalance).toBeUndefined();
  });
});

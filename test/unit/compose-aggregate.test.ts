// Ensemble aggregation: votes, weighted votes, mean probabilities, mean and median, with the tie
// rules, failed members and label remapping. Expected values are worked out by hand in comments.
import { describe, expect, it } from 'vitest';
import { MaasError } from '../../src/core/errors.js';
import {
  aggregate,
  checkAnswer,
  mapLabels,
  MemberOutputError,
  needsProbabilities,
  NoAnswerError,
  remapProbabilities,
  type AnswerInput,
  type MemberAnswer,
} from '../../src/compose/aggregate.js';

const LABELS = ['cat', 'dog', 'fox'];

describe('majority', () => {
  const answers = (withProbabilities: boolean): AnswerInput[] => [
    {
      key: 'a@1',
      weight: 5, // ignored by majority: one vote each
      labels: ['cat', 'dog', 'fox', 'cat'],
      ...(withProbabilities
        ? {
            probabilities: [
              [0.7, 0.2, 0.1],
              [0.1, 0.8, 0.1],
              [0.2, 0.2, 0.6],
              [0.4, 0.3, 0.3],
            ],
          }
        : {}),
    },
    {
      key: 'b@1',
      weight: 1,
      labels: ['cat', 'fox', 'fox', 'dog'],
      // Flat, row-major: 4 rows x 3 classes.
      ...(withProbabilities ? { probabilities: new Float64Array([0.6, 0.3, 0.1, 0.1, 0.3, 0.6, 0.1, 0.1, 0.8, 0.2, 0.5, 0.3]) } : {}),
    },
    { key: 'c@1', weight: 1, labels: ['dog', 'dog', 'cat', 'fox'] },
  ];

  it('takes the label with most votes per row, ties to the composition label order without probabilities', () => {
    // row 0: cat 2 (a, b), dog 1            -> cat
    // row 1: dog 2 (a, c), fox 1            -> dog
    // row 2: fox 2 (a, b), cat 1            -> fox
    // row 3: cat 1, dog 1, fox 1 (a tie)    -> cat, first in [cat, dog, fox]
    expect(aggregate('majority', LABELS, answers(false), 4)).toEqual({ labels: ['cat', 'dog', 'fox', 'cat'], used: ['a@1', 'b@1', 'c@1'] });
  });

  it('breaks a tie by the highest summed probability of the tied labels', () => {
    // row 3 is a three-way tie; summed probabilities over the members that sent them (a, b):
    //   cat 0.4 + 0.2 = 0.6, dog 0.3 + 0.5 = 0.8, fox 0.3 + 0.3 = 0.6 -> dog
    // Rows 0-2 have a clear majority and do not look at probabilities.
    const out = aggregate('majority', LABELS, answers(true), 4);
    expect(out.labels).toEqual(['cat', 'dog', 'fox', 'dog']);
    expect(out.probabilities).toBeUndefined();
  });

  it('falls back to label order when the summed probabilities tie too', () => {
    // a votes dog, b votes cat: 1-1. Probability sums: cat 0.5 + 0.5 = 1.0, dog 0.5 + 0.5 = 1.0 -> cat (label order).
    const out = aggregate(
      'majority',
      LABELS,
      [
        { key: 'a', weight: 1, labels: ['dog'], probabilities: [[0.5, 0.5, 0]] },
        { key: 'b', weight: 1, labels: ['cat'], probabilities: [[0.5, 0.5, 0]] },
      ],
      1,
    );
    expect(out.labels).toEqual(['cat']);
  });

  it('leaves a failed member out', () => {
    // a timed out. row 0: b cat, c dog -> tie -> cat; row 1: b fox, c dog -> tie -> dog (before fox);
    // row 2: b fox, c cat -> tie -> cat; row 3: b dog, c fox -> tie -> dog.
    const [, b, c] = answers(false);
    const out = aggregate('majority', LABELS, [{ key: 'a@1', failed: true }, b!, c!], 4);
    expect(out).toEqual({ labels: ['cat', 'dog', 'cat', 'dog'], used: ['b@1', 'c@1'] });
  });

  it('lets a member with probabilities but no labels vote for its most probable class', () => {
    // a: argmax [0.1, 0.2, 0.7] = fox; b: fox; c: dog -> fox 2.
    const out = aggregate(
      'majority',
      LABELS,
      [
        { key: 'a', weight: 1, probabilities: [[0.1, 0.2, 0.7]] },
        { key: 'b', weight: 1, labels: ['fox'] },
        { key: 'c', weight: 1, labels: ['dog'] },
      ],
      1,
    );
    expect(out.labels).toEqual(['fox']);
  });

  it('ranks labels outside the composition list after the listed ones, and by string order without a list', () => {
    // wolf is not listed: a wolf-cat tie goes to cat.
    expect(
      aggregate(
        'majority',
        LABELS,
        [
          { key: 'a', weight: 1, labels: ['wolf'] },
          { key: 'b', weight: 1, labels: ['cat'] },
        ],
        1,
      ).labels,
    ).toEqual(['cat']);
    // No composition labels: a b-a tie goes to a (string order), whatever the member order.
    const pair: AnswerInput[] = [
      { key: 'x', weight: 1, labels: ['b', 'z'] },
      { key: 'y', weight: 1, labels: ['a', 'y'] },
    ];
    expect(aggregate('majority', undefined, pair, 2).labels).toEqual(['a', 'y']);
    expect(aggregate('majority', undefined, [...pair].reverse(), 2).labels).toEqual(['a', 'y']);
  });
});

describe('weighted', () => {
  // Weights 0.1, 0.2, 0.3: a + b = 0.30000000000000004, which ties with c's 0.3 (sums within 1e-9 are equal).
  const answers: AnswerInput[] = [
    { key: 'a', weight: 0.1, labels: ['dog', 'fox', 'cat', 'fox'] },
    { key: 'b', weight: 0.2, labels: ['dog', 'dog', 'fox', 'fox'] },
    { key: 'c', weight: 0.3, labels: ['cat', 'fox', 'dog', 'dog'] },
  ];

  it('weighs each vote by the member weight, ties to label order', () => {
    // row 0: dog 0.1 + 0.2 = 0.3(0000000000000004), cat 0.3 -> tie -> cat   (majority: dog)
    // row 1: fox 0.1 + 0.3 = 0.4, dog 0.2                   -> fox
    // row 2: cat 0.1, fox 0.2, dog 0.3                      -> dog           (majority: a three-way tie -> cat)
    // row 3: fox 0.1 + 0.2 = 0.3(...04), dog 0.3 -> tie     -> dog (before fox) (majority: fox)
    expect(aggregate('weighted', LABELS, answers, 4)).toEqual({ labels: ['cat', 'fox', 'dog', 'dog'], used: ['a', 'b', 'c'] });
    expect(aggregate('majority', LABELS, answers, 4).labels).toEqual(['dog', 'fox', 'cat', 'fox']);
  });

  it('breaks a tie by probabilities weighted as the votes are', () => {
    // Votes: cat 1 + 1 = 2 (a, b), dog 2 (c) -> tie.
    // Weighted probability sums: cat 1*0.6 + 1*0.5 + 2*0.3 = 1.7, dog 1*0.3 + 1*0.4 + 2*0.6 = 1.9 -> dog.
    // (Unweighted they would be cat 1.4, dog 1.3.)
    const out = aggregate(
      'weighted',
      LABELS,
      [
        { key: 'a', weight: 1, labels: ['cat'], probabilities: [[0.6, 0.3, 0.1]] },
        { key: 'b', weight: 1, labels: ['cat'], probabilities: [[0.5, 0.4, 0.1]] },
        { key: 'c', weight: 2, labels: ['dog'], probabilities: [[0.3, 0.6, 0.1]] },
      ],
      1,
    );
    expect(out.labels).toEqual(['dog']);
  });

  it('leaves a failed member out', () => {
    // a failed; b 0.2, c 0.3. row 0: dog 0.2 vs cat 0.3 -> cat; row 1: dog 0.2 vs fox 0.3 -> fox;
    // row 2: fox 0.2 vs dog 0.3 -> dog; row 3: fox 0.2 vs dog 0.3 -> dog.
    const out = aggregate('weighted', LABELS, [{ key: 'a', failed: true }, answers[1]!, answers[2]!], 4);
    expect(out).toEqual({ labels: ['cat', 'fox', 'dog', 'dog'], used: ['b', 'c'] });
  });

  it('counts every member equally when all answering members weigh 0', () => {
    // a 0, b 0: equal weights -> dog 1, cat 1 -> tie -> cat.
    const out = aggregate(
      'weighted',
      LABELS,
      [
        { key: 'a', weight: 0, labels: ['dog'] },
        { key: 'b', weight: 0, labels: ['cat'] },
        { key: 'c', failed: true },
      ],
      1,
    );
    expect(out).toEqual({ labels: ['cat'], used: ['a', 'b'] });
  });
});

describe('mean-proba', () => {
  // c's own label order is [fox, cat, dog]; the router maps its rows into [cat, dog, fox] once.
  const cMapping = mapLabels(['fox', 'cat', 'dog'], LABELS);
  const cRaw = [
    [0.1, 0.1, 0.8],
    [0.6, 0.2, 0.2],
    [0.2, 0.4, 0.4],
    [0, 0.5, 0.5],
  ];
  const answers: AnswerInput[] = [
    {
      key: 'a',
      weight: 1,
      probabilities: [
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.2, 0.6],
        [0.5, 0.5, 0],
      ],
    },
    { key: 'b', weight: 1, probabilities: new Float64Array([0.6, 0.3, 0.1, 0.1, 0.3, 0.6, 0.1, 0.1, 0.8, 0.5, 0.5, 0]) },
    { key: 'c', weight: 2, probabilities: remapProbabilities(cRaw, cMapping) },
  ];

  it('takes the weighted mean of the probability rows and its most probable class', () => {
    // c in [cat, dog, fox]: [.1 .8 .1], [.2 .2 .6], [.4 .4 .2], [.5 .5 0]. Mean = (a + b + 2c) / 4:
    // row 0: cat (.7+.6+.2)/4 = .375, dog (.2+.3+1.6)/4 = .525, fox (.1+.1+.2)/4 = .1   -> dog (a, b alone: cat)
    // row 1: cat (.1+.1+.4)/4 = .15,  dog (.8+.3+.4)/4 = .375, fox (.1+.6+1.2)/4 = .475 -> fox
    // row 2: cat (.2+.1+.8)/4 = .275, dog (.2+.1+.8)/4 = .275, fox (.6+.8+.4)/4 = .45   -> fox
    // row 3: cat (.5+.5+1)/4 = .5,    dog .5,                  fox 0                   -> tie -> cat
    const out = aggregate('mean-proba', LABELS, answers, 4);
    expect(out.labels).toEqual(['dog', 'fox', 'fox', 'cat']);
    expect(out.used).toEqual(['a', 'b', 'c']);
    const expected = [
      [0.375, 0.525, 0.1],
      [0.15, 0.375, 0.475],
      [0.275, 0.275, 0.45],
      [0.5, 0.5, 0],
    ];
    expect(out.probabilities).toHaveLength(4);
    out.probabilities!.forEach((row, r) => row.forEach((p, j) => expect(p).toBeCloseTo(expected[r]![j]!, 12)));
  });

  it('leaves a failed member out', () => {
    // a failed: mean = (b + 2c) / 3. row 0: cat (.6+.2)/3 = .2667, dog (.3+1.6)/3 = .6333, fox (.1+.2)/3 = .1 -> dog
    // row 1: cat .5/3, dog .7/3, fox 1.8/3 -> fox; row 2: cat .9/3, dog .9/3, fox 1.2/3 -> fox; row 3: .5 .5 0 -> cat
    const out = aggregate('mean-proba', LABELS, [{ key: 'a', failed: true }, answers[1]!, answers[2]!], 4);
    expect(out.labels).toEqual(['dog', 'fox', 'fox', 'cat']);
    expect(out.used).toEqual(['b', 'c']);
    expect(out.probabilities![0]![1]).toBeCloseTo(1.9 / 3, 12);
    expect(out.probabilities![1]![2]).toBeCloseTo(1.8 / 3, 12);
  });

  it('names the members that sent no probabilities', () => {
    expect(needsProbabilities('mean-proba')).toBe(true);
    expect(needsProbabilities('majority')).toBe(false);
    expect(needsProbabilities('mean')).toBe(false);
    const run = () =>
      aggregate(
        'mean-proba',
        LABELS,
        [answers[0]!, { key: 'x@2', weight: 1, labels: ['cat', 'cat', 'cat', 'cat'] }, { key: 'y@3', weight: 1, labels: ['dog'] }],
        4,
      );
    expect(run).toThrow(MemberOutputError);
    try {
      run();
    } catch (e) {
      expect((e as MemberOutputError).members).toEqual(['x@2', 'y@3']);
      expect((e as MemberOutputError).message).toMatch(/x@2: no probabilities.*y@3: no probabilities/);
    }
  });

  it('refuses probability rows of the wrong shape and needs the composition labels', () => {
    expect(checkAnswer('mean-proba', LABELS, { key: 'a', weight: 1, probabilities: [[0.5, 0.5]] }, 1)).toMatch(/2 probabilities in row 0, expected 3/);
    expect(checkAnswer('mean-proba', LABELS, { key: 'a', weight: 1, probabilities: new Float64Array(5) }, 2)).toMatch(/5 probabilities for 2 rows/);
    expect(checkAnswer('mean-proba', LABELS, answers[0] as MemberAnswer, 4)).toBeUndefined();
    expect(() => aggregate('mean-proba', undefined, answers, 4)).toThrow(/composition labels/);
  });
});

describe('mean and median', () => {
  const answers: AnswerInput[] = [
    { key: 'a', weight: 1, values: [1, 2, 3, 10] },
    { key: 'b', weight: 2, values: [2, 4, 6, 0] },
    { key: 'c', weight: 1, values: [3, 0, 3, -2] },
  ];

  it('mean: the weighted mean of the values', () => {
    // (a + 2b + c) / 4: row 0 (1+4+3)/4 = 2, row 1 (2+8+0)/4 = 2.5, row 2 (3+12+3)/4 = 4.5, row 3 (10+0-2)/4 = 2
    expect(aggregate('mean', undefined, answers, 4)).toEqual({ values: [2, 2.5, 4.5, 2], used: ['a', 'b', 'c'] });
  });

  it('mean: leaves a failed member out', () => {
    // (2b + c) / 3: row 0 7/3, row 1 8/3, row 2 15/3 = 5, row 3 -2/3
    const out = aggregate('mean', undefined, [{ key: 'a', failed: true }, answers[1]!, answers[2]!], 4);
    expect(out.used).toEqual(['b', 'c']);
    [7 / 3, 8 / 3, 5, -2 / 3].forEach((v, r) => expect(out.values![r]).toBeCloseTo(v, 12));
  });

  it('median: the middle value, weights ignored', () => {
    // row 0 {1,2,3} -> 2; row 1 {0,2,4} -> 2; row 2 {3,3,6} -> 3; row 3 {-2,0,10} -> 0 (b's weight 2 changes nothing)
    expect(aggregate('median', undefined, answers, 4)).toEqual({ values: [2, 2, 3, 0], used: ['a', 'b', 'c'] });
  });

  it('median of an even count: the mean of the two middle values', () => {
    // a failed: row 0 {2,3} -> 2.5; row 1 {0,4} -> 2; row 2 {3,6} -> 4.5; row 3 {-2,0} -> -1
    const out = aggregate('median', undefined, [answers[1]!, { key: 'a', failed: true }, answers[2]!], 4);
    expect(out).toEqual({ values: [2.5, 2, 4.5, -1], used: ['b', 'c'] });
  });

  it('refuses missing, short or non-finite values', () => {
    expect(() => aggregate('mean', undefined, [answers[0]!, { key: 'd', weight: 1, labels: ['x'] }], 4)).toThrow(/d: no values/);
    expect(() => aggregate('median', undefined, [{ key: 'e', weight: 1, values: [1, 2] }], 4)).toThrow(/e: 2 values, asked 4 rows/);
    expect(() => aggregate('mean', undefined, [{ key: 'f', weight: 1, values: [1, NaN] }], 2)).toThrow(/f: value in row 1 is not a finite number/);
  });
});

describe('no answer', () => {
  it('throws NoAnswerError (503) when every member failed', () => {
    const run = () =>
      aggregate(
        'majority',
        LABELS,
        [
          { key: 'a', failed: true },
          { key: 'b', failed: true },
        ],
        2,
      );
    expect(run).toThrow(NoAnswerError);
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(MaasError);
      expect((e as NoAnswerError).code).toBe('UNAVAILABLE');
      expect((e as NoAnswerError).httpStatus).toBe(503);
      expect((e as NoAnswerError).members).toEqual(['a', 'b']);
    }
    expect(() => aggregate('mean', undefined, [], 1)).toThrow(NoAnswerError);
  });

  it('refuses an answer with the wrong number of rows', () => {
    expect(() => aggregate('majority', LABELS, [{ key: 'a', weight: 1, labels: ['cat'] }], 2)).toThrow(/a: 1 labels, asked 2 rows/);
  });
});

describe('label remapping', () => {
  it('maps member class indices to composition indices by name, -1 for unknown labels', () => {
    expect([...mapLabels(['fox', 'cat', 'dog'], LABELS)]).toEqual([2, 0, 1]);
    expect([...mapLabels(['dog', 'wolf'], LABELS)]).toEqual([1, -1]);
    expect([...mapLabels(LABELS, LABELS)]).toEqual([0, 1, 2]);
  });

  it('reorders probability rows, nested or flat, padding labels the member lacks with 0', () => {
    const mapping = mapLabels(['fox', 'cat', 'dog'], LABELS);
    // member [fox .1, cat .2, dog .7] -> [cat .2, dog .7, fox .1]
    expect(remapProbabilities([[0.1, 0.2, 0.7]], mapping)).toEqual([[0.2, 0.7, 0.1]]);
    expect(remapProbabilities(new Float64Array([0.1, 0.2, 0.7, 1, 0, 0]), mapping)).toEqual([
      [0.2, 0.7, 0.1],
      [0, 0, 1],
    ]);
    // A member that knows only [dog, cat]: fox gets 0; width is the composition's label count.
    expect(remapProbabilities([[0.25, 0.75]], mapLabels(['dog', 'cat'], LABELS), 3)).toEqual([[0.75, 0.25, 0]]);
    // An unknown label's probability is dropped.
    expect(remapProbabilities([[0.4, 0.6]], mapLabels(['wolf', 'cat'], LABELS), 3)).toEqual([[0.6, 0, 0]]);
  });
});

// What a composition learns from its own adaptations: (context, measured accuracy) of each
// replacement on the labelled rows it answered after it was chosen.
import { describe, expect, it } from 'vitest';
import { experienceFrom } from '../../src/adapt/experience.js';
import type { CompositionEvent } from '../../src/domain/composition.js';
import type { CompositionRecordWire, CompositionRecordsWire } from '../../src/protocol/composition-records.js';

const T0 = Date.UTC(2026, 5, 1);
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

const adapted = (s: number, learning: unknown): CompositionEvent => ({ at: at(s), event: 'adapted', version: '2', summary: 'x', detail: { learning } });

function row(
  s: number,
  members: Record<string, { label?: string; value?: number; outcome?: 'answered' | 'error' }>,
  truth: CompositionRecordWire['truth'],
): CompositionRecordWire {
  return {
    id: `p-${s}`,
    time: at(s),
    composition: 'ens@2',
    mode: 'ensemble',
    answer: {},
    members: Object.fromEntries(
      Object.entries(members).map(([k, v]) => [k, { role: 'member' as const, counted: true, outcome: v.outcome ?? ('answered' as const), ...v }]),
    ),
    truth,
  };
}

const records = (task: 'classification' | 'regression', rows: CompositionRecordWire[]): CompositionRecordsWire => ({
  composition: 'ens@2',
  task,
  records: rows,
});

describe('experienceFrom', () => {
  it('measures each chosen replacement on the labelled rows it answered after its choice', () => {
    const history = [adapted(100, [{ member: 'c@1', candidate: 'd@1', context: [1, 0.5] }])];
    const rows = [
      // Before the decision: not d's service.
      ...Array.from({ length: 5 }, (_, i) => row(10 + i, { 'd@1': { label: 'no' } }, { label: 'yes' })),
      // After: 3 right of 4 answered; one failure and one unlabelled row do not count.
      row(101, { 'd@1': { label: 'yes' } }, { label: 'yes' }),
      row(102, { 'd@1': { label: 'no' } }, { label: 'no' }),
      row(103, { 'd@1': { label: 'no' } }, { label: 'no' }),
      row(104, { 'd@1': { label: 'yes' } }, { label: 'no' }),
      row(105, { 'd@1': { outcome: 'error' } }, { label: 'no' }),
      row(106, { 'd@1': { label: 'no' } }, null),
    ];
    const { experience, served } = experienceFrom(history, records('classification', rows), 4);
    expect([...served.values()]).toEqual([{ key: 'd@1', reward: 0.75, rows: 4, since: at(100) }]);
    expect(experience).toEqual([{ key: 'd@1', context: Float64Array.from([1, 0.5]), reward: 0.75 }]);
    // Fewer answered rows than the minimum: not measured yet.
    expect(experienceFrom(history, records('classification', rows), 5).experience).toEqual([]);
  });

  it('uses 1 / (1 + MAE) for regression, the latest choice of a candidate, and ignores malformed entries', () => {
    const history = [
      adapted(10, [{ member: 'a@1', candidate: 'r@1', context: [0] }]),
      adapted(50, [{ member: 'b@1', candidate: 'r@1', context: [1] }, { candidate: 'bad@1', context: ['x'] }, null, 'junk']),
      { at: at(60), event: 'updated', version: '3', summary: 'y', detail: { learning: [{ member: 'z', candidate: 'z@1', context: [1] }] } } as CompositionEvent,
    ];
    const rows = [
      row(20, { 'r@1': { value: 100 } }, { value: 0 }),
      row(51, { 'r@1': { value: 3 } }, { value: 1 }),
      row(52, { 'r@1': { value: 1 } }, { value: 1 }),
    ];
    const { experience, served } = experienceFrom(history, records('regression', rows), 2);
    // Since t=50 only: errors 2 and 0, MAE 1 -> 0.5.
    expect(served.get('r@1')).toEqual({ key: 'r@1', reward: 0.5, rows: 2, since: at(50) });
    expect(experience).toEqual([{ key: 'r@1', context: Float64Array.from([1]), reward: 0.5 }]);
    expect(served.has('z@1')).toBe(false);
    expect(served.has('bad@1')).toBe(false);
  });
});

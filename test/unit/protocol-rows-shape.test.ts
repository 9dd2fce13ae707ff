// Input shape mistakes are named as such, not reported as missing data.
import { describe, expect, it } from 'vitest';
import { parseInputText, rowsToRequest, unusedColumns } from '../../src/protocol/rows.js';
import type { FeatureSpec } from '../../src/spec/schema.js';
import { thrown } from '../support/assert.js';

const features: FeatureSpec[] = [
  { name: 'acc_x_mean', type: 'number' },
  { name: 'acc_y_mean', type: 'number' },
  { name: 'gyro_mag_std', type: 'number' },
];
const rows = (text: string) => parseInputText(text).rows ?? [];

describe('input shape', () => {
  it('names a misspelt column with the feature it probably means', () => {
    const e = thrown(() => rowsToRequest(rows('acc_x_meen,acc_y_mean,gyro_mag_std\n1,2,3\n'), features));
    expect(e).toMatchObject({ code: 'USAGE', message: 'unknown column "acc_x_meen" (did you mean "acc_x_mean"?)' });
    expect(e.hint).toBe('the model reads: acc_x_mean, acc_y_mean, gyro_mag_std');
  });

  it('says a CSV has no header row when its first line is numbers', () => {
    expect(thrown(() => parseInputText('1,2,3\n4,5,6\n', 'csv')).message).toBe('the input CSV has no header row: its first line holds values (1, 2, 3)');
  });

  it('counts the values of a short array row against the features', () => {
    const e = thrown(() => rowsToRequest(rows('[[1, 2, 3], [1, 2]]'), features));
    expect(e.message).toBe('row 2 has 2 values, the model takes 3');
    expect(e.hint).toBe('in feature order: acc_x_mean, acc_y_mean, gyro_mag_std');
  });

  it('lists the extra columns no feature reads (id is fine), so they can be reported', () => {
    expect(unusedColumns(rows('id,acc_x_mean,acc_y_mean,gyro_mag_std,note\nr1,1,2,3,x\n'), features)).toEqual(['note']);
    expect(rowsToRequest(rows('id,acc_x_mean,acc_y_mean,gyro_mag_std,note\nr1,1,2,3,x\n'), features).inputs).toHaveLength(3);
  });
});

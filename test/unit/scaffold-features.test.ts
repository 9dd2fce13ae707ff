// `--feature name:category=...` takes the values separated by `,` (what people type) or `|`.
import { describe, expect, it } from 'vitest';
import { parseFeatureFlag } from '../../src/spec/scaffold.js';

describe('category values in --feature', () => {
  it('splits on commas and pipes alike', () => {
    expect(parseFeatureFlag('plan:category=basic,pro')).toEqual({ name: 'plan', type: 'category', values: ['basic', 'pro'] });
    expect(parseFeatureFlag('plan:category=basic|pro')).toEqual({ name: 'plan', type: 'category', values: ['basic', 'pro'] });
    expect(parseFeatureFlag('plan:category= basic , pro ,')).toEqual({ name: 'plan', type: 'category', values: ['basic', 'pro'] });
  });
});

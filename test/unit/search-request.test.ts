// Search flags to a request: latency takes milliseconds or a duration.
import { describe, expect, it } from 'vitest';
import { searchRequest } from '../../src/cli/commands/search.js';
import { thrown } from '../support/assert.js';

describe('--max-latency', () => {
  it.each([
    ['50', 50],
    ['50ms', 50],
    ['250ms', 250],
    ['1s', 1000],
    ['1.5s', 1500],
  ])('takes %s as %i ms', (text, ms) => {
    expect(searchRequest([], { maxLatency: text }).maxLatencyMs).toBe(ms);
  });

  it('refuses what is neither, saying what it takes', () => {
    const e = thrown(() => searchRequest([], { maxLatency: 'fast' }));
    expect(e).toMatchObject({ code: 'USAGE', message: '--max-latency expects milliseconds or a duration, got "fast"' });
  });
});

describe('--task', () => {
  it('suggests the task kind a typo probably means', () => {
    const e = thrown(() => searchRequest([], { task: 'clasification' }));
    expect(e).toMatchObject({ code: 'USAGE', message: 'unknown task "clasification" (did you mean classification?)' });
    expect(searchRequest([], { kind: 'regression' }).task).toBe('regression');
  });
});

describe('--max', () => {
  it('sets a ceiling for error metrics and refuses one for metrics better when higher', () => {
    expect(searchRequest([], { max: ['rmse=0.5'], min: ['accuracy=0.9'] }).minMetrics).toEqual({ rmse: 0.5, accuracy: 0.9 });
    expect(thrown(() => searchRequest([], { max: ['accuracy=0.9'] }))).toMatchObject({
      code: 'USAGE',
      message: '--max accuracy=0.9: accuracy is better when higher',
      hint: 'use --min accuracy=0.9 for a floor',
    });
  });
});

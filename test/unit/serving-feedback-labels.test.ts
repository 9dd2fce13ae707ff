// A feedback label the model does not have names the one it probably means.
import { describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { compileModel } from '../../src/serving/dataplane/model.js';
import { parseModelFeedback } from '../../src/serving/feedback.js';

describe('feedback labels', () => {
  it('suggests the closest label of the model', () => {
    const model = compileModel(modelDescription({ name: 'm', version: '1' }));
    expect(() => parseModelFeedback(model, { id: 'a', label: 'yse' })).toThrow(
      'feedback: label "yse" is not one of the model\'s labels (no, yes); did you mean "yes"?',
    );
    expect(parseModelFeedback(model, { id: 'a', label: 'yes' })).toEqual([{ id: 'a', label: 'yes' }]);
  });
});

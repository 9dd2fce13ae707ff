// Values the schema allows but no model means: a memory without its unit, a fraction above 1.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateModelText } from '../../src/spec/validate.js';
import { modelDescription } from '../../bench/model-fixtures.js';

const problems = (edit: (d: ReturnType<typeof modelDescription>) => void) => {
  const d = modelDescription({ name: 'm', version: '1', memory: '256Mi', metrics: { accuracy: 0.9 } });
  edit(d);
  return validateModelText(stringify(d), { file: 'm.yaml', baseDir: '/', checkArtifact: false }).problems.map((p) => [p.path, p.message, p.hint]);
};

describe('plausibility checks', () => {
  it('refuses a memory of a few bytes, suggesting Mi', () => {
    expect(
      problems((d) => {
        d.spec.resources = { serving: { memory: 512 } };
      }),
    ).toEqual([['spec.resources.serving.memory', '512 means 512 bytes, too little to run a model', 'add the unit: did you mean "512Mi"?']]);
    expect(problems(() => {})).toEqual([]);
  });

  it('refuses fraction metrics outside 0..1, reading 91 as a percentage', () => {
    expect(
      problems((d) => {
        d.spec.performance = { f1: 1.5, accuracy: 91, rmse: 3.2 };
      }),
    ).toEqual([
      ['spec.performance.f1', 'f1 1.5 is outside 0..1', 'f1 is a fraction between 0 and 1'],
      ['spec.performance.accuracy', 'accuracy 91 is outside 0..1', 'a percentage? write it as a fraction: 0.91'],
    ]);
  });
});

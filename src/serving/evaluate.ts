// Runs a model on rows in this process, as a server would (the description's codecs, its runtime)
// but without one: for offline evaluation such as champion/challenger comparisons.
import { MaasError } from '../core/errors.js';
import type { ModelDescription } from '../spec/schema.js';
import { compileModel } from './dataplane/model.js';
import { ValueError, encodeValue } from './dataplane/encode-value.js';
import type { Prediction } from './runtime.js';
import { loadRuntime } from './runtimes/index.js';

/** Rows per inference call: bounds the feature matrix and the outputs held at once. */
const BATCH = 4096;

/**
 * Predicts `rows` (keyed by feature name; CSV text or JSON values; other keys ignored) with the
 * artifact at `artifactPath`. The runtime is closed before returning.
 */
export async function evaluateRows(
  description: ModelDescription,
  artifactPath: string,
  rows: readonly Readonly<Record<string, unknown>>[],
): Promise<{ labels?: string[]; values?: number[] }> {
  const model = compileModel(description);
  const F = model.features.length;
  const runtime = await loadRuntime(description, artifactPath);
  const labels: string[] = [];
  const values: number[] = [];
  try {
    for (let start = 0; start < rows.length; start += BATCH) {
      const batch = rows.slice(start, start + BATCH);
      const matrix = new Float32Array(batch.length * F);
      batch.forEach((row, r) => {
        for (const f of model.features) {
          try {
            matrix[r * F + f.index] = encodeValue(f, row[f.name], 'text');
          } catch (e) {
            if (!(e instanceof ValueError)) throw e;
            throw new MaasError('VALIDATION', `row ${start + r + 1} feature "${f.name}": ${e.message}`, {
              hint: `the data must fit the features of ${description.metadata.name}@${description.metadata.version}`,
            });
          }
        }
      });
      const p: Prediction = await runtime.predict(matrix, batch.length);
      if (model.classification) {
        if (!p.labels) throw new MaasError('FAILURE', `${description.metadata.name}@${description.metadata.version} predicted no labels`);
        labels.push(...p.labels);
      } else {
        if (!p.values) throw new MaasError('FAILURE', `${description.metadata.name}@${description.metadata.version} predicted no values`);
        values.push(...p.values);
      }
    }
  } finally {
    await runtime.close();
  }
  return model.classification ? { labels } : { values };
}

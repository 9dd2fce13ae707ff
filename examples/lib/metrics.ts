// Classification metrics on held-out data.

export interface ClassificationMetrics {
  accuracy: number;
  /** Unweighted mean of per-class F1 over the classes that occur in truth or prediction. */
  f1Macro: number;
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[];
  /** `confusion[true][predicted]` counts, indices as in `labels`. */
  confusion: number[][];
}

export function classificationMetrics(truth: readonly number[], predicted: readonly number[], labels: readonly string[]): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new Error(`${truth.length} true labels but ${predicted.length} predictions`);
  const c = labels.length;
  const confusion = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    const p = predicted[i] ?? -1;
    const row = confusion[t];
    if (row && p >= 0 && p < c) row[p] = (row[p] ?? 0) + 1;
    if (t === p) correct++;
  });
  const perClass = labels.map((label, k) => {
    const tp = confusion[k]?.[k] ?? 0;
    const support = (confusion[k] ?? []).reduce((a, b) => a + b, 0);
    const predictedK = confusion.reduce((a, row) => a + (row[k] ?? 0), 0);
    const precision = predictedK === 0 ? 0 : tp / predictedK;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support, predicted: predictedK };
  });
  const present = perClass.filter((k) => k.support > 0 || k.predicted > 0);
  return {
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    f1Macro: present.length === 0 ? 0 : present.reduce((a, k) => a + k.f1, 0) / present.length,
    perClass: perClass.map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
    confusion,
  };
}

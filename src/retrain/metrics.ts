// Quality metrics of one model's predictions against true labels or values, and which of them a
// description makes primary. Pure: arrays in, numbers out.
//
// Classification follows scikit-learn: per-class precision tp / (tp + fp), recall tp / (tp + fn),
// F1 their harmonic mean, 0 where a ratio is 0/0 (`zero_division=0`); macro F1 the unweighted
// mean of the per-class F1 over the classes compared. Regression: RMSE and MAE.

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** True rows of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  f1_macro: number;
  per_class: ClassMetrics[];
}

export interface RegressionMetrics {
  rmse: number;
  mae: number;
}

export type EvaluationMetrics = ClassificationMetrics | RegressionMetrics;

export type PrimaryMetric = 'accuracy' | 'f1_macro' | 'rmse' | 'mae';

export type EvaluationTask = 'classification' | 'regression';

/** Metrics where a higher value is better; the others are errors. */
export function higherIsBetter(metric: PrimaryMetric): boolean {
  return metric === 'accuracy' || metric === 'f1_macro';
}

/**
 * The classes compared: `labels` in order, then any other label in the truth or the predictions
 * (first seen first). Without `labels`, like scikit-learn, the union of truth and predictions.
 */
export function classesOf(truth: readonly string[], predicted: readonly (readonly string[])[], labels: readonly string[] = []): string[] {
  const out = new Set(labels);
  for (const t of truth) out.add(t);
  for (const p of predicted) for (const l of p) out.add(l);
  return [...out];
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export function classificationMetrics(truth: readonly string[], predicted: readonly string[], labels?: readonly string[]): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
  const classes = labels ?? classesOf(truth, [predicted]);
  const index = new Map(classes.map((c, i) => [c, i]));
  const tp = new Float64Array(classes.length);
  const fp = new Float64Array(classes.length);
  const fn = new Float64Array(classes.length);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    const ti = index.get(t);
    const pi = index.get(p);
    if (t === p) {
      correct++;
      if (ti !== undefined) tp[ti]!++;
    } else {
      if (ti !== undefined) fn[ti]!++;
      if (pi !== undefined) fp[pi]!++;
    }
  }
  const per_class = classes.map((label, k): ClassMetrics => {
    const precision = ratio(tp[k]!, tp[k]! + fp[k]!);
    const recall = ratio(tp[k]!, tp[k]! + fn[k]!);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: tp[k]! + fn[k]! };
  });
  return {
    accuracy: ratio(correct, truth.length),
    f1_macro: ratio(
      per_class.reduce((s, c) => s + c.f1, 0),
      per_class.length,
    ),
    per_class,
  };
}

export function regressionMetrics(truth: readonly number[], predicted: readonly number[]): RegressionMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true values but ${predicted.length} predictions`);
  let se = 0;
  let ae = 0;
  for (let i = 0; i < truth.length; i++) {
    const e = predicted[i]! - truth[i]!;
    se += e * e;
    ae += Math.abs(e);
  }
  const n = truth.length;
  return n === 0 ? { rmse: NaN, mae: NaN } : { rmse: Math.sqrt(se / n), mae: ae / n };
}

/** The value of `metric` in metrics of the matching task. */
export function metricValue(metrics: EvaluationMetrics, metric: PrimaryMetric): number {
  if ('accuracy' in metrics) {
    if (metric === 'accuracy' || metric === 'f1_macro') return metrics[metric];
  } else if (metric === 'rmse' || metric === 'mae') return metrics[metric];
  throw new RangeError(`metric ${metric} does not fit these metrics`);
}

const PERFORMANCE_KEYS: Record<string, PrimaryMetric> = {
  accuracy: 'accuracy',
  f1: 'f1_macro',
  f1_macro: 'f1_macro',
  rmse: 'rmse',
  mae: 'mae',
};

/**
 * The metric a comparison decides on: the first key of `spec.performance` (in the order given)
 * that names a metric of the task (`accuracy`, `f1` or `f1_macro` for macro F1, `rmse`, `mae`),
 * else accuracy for classification and RMSE for regression.
 */
export function primaryMetric(task: EvaluationTask, performance: Readonly<Record<string, number>> | undefined): PrimaryMetric {
  for (const key of Object.keys(performance ?? {})) {
    const metric = PERFORMANCE_KEYS[key.toLowerCase()];
    if (metric !== undefined && higherIsBetter(metric) === (task === 'classification')) return metric;
  }
  return task === 'classification' ? 'accuracy' : 'rmse';
}

// Which declared metrics are better when lower. For these, a search "floor" (`--min rmse=1.2`)
// is a ceiling: the model matches when its rmse is at most 1.2. Recognised by name: error
// measures (rmse, mse, mae, mape, msle, brier, wer, cer, fpr, fnr, perplexity, ...), losses (loss,
// log_loss, anything ending in loss or error) and latency-like names (latency, *_ms, p99).
const LOWER_IS_BETTER = new Set([
  'rmse',
  'mse',
  'mae',
  'mape',
  'smape',
  'msle',
  'rmsle',
  'medae',
  'loss',
  'logloss',
  'error',
  'errors',
  'err',
  'brier',
  'wer',
  'cer',
  'fpr',
  'fnr',
  'eer',
  'far',
  'frr',
  'perplexity',
  'latency',
  'ms',
  'p50',
  'p90',
  'p95',
  'p99',
]);

export function isLowerBetter(metric: string): boolean {
  const n = metric.toLowerCase();
  if (/(error|loss|latency|_ms)$/.test(n)) return true;
  return n.split(/[_.-]+/).some((word) => LOWER_IS_BETTER.has(word));
}

// Evidently's Kullback-Leibler divergence ("kl_div", kl_div.py):
//   ref, cur = get_binned_data(ref, cur, feature_type, n_bins=30)   (zero shares filled)
//   value = scipy.stats.entropy(ref, cur)   (both renormalised to sum 1, natural log)
// drift when the value reaches the threshold (default 0.1).
import { relEntr } from './jensen-shannon.js';

/** scipy.stats.entropy(pk, qk). */
export function klDivergence(pk: Float64Array, qk: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < pk.length; i++) {
    sp += pk[i]!;
    sq += qk[i]!;
  }
  let sum = 0;
  for (let i = 0; i < pk.length; i++) sum += relEntr(pk[i]! / sp, qk[i]! / sq);
  return sum;
}

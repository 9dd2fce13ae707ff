// Evidently's chi-square test ("chisquare", chisquare_stattest.py `_chi_stat_test`):
//   keys = union of the values of both sides
//   k_norm = len(cur) / len(ref); f_exp = ref_count[key] * k_norm; f_obs = cur_count[key]
//   p = scipy.stats.chisquare(f_obs, f_exp).pvalue      drift when p < threshold (0.05)
// A value never seen in the reference has f_exp = 0, so the statistic is infinite and p = 0
// (scipy's result). With a single category scipy's p-value is NaN (zero degrees of freedom);
// we report p = 1 instead: nothing can have drifted.
import { chiSquareSf } from './incomplete-gamma.js';

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
}

/** Pearson's statistic and p-value on aligned counts (order of keys irrelevant). */
export function chiSquareFromCounts(reference: Float64Array, current: Float64Array, referenceTotal: number, currentTotal: number): ChiSquareResult {
  const kNorm = currentTotal / referenceTotal;
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const expected = reference[i]! * kNorm;
    const d = current[i]! - expected;
    statistic += (d * d) / expected;
  }
  const df = reference.length - 1;
  if (df < 1) return { statistic, pValue: 1 };
  return { statistic, pValue: chiSquareSf(statistic, df) };
}

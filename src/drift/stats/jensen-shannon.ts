// Evidently's Jensen-Shannon distance ("jensenshannon", jensenshannon.py):
//   ref, cur = get_binned_data(ref, cur, feature_type, n_bins=30, feel_zeroes=False)
//   value = scipy.spatial.distance.jensenshannon(ref, cur)   (natural log)
// drift when the value reaches the threshold (default 0.1).

/** scipy.special.rel_entr. */
export function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy.spatial.distance.jensenshannon(p, q) with base e. */
export function jensenShannon(p: Float64Array, q: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const m = (pi + qi) / 2.0;
    left += relEntr(pi, m);
    right += relEntr(qi, m);
  }
  // Rounding can leave a tiny negative sum for identical inputs, where scipy would give NaN.
  return Math.sqrt(Math.max(left + right, 0) / 2.0);
}

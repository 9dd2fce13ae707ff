// Evidently's Population Stability Index ("psi", psi.py):
//   ref, cur = get_binned_data(ref, cur, feature_type, n_bins=30)   (zero shares filled)
//   value = sum((ref - cur) * ln(ref / cur))
// drift when the value reaches the threshold (default 0.1).

export function psi(reference: Float64Array, current: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const c = current[i]!;
    sum += (r - c) * Math.log(r / c);
  }
  return sum;
}

// Evidently's normed Wasserstein distance ("wasserstein", wasserstein_distance_norm.py):
//   scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)   (population std)
// drift when the value reaches the threshold (default 0.1).

/** scipy.stats.wasserstein_distance for two sorted samples: the area between their ECDFs. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  let v = Math.min(a[0]!, b[0]!);
  while (i < n1 || j < n2) {
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    if (i >= n1 && j >= n2) break;
    const next = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    sum += Math.abs(i / n1 - j / n2) * (next - v);
    v = next;
  }
  return sum;
}

/** np.std (ddof 0), two-pass. */
export function populationStd(x: Float64Array): number {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let ss = 0;
  for (const v of x) ss += (v - mean) * (v - mean);
  return Math.sqrt(ss / x.length);
}

/** Evidently's normalisation: the reference std, floored at 0.001. */
export function wassersteinNorm(std: number): number {
  return Math.max(std, 0.001);
}
